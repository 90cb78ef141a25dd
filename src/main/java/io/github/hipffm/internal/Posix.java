package io.github.hipffm.internal;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The few libc calls the fd rule needs: {@code dup}, {@code close} and {@code fstat}, with {@code errno}, and the
 * {@code /proc/self/fd} link that names what an fd refers to. The native calls use the calling thread's
 * {@link Scratch} for {@code struct stat} and {@code errno}: they allocate nothing.
 */
public final class Posix {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    private static final MethodHandle DUP = handle("dup", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle FSTAT = handle("fstat",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    /** {@code long syscall(long number, ...)}, for {@code kcmp}, which glibc does not wrap; every argument a long. */
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
            CAPTURE, Linker.Option.firstVariadicArg(1));
    private static final long SYS_KCMP = 312;          // x86-64
    private static final long KCMP_FILE = 0;
    private static final MethodHandle STRERROR = LINKER.downcallHandle(LINKER.defaultLookup().find("strerror").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final int EBADF = 9;

    /**
     * {@code struct stat} of x86-64 Linux (glibc), 144 bytes, with the fields hip-ffm reads by name; the ABI test
     * ({@code PosixAbiTest}) checks every offset and the size against {@code <sys/stat.h>}.
     */
    public static final StructLayout STAT = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("st_dev"),
            ValueLayout.JAVA_LONG.withName("st_ino"),
            ValueLayout.JAVA_LONG.withName("st_nlink"),
            ValueLayout.JAVA_INT.withName("st_mode"),
            ValueLayout.JAVA_INT.withName("st_uid"),
            ValueLayout.JAVA_INT.withName("st_gid"),
            MemoryLayout.paddingLayout(4),
            ValueLayout.JAVA_LONG.withName("st_rdev"),
            ValueLayout.JAVA_LONG.withName("st_size"),
            ValueLayout.JAVA_LONG.withName("st_blksize"),
            ValueLayout.JAVA_LONG.withName("st_blocks"),
            MemoryLayout.paddingLayout(72)).withName("stat");   // st_atim, st_mtim, st_ctim, __glibc_reserved[3]
    private static final long ST_DEV = offset("st_dev");
    private static final long ST_INO = offset("st_ino");
    private static final long ST_MODE = offset("st_mode");
    private static final long ST_RDEV = offset("st_rdev");
    private static final long ST_SIZE = offset("st_size");

    private Posix() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d, CAPTURE);
    }

    private static long offset(String field) {
        return STAT.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    /** {@return the bytes of {@code errno} capture state one call needs} For {@link Scratch}. */
    static long callStateSize() {
        return STATE.byteSize();
    }

    /**
     * What {@code fstat} says about an open fd: the file it refers to ({@code st_dev}, {@code st_ino}), its type and
     * permissions ({@code st_mode}), the device of a device node ({@code st_rdev}) and its size ({@code st_size}).
     *
     * @param dev {@code st_dev}
     * @param ino {@code st_ino}
     * @param mode {@code st_mode}: {@code S_IFMT} type bits and permissions
     * @param rdev {@code st_rdev} ({@code makedev(major, minor)} of a device node)
     * @param size {@code st_size} in bytes
     */
    public record Stat(long dev, long ino, int mode, long rdev, long size) {
        /** {@code S_IFMT}: the type bits of {@code st_mode}. */
        public static final int S_IFMT = 0170000;
        /** A socket. */
        public static final int S_IFSOCK = 0140000;
        /** A symbolic link (an {@code O_PATH | O_NOFOLLOW} fd of one). */
        public static final int S_IFLNK = 0120000;
        /** A regular file (memfds and shm objects too). */
        public static final int S_IFREG = 0100000;
        /** A block device. */
        public static final int S_IFBLK = 0060000;
        /** A directory. */
        public static final int S_IFDIR = 0040000;
        /** A character device. */
        public static final int S_IFCHR = 0020000;
        /** A pipe or FIFO. */
        public static final int S_IFIFO = 0010000;

        /** {@return the fields of a filled {@code struct stat}} */
        static Stat of(MemorySegment st) {
            return new Stat(st.get(ValueLayout.JAVA_LONG, ST_DEV), st.get(ValueLayout.JAVA_LONG, ST_INO),
                    Posix.mode(st), Posix.rdev(st), Posix.size(st));
        }

        /** {@return the type bits of the mode ({@code mode & S_IFMT}); 0 for an anonymous inode} */
        public int type() {
            return mode & S_IFMT;
        }

        /** {@return the major number of a device node ({@code major(st_rdev)} of glibc)} */
        public int major() {
            return major(rdev);
        }

        /** {@return {@code major(rdev)} of glibc} */
        static int major(long rdev) {
            return (int) (((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL));
        }

        /** {@return the minor number of a device node ({@code minor(st_rdev)} of glibc)} */
        public int minor() {
            return (int) ((rdev & 0xff) | ((rdev >>> 12) & ~0xffL));
        }
    }

    /**
     * {@return what {@code fstat} says about {@code fd}}
     *
     * @param fd a file descriptor
     * @throws IllegalArgumentException when {@code fd} is not open ("fd 17 is not open (fstat: Bad file
     *     descriptor, errno 9)") or {@code fstat} fails otherwise
     */
    public static Stat stat(int fd) {
        return Stat.of(fstat(fd));
    }

    /**
     * {@return this thread's {@code struct stat}, filled by {@code fstat(fd)}} Allocates nothing: for the check
     * every import makes ({@link FdRule}), which reads it with {@link #mode}, {@link #rdev} and {@link #size}
     * before anything else runs on this thread.
     *
     * @param fd a file descriptor
     * @throws IllegalArgumentException as {@link #stat}
     */
    static MemorySegment fstat(int fd) {
        Scratch s = Scratch.get();
        int rc;
        try {
            rc = (int) FSTAT.invokeExact(s.callState, fd, s.stat);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (rc < 0) {
            int errno = (int) ERRNO.get(s.callState, 0L);
            throw new IllegalArgumentException((errno == EBADF ? "fd " + fd + " is not open" : "fstat(" + fd
                    + ") failed") + " (fstat: " + strerror(errno) + ")");
        }
        return s.stat;
    }

    /** {@return {@code st_mode} of a filled {@code struct stat}} */
    static int mode(MemorySegment st) {
        return st.get(ValueLayout.JAVA_INT, ST_MODE);
    }

    /** {@return {@code st_rdev} of a filled {@code struct stat}} */
    static long rdev(MemorySegment st) {
        return st.get(ValueLayout.JAVA_LONG, ST_RDEV);
    }

    /** {@return {@code st_size} of a filled {@code struct stat}} */
    static long size(MemorySegment st) {
        return st.get(ValueLayout.JAVA_LONG, ST_SIZE);
    }

    /**
     * {@return what {@code fd} refers to, as its {@code /proc/self/fd} link says: a path ("/etc/hostname",
     * "/dev/shm/x (deleted)", "/memfd:x (deleted)", "/dev/nvidiactl") or a pseudo file ("socket:[123]",
     * "pipe:[45]", "anon_inode:[eventfd]", "/dmabuf:"), or "" when it cannot be read} Allocates; for messages and
     * for telling apart fds that {@link #stat} alone cannot.
     *
     * @param fd an open file descriptor
     */
    public static String link(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "";
        }
    }

    /**
     * {@return a duplicate of {@code fd}}
     * @param fd an open file descriptor
     * @throws IllegalArgumentException when {@code dup} fails (e.g. {@code fd} is not open)
     */
    public static int dup(int fd) {
        return call(DUP, fd, "dup");
    }

    /**
     * Closes {@code fd}.
     *
     * @param fd an open file descriptor
     * @throws IllegalStateException when {@code close} fails
     */
    public static void close(int fd) {
        try {
            call(CLOSE, fd, "close");
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * Closes {@code copy} if it is still a duplicate of {@code original}: the same open file description
     * ({@code kcmp(KCMP_FILE)}), not only the same file. Used after a runtime that may or may not have closed the
     * duplicate it was handed refused it (CUDA): if it did, and another thread got the number for a new open of the
     * same file (every NVIDIA export is an fd of {@code /dev/nvidiactl}), that fd is another open file description
     * and is left alone. Where {@code kcmp} is not allowed (a seccomp filter, a kernel without it), the same file
     * (device and inode) is all that can be compared, and such a reused number would be closed.
     *
     * @param copy the duplicate handed to the runtime
     * @param original the caller's fd it was duplicated from
     * @return whether {@code copy} was closed
     */
    public static boolean closeIfDuplicate(int copy, int original) {
        MemorySegment state = Scratch.get().callState;
        long same;
        try {
            long pid = ProcessHandle.current().pid();
            same = (long) SYSCALL.invokeExact(state, SYS_KCMP, pid, pid, KCMP_FILE, (long) copy, (long) original);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (same < 0 && (int) ERRNO.get(state, 0L) != EBADF) {
            same = sameFile(copy, original) ? 0 : 1;         // kcmp not allowed here
        }
        if (same == 0) {
            close(copy);
        }
        return same == 0;
    }

    /** {@return whether both fds are open and refer to the same file (device and inode)} */
    private static boolean sameFile(int a, int b) {
        try {
            Stat x = stat(a);
            Stat y = stat(b);
            return x.dev() == y.dev() && x.ino() == y.ino();
        } catch (IllegalArgumentException notOpen) {
            return false;
        }
    }

    private static int call(MethodHandle h, int fd, String name) {
        MemorySegment state = Scratch.get().callState;
        int rc;
        try {
            rc = (int) h.invokeExact(state, fd);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (rc < 0) {
            throw new IllegalArgumentException(name + "(" + fd + ") failed: " + strerror((int) ERRNO.get(state, 0L)));
        }
        return rc;
    }

    private static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return NativeSupport.cString(s) + ", errno " + errno;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
