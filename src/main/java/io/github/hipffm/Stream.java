package io.github.hipffm;

import io.github.hipffm.bindings.hip.Hip;
import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A queue of GPU work ({@code hipStream_t}). Created in an {@link Arena} and destroyed when that arena closes or
 * at {@link #close()}, whichever is first; closing twice is harmless and using a closed stream throws
 * {@link IllegalStateException}. {@link #defaultStream()} is the runtime's own null stream, which is never
 * destroyed.
 *
 * {@snippet :
 * try (Arena arena = Arena.ofConfined()) {
 *     Stream stream = Stream.create(arena);
 *     Memory.copyAsync(device, host, host.byteSize(), stream);
 *     stream.synchronize();
 * }
 * }
 */
public final class Stream implements AutoCloseable {
    private static final Stream DEFAULT = new Stream(MemorySegment.NULL, null);

    private final MemorySegment handle;
    private final Lifetime lifetime;

    private Stream(MemorySegment handle, Lifetime lifetime) {
        this.handle = handle;
        this.lifetime = lifetime;
    }

    /**
     * {@return a new blocking stream, owned by {@code arena}}
     * @param arena the owner
     */
    public static Stream create(Arena arena) {
        return create(arena, false);
    }

    /**
     * {@return a new stream, owned by {@code arena}}
     * @param arena the owner
     * @param nonBlocking true for {@code hipStreamNonBlocking} (does not synchronise with the null stream)
     */
    public static Stream create(Arena arena, boolean nonBlocking) {
        Checks.notNull(arena, "arena");
        Backend b = Runtimes.current();
        Lifetime lifetime = new Lifetime(arena, "Stream");
        try {
            MemorySegment s = b.streamCreate(nonBlocking ? Hip.hipStreamNonBlocking() : Hip.hipStreamDefault());
            lifetime.onClose(() -> b.streamDestroy(s));
            return new Stream(lifetime.guard(s), lifetime);
        } catch (RuntimeException e) {
            lifetime.close();
            throw e;
        }
    }

    /** {@return the null stream, which synchronises with every blocking stream; never destroyed} */
    public static Stream defaultStream() {
        return DEFAULT;
    }

    /** {@return the raw {@code hipStream_t} (NULL for the default stream), for the generated bindings} */
    public MemorySegment handle() {
        checkOpen();
        return handle;
    }

    /** Waits until all work queued so far has finished ({@code hipStreamSynchronize}). */
    public void synchronize() {
        Runtimes.current().streamSynchronize(handle());
    }

    /** {@return true when all queued work has finished ({@code hipStreamQuery})} */
    public boolean isIdle() {
        return Runtimes.current().streamQuery(handle());
    }

    /**
     * Makes work queued after this call wait until {@code event} completes ({@code hipStreamWaitEvent}).
     *
     * @param event a recorded event
     */
    public void waitFor(Event event) {
        Checks.notNull(event, "event");
        Runtimes.current().streamWaitEvent(handle(), event.handle());
    }

    /** {@return whether {@link #close()} was called or the owning arena closed} */
    public boolean isClosed() {
        return lifetime != null && lifetime.isClosed();
    }

    /** Destroys the stream; does nothing the second time, or for the default stream. */
    @Override
    public void close() {
        if (lifetime != null) {
            lifetime.close();
        }
    }

    void checkOpen() {
        if (lifetime != null) {
            lifetime.checkOpen();
        }
    }

    @Override
    public String toString() {
        return lifetime == null ? "Stream[default]" : "Stream[" + handle + (isClosed() ? ", closed]" : "]");
    }
}
