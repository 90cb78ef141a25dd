package io.github.hipffm.interop;

import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.TestRuntime;







import java.util.concurrent.atomic.AtomicLong;

/**
 * The fds the fuzzing properties hand to imports, of every kind an fd can be: an anonymous memory file, a POSIX
 * shared memory object, an unlinked regular file, a pipe, a directory, one that was closed, one that was never
 * opened. The test opened each and closes each itself where the fd rule leaves it with the caller.
 */
final class FuzzFds {
    /** What an fd given to an import refers to. */
    enum Kind {
        /** {@code memfd_create} + {@code ftruncate}: what the test runtime maps like exported GPU memory. */
        MEMFD(true, true),
        /** {@code shm_open} (unlinked) + {@code ftruncate}. */
        SHM(true, true),
        /** An unlinked regular file of the temporary directory, {@code ftruncate}d. */
        REGULAR_FILE(true, true),
        /** The read end of a pipe: open, but cannot be mapped. */
        PIPE(true, false),
        /** A directory, open {@code O_RDONLY}: open, but cannot be mapped. */
        DIRECTORY(true, false),
        /** A memfd that was closed again before the import: a number nobody else holds in a single-threaded test. */
        CLOSED(false, false),
        /** A number far above any this process opens. */
        NEVER_OPENED(false, false);

        final boolean open;
        final boolean mappable;

        Kind(boolean open, boolean mappable) {
            this.open = open;
            this.mappable = mappable;
        }
    }

    /**
     * An fd of a kind, and the size of what it refers to (0 for a pipe, a directory, or no fd).
     *
     * @param kind its kind
     * @param fd the number
     * @param size the file's size in bytes, for mappable kinds
     */
    record Fd(Kind kind, int fd, long size) {
        boolean isOpen() {
            return kind.open;
        }

        /** Closes it, where it was open. The fd rule says when the test must. */
        void close() {
            if (kind.open) {
                LinuxFds.close(fd);
            }
        }

        @Override
        public String toString() {
            return kind + " fd " + fd + (kind.mappable ? " of " + size + " bytes" : "");
        }
    }

    /**
     * {@return whether hip-ffm refuses an fd of {@code kind} before any native call as no GPU export: on NVIDIA, with
     * the default {@code -Dhipffm.fdCheck=kind}, every kind here (a GPU export is an fd of /dev/nvidiactl there);
     * the test-runtime-nvidia execution checks only that the fd is open ({@code open})}
     */
    static boolean notAnExport(Kind kind) {
        return TestRuntime.nvidia() && kind.open && System.getProperty("hipffm.fdCheck", "kind").equals("kind");
    }

    private static final int O_RDONLY = 0;
    private static final int O_DIRECTORY = 0200000;
    private static final int O_CLOEXEC = 02000000;
    /** Far above the fds this process opens (the kernel hands out the lowest free number). */
    private static final int NEVER_OPENED = 900_000;
    private static final AtomicLong NAMES = new AtomicLong();
    private static final String TMP = System.getProperty("java.io.tmpdir");

    private FuzzFds() {
    }

    /**
     * {@return a new fd of {@code kind}; mappable kinds refer to {@code size} zero bytes}
     * @param kind the kind
     * @param size the size of a file, &gt;= 0
     * @param salt varies the number of a never-opened fd
     */
    static Fd open(Kind kind, long size, int salt) {
        return switch (kind) {
            case MEMFD -> new Fd(kind, LinuxFds.memfd("hipffm-fuzz", size), size);
            case SHM -> new Fd(kind, LinuxFds.shm("/hipffm-fuzz-" + ProcessHandle.current().pid() + "-"
                    + NAMES.incrementAndGet(), size), size);
            case REGULAR_FILE -> new Fd(kind, LinuxFds.deletedFile(size), size);
            case PIPE -> {
                int[] ends = LinuxFds.pipe();
                LinuxFds.close(ends[1]);   // the read end of a pipe whose write end is closed
                yield new Fd(kind, ends[0], 0);
            }
            case DIRECTORY -> new Fd(kind, LinuxFds.open(java.nio.file.Path.of(TMP), O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0);
            case CLOSED -> {
                int fd = LinuxFds.memfd("hipffm-fuzz-closed", 0);
                LinuxFds.close(fd);
                yield new Fd(kind, fd, 0);
            }
            case NEVER_OPENED -> new Fd(kind, NEVER_OPENED + Math.floorMod(salt, 50_000), 0);
        };
    }
}
