package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Supplier;

/**
 * A marker in a stream ({@code hipEvent_t}): record it, wait for it, time between two of them. Owned by an
 * {@link Arena} like {@link Stream}; {@link #handle()} is the raw {@code hipEvent_t}. An event made by
 * {@link #createInterprocess} can be shared with another process through an {@link IpcEventHandle}.
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
    private final boolean interprocess;

    private Event(Backend backend, Lifetime lifetime, MemorySegment handle, boolean timing, boolean interprocess) {
        super(backend, lifetime, handle);
        this.timing = timing;
        this.interprocess = interprocess;
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

    /**
     * {@return a new event that another process can wait for, owned by {@code arena}: created with
     * {@code hipEventInterprocess} and {@code hipEventDisableTiming} (the runtimes require both), for
     * {@link IpcEventHandle#of}}
     * @param arena the owner
     */
    public static Event createInterprocess(Arena arena) {
        Checks.notNull(arena, "arena");
        Backend b = Runtimes.current();
        return make(null, arena, b, b::eventCreateInterprocess);
    }

    /**
     * {@return a new interprocess event of {@code device}, owned by {@code arena}} See {@link #createInterprocess(Arena)}.
     * @param device the device
     * @param arena the owner
     */
    public static Event createInterprocess(Device device, Arena arena) {
        Checks.notNull(device, "device");
        Checks.notNull(arena, "arena");
        Backend b = Runtimes.current();
        return make(device, arena, b, b::eventCreateInterprocess);
    }

    /** The event another process's IPC handle names ({@code hipIpcOpenEventHandle}), on {@code device} (null: current). */
    static Event openIpc(Device device, Arena arena, byte[] handle) {
        Backend b = Runtimes.current();
        return make(device, arena, b, () -> b.ipcOpenEventHandle(handle));
    }

    /** The creation, on {@code device} (null: the current device). */
    private static Event make(Device device, Arena arena, boolean timing) {
        Backend b = Runtimes.current();
        return Lifetime.create(arena, device, "Event", () -> b.eventCreate(timing), b::eventDestroy,
                (lifetime, e) -> new Event(b, lifetime, e, timing, false));
    }

    /** The creation of an interprocess event (no timing), on {@code device} (null: the current device). */
    private static Event make(Device device, Arena arena, Backend b, Supplier<MemorySegment> create) {
        return Lifetime.create(arena, device, "Event", create, b::eventDestroy,
                (lifetime, e) -> new Event(b, lifetime, e, false, true));
    }

    /**
     * {@return whether it was made with {@code hipEventInterprocess} ({@link #createInterprocess}, or opened from an
     * {@link IpcEventHandle}): only such an event has an IPC handle} A plain getter: it works after close.
     */
    public boolean isInterprocess() {
        return interprocess;
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
        return address(handle) + (timing ? ", timing" : ", no timing") + (interprocess ? ", interprocess" : "");
    }
}
