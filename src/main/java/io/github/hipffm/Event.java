package io.github.hipffm;

import io.github.hipffm.bindings.hip.Hip;
import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A marker in a stream ({@code hipEvent_t}): record it, wait for it, time between two of them. Owned by an
 * {@link Arena} like {@link Stream}.
 *
 * {@snippet :
 * Event start = Event.create(arena), end = Event.create(arena);
 * start.record(stream);
 * Memory.copyAsync(dst, src, src.byteSize(), stream);
 * end.record(stream).synchronize();
 * float ms = Event.elapsedMillis(start, end);
 * }
 */
public final class Event implements AutoCloseable {
    private final MemorySegment handle;
    private final Lifetime lifetime;

    private Event(MemorySegment handle, Lifetime lifetime) {
        this.handle = handle;
        this.lifetime = lifetime;
    }

    /**
     * {@return a new event that can be timed, owned by {@code arena}}
     * @param arena the owner
     */
    public static Event create(Arena arena) {
        return create(arena, true);
    }

    /**
     * {@return a new event, owned by {@code arena}}
     * @param arena the owner
     * @param timing false for {@code hipEventDisableTiming} (cheaper; {@link #elapsedMillis} then fails)
     */
    public static Event create(Arena arena, boolean timing) {
        Checks.notNull(arena, "arena");
        Backend b = Runtimes.current();
        Lifetime lifetime = new Lifetime(arena, "Event");
        try {
            MemorySegment e = b.eventCreate(timing ? Hip.hipEventDefault() : Hip.hipEventDisableTiming());
            lifetime.onClose(() -> b.eventDestroy(e));
            return new Event(lifetime.guard(e), lifetime);
        } catch (RuntimeException ex) {
            lifetime.close();
            throw ex;
        }
    }

    /** {@return the raw {@code hipEvent_t}, for the generated bindings} */
    public MemorySegment handle() {
        lifetime.checkOpen();
        return handle;
    }

    /**
     * Records the event on a stream ({@code hipEventRecord}).
     *
     * @param stream where
     * @return this event
     */
    public Event record(Stream stream) {
        Checks.notNull(stream, "stream");
        Runtimes.current().eventRecord(handle(), stream.handle());
        return this;
    }

    /** Waits until the event has completed ({@code hipEventSynchronize}). */
    public void synchronize() {
        Runtimes.current().eventSynchronize(handle());
    }

    /** {@return true when the event has completed ({@code hipEventQuery})} */
    public boolean isComplete() {
        return Runtimes.current().eventQuery(handle());
    }

    /**
     * {@return milliseconds between two completed events ({@code hipEventElapsedTime})}
     * @param start the earlier event
     * @param end the later event
     */
    public static float elapsedMillis(Event start, Event end) {
        Checks.notNull(start, "start");
        Checks.notNull(end, "end");
        return Runtimes.current().eventElapsedTime(start.handle(), end.handle());
    }

    /** {@return whether the event was destroyed} */
    public boolean isClosed() {
        return lifetime.isClosed();
    }

    /** Destroys the event; does nothing the second time. */
    @Override
    public void close() {
        lifetime.close();
    }
}
