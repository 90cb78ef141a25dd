package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.internal.FdKind;
import io.github.hipffm.internal.FdRule;
import io.github.hipffm.internal.Posix;
import io.github.hipffm.internal.Runtimes;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.vulkan.VulkanDevice;
import io.github.hipffm.vulkan.SemaphoreType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingSupplier;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fd check on the real runtime (NVIDIA), with Vulkan as the exporter: what the fds of GPU exports reveal from user
 * space, recorded for the table in {@code ExternalMemoryHandleType}'s javadoc ({@link #whatTheFdsReveal}); a closed
 * fd, a regular file, a memfd and a shm object refused in Java as {@code OPAQUE_FD} memory and as {@code OPAQUE_FD}
 * and timeline semaphores, with the caller's fd untouched; real Vulkan exports still imported and used. Runs with the
 * default check ({@code -Dhipffm.fdCheck=kind}, set around each test). Skipped with the reason where there is no GPU.
 */
@Tag("gpu")
class FdKindGpuTest {
    private static final long MiB = 1L << 20;
    private static VulkanDevice vk;
    private String saved;

    @BeforeAll
    static void open() {
        if (Gpu.unavailableReason() != null) {
            return;                         // each test is skipped with the reason in @BeforeEach
        }
        Device device = Gpu.require();
        vk = Gpu.vulkan(device.uuidBytes());
    }

    @AfterAll
    static void close() {
        if (vk != null) {
            vk.close();
        }
    }

