package io.github.hipffm.gpu;

import io.github.hipffm.ArrayLevel;
import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Device;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.Memory;
import io.github.hipffm.MipmappedArray;
import io.github.hipffm.Stream;
import io.github.hipffm.examples.MemorySeedExample;
import io.github.hipffm.examples.SemaphoreSeedExample;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.vulkan.VulkanDevice;
import io.github.hipffm.vulkan.ExportableBuffer;
import io.github.hipffm.vulkan.ExportableSemaphore;
import io.github.hipffm.vulkan.SemaphoreType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real GPU, real producer: Vulkan (LWJGL) exports memory, images and semaphores as opaque fds; hip-ffm imports
 * them on the same GPU (matched by UUID) and the two APIs check each other's work. Skipped with the reason
 * where there is no GPU.
 */
@Tag("gpu")
class VulkanInteropGpuTest {
    private static final long MiB = 1L << 20;
    private static Device device;
    private static VulkanDevice vk;

    @BeforeAll
    static void open() {
        if (Gpu.unavailableReason() != null) {
            return;                         // each test is skipped with the reason in @BeforeEach
        }
        device = Gpu.require();
        vk = Gpu.vulkan(device.uuidBytes());
        Gpu.record("device " + device.name() + " uuid " + HexFormat.of().formatHex(device.uuidBytes())
                + " pci " + device.pciAddress() + " vulkan '" + vk.name() + "'");
    }

    @BeforeEach
    void gpu() {
        Gpu.require();
    }

    @AfterAll
    static void close() {
        if (vk != null) {
            vk.close();
        }
    }

