package io.github.hipffm;

import io.github.hipffm.internal.Backend;

import java.lang.foreign.MemorySegment;

/**
 * What every owned native resource shares: the backend it was created with, its {@link Lifetime}, its handle
 * (scoped to the lifetime, so a closed one is refused before any native call), and {@code handle()},
 * {@code isClosed()}, {@code close()} and {@code toString()}. Resources are made by
 * {@link Lifetime#create}, the one creation protocol.
 */
abstract sealed class NativeResource implements AutoCloseable
        permits Stream, Event, ExternalMemory, ExternalSemaphore, MipmappedArray, GraphicsResource, HipModule, Graph,
        GraphExec, TextureObject, SurfaceObject, VirtualMemory {
    final Backend backend;
    final Lifetime lifetime;
    final MemorySegment handle;

    NativeResource(Backend backend, Lifetime lifetime, MemorySegment handle) {
        this.backend = backend;
        this.lifetime = lifetime;
        this.handle = handle;
    }

    /**
     * {@return the raw runtime handle ({@code hipStream_t}, {@code hipExternalMemory_t}, ...), for the generated
     * bindings} It is scoped to this resource: a native call that gets it after {@link #close()} is refused.
     * @throws IllegalStateException when closed
     */
    public MemorySegment handle() {
        lifetime.checkOpen();
        return handle;
    }

    /**
     * {@return the device it belongs to: the one it was created on (given to its creation, or the calling thread's
     * current device then); for a resource made from another one, that one's} A plain getter: it works after close.
     */
    public Device device() {
        return lifetime.device;
    }

    /** {@return whether it was released, by {@link #close()} or its owner arena} */
    public boolean isClosed() {
        return lifetime.isClosed();
    }

    /**
     * Releases it, and what depends on it first; does nothing the second time. Work queued on the GPU that uses
     * it must have finished (synchronize its streams first). When another thread's call still holds it (or a
     * segment of it), this returns at once: it counts as closed, and is released as soon as that call has ended
     * (a failure of that release is logged).
     *
     * @throws HipException when the runtime fails to release something; everything else is still released
     * @throws WrongThreadException when its owner arena is confined to another thread
     */
    @Override
    public void close() {
        lifetime.close();
    }

    /** {@return what {@link #toString()} shows between the brackets: by default the handle's address} */
    String describe() {
        return address(handle);
    }

    /**
     * {@return a native address as {@code 0x...}}
     * @param segment a handle
     */
    static String address(MemorySegment segment) {
        return "0x" + Long.toHexString(segment.address());
    }

    /**
     * {@return the resource's kind, what identifies it (its handle's address, type or size) and, once released,
     * {@code closed}; e.g. {@code Stream[0x5581c2a0, blocking]}}
     */
    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + describe() + (isClosed() ? ", closed]" : "]");
    }
}
