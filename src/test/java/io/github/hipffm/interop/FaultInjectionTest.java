package io.github.hipffm.interop;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Event;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Memory;
import io.github.hipffm.MipmappedArray;
import io.github.hipffm.Stream;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every native call of the import and map flows, made to fail ({@link TestRuntime#failNext}): the Java call
 * throws {@link HipException} naming the error and the HIP function, nothing is left half-made (live counts
 * unchanged), the fd stays with whoever owned it before, and what was created before the failure still works
 * and is released as usual.
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class FaultInjectionTest {
    private static final long SIZE = 64 * 1024;
    private static final ChannelFormat RGBA8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);

    /** The error code reaches Java unchanged, whichever it is. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = HipError.class, names = {"INVALID_VALUE", "OUT_OF_MEMORY", "NOT_SUPPORTED", "INVALID_HANDLE",
            "OPERATING_SYSTEM", "UNKNOWN"})
    void hipImportExternalMemoryFails(HipError error) {
        int fd = LinuxFds.memfd("hipffm-fault", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            TestRuntime.failNext("hipImportExternalMemory", error, 0);
            assertFails(error, "hipImportExternalMemory",
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE)));
            assertEquals(0, TestRuntime.live("externalMemory"));
            assertEquals(0, TestRuntime.live("mapping"));
            assertTrue(LinuxFds.isOpen(fd), "the caller still owns the fd");

            // the same fd imports fine afterwards, and is then released with the memory
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            Memory.fill(memory.mapBuffer(), (byte) 1);
        }
        assertFalse(LinuxFds.isOpen(fd));
        assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"));
    }

    /**
     * Without a GPU, the AMD runtime refuses an import with hipErrorInvalidDevice or hipErrorNoDevice, which alone
     * do not say why: the message says there is no GPU. An invalid-device error while the runtime has a device (the
     * test runtime has one) is something else and gets no such wording.
     */
    @Test
    void anImportRefusedForWantOfADeviceSaysThereIsNoGpu() {
        int fd = LinuxFds.memfd("hipffm-fault", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            TestRuntime.failNext("hipImportExternalMemory", HipError.NO_DEVICE, 0);
            HipException e = assertThrows(HipException.class,
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE)));
            assertEquals(HipError.NO_DEVICE, e.error());
            assertEquals("hipImportExternalMemory", e.call());
            assertTrue(e.getMessage().endsWith("(no GPU: the runtime reports no device, and an import needs one)"),
                    e.getMessage());

            TestRuntime.failNext("hipImportExternalMemory", HipError.INVALID_DEVICE, 0);
            e = assertThrows(HipException.class,
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE)));
            assertEquals(HipError.INVALID_DEVICE, e.error());
            assertFalse(e.getMessage().contains("no GPU"), "the test runtime has a device: " + e.getMessage());

            TestRuntime.failNext("hipImportExternalSemaphore", HipError.NO_DEVICE, 0);
            e = assertThrows(HipException.class,
                    () -> ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.opaqueFd(fd)));
            assertTrue(e.getMessage().contains("(no GPU: "), e.getMessage());
            assertTrue(LinuxFds.isOpen(fd), "the caller still owns the fd");
        }
        LinuxFds.close(fd);
    }

    @Test
    void hipExternalMemoryGetMappedBufferFails() {
        int fd = LinuxFds.memfd("hipffm-fault", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            MemorySegment first = memory.mapBuffer(0, 4096);

            TestRuntime.failNext("hipExternalMemoryGetMappedBuffer", HipError.OUT_OF_MEMORY, 0);
            assertFails(HipError.OUT_OF_MEMORY, "hipExternalMemoryGetMappedBuffer", () -> memory.mapBuffer(4096, 4096));
            assertEquals(1, TestRuntime.live("mappedBuffer"), "only the first buffer");
            assertFalse(memory.isClosed());
            assertTrue(LinuxFds.isOpen(fd), "the memory still owns its fd");

            // the memory and its earlier buffer still work
            Memory.fill(first, (byte) 7);
            MemorySegment second = memory.mapBuffer(4096, 4096);
            Memory.copy(second, first);
        }
        assertEquals(2, TestRuntime.calls("hipFree"), "the two buffers that were mapped");
        assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"));
        assertFalse(LinuxFds.isOpen(fd));
    }

    @Test
    void hipExternalMemoryGetMappedMipmappedArrayFails() {
        int fd = LinuxFds.memfd("hipffm-fault", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));

            TestRuntime.failNext("hipExternalMemoryGetMappedMipmappedArray", HipError.INVALID_VALUE, 0);
            assertFails(HipError.INVALID_VALUE, "hipExternalMemoryGetMappedMipmappedArray",
                    () -> memory.mapMipmappedArray(0, RGBA8, Extent.of(64, 64), 2, 0));
            assertEquals(0, TestRuntime.live("mipmappedArray"));
            assertFalse(memory.isClosed());

            MipmappedArray array = memory.mapMipmappedArray(0, RGBA8, Extent.of(64, 64), 2, 0);
            array.level(1);
        }
        assertEquals(1, TestRuntime.calls("hipFreeMipmappedArray"), "only the array that was made");
        assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"));
        assertFalse(LinuxFds.isOpen(fd));
    }

    @Test
    void hipGetMipmappedArrayLevelFails() {
        int fd = LinuxFds.memfd("hipffm-fault", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            MipmappedArray array = memory.mapMipmappedArray(0, RGBA8, Extent.of(64, 64), 2, 0);

            TestRuntime.failNext("hipGetMipmappedArrayLevel", HipError.INVALID_HANDLE, 0);
            assertFails(HipError.INVALID_HANDLE, "hipGetMipmappedArrayLevel", () -> array.level(1));
            assertFalse(array.isClosed());
            assertEquals(Extent.of(32, 32), array.level(1).extent());
        }
        assertEquals(1, TestRuntime.calls("hipFreeMipmappedArray"));
    }

    @Test
    void hipImportExternalSemaphoreFails() {
        int fd = LinuxFds.memfd("hipffm-fault", 0);
        try (Arena arena = Arena.ofConfined()) {
            TestRuntime.failNext("hipImportExternalSemaphore", HipError.NOT_SUPPORTED, 0);
            assertFails(HipError.NOT_SUPPORTED, "hipImportExternalSemaphore",
                    () -> ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(fd)));
            assertEquals(0, TestRuntime.live("externalSemaphore"));
            assertTrue(LinuxFds.isOpen(fd), "the caller still owns the fd");

            ExternalSemaphore semaphore = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(fd));
            semaphore.signal(1, Stream.defaultStream());
            semaphore.wait(1, Stream.defaultStream());
        }
        assertFalse(LinuxFds.isOpen(fd));
        assertEquals(1, TestRuntime.calls("hipDestroyExternalSemaphore"));
    }

    @Test
    void hipStreamCreateWithFlagsFails() {
        try (Arena arena = Arena.ofConfined()) {
            Stream earlier = Stream.create(arena);
            TestRuntime.failNext("hipStreamCreateWithFlags", HipError.OUT_OF_MEMORY, 0);
            assertFails(HipError.OUT_OF_MEMORY, "hipStreamCreateWithFlags", () -> Stream.create(arena));
            assertEquals(1, TestRuntime.live("stream"), "only the earlier stream");

            earlier.synchronize();
            Stream.create(arena, true).synchronize();
        }
        assertEquals(2, TestRuntime.calls("hipStreamDestroy"), "the two streams that were made");
    }

    @Test
    void hipEventCreateWithFlagsFails() {
        try (Arena arena = Arena.ofConfined()) {
            Event earlier = Event.create(arena);
            TestRuntime.failNext("hipEventCreateWithFlags", HipError.OUT_OF_MEMORY, 0);
            assertFails(HipError.OUT_OF_MEMORY, "hipEventCreateWithFlags", () -> Event.create(arena, false));
            assertEquals(1, TestRuntime.live("event"));

            earlier.record(Stream.defaultStream()).synchronize();
            Event.create(arena).record(Stream.defaultStream());
        }
        assertEquals(2, TestRuntime.calls("hipEventDestroy"));
    }

    @Test
    void hipMallocFails() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment earlier = Memory.allocateDevice(arena, 4096);
            TestRuntime.failNext("hipMalloc", HipError.OUT_OF_MEMORY, 0);
            assertFails(HipError.OUT_OF_MEMORY, "hipMalloc", () -> Memory.allocateDevice(arena, 4096));
            assertEquals(1, TestRuntime.live("memory"));

            Memory.fill(earlier, (byte) 9);
            Memory.copy(Memory.allocateDevice(arena, 4096), earlier);
        }
        assertEquals(2, TestRuntime.calls("hipFree"), "the two allocations that were made");
    }

    @Test
    void hipHostMallocFails() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment earlier = Memory.allocatePinned(arena, 4096);
            TestRuntime.failNext("hipHostMalloc", HipError.OUT_OF_MEMORY, 0);
            assertFails(HipError.OUT_OF_MEMORY, "hipHostMalloc", () -> Memory.allocatePinned(arena, 4096));
            assertEquals(1, TestRuntime.live("memory"));

            earlier.fill((byte) 5);
            Memory.copy(Memory.allocatePinned(arena, 4096), earlier);
        }
        assertEquals(2, TestRuntime.calls("hipHostFree"));
    }

    /** A whole flow, failing at its last step: the steps before it are all released normally. */
    @Test
    void aFlowFailingHalfwayReleasesWhatItMade() {
        int memoryFd = LinuxFds.memfd("hipffm-fault", SIZE);
        int semaphoreFd = LinuxFds.memfd("hipffm-fault", 0);
        try (Arena arena = Arena.ofConfined()) {
            Stream stream = Stream.create(arena);
            ExternalSemaphore semaphore = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(semaphoreFd));
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(memoryFd, SIZE));
            MemorySegment buffer = memory.mapBuffer();
            TestRuntime.failNext("hipExternalMemoryGetMappedBuffer", HipError.OUT_OF_MEMORY, 0);
            assertThrows(HipException.class, () -> memory.mapBuffer(0, 16));

            Memory.fillAsync(buffer, (byte) 0x42, stream);
            semaphore.signal(1, stream);
            stream.synchronize();
        }
        assertEquals(0, TestRuntime.liveAll());
        assertFalse(LinuxFds.isOpen(memoryFd));
        assertFalse(LinuxFds.isOpen(semaphoreFd));
    }

    private static void assertFails(HipError error, String call, Executable executable) {
        HipException e = assertThrows(HipException.class, executable);
        assertEquals(error, e.error(), "error");
        assertEquals(error.code(), e.code(), "code");
        assertEquals(call, e.call(), "call");
        assertTrue(e.getMessage().startsWith(call + " failed: " + error.hipName()), e.getMessage());
    }
}
