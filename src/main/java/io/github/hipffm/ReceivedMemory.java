package io.github.hipffm;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A memory fd received on an {@link FdChannel}, with what the sender said about it: the
 * {@link #descriptor()} (handle type, size, dedicated flag, and the received fd) and an {@link #offset()}.
 * It owns the fd until {@link #importMemory} (the {@link ExternalMemory} then owns it), {@link #takeFd()} or
 * {@link #close()}.
 *
 * {@snippet :
 * try (ReceivedMemory received = channel.receiveMemory(Duration.ofSeconds(5))) {
 *     ExternalMemory memory = received.importMemory(arena);
 *     MemorySegment data = memory.mapBuffer(received.offset(), 4096);
 * }
 * }
 */
public final class ReceivedMemory extends ReceivedFd implements FdMessage {
    private final ExternalMemoryDescriptor descriptor;
    private final long offset;

    ReceivedMemory(ExternalMemoryDescriptor descriptor, long offset, FdChannel.Peer sender, AtomicInteger pending) {
        super(descriptor.fd(), sender, pending);
        this.descriptor = descriptor;
        this.offset = offset;
    }

    /**
     * Imports the memory ({@link ExternalMemory#importMemory}): on success the memory owns the fd and this message
     * owns nothing; on failure the fd is still this message's (closed by {@link #close()}).
     *
     * @param arena the memory's owner
     * @return the imported memory
     * @throws IllegalStateException when the fd was already imported, taken or closed, or the arena is closed
     * @throws IllegalArgumentException as {@link ExternalMemory#importMemory}
     * @throws HipException when the runtime refuses the import
     */
    public ExternalMemory importMemory(Arena arena) {
        Checks.notNull(arena, "arena");
        return importWith(n -> ExternalMemory.importMemory(arena, descriptor), "import");
    }

    /**
     * Imports the memory as {@link VirtualMemory} ({@link VirtualMemory#importFd}: {@code hipMemImportFromShareableHandle},
     * mapped read-write for the current device), for an fd that another process's {@link VirtualMemory#send} sent;
     * ownership of the fd as {@link #importMemory}.
     *
     * @param arena the memory's owner
     * @return the imported memory
     * @throws IllegalStateException when the fd was already imported, taken or closed, or the arena is closed
     * @throws HipException when the runtime refuses the import
     */
    public VirtualMemory importVirtualMemory(Arena arena) {
        Checks.notNull(arena, "arena");
        return importWith(n -> VirtualMemory.importFd(arena, descriptor.fd(), descriptor.size()), "import");
    }

    /** {@return what to import: the handle type, the received fd, the size and the dedicated flag} */
    public ExternalMemoryDescriptor descriptor() {
        return descriptor;
    }

    /** {@return the offset in the memory that the sender named (where its data starts), {@code < size()}} */
    public long offset() {
        return offset;
    }

    /** {@return the size of the exported allocation in bytes} */
    public long size() {
        return descriptor.size();
    }

    /** {@return the handle type} */
    public ExternalMemoryHandleType handleType() {
        return descriptor.type();
    }

    /** {@return whether the allocation is dedicated} */
    public boolean dedicated() {
        return descriptor.dedicated();
    }

    /** {@return the received fd (owned by this message while {@link #ownsFd()})} */
    public int fd() {
        return descriptor.fd();
    }

    @Override
    public String toString() {
        return "ReceivedMemory[" + descriptor.type() + " fd " + descriptor.fd() + ", " + descriptor.size() + " bytes"
                + (descriptor.dedicated() ? ", dedicated" : "") + ", offset " + offset + fromAndOwnership();
    }
}
