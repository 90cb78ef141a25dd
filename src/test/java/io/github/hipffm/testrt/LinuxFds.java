package io.github.hipffm.testrt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The fds the seed examples start from ({@code memfd_create}, {@code shm_open} + {@code ftruncate}), fds of other
 * kinds for the fd-kind tests (files, pipes, {@code eventfd}, sockets), and {@code /proc/self/fd} bookkeeping for
 * the fd-ownership tests. Linux only; test and example code.
 */
public final class LinuxFds {
    private static final Linker L = Linker.nativeLinker();
    private static final MethodHandle MEMFD_CREATE = h("memfd_create",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle SHM_OPEN = h("shm_open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SHM_UNLINK = h("shm_unlink",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle FTRUNCATE = h("ftruncate",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle CLOSE = h("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle OPEN = h("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle PIPE = h("pipe", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle EVENTFD = h("eventfd",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SOCKETPAIR = h("socketpair", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    /** {@code open} flags. */
    public static final int O_RDONLY = 0;
    /** {@code open} flags. */
    public static final int O_RDWR = 2;
    private static final java.util.concurrent.atomic.AtomicInteger FILES = new java.util.concurrent.atomic.AtomicInteger();
    private static final int O_CREAT = 0100;

    private LinuxFds() {
    }

    private static MethodHandle h(String name, FunctionDescriptor d) {
        return L.downcallHandle(L.defaultLookup().find(name).orElseThrow(), d);
    }

    /** {@return a new anonymous memory file of {@code size} bytes ({@code memfd_create} + {@code ftruncate})} */
    public static int memfd(String name, long size) {
        try (Arena a = Arena.ofConfined()) {
            int fd = (int) MEMFD_CREATE.invokeExact(a.allocateFrom(name), 0);
            check(fd, "memfd_create");
            check((int) FTRUNCATE.invokeExact(fd, size), "ftruncate");
            return fd;
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@return a POSIX shared memory object of {@code size} bytes, already unlinked ({@code shm_open})} */
    public static int shm(String name, long size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocateFrom(name);
            int fd = (int) SHM_OPEN.invokeExact(n, O_CREAT | O_RDWR, 0600);
            check(fd, "shm_open");
            check((int) SHM_UNLINK.invokeExact(n), "shm_unlink");
            check((int) FTRUNCATE.invokeExact(fd, size), "ftruncate");
            return fd;
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@return an fd of {@code path} ({@code open(path, flags)}): a file, a directory, a device node} */
    public static int open(Path path, int flags) {
        try (Arena a = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(a.allocateFrom(path.toString()), flags);
            check(fd, "open " + path);
            return fd;
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /**
     * {@return an fd of a regular file of {@code size} bytes, already deleted} Made with {@code RandomAccessFile}, not
     * {@code Files.createTempFile}, whose first use opens {@code /dev/random} for good (which fd counting would see).
     * @param size the file's length
     */
    public static int deletedFile(long size) {
        Path file = Path.of(System.getProperty("java.io.tmpdir"), "hipffm-file-" + ProcessHandle.current().pid() + "-"
                + FILES.incrementAndGet());
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int fd = open(file, O_RDWR);
        try {
            Files.delete(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return fd;
    }

    /** {@return the two ends of a new pipe, read end first} */
    public static int[] pipe() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(ValueLayout.JAVA_INT, 2);
            check((int) PIPE.invokeExact(fds), "pipe");
            return fds.toArray(ValueLayout.JAVA_INT);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@return a new {@code eventfd}: an anonymous inode} */
    public static int eventfd() {
        try {
            int fd = (int) EVENTFD.invokeExact(0, 0);
            check(fd, "eventfd");
            return fd;
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@return the two ends of a new connected pair of Unix stream sockets ({@code socketpair})} */
    public static int[] socketPair() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(ValueLayout.JAVA_INT, 2);
            check((int) SOCKETPAIR.invokeExact(1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0, fds), "socketpair");
            return fds.toArray(ValueLayout.JAVA_INT);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@return what {@code fd} refers to: its {@code /proc/self/fd} link ("/memfd:x (deleted)", "socket:[12]")} */
    public static String link(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Closes an fd. */
    public static void close(int fd) {
        try {
            check((int) CLOSE.invokeExact(fd), "close");
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** {@return whether {@code fd} is open in this process} */
    public static boolean isOpen(int fd) {
        return Files.exists(Path.of("/proc/self/fd/" + fd), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /** {@return how many fds this process has open} */
    public static long count() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@return the fds this process has open, each with what it refers to (its {@code /proc/self/fd} link), in
     * fd order} The directory stream that lists them is left out; an fd closed while listing reads as "?".
     */
    public static SortedMap<Integer, String> open() {
        Path dir = Path.of("/proc/self/fd");
        String self = "/proc/" + ProcessHandle.current().pid() + "/fd";
        SortedMap<Integer, String> fds = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> {
                String target;
                try {
                    target = Files.readSymbolicLink(p).toString();
                } catch (IOException e) {
                    target = "?";
                }
                if (!target.equals(self)) {
                    fds.put(Integer.parseInt(p.getFileName().toString()), target);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return fds;
    }

    /** {@return {@code length} bytes at {@code offset} of the file behind {@code fd}, read through the fd} */
    public static byte[] read(int fd, long offset, int length) {
        try (FileChannel ch = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0) {
                // keep reading
            }
            return b.array();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code data} at {@code offset} of the file behind {@code fd}. */
    public static void write(int fd, long offset, byte[] data) {
        try (FileChannel ch = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b, offset + b.position());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void check(int rc, String call) {
        if (rc < 0) {
            throw new IllegalStateException(call + " failed");
        }
    }

    /**
     * {@return {@code t} as an unchecked exception, for the {@code catch (Throwable)} of a method handle call} An
     * {@link Error} is thrown as it is.
     * @param t what the call threw
     */
    public static RuntimeException propagate(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
