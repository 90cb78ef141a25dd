package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A marker in a stream ({@code hipEvent_t}): record it, wait for it, time between two of them. Owned by an
 * {@link Arena} like {@link Stream}; {@link #handle()} is the raw {@code hipEvent_t}.
 *
 * {@snippet :
 * Event start = Event.create(arena), end = Event.create(arena);
 * start.record(stream);
 * Memory.copyAsync(dst, src, src.byteSize(), stream);
 * end.record(stream).synchronize();
 * float ms = Event.elapsedMillis(start, end);
 * }
 */
public final class Event extends NativeResource {
    private final boolean timing;

    private Event(Backend backend, Lifetime lifetime, MemorySegment handle, boolean timing) {
        super(backend, lifetime, handle);
        this.timing = timing;
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
        return make(null, arena, timing);
    }

    /**
     * {@return a new event of {@code device} that can be timed, owned by {@code arena}} It can be recorded on that
     * device's streams only.
     * @param device the device
     * @param arena the owner
     */
    public static Event create(Device device, Arena arena) {
        return create(device, arena, true);
    }

    /**
     * {@return a new event of {@code device}, owned by {@code arena}}
     * @param device the device
     * @param arena the owner
     * @param timing false for {@code hipEventDisableTiming}
     */
    public static Event create(Device device, Arena arena, boolean timing) {
        Checks.notNull(device, "device");
        Checks.notNull(arena, "arena");
        return make(device, arena, timing);
    }

    /** The creation, on {@code device} (null: the current device). */
    private static Event make(Device device, Arena arena, boolean timing) {
        Backend b = Runtimes.current();
        return Lifetime.create(arena, device, "Event", () -> b.eventCreate(timing), b::eventDestroy,
                (lifetime, e) -> new Event(b, lifetime, e, timing));
    }

    /**
     * Records the event on a stream ({@code hipEventRecord}).
     *
     * @param stream where
     * @return this event
     */
    public Event record(Stream stream) {
        Checks.notNull(stream, "stream");
        lifetime.checkOpen();
        DeviceChecks.sameDevice(lifetime.device, stream, "event");
        backend.eventRecord(handle(), stream.handle());
        return this;
    }

    /** Waits until the event has completed ({@code hipEventSynchronize}). */
    public void synchronize() {
        backend.eventSynchronize(handle());
    }

    /** {@return true when the event has completed ({@code hipEventQuery})} */
    public boolean isComplete() {
        return backend.eventQuery(handle());
    }

    /**
     * {@return milliseconds between two completed events ({@code hipEventElapsedTime})}
     * @param start the earlier event
     * @param end the later event
     */
    public static float elapsedMillis(Event start, Event end) {
        Checks.notNull(start, "start");
        Checks.notNull(end, "end");
        start.lifetime.checkOpen();
        end.lifetime.checkOpen();
        DeviceChecks.same(start.lifetime.device, end.lifetime.device, "the start event", "the end event");
        return start.backend.eventElapsedTime(start.handle(), end.handle());
    }

    @Override
    String describe() {
        return address(handle) + (timing ? ", timing" : ", no timing");
    }
}
