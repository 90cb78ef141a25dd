package io.github.hipffm;

import io.github.hipffm.internal.Posix;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * What {@link ReceivedMemory} and {@link ReceivedSemaphore} share: the sender and the ownership of one received
 * fd, owned until imported, taken or closed, exactly one of which happens, once; each gives the channel's pending
 * count back.
 */
abstract sealed class ReceivedFd permits ReceivedMemory, ReceivedSemaphore {
    private final int fd;
    private final FdChannel.Peer sender;
    private final AtomicInteger pending;
    private final Object lock = new Object();
    private boolean owned = true;

    ReceivedFd(int fd, FdChannel.Peer sender, AtomicInteger pending) {
        this.fd = fd;
        this.sender = sender;
        this.pending = pending;
    }

    /** {@return the process that sent it} */
    public FdChannel.Peer sender() {
        return sender;
    }

    /** {@return whether the message still owns its fd (not imported, taken or closed)} */
    public boolean ownsFd() {
        synchronized (lock) {
            return owned;
        }
    }

    /**
     * {@return the fd, which the caller now owns and must close or import} The message then owns nothing.
     * @throws IllegalStateException when the fd was already imported, taken or closed
     */
    public int takeFd() {
        synchronized (lock) {
            check("take the fd of");
            release();
            return fd;
        }
    }

    /** Closes the fd unless it was imported or taken. */
    public void close() {
        synchronized (lock) {
            if (owned) {
                release();
                Posix.close(fd);
            }
        }
    }

    /** {@return what {@code importer} made of the fd; the fd is then the import's, or still the message's on failure} */
    <R> R importWith(IntFunction<R> importer, String what) {
        synchronized (lock) {
            check(what);
            R r = importer.apply(fd);     // the fd rule: on failure the fd is still ours
            release();
            return r;
        }
    }

    /** {@return {@code ", from pid …"} and whether the fd was given away, to end a message's {@code toString()}} */
    String fromAndOwnership() {
        return ", from pid " + sender.pid() + (ownsFd() ? "" : ", fd given away") + "]";
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
