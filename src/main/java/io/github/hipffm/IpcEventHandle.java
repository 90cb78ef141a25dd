package io.github.hipffm;

import java.lang.foreign.Arena;
import java.util.Arrays;

/**
 * What another process needs to wait for an {@link Event} of this one: the runtime's IPC handle
 * ({@code hipIpcEventHandle_t}; {@code cudaIpcEventHandle_t} on NVIDIA: {@value #BYTES} opaque bytes on both).
 * Immutable; equal when the bytes are.
 *
 * <p>{@link #of(Event)} ({@code hipIpcGetEventHandle}) takes an event made by {@link Event#createInterprocess}
 * ({@code hipEventInterprocess}; an event without it is refused, naming the flag). {@link #toBytes()} and
 * {@link #fromBytes(byte[])} carry it to the other process (as data: a pipe, a file, a socket), where
 * {@link #open(Arena)} ({@code hipIpcOpenEventHandle}) gives an {@link Event} owned by the arena: recording it
 * there, {@link Event#synchronize()} and {@link Event#isComplete()} here (and the other way round) work across the
 * two processes; it cannot be timed. Closing it destroys this process's event ({@code hipEventDestroy}), not the
 * other's. The runtimes refuse to open a handle in the process that made it. {@code toString()} never shows the
 * bytes.
 *
 * {@snippet :
 * Event done = Event.createInterprocess(arena);
 * byte[] message = IpcEventHandle.of(done).toBytes();              // to the other process
 * done.record(stream);
 * // the other process
 * IpcEventHandle.fromBytes(message).open(arena).synchronize();     // waits for the work before the record
 * }
 */
public final class IpcEventHandle {
    /** The size of the handle and of {@link #toBytes()} ({@code HIP_IPC_HANDLE_SIZE}, CUDA's too). */
    public static final int BYTES = IpcMemoryHandle.RUNTIME_HANDLE_BYTES;

    private final byte[] handle;

    private IpcEventHandle(byte[] handle) {
        this.handle = handle;
    }

    /**
     * {@return the handle of an interprocess event ({@code hipIpcGetEventHandle})}
     * @param event an event made by {@link Event#createInterprocess}, open
     * @throws IllegalArgumentException for an event made without {@code hipEventInterprocess} (before any native
     *     call)
     * @throws IllegalStateException when the event is closed
     * @throws HipException when the runtime refuses
     */
    public static IpcEventHandle of(Event event) {
        Checks.notNull(event, "event");
        event.lifetime.checkOpen();
        if (!event.isInterprocess()) {
            throw new IllegalArgumentException("the event was made without hipEventInterprocess, and only an"
                    + " interprocess event has an IPC handle: make it with Event.createInterprocess");
        }
        return new IpcEventHandle(event.backend.ipcEventHandle(event.handle()));
    }

    /**
     * {@return the handle {@link #toBytes()} (or {@code hipIpcGetEventHandle} in C) wrote}
     * @param bytes the {@value #BYTES} bytes of the runtime's handle (copied)
     * @throws IllegalArgumentException for another length
     */
    public static IpcEventHandle fromBytes(byte[] bytes) {
        return new IpcEventHandle(runtimeHandle(bytes, "an IPC event handle"));
    }

    /** {@return a copy of a runtime handle's bytes, refused unless there are {@value #BYTES} of them} */
    static byte[] runtimeHandle(byte[] bytes, String what) {
        Checks.notNull(bytes, "bytes");
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException(what + " is " + BYTES + " bytes (HIP_IPC_HANDLE_SIZE, CUDA's too), got "
                    + bytes.length);
        }
        return bytes.clone();
    }

    /**
     * {@return the event, on the current device, owned by {@code arena} ({@code hipIpcOpenEventHandle}; destroyed
     * with {@code hipEventDestroy})} Interprocess, without timing.
     * @param arena the owner
     * @throws HipException when the runtime refuses (in the process that made the handle, for one)
     */
    public Event open(Arena arena) {
        Checks.notNull(arena, "arena");
        return Event.openIpc(null, arena, handle);
    }

    /**
     * {@return the event, opened on {@code device}, owned by {@code arena}} See {@link #open(Arena)}.
     * @param device the device
     * @param arena the owner
     */
    public Event open(Device device, Arena arena) {
        Checks.notNull(device, "device");
        Checks.notNull(arena, "arena");
        return Event.openIpc(device, arena, handle);
    }

    /** {@return a copy of the {@value #BYTES} bytes of the runtime's handle, which {@link #fromBytes} reads} */
    public byte[] toBytes() {
        return handle.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpcEventHandle h && Arrays.equals(h.handle, handle);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(handle);
    }

    /** {@return {@code IpcEventHandle[64 bytes]}: never the handle's bytes} */
    @Override
    public String toString() {
        return "IpcEventHandle[" + BYTES + " bytes]";
    }
}
