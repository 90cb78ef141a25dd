package io.github.hipffm;

import io.github.hipffm.internal.Posix;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * The ownership of one received fd, shared by {@link ReceivedMemory} and {@link ReceivedSemaphore}: owned until
 * imported, taken or closed, exactly one of which happens, once; each gives the channel's pending count back.
 */
final class ReceivedFd {
    private final int fd;
    private final AtomicInteger pending;
    private boolean owned = true;

    ReceivedFd(int fd, AtomicInteger pending) {
        this.fd = fd;
        this.pending = pending;
    }

    synchronized boolean owned() {
        return owned;
    }

    /** {@return what {@code importer} made of the fd; the fd is then the import's, or still the message's on failure} */
    synchronized <R> R importWith(IntFunction<R> importer, String what) {
        check(what);
        R r = importer.apply(fd);     // the fd rule: on failure the fd is still ours
        release();
        return r;
    }

    synchronized int take() {
        check("take the fd of");
        release();
        return fd;
    }

    synchronized void close() {
        if (owned) {
            release();
            Posix.close(fd);
        }
    }

    private void check(String what) {
        if (!owned) {
            throw new IllegalStateException("cannot " + what + " this message: its fd was already imported, taken"
                    + " or closed");
        }
    }

    private void release() {
        owned = false;
        pending.decrementAndGet();
    }
}