    /** A recognisable pattern of {@code size} bytes in pinned memory: byte i = (i * 31 + salt) mod 256. */
    static MemorySegment pattern(Arena arena, long size, int salt) {
        MemorySegment p = Memory.allocatePinned(arena, size);
        long chunk = Math.min(size, MiB);
        for (long i = 0; i < chunk; i++) {
            p.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + salt));
        }
        for (long off = chunk; off < size; off += chunk) {     // 256 divides MiB: the pattern repeats exactly
            MemorySegment.copy(p, 0, p, off, Math.min(chunk, size - off));
        }
        return p;
    }

    @ParameterizedTest(name = "{0} MiB, dedicated={1}")
    @CsvSource({"1, false", "1, true", "1024, false", "1024, true"})
    void hipWritesVulkanReads(long mib, boolean dedicated) {
        long size = mib * MiB;
        try (var buffer = Gpu.buffer(vk, size, dedicated); Arena arena = Arena.ofConfined()) {
            var d = ExternalMemoryDescriptor.opaqueFd(buffer.exportFd(), buffer.allocationSize());
            ExternalMemory memory = ExternalMemory.importMemory(arena, dedicated ? d.asDedicated() : d);
            MemorySegment mapped = memory.mapBuffer(0, size);
            MemorySegment expected = pattern(arena, size, 7);
            Memory.copy(mapped, expected);
            assertEquals(-1, Gpu.mismatch(vk, buffer, 0, expected), "first byte where Vulkan sees something else");
        }
    }

    /**
     * Issue 18's contract on the GPU: a synchronous fill or copy of 256 MiB between Vulkan-exported buffers has
     * finished when it returns. Right after each call, Vulkan reads the end of the destination on its own queue
     * (a transfer into a host-visible buffer, not ordered with HIP's streams) and a non-blocking stream, which does
     * not wait for the null stream, copies it to the host; both see the new value, 1,000 times in a row. For the
     * record (no assertion: it is the runtime's behaviour, not hip-ffm's), the same check after the runtime's own
     * {@code cudaMemset}/{@code cudaMemcpy} counts how often Vulkan saw the old value.
     */
    @Test
    void synchronousFillsAndCopiesHaveFinishedWhenTheyReturn() {
        long size = 256 * MiB;
        int tail = 4096;
        int rounds = 1000;
        try (var a = Gpu.buffer(vk, size, false); var b = Gpu.buffer(vk, size, false); Arena arena = Arena.ofConfined()) {
            MemorySegment da = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(a.exportFd(), a.allocationSize())).mapBuffer(0, size);
            MemorySegment db = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(b.exportFd(), b.allocationSize())).mapBuffer(0, size);
            Stream other = Stream.create(arena, true);
            MemorySegment host = Memory.allocatePinned(arena, tail);
            for (int i = 0; i < rounds; i++) {
                byte v = (byte) (i % 251 + 1);
                Memory.fill(da, v);
                assertTail(vk.read(a, size - tail, tail), v, "Vulkan read after fill, round " + i);
                Memory.copy(db, da);
                assertTail(vk.read(b, size - tail, tail), v, "Vulkan read after copy, round " + i);
                Memory.copyAsync(host, db.asSlice(size - tail, tail), tail, other);
                other.synchronize();
                assertTail(host.toArray(ValueLayout.JAVA_BYTE), v, "non-blocking stream after copy, round " + i);
                Memory.fill(db, (byte) 0);
            }
            Gpu.record("copy contract: " + rounds + " rounds of Memory.fill + Memory.copy of 256 MiB between"
                    + " Vulkan-exported buffers, each seen finished by a Vulkan transfer and a non-blocking stream");
            if (io.github.hipffm.Hip.platform() == io.github.hipffm.Platform.NVIDIA) {
                int staleFill = 0;
                int staleCopy = 0;
                int staleStream = 0;
                int tries = 50;
                int kind = io.github.hipffm.bindings.cuda.CudaRuntime.cudaMemcpyDefault();
                for (int i = 0; i < tries; i++) {
                    byte v = (byte) (i % 251 + 1);
                    io.github.hipffm.bindings.cuda.CudaRuntime.cudaMemset(da, v, size);
                    staleFill += vk.read(a, size - tail, tail)[tail - 1] == v ? 0 : 1;
                    Memory.fill(da, v);
                    io.github.hipffm.bindings.cuda.CudaRuntime.cudaMemcpy(db, da, size, kind);
                    staleCopy += vk.read(b, size - tail, tail)[tail - 1] == v ? 0 : 1;
                    Memory.fill(db, (byte) 0);
                    io.github.hipffm.bindings.cuda.CudaRuntime.cudaMemcpy(db, da, size, kind);
                    Memory.copyAsync(host, db.asSlice(size - tail, tail), tail, other);
                    other.synchronize();
                    staleStream += host.get(ValueLayout.JAVA_BYTE, tail - 1) == v ? 0 : 1;
                    Memory.fill(db, (byte) 0);
                }
                Gpu.record("copy contract, the runtime's own calls for comparison (" + tries + " tries each): the old"
                        + " last byte was seen by Vulkan after cudaMemset of 256 MiB " + staleFill + " times, after"
                        + " cudaMemcpy device to device " + staleCopy + " times, and by a non-blocking stream after"
                        + " cudaMemcpy " + staleStream + " times");
            }
        }
    }

    private static void assertTail(byte[] seen, byte v, String what) {
        for (int j = 0; j < seen.length; j++) {
            if (seen[j] != v) {
                throw new AssertionError(what + ": byte " + j + " of the last " + seen.length + " is " + seen[j]
                        + ", expected " + v);
            }
        }
    }

    @Test
    void vulkanWritesHipReads() {
        long size = MiB;
        try (var buffer = Gpu.buffer(vk, size, false); Arena arena = Arena.ofConfined()) {
            MemorySegment written = pattern(arena, size, 99);
            vk.write(buffer, 0, written);
            ExternalMemory memory = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(buffer.exportFd(), buffer.allocationSize()));
            MemorySegment back = Memory.allocatePinned(arena, size);
            Memory.copy(back, memory.mapBuffer(0, size));
            assertEquals(-1, back.mismatch(written));
        }
    }

    @Test
    void aBufferMappedAtAnOffsetSeesThatPartOfTheAllocation() {
        long size = 4 * MiB;
        long offset = 65536;
        try (var buffer = Gpu.buffer(vk, size, false); Arena arena = Arena.ofConfined()) {
            vk.write(buffer, 0, arena.allocate(size));                       // zeros everywhere
            ExternalMemory memory = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(buffer.exportFd(), buffer.allocationSize()));
            MemorySegment part = memory.mapBuffer(offset, MiB);
            MemorySegment expected = pattern(arena, MiB, 3);
            Memory.copy(part, expected);
            assertEquals(-1, Gpu.mismatch(vk, buffer, offset, expected));
            assertArrayEquals(new byte[4096], vk.read(buffer, offset - 4096, 4096), "bytes before the offset untouched");
            assertArrayEquals(new byte[4096], vk.read(buffer, offset + MiB, 4096), "bytes after the range untouched");
        }
    }

    @Test
    void eachMipLevelOfAVulkanImageMatches() {
        int w = 64, h = 64, levels = 3;
        try (var image = Gpu.image(vk, w, h, levels); Arena arena = Arena.ofConfined()) {
            MemorySegment[] data = new MemorySegment[levels];
            for (int l = 0; l < levels; l++) {
                long bytes = 4L * Math.max(1, w >> l) * Math.max(1, h >> l);
                data[l] = pattern(arena, bytes, 40 + l);
            }
            vk.write(image, data);
            ExternalMemory memory = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(image.exportFd(), image.allocationSize()).asDedicated());
            MipmappedArray array = memory.mapMipmappedArray(0, new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED),
                    Extent.of(w, h), levels, MipmappedArray.SURFACE_LOAD_STORE);
            for (int l = 0; l < levels; l++) {
                ArrayLevel level = array.level(l);
                assertEquals(Math.max(1, w >> l), level.extent().width());
                MemorySegment back = Memory.allocatePinned(arena, level.byteSize());
                level.copyTo(back);
                assertEquals(-1, back.mismatch(data[l]), "level " + l);
            }
        }
    }

    @Test
    void timelineSemaphoreInBothDirections() throws Exception {
        try (var sem = vk.createSemaphore(SemaphoreType.TIMELINE); Arena arena = Arena.ofConfined()) {
            ExternalSemaphore timeline = ExternalSemaphore.importSemaphore(arena,
                    ExternalSemaphoreDescriptor.timelineFd(sem.exportFd()));
            Stream stream = Stream.create(arena);
            sem.signal(1);                          // Vulkan signals N
            timeline.wait(1, stream);                   // HIP waits N
            timeline.signal(2, stream);                 // HIP signals N + 1
            assertTrue(sem.await(2, Gpu.VK_TIMEOUT), "Vulkan saw HIP's 2");

            timeline.wait(3, stream);                   // HIP's stream now waits for Vulkan
            timeline.signal(4, stream);
            Thread.sleep(200);
            assertFalse(stream.isIdle(), "the stream must wait for Vulkan's 3");
            assertEquals(2, sem.value());
            sem.signal(3);
            assertTrue(sem.await(4, Gpu.VK_TIMEOUT), "HIP signalled 4 once Vulkan signalled 3");
            stream.synchronize();
        }
    }

    @Test
    void binarySemaphoreRoundTrip() {
        try (var toHip = vk.createSemaphore(SemaphoreType.BINARY); var toVulkan = vk.createSemaphore(SemaphoreType.BINARY);
                Arena arena = Arena.ofConfined()) {
            ExternalSemaphore in = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.opaqueFd(toHip.exportFd()));
            ExternalSemaphore out = ExternalSemaphore.importSemaphore(arena,
                    ExternalSemaphoreDescriptor.opaqueFd(toVulkan.exportFd()));
            Stream stream = Stream.create(arena);
            Gpu.queueSignal(vk, toHip);
            in.wait(0, stream);
            out.signal(0, stream);
            assertTrue(Gpu.queueWait(vk, toVulkan, Gpu.VK_TIMEOUT), "Vulkan's wait on HIP's signal completed");
            stream.synchronize();
        }
    }

    @Test
    void batchSignalAndWaitOverFourSemaphores() {
        List<ExportableSemaphore> vks = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            List<ExternalSemaphore.Wait> waits = new ArrayList<>();
            List<ExternalSemaphore.Signal> signals = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                var s = vk.createSemaphore(SemaphoreType.TIMELINE);
                vks.add(s);
                var imported = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(s.exportFd()));
                s.signal(i + 1);
                waits.add(ExternalSemaphore.Wait.of(imported, i + 1));
                signals.add(ExternalSemaphore.Signal.of(imported, 10 + i));
            }
            Stream stream = Stream.create(arena);
            ExternalSemaphore.wait(waits, stream);
            ExternalSemaphore.signal(signals, stream);
            for (int i = 0; i < 4; i++) {
                assertTrue(vks.get(i).await(10 + i, Gpu.VK_TIMEOUT), "semaphore " + i);
            }
            stream.synchronize();
        } finally {
            vks.forEach(ExportableSemaphore::close);
        }
    }

    @Test
    void theImportOwnsTheFdOnTheRealRuntime() {
        try (var buffer = Gpu.buffer(vk, MiB, false)) {
            long before = LinuxFds.count();
            int fd = buffer.exportFd();
            assertEquals(before + 1, LinuxFds.count());
            try (Arena arena = Arena.ofConfined()) {
                ExternalMemory memory = ExternalMemory.importMemory(arena,
                        ExternalMemoryDescriptor.opaqueFd(fd, buffer.allocationSize()));
                assertTrue(LinuxFds.isOpen(fd), "the memory owns the fd, open until it is closed");
                assertEquals(before + 1, LinuxFds.count(), "CUDA's own copy was consumed by CUDA, nothing leaked");
                memory.close();
                assertEquals(before, LinuxFds.count(), "closed exactly once, at close");
            }
            assertEquals(before, LinuxFds.count(), "the arena close did not close anything twice");

            int kept = buffer.exportFd();
            try (Arena arena = Arena.ofConfined()) {
                ExternalMemory.importCopy(arena, ExternalMemoryDescriptor.opaqueFd(kept, buffer.allocationSize()));
                assertTrue(LinuxFds.isOpen(kept), "importCopy leaves the caller's fd open");
            }
            assertEquals(before + 1, LinuxFds.count());
            LinuxFds.close(kept);

            // Not GPU memory: hip-ffm refuses it before the runtime is called, and the fd stays the caller's.
            int refused = LinuxFds.shm("/hipffm-refused-" + ProcessHandle.current().pid(), MiB);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                try (Arena arena = Arena.ofConfined()) {
                    ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(refused, MiB));
                }
            });
            Gpu.record("import of an shm fd as OPAQUE_FD memory: " + e.getMessage());
            assertTrue(LinuxFds.isOpen(refused), "after a failed import the caller still owns the fd");
            LinuxFds.close(refused);
            assertEquals(before, LinuxFds.count());
        }
    }

    @Test
    void thousandImportMapReleaseCyclesLeakNothing() {
        try (var buffer = Gpu.buffer(vk, 16 * MiB, false)) {
            // Warm up once so lazily created runtime state is not counted as a leak.
            cycle(buffer);
            long freeBefore = device.memoryInfo().free();
            long fdsBefore = LinuxFds.count();
            for (int i = 0; i < 1000; i++) {
                cycle(buffer);
            }
            long freeAfter = device.memoryInfo().free();
            long fdsAfter = LinuxFds.count();
            Gpu.record("leak-check 1000 cycles of import->map->release (16 MiB): free memory " + freeBefore + " -> "
                    + freeAfter + " bytes, open fds " + fdsBefore + " -> " + fdsAfter);
            assertEquals(fdsBefore, fdsAfter, "open fds");
            assertEquals(freeBefore, freeAfter, "free device memory");
        }
    }

    private static void cycle(ExportableBuffer buffer) {
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory m = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(buffer.exportFd(), buffer.allocationSize()));
            m.mapBuffer(0, buffer.size());
        }
    }

    /** The seed examples' shm and memfd fds are refused by hip-ffm's fd check, before the runtime, saying why. */
    @Test
    void theSeedExamplesOnTheRealRuntimeSayWhatFdIsNeeded() {
        long before = LinuxFds.count();
        IllegalArgumentException memory = assertThrows(IllegalArgumentException.class, MemorySeedExample::run);
        Gpu.record("seed memory example (shm fd as OPAQUE_FD): " + memory.getMessage());
        assertTrue(memory.getMessage().contains("vkGetMemoryFdKHR"), memory.getMessage());
        IllegalArgumentException semaphore = assertThrows(IllegalArgumentException.class, SemaphoreSeedExample::run);
        Gpu.record("seed semaphore example (memfd as OPAQUE_FD): " + semaphore.getMessage());
        assertTrue(semaphore.getMessage().contains("vkGetSemaphoreFdKHR"), semaphore.getMessage());
        assertEquals(before, LinuxFds.count(), "the examples closed their fds after the refusal");
    }
}
