package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A queue of GPU work ({@code hipStream_t}). Created in an {@link Arena} and destroyed when that arena closes or
 * at {@link #close()}, whichever is first; closing twice is harmless and using a closed stream throws
 * {@link IllegalStateException}. {@link #defaultStream()} is the runtime's own null stream, which is never
 * destroyed. {@link #handle()} is the raw {@code hipStream_t} (NULL for the default stream).
 *
 * {@snippet :
 * try (Arena arena = Arena.ofConfined()) {
 *     Stream stream = Stream.create(arena);
 *     Memory.copyAsync(device, host, host.byteSize(), stream);
 *     stream.synchronize();
 * }
 * }
 */
public final class Stream extends NativeResource {
    private static volatile Stream defaultStream;

    private final boolean nonBlocking;
    /** Between {@link #beginCapture()} and {@link #endCapture(Arena)}. */
    volatile boolean capturing;

    private Stream(Backend backend, Lifetime lifetime, MemorySegment handle, boolean nonBlocking) {
        super(backend, lifetime, handle);
        this.nonBlocking = nonBlocking;
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
        return make(null, arena, nonBlocking);
    }

    /**
     * {@return a new blocking stream of {@code device}, owned by {@code arena}} The calling thread's current device
     * is switched for the creation only if it is another one, and restored.
     * @param device the device whose work it queues
     * @param arena the owner
     */
    public static Stream create(Device device, Arena arena) {
        return create(device, arena, false);
    }

    /**
     * {@return a new stream of {@code device}, owned by {@code arena}}
     * @param device the device whose work it queues
     * @param arena the owner
     * @param nonBlocking true for {@code hipStreamNonBlocking}
     */
    public static Stream create(Device device, Arena arena, boolean nonBlocking) {
        Checks.notNull(device, "device");
        Checks.notNull(arena, "arena");
        return make(device, arena, nonBlocking);
    }

    /** The creation, on {@code device} (null: the current device). */
    private static Stream make(Device device, Arena arena, boolean nonBlocking) {
        Backend b = Runtimes.current();
        return Lifetime.create(arena, device, "Stream", () -> b.streamCreate(nonBlocking), b::streamDestroy,
                (lifetime, s) -> new Stream(b, lifetime, s, nonBlocking));
    }

    /** {@return the null stream, which synchronises with every blocking stream; never destroyed} */
    public static Stream defaultStream() {
        Stream d = defaultStream;
        if (d == null) {
            synchronized (Stream.class) {
                d = defaultStream;
                if (d == null) {
                    d = new Stream(Runtimes.current(), new Lifetime("Stream"), MemorySegment.NULL, false);
                    defaultStream = d;
                }
            }
        }
        return d;
    }

    /**
     * {@return the device whose work it queues; for {@link #defaultStream()}, which is every device's own null
     * stream, the calling thread's current device}
     */
    @Override
    public Device device() {
        Device d = lifetime.device;
        return d != null ? d : Device.current(backend);
    }

    /** {@return the device, null for the default stream (the current device's): for checks, no native call} */
    Device knownDevice() {
        return lifetime.device;
    }

    /** Waits until all work queued so far has finished ({@code hipStreamSynchronize}). */
    public void synchronize() {
        backend.streamSynchronize(handle());
    }

    /** {@return true when all queued work has finished ({@code hipStreamQuery})} */
    public boolean isIdle() {
        return backend.streamQuery(handle());
    }

    /**
     * Makes work queued after this call wait until {@code event} completes ({@code hipStreamWaitEvent}).
     *
     * @param event a recorded event
     */
    public void waitFor(Event event) {
        Checks.notNull(event, "event");
        backend.streamWaitEvent(handle(), event.handle());
    }

    /**
     * Starts capturing this stream's work into a graph ({@code hipStreamBeginCapture}, global mode): until
     * {@link #endCapture(Arena)}, copies, fills, kernel launches, event records and waits queued on it are not run
     * but become the nodes of a graph, one after the other. Synchronizing the stream meanwhile fails and spoils the
     * capture. External-semaphore signals and waits are refused on a capturing stream
     * ({@link IllegalStateException}): ROCm's captured node would point into hip-ffm's per-call memory; add them to
     * the captured graph with {@link Graph#addSignal} and {@link Graph#addWait} instead.
     *
     * @throws IllegalArgumentException for the default stream, which cannot be captured
     * @throws IllegalStateException when closed, or already capturing
     */
    public void beginCapture() {
        MemorySegment h = handle();
        if (h == MemorySegment.NULL) {
            throw new IllegalArgumentException("the default stream cannot be captured; create a stream");
        }
        synchronized (this) {
            if (capturing) {
                throw new IllegalStateException(this + " is already capturing");
            }
            backend.streamBeginCapture(h);
            capturing = true;
        }
    }

    /**
     * Ends the capture ({@code hipStreamEndCapture}) and returns its graph, owned by {@code arena} like one of
     * {@link Graph#create}. The graph's captured nodes are the runtime's: {@link Graph#nodes()} lists only those
     * added afterwards, and a launch checks only those for released resources. The capture ends also when this
     * fails (with {@code hipErrorStreamCaptureInvalidated} when a captured call failed or the stream was
     * synchronized meanwhile), and when {@code arena} refuses the graph (closed: {@link IllegalStateException}),
     * whose graph is then destroyed.
     *
     * @param arena the graph's owner
     * @return the captured graph
     * @throws IllegalStateException when closed, or not capturing
     */
    public Graph endCapture(Arena arena) {
        Checks.notNull(arena, "arena");
        MemorySegment h = handle();
        synchronized (this) {
            if (!capturing) {
                throw new IllegalStateException(this + " is not capturing: call beginCapture first");
            }
            boolean[] ended = {false};
            try {
                return Graph.captured(arena, lifetime.device, backend, h, ended);
            } catch (RuntimeException e) {
                if (!ended[0]) {   // refused before the end (the arena closed, or another thread's): end it here
                    try {
                        backend.graphDestroy(backend.streamEndCapture(h));
                    } catch (RuntimeException second) {
                        e.addSuppressed(second);
                    }
                }
                throw e;
            } finally {
                capturing = false;
            }
        }
    }

    /** {@return whether {@link #beginCapture()} started a capture that has not ended} */
    public boolean isCapturing() {
        return capturing;
    }

    /** Refuses work that must not be captured on a capturing stream. */
    void checkNotCapturing(String what) {
        if (capturing) {
            throw new IllegalStateException(this + " is capturing: " + what + " cannot be captured (ROCm's node would"
                    + " point into hip-ffm's per-call memory); add it to the graph instead (Graph.addSignal/addWait)");
        }
    }

    /** Destroys the stream; does nothing the second time, or for the default stream. */
    @Override
    public void close() {
        if (handle != MemorySegment.NULL) {
            super.close();
        }
    }

    @Override
    String describe() {
        return handle == MemorySegment.NULL ? "default" : address(handle) + (nonBlocking ? ", non-blocking" : ", blocking")
                + (capturing ? ", capturing" : "");
    }
}