    @BeforeEach
    void gpuAndTheDefaultCheck() {
        Gpu.require();
        saved = System.getProperty(FdRule.PROPERTY);
        System.setProperty(FdRule.PROPERTY, "kind");
    }

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty(FdRule.PROPERTY);
        } else {
            System.setProperty(FdRule.PROPERTY, saved);
        }
    }

    /**
     * Records, for each kind of fd, what user space sees: the {@code /proc/self/fd} link, {@code fstat} (mode, device
     * node, size, st_dev, st_ino), {@code /proc/self/fdinfo}, the kind hip-ffm makes of it and its rule's verdict as
     * memory and as a semaphore. Asserts only what the javadoc states as measured: memory and semaphore exports are
     * NVIDIA device nodes, alike.
     */
    @Test
    void whatTheFdsReveal() throws IOException {
        Map<String, Integer> fds = new LinkedHashMap<>();
        try (var buffer = Gpu.buffer(vk, MiB, false); var dedicated = Gpu.buffer(vk, MiB, true);
                var image = Gpu.image(vk, 64, 64, 1); var binary = vk.createSemaphore(SemaphoreType.BINARY);
                var timeline = vk.createSemaphore(SemaphoreType.TIMELINE)) {
            fds.put("Vulkan memory (buffer, 1 MiB)", buffer.exportFd());
            fds.put("Vulkan memory (dedicated buffer, 1 MiB)", dedicated.exportFd());
            fds.put("Vulkan memory (image 64x64 RGBA8)", image.exportFd());
            fds.put("Vulkan binary semaphore", binary.exportFd());
            fds.put("Vulkan timeline semaphore", timeline.exportFd());
            fds.put("memfd (1 MiB)", LinuxFds.memfd("hipffm-probe", MiB));
            fds.put("shm (1 MiB)", LinuxFds.shm("/hipffm-probe-" + ProcessHandle.current().pid(), MiB));
            fds.put("regular file", LinuxFds.deletedFile(MiB));
            fds.put("eventfd", LinuxFds.eventfd());
            int[] sockets = LinuxFds.socketPair();
            fds.put("socket", sockets[0]);
            LinuxFds.close(sockets[1]);
            FdRule rule = Runtimes.current().fdRule();
            List<String> table = new ArrayList<>();
            for (var e : fds.entrySet()) {
                int fd = e.getValue();
                Posix.Stat st = Posix.stat(fd);
                String link = Posix.link(fd);
                String fdinfo = Files.readString(Path.of("/proc/self/fdinfo/" + fd)).strip().replace("\n", "; ");
                String asMemory = rule.refusal(st, MiB, () -> link);
                String asSemaphore = rule.refusal(st, 0, () -> link);
                table.add(String.format("fd probe: %-40s link %s | mode 0%o | rdev %d:%d | size %d | st_dev %d st_ino %d"
                                + " | fdinfo %s | kind %s | as memory: %s | as semaphore: %s", e.getKey(), link,
                        st.mode(), st.major(), st.minor(), st.size(), st.dev(), st.ino(), fdinfo, FdKind.of(st, link),
                        asMemory == null ? "accepted" : "refused", asSemaphore == null ? "accepted" : "refused"));
            }
            table.forEach(Gpu::record);
            for (String vulkan : List.of("Vulkan memory (buffer, 1 MiB)", "Vulkan memory (dedicated buffer, 1 MiB)",
                    "Vulkan memory (image 64x64 RGBA8)", "Vulkan binary semaphore", "Vulkan timeline semaphore")) {
                int fd = fds.get(vulkan);
                Posix.Stat st = Posix.stat(fd);
                assertEquals(FdKind.NVIDIA_DEVICE, FdKind.of(st), vulkan + ": " + Posix.link(fd));
                assertNull(rule.refusal(st, MiB, () -> Posix.link(fd)), vulkan + " accepted as memory");
                assertNull(rule.refusal(st, 0, () -> Posix.link(fd)), vulkan + " accepted as a semaphore");
            }
            for (String plain : List.of("memfd (1 MiB)", "shm (1 MiB)", "regular file")) {
                int fd = fds.get(plain);
                assertTrue(rule.refusal(Posix.stat(fd), MiB, () -> Posix.link(fd)) != null, plain + " refused");
            }
        } finally {
            fds.values().forEach(fd -> {
                if (LinuxFds.isOpen(fd)) {
                    LinuxFds.close(fd);
                }
            });
        }
    }

    /** The acceptance test on the GPU: each refused in Java, naming the fd and what it is, the fd untouched. */
    @Test
    void aClosedFdAFileAMemfdAndAShmFdAreRefusedInJava() {
        long before = LinuxFds.count();
        int closed = LinuxFds.memfd("hipffm-closed", MiB);
        LinuxFds.close(closed);
        for (var handle : Handle.values()) {
            IllegalArgumentException e = refused(handle, closed);
            assertTrue(e.getMessage().startsWith("fd " + closed + " is not open (fstat: Bad file descriptor"), e.getMessage());
        }
        Map<String, ThrowingSupplier<Integer>> plain = new LinkedHashMap<>();
        plain.put("a regular file", () -> LinuxFds.deletedFile(MiB));
        plain.put("a memfd", () -> LinuxFds.memfd("hipffm-refused", MiB));
        plain.put("a POSIX shared memory object", () -> LinuxFds.shm("/hipffm-refused-" + ProcessHandle.current().pid(), MiB));
        for (var kind : plain.entrySet()) {
            for (var handle : Handle.values()) {
                int fd;
                try {
                    fd = kind.getValue().get();
                } catch (Throwable t) {
                    throw new AssertionError(t);
                }
                try {
                    Posix.Stat st = Posix.stat(fd);
                    String link = Posix.link(fd);
                    IllegalArgumentException e = refused(handle, fd);
                    assertTrue(e.getMessage().startsWith("fd " + fd + " is " + kind.getKey() + " (" + link + ", "),
                            e.getMessage());
                    assertTrue(e.getMessage().contains("not a GPU export"), e.getMessage());
                    assertEquals(st, Posix.stat(fd), "the caller's fd, open and the same file");
                    assertEquals(before + 1, LinuxFds.count(), "no duplicate left open");
                    if (handle == Handle.MEMORY && kind.getKey().equals("a memfd")) {
                        Gpu.record("fd check: " + e.getMessage());
                    }
                } finally {
                    LinuxFds.close(fd);
                }
            }
        }
        assertEquals(before, LinuxFds.count());
    }

    /** Real exports pass the check and work: HIP fills Vulkan memory and signals a timeline Vulkan waits on. */
    @Test
    void realVulkanExportsStillImport() {
        try (var buffer = Gpu.buffer(vk, MiB, false); var binary = vk.createSemaphore(SemaphoreType.BINARY);
                var timeline = vk.createSemaphore(SemaphoreType.TIMELINE); Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(buffer.exportFd(), buffer.allocationSize()));
            int kept = buffer.exportFd();
            ExternalMemory copy;
            try {
                copy = ExternalMemory.importCopy(arena, ExternalMemoryDescriptor.opaqueFd(kept, buffer.allocationSize()));
            } finally {
                LinuxFds.close(kept);     // importCopy leaves it with us
            }
            ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.opaqueFd(binary.exportFd()));
            ExternalSemaphore t = ExternalSemaphore.importSemaphore(arena,
                    ExternalSemaphoreDescriptor.timelineFd(timeline.exportFd()));
            Memory.fill(memory.mapBuffer(0, MiB), (byte) 0x5a);
            assertEquals((byte) 0x5a, vk.read(buffer, MiB - 1, 1)[0], "Vulkan sees HIP's fill");
            assertEquals(MiB, copy.mapBuffer(0, MiB).byteSize());
            Stream stream = Stream.create(arena);
            t.signal(1, stream);
            assertTrue(timeline.await(1, Gpu.VK_TIMEOUT), "Vulkan saw HIP's signal");
            stream.synchronize();
        }
    }

    /** The three fd imports. */
    private enum Handle { MEMORY, SEMAPHORE, TIMELINE }

    private static IllegalArgumentException refused(Handle handle, int fd) {
        try (Arena arena = Arena.ofConfined()) {
            return assertThrows(IllegalArgumentException.class, () -> {
                switch (handle) {
                    case MEMORY -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, MiB));
                    case SEMAPHORE -> ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.opaqueFd(fd));
                    case TIMELINE -> ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(fd));
                }
            }, handle + " of fd " + fd);
        }
    }

}
