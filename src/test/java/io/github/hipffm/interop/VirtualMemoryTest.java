package io.github.hipffm.interop;

import io.github.hipffm.Device;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.Hip;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Memory;
import io.github.hipffm.VirtualMemory;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link VirtualMemory} on the test runtime (both doubles; on NVIDIA through the cudart double's cu* driver calls):
 * allocation rounded to the queried granularity, export and import round trips that share bytes, the release
 * order, refusals before any native call, use after close, and a fault injected into every native call with
 * nothing left behind (objects and fds).
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class VirtualMemoryTest {
    /** The double's granularity (CUDA's is 2 MiB on an H200: it is always queried). */
    private static final long GRANULARITY = 64 << 10;

    private static byte[] read(MemorySegment device, int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(n);
            Memory.copy(host, device, n);
            return host.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    @Test
    void theSizeIsRoundedUpToTheQueriedGranularity() {
        Device gpu = Hip.currentDevice();
        assertEquals(GRANULARITY, VirtualMemory.granularity(gpu));
        try (Arena arena = Arena.ofConfined()) {
            VirtualMemory one = VirtualMemory.allocate(arena, 1);
            VirtualMemory exact = VirtualMemory.allocate(gpu, arena, GRANULARITY);
            VirtualMemory more = VirtualMemory.allocate(arena, GRANULARITY + 1);
            assertEquals(GRANULARITY, one.size());
            assertEquals(GRANULARITY, exact.size());
            assertEquals(2 * GRANULARITY, more.size());
            assertEquals(more.size(), more.segment().byteSize());
            assertTrue(more.segment().isReadOnly());
            assertEquals(gpu, more.device());
            assertEquals(3, TestRuntime.live("vmmHandle"));
            assertEquals(3, TestRuntime.live("vmmReservation"));
            assertEquals(3, TestRuntime.live("vmmMapping"));
        }
        assertEquals(0, TestRuntime.live("vmmHandle"));
    }

    @Test
    void anExportedFdImportedBothWaysSharesTheBytes() {
        try (Arena arena = Arena.ofConfined()) {
            VirtualMemory producer = VirtualMemory.allocate(arena, 100_000);
            Memory.fill(producer.segment(), (byte) 0x5a);
            int fd1 = producer.exportFd();
            int fd2 = producer.exportFd();
            assertNotEquals(fd1, fd2, "a new fd each call");
            VirtualMemory consumer = VirtualMemory.importFd(arena, fd1, producer.size());   // owns fd1
            ExternalMemory external = ExternalMemory.importMemory(arena,
                    io.github.hipffm.ExternalMemoryDescriptor.opaqueFd(fd2, producer.size()));   // owns fd2
            MemorySegment buffer = external.mapBuffer();
            byte[] expected = new byte[64];
            Arrays.fill(expected, (byte) 0x5a);
            assertArrayEquals(expected, read(consumer.segment(), 64));
            assertArrayEquals(expected, read(buffer, 64));
            Memory.fill(consumer.segment(), (byte) 0x11);
            Arrays.fill(expected, (byte) 0x11);
            assertArrayEquals(expected, read(producer.segment(), 64));
            assertArrayEquals(expected, read(buffer, 64));
            producer.close();   // the memory lives on in the imports
            assertArrayEquals(expected, read(consumer.segment(), 64));
            assertTrue(LinuxFds.isOpen(fd1));
            consumer.close();
            assertFalse(LinuxFds.isOpen(fd1), "the import closed its fd after its release");
        }
    }

    @Test
    void releaseUnmapsThenFreesTheRangeThenReleasesTheAllocation() {
        try (Arena arena = Arena.ofConfined()) {
            VirtualMemory m = VirtualMemory.allocate(arena, 1);
            long unmaps = TestRuntime.calls("hipMemUnmap");
            long frees = TestRuntime.calls("hipMemAddressFree");
            long releases = TestRuntime.calls("hipMemRelease");
            m.close();
            m.close();
            assertEquals(unmaps + 1, TestRuntime.calls("hipMemUnmap"));
            assertEquals(frees + 1, TestRuntime.calls("hipMemAddressFree"));
            assertEquals(releases + 1, TestRuntime.calls("hipMemRelease"));
            assertTrue(m.isClosed());
            assertThrows(IllegalStateException.class, m::segment);
            assertThrows(IllegalStateException.class, m::exportFd);
            assertEquals(GRANULARITY, m.size());
        }
    }

    @Test
    void aSegmentOfClosedMemoryIsRefused() {
        MemorySegment s;
        try (Arena arena = Arena.ofConfined()) {
            s = VirtualMemory.allocate(arena, 1).segment();
        }
        MemorySegment closed = s;
        assertThrows(IllegalStateException.class, () -> Memory.fill(closed, (byte) 1));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void aSizeOfZeroOrLessIsRefusedBeforeAnyNativeCall(long size) {
        try (Arena arena = Arena.ofConfined()) {
            long before = TestRuntime.calls("hipMemCreate") + TestRuntime.calls("hipMemImportFromShareableHandle");
            assertThrows(IllegalArgumentException.class, () -> VirtualMemory.allocate(arena, size));
            assertThrows(IllegalArgumentException.class, () -> VirtualMemory.importFd(arena, 1, size));
            assertEquals(before, TestRuntime.calls("hipMemCreate") + TestRuntime.calls("hipMemImportFromShareableHandle"));
        }
    }

    @Test
    void aClosedArenaAndANotOpenFdAreRefused() {
        Arena arena = Arena.ofConfined();
        arena.close();
        assertThrows(IllegalStateException.class, () -> VirtualMemory.allocate(arena, 1));
        try (Arena a = Arena.ofConfined()) {
            int fd = LinuxFds.memfd("vmm", GRANULARITY);
            LinuxFds.close(fd);
            assertThrows(IllegalArgumentException.class, () -> VirtualMemory.importFd(a, fd, GRANULARITY));
            assertThrows(IllegalArgumentException.class, () -> VirtualMemory.allocate(null, a, 1));
        }
    }

    @Test
    void aBadDeviceIsRefusedByTheRuntimeWithNothingLeftBehind() {
        TestRuntime.setDeviceCount(2);
        try (Arena arena = Arena.ofConfined()) {
            Device second = Hip.devices().get(1);
            assertEquals(1, VirtualMemory.allocate(second, arena, 1).device().ordinal());
        } finally {
            TestRuntime.setDeviceCount(1);
        }
    }

    /** Every native call of an allocation, an export and an import fails once; nothing is left behind. */
    @ParameterizedTest
    @ValueSource(strings = {"hipMemGetAllocationGranularity", "hipMemCreate", "hipMemAddressReserve", "hipMemMap",
            "hipMemSetAccess", "hipMemExportToShareableHandle", "hipMemImportFromShareableHandle"})
    void aFaultInEveryCallLeavesNothingBehind(String function) {
        long fds = LinuxFds.count();
        try (Arena arena = Arena.ofConfined()) {
            VirtualMemory source = VirtualMemory.allocate(arena, 1);
            int fd = source.exportFd();
            TestRuntime.failNext(function, HipError.OUT_OF_MEMORY, 0);
            HipException e = assertThrows(HipException.class, () -> {
                VirtualMemory.allocate(arena, 1);
                int f = source.exportFd();
                LinuxFds.close(f);
                VirtualMemory.importFd(arena, fd, source.size());
            });
            assertEquals(HipError.OUT_OF_MEMORY, e.error());
            assertTrue(LinuxFds.isOpen(fd), "a failed import leaves the fd with the caller");
            LinuxFds.close(fd);
            TestRuntime.reset();
            long made = function.contains("Shareable") ? 2 : 1;   // the allocation before the failing call lives
            assertEquals(made, TestRuntime.live("vmmHandle"));
            assertEquals(made, TestRuntime.live("vmmReservation"));
        }
        assertEquals(fds, LinuxFds.count());
    }
}
