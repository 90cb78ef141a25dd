package io.github.hipffm.interop;

import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.internal.FdRule;
import io.github.hipffm.internal.Posix;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fds that cannot be a GPU export are refused in Java, before any native call, with a message naming the fd and
 * what it is, and the caller's fd untouched ({@code FdRule}, applied by every import). Every test runs with the
 * default check, {@code -Dhipffm.fdCheck=kind}, which the NVIDIA execution otherwise turns off (its doubles model
 * exported memory with memfds).
 *
 * <ul>
 *   <li>Both platforms: an fd that is not open.</li>
 *   <li>NVIDIA: a regular file, a memfd, a shm object (and a directory, a pipe, {@code /dev/null}) as
 *       {@code OPAQUE_FD} memory, {@code OPAQUE_FD} semaphore and {@code TIMELINE_SEMAPHORE_FD} semaphore: GPU
 *       exports there are fds of {@code /dev/nvidiactl}. Sockets and anonymous inodes are not caught: they reach
 *       the runtime.</li>
 *   <li>AMD: the same fds reach the runtime, which decides (GPU exports there are dma-bufs, which the test doubles
 *       cannot make; the dma-buf size rule is {@code FdRuleTest}'s).</li>
 * </ul>
 */
@Tag("testrt")
class FdKindTest {
    private static final long SIZE = 64 * 1024;

    @RegisterExtension
    final NoLeaks noLeaks = new NoLeaks();

    private String saved;

    @BeforeEach
    void defaultCheck() {
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

    /** The three fd imports, each direct and through {@code importCopy}. */
    enum Import {
        MEMORY("OPAQUE_FD memory", "hipImportExternalMemory", false),
        MEMORY_COPY("OPAQUE_FD memory", "hipImportExternalMemory", true),
        SEMAPHORE("OPAQUE_FD semaphore", "hipImportExternalSemaphore", false),
        SEMAPHORE_COPY("OPAQUE_FD semaphore", "hipImportExternalSemaphore", true),
        TIMELINE("TIMELINE_SEMAPHORE_FD semaphore", "hipImportExternalSemaphore", false),
        TIMELINE_COPY("TIMELINE_SEMAPHORE_FD semaphore", "hipImportExternalSemaphore", true);

        final String handle;
        final String call;
        final boolean copy;

        Import(String handle, String call, boolean copy) {
            this.handle = handle;
            this.call = call;
            this.copy = copy;
        }

        /** Imports {@code fd} into {@code arena}, as this import. */
        AutoCloseable run(Arena arena, int fd) {
            return switch (this) {
                case MEMORY -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
                case MEMORY_COPY -> ExternalMemory.importCopy(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
                case SEMAPHORE -> ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.opaqueFd(fd));
                case SEMAPHORE_COPY -> ExternalSemaphore.importCopy(arena, ExternalSemaphoreDescriptor.opaqueFd(fd));
                case TIMELINE -> ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(fd));
                case TIMELINE_COPY -> ExternalSemaphore.importCopy(arena, ExternalSemaphoreDescriptor.timelineFd(fd));
            };
        }
    }

    /** The fds the test doubles import as exported memory, and a regular file: what NVIDIA refuses. */
    enum Plain {
        REGULAR_FILE("a regular file", "/hipffm-file-"),
        MEMFD("a memfd", "/memfd:hipffm-fdkind (deleted)"),
        SHM("a POSIX shared memory object", "/dev/shm/hipffm-fdkind-");

        final String kind;
        final String link;

        Plain(String kind, String link) {
            this.kind = kind;
            this.link = link;
        }

        /** {@return a new fd of this kind, {@link #SIZE} bytes} (The file is deleted; its fd stays open.) */
        int open() {
            return switch (this) {
                case REGULAR_FILE -> LinuxFds.deletedFile(SIZE);
                case MEMFD -> LinuxFds.memfd("hipffm-fdkind", SIZE);
                case SHM -> LinuxFds.shm("/hipffm-fdkind-" + ProcessHandle.current().pid(), SIZE);
            };
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Import.class)
    void anFdThatIsNotOpenIsRefusedInJavaOnBothPlatforms(Import kind) {
        int fd = LinuxFds.memfd("hipffm-closed", SIZE);
        LinuxFds.close(fd);
        try (Arena arena = Arena.ofConfined()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> kind.run(arena, fd));
            assertContains(e, "fd " + fd + " is not open (fstat: ", "Bad file descriptor",
                    kind.handle + " needs an open file descriptor");
        }
        assertEquals(0, TestRuntime.calls(kind.call), "no native import");
        assertEquals(noLeaks.fdsAtStart(), LinuxFds.count(), "no duplicate left open");
    }

    /**
     * The acceptance test of the rule: on NVIDIA each of these fds is refused in Java, naming the fd and its kind,
     * with the caller's fd open and still the same file, no native call and no duplicate; on AMD the same fd
     * reaches the runtime (the test double imports it).
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Plain.class)
    void onNvidiaAFileMemfdOrShmIsRefusedInJavaWhileOnAmdItReachesTheRuntime(Plain plain) {
        for (Import kind : Import.values()) {
            TestRuntime.reset();
            int fd = plain.open();
            Posix.Stat before = Posix.stat(fd);
            String link = LinuxFds.link(fd);
            try (Arena arena = Arena.ofConfined()) {
                if (TestRuntime.nvidia()) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> kind.run(arena, fd), plain + " as " + kind);
                    assertContains(e, "fd " + fd + " is " + plain.kind + " (" + link + ", " + SIZE + " bytes)",
                            "not a GPU export (on NVIDIA a GPU export's fd refers to an NVIDIA device node",
                            "the fd is still yours", "-Dhipffm.fdCheck=open");
                    assertEquals(0, TestRuntime.calls(kind.call), plain + " as " + kind + ": no native import");
                    Posix.Stat after = Posix.stat(fd);
                    assertEquals(before, after, plain + " as " + kind + ": the caller's fd, still the same file");
                    assertEquals(link, LinuxFds.link(fd));
                    assertEquals(noLeaks.fdsAtStart() + 1, LinuxFds.count(), "only the caller's fd");
                } else {
                    kind.run(arena, fd).close();
                    assertEquals(1, TestRuntime.calls(kind.call), plain + " as " + kind + " reached the runtime");
                }
            } catch (Exception e) {
                throw new AssertionError(plain + " as " + kind, e);
            } finally {
                if (kind.copy || TestRuntime.nvidia()) {
                    LinuxFds.close(fd);       // refused, or imported as a copy: still the caller's
                }
            }
            assertTrue(link.contains(plain.link), link);
        }
    }

    /** Other kinds that are never an NVIDIA export: a directory, a pipe, a device node that is not NVIDIA's. */
    @Test
    void onNvidiaADirectoryAPipeAndDevNullAreRefusedToo() {
        int dir = LinuxFds.open(Path.of("/tmp"), LinuxFds.O_RDONLY);
        int[] pipe = LinuxFds.pipe();
        int devNull = LinuxFds.open(Path.of("/dev/null"), LinuxFds.O_RDWR);
        try (Arena arena = Arena.ofConfined()) {
            check(arena, dir, "a directory (/tmp)");
            check(arena, pipe[0], "a pipe or FIFO (pipe:[");
            check(arena, devNull, "a character device (/dev/null, 1:3)");
        } finally {
            LinuxFds.close(dir);
            LinuxFds.close(pipe[0]);
            LinuxFds.close(pipe[1]);
            LinuxFds.close(devNull);
        }
    }

    private static void check(Arena arena, int fd, String what) {
        if (!TestRuntime.nvidia()) {
            return;     // AMD: left to the runtime (the HIP double would mmap them and refuse, or import them)
        }
        for (Import kind : Import.values()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> kind.run(arena, fd));
            assertContains(e, "fd " + fd + " is " + what);
            assertTrue(LinuxFds.isOpen(fd));
        }
        assertEquals(0, TestRuntime.calls("hipImportExternalMemory") + TestRuntime.calls("hipImportExternalSemaphore"));
    }

    /**
     * What the check cannot catch, shown: an anonymous inode ({@code eventfd}) and a socket are not a file, memfd,
     * shm object or device node, so they reach the runtime on both platforms (the HIP double imports any open fd
     * as a semaphore).
     */
    @Test
    void anAnonymousInodeAndASocketReachTheRuntime() {
        int eventfd = LinuxFds.eventfd();
        int[] sockets = LinuxFds.socketPair();
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.opaqueFd(eventfd)).close();
            ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(sockets[0])).close();
        }
        assertEquals(2, TestRuntime.calls("hipImportExternalSemaphore"));
        assertTrue(!LinuxFds.isOpen(eventfd) && !LinuxFds.isOpen(sockets[0]), "imported, then closed with them");
        LinuxFds.close(sockets[1]);
    }

    /** The escape hatch: {@code -Dhipffm.fdCheck=open} hands a memfd to the runtime on NVIDIA too. */
    @Test
    void withFdCheckOpenAMemfdReachesTheRuntimeOnBothPlatforms() {
        System.setProperty(FdRule.PROPERTY, "open");
        int fd = LinuxFds.memfd("hipffm-open", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE)).close();
        }
        assertEquals(1, TestRuntime.calls("hipImportExternalMemory"));
        assertTrue(!LinuxFds.isOpen(fd), "the memory took the fd and closed it");

        int closed = LinuxFds.memfd("hipffm-open", SIZE);
        LinuxFds.close(closed);
        try (Arena arena = Arena.ofConfined()) {
            assertContains(assertThrows(IllegalArgumentException.class,
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(closed, SIZE))),
                    "fd " + closed + " is not open");
        }
        assertEquals(1, TestRuntime.calls("hipImportExternalMemory"), "the open check stays");
    }

    @Test
    void aBadFdCheckValueIsRefusedNamingIt() {
        System.setProperty(FdRule.PROPERTY, "none");
        int fd = LinuxFds.memfd("hipffm-bad-value", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            assertContains(assertThrows(IllegalArgumentException.class,
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE))),
                    "hipffm.fdCheck must be 'kind'", "or 'open'", "not 'none'");
        } finally {
            LinuxFds.close(fd);
        }
        assertEquals(0, TestRuntime.calls("hipImportExternalMemory"));
    }

    /** A refusal by the runtime after the check passed still gets the hint, on both platforms. */
    @Test
    void aRuntimeRefusalAfterTheCheckKeepsItsHint() {
        int fd = LinuxFds.memfd("hipffm-hint", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            System.setProperty(FdRule.PROPERTY, "open");
            TestRuntime.failNext("hipImportExternalMemory", HipError.INVALID_VALUE, 0);
            HipException e = assertThrows(HipException.class,
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE)));
            assertContains(e, "vkGetMemoryFdKHR");
        } finally {
            LinuxFds.close(fd);
        }
    }

    private static void assertContains(Throwable e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
        }
    }
}
