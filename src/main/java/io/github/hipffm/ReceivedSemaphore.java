package io.github.hipffm;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A semaphore fd received on an {@link FdChannel}, with its handle type and the value the sender gave (a timeline
 * semaphore's current counter). It owns the fd until {@link #importSemaphore} (the {@link ExternalSemaphore} then
 * owns it), {@link #takeFd()} or {@link #close()}.
 */
public final class ReceivedSemaphore extends ReceivedFd implements FdMessage {
    private final ExternalSemaphoreDescriptor descriptor;
    private final long value;

    ReceivedSemaphore(ExternalSemaphoreDescriptor descriptor, long value, FdChannel.Peer sender, AtomicInteger pending) {
        super(descriptor.fd(), sender, pending);
        this.descriptor = descriptor;
        this.value = value;
    }

    /**
     * Imports the semaphore ({@link ExternalSemaphore#importSemaphore}): on success the semaphore owns the fd and
     * this message owns nothing; on failure the fd is still this message's.
     *
     * @param arena the semaphore's owner
     * @return the imported semaphore
     * @throws IllegalStateException when the fd was already imported, taken or closed, or the arena is closed
     * @throws IllegalArgumentException as {@link ExternalSemaphore#importSemaphore}
     * @throws HipException as {@link ExternalSemaphore#importSemaphore} (on AMD: not supported)
     */
    public ExternalSemaphore importSemaphore(Arena arena) {
        Checks.notNull(arena, "arena");
        return importWith(n -> ExternalSemaphore.importSemaphore(arena, descriptor), "import");
    }

    /** {@return what to import: the handle type and the received fd} */
    public ExternalSemaphoreDescriptor descriptor() {
        return descriptor;
    }

    /** {@return the value the sender gave: a timeline semaphore's current counter} */
    public long value() {
        return value;
    }

    /** {@return the handle type} */
    public ExternalSemaphoreHandleType handleType() {
        return descriptor.type();
    }

    /** {@return the received fd (owned by this message while {@link #ownsFd()})} */
    public int fd() {
        return descriptor.fd();
    }

    @Override
    public String toString() {
        return "ReceivedSemaphore[" + descriptor.type() + " fd " + descriptor.fd() + ", value " + value + fromAndOwnership();
    }
}
