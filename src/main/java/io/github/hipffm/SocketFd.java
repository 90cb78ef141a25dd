package io.github.hipffm;

import io.github.hipffm.internal.Sockets;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One non-blocking socket fd of {@link FdChannel} and its {@link FdChannel.Server}: the fd, a lock per direction,
 * the closed flag, and the wait for readiness.
 *
 * <h2>Waiting without pinning a carrier</h2>
 * Sockets are non-blocking ({@code SOCK_NONBLOCK}); a call that would block returns {@code EAGAIN} and the thread
 * waits in {@link #await}. A downcall that blocks pins a virtual thread to its carrier, so on a virtual thread the
 * wait never blocks in native code: {@code poll} with a timeout of 0, then {@link Thread#sleep} (which unmounts the
 * virtual thread), the sleep growing from 50 microseconds to 5 ms while nothing comes; a message that arrives
 * during a sleep is seen at most 5 ms late. A platform thread blocks in {@code poll} itself, in slices of at most
 * 50 ms, so that {@link #close()} from another thread and {@link Thread#interrupt()} are noticed within one slice.
 * (The JDK's own poller, which parks virtual threads on sockets, is not open to fds made outside {@code java.nio}.)
 *
 * <p>Close: marks the fd closed, then takes both locks, so a thread waiting in a call on it leaves within one slice
 * (with {@link IllegalStateException}) before the fd is closed; the number is never closed under a running call.
 */
final class SocketFd {
    private static final long SLICE_MS = 50;
    private static final long MIN_BACKOFF_NS = 50_000;
    private static final long MAX_BACKOFF_NS = 5_000_000;

    final int fd;
    final String what;
    final ReentrantLock in = new ReentrantLock();
    final ReentrantLock out = new ReentrantLock();
    private volatile boolean closed;

    SocketFd(int fd, String what) {
        this.fd = fd;
        this.what = what;
    }

    boolean isClosed() {
        return closed;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException(what + " is closed");
        }
    }

    /** {@return the deadline {@code timeout} from now, in {@link System#nanoTime()}} */
    static long deadline(Duration timeout, String name) {
        Checks.notNull(timeout, name);
        if (timeout.isNegative()) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + timeout);
        }
        long now = System.nanoTime();
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException e) {
            nanos = Long.MAX_VALUE / 4;
        }
        return now + Math.min(nanos, Long.MAX_VALUE / 4);
    }

    /**
     * Waits until the fd reports one of {@code events} (or an error or hang-up, which the next call reports), or the
     * deadline passes.
     *
     * @return true when ready, false when the deadline passed first
     * @throws IllegalStateException when the fd was closed meanwhile
     * @throws FdChannelException {@link FdChannelException.Reason#INTERRUPTED}, or {@code IO} when poll fails
     */
    boolean await(Arena scratch, MemorySegment state, short events, long deadline) {
        MemorySegment pollfd = scratch.allocate(Sockets.POLLFD);
        boolean virtual = Thread.currentThread().isVirtual();
        long backoff = MIN_BACKOFF_NS;
        while (true) {
            checkOpen();
            long left = deadline - System.nanoTime();
            int ms = virtual || left <= 0 ? 0 : (int) Math.min(SLICE_MS, TimeUnit.NANOSECONDS.toMillis(left + 999_999));
            pollfd.set(ValueLayout.JAVA_INT, 0, fd);
            pollfd.set(ValueLayout.JAVA_SHORT, 4, events);
            pollfd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
            int rc = Sockets.poll(state, pollfd, ms);
            if (rc > 0) {
                return true;
            }
            if (rc < 0 && rc != -Sockets.EINTR) {
                throw new FdChannelException(FdChannelException.Reason.IO, what + ": poll failed: "
                        + Sockets.strerror(-rc));
            }
            if (Thread.interrupted()) {
                throw interrupted();
            }
            left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            if (virtual) {
                try {
                    Thread.sleep(Duration.ofNanos(Math.min(backoff, left)));
                } catch (InterruptedException e) {
                    throw interrupted();
                }
                backoff = Math.min(backoff * 2, MAX_BACKOFF_NS);
            }
        }
    }

    private FdChannelException interrupted() {
        Thread.currentThread().interrupt();
        return new FdChannelException(FdChannelException.Reason.INTERRUPTED, what + ": interrupted while waiting");
    }

    /** Closes the fd once, after any call under way on either lock has left. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        in.lock();
        out.lock();
        try {
            try (Arena a = Arena.ofConfined()) {
                Sockets.close(Sockets.callState(a), fd);
            }
        } finally {
            out.unlock();
            in.unlock();
        }
    }

    /** Closes {@code fd} (a received fd, a socket not yet wrapped), ignoring the result. */
    static void closeQuietly(MemorySegment state, int fd) {
        Sockets.close(state, fd);
    }
}
