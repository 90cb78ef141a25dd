package io.github.hipffm.bench;

import io.github.hipffm.Device;
import io.github.hipffm.Event;
import io.github.hipffm.Hip;
import io.github.hipffm.Platform;
import io.github.hipffm.Stream;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * Create + destroy churn of streams and events, as a user churns them: {@link Stream#create(Arena)} or
 * {@link Event#create(Arena, boolean)} in an {@link OwnerArena} (confined or shared; an arena per operation, or a
 * long-lived one and the resource's {@code close()}). C twin: {@code native/churn.c}
 * ({@code cudaStreamCreateWithFlags(&s, cudaStreamDefault)} + {@code cudaStreamDestroy}, which is
 * {@code cudaStreamCreate}; {@code cudaEventCreateWithFlags} with {@code cudaEventDefault} or
 * {@code cudaEventDisableTiming} + {@code cudaEventDestroy}): the calls hip-ffm makes on NVIDIA.
 *
 * <p>The {@code *Raw} benchmarks make the same two calls through the generated binding (NVIDIA only), so that what
 * the idiomatic layer adds can be told from what a downcall costs.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 400, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ChurnBench {

    /** Device 0, made current once per trial; setup fails with "no GPU: ..." without one. */
    @State(Scope.Thread)
    public static class Dev {
        @Setup(Level.Trial)
        public void setup() {
            Gpu.require();
        }
    }

    /** Whether the event records timing ({@code true}: default flags; {@code false}: {@code DisableTiming}). */
    @State(Scope.Thread)
    public static class EventKind {
        @Param({"true", "false"})
        public boolean timing;
    }

    /** Scratch for the raw benchmarks: one pointer out-parameter; NVIDIA only. */
    @State(Scope.Thread)
    public static class Raw {
        Arena arena;
        MemorySegment out;

        @Setup(Level.Trial)
        public void setup() {
            Gpu.require();
            if (Hip.platform() != Platform.NVIDIA) {
                throw new IllegalStateException("the raw churn benchmarks call CUDA's runtime; this JVM uses "
                        + Hip.platform().id() + " (" + Hip.library() + ")");
            }
            arena = Arena.ofConfined();
            out = arena.allocate(ValueLayout.ADDRESS);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** {@code Stream.create(owner)}, released by the owner's close (per op) or by {@code close()} (long-lived). */
    @Benchmark
    public Stream streamCreateDestroy(Dev d, OwnerArena o) {
        return stream(o.perOp, o.shared, o.longLived);
    }

    /** {@code Event.create(owner, timing)}, released as {@link #streamCreateDestroy}'s stream. */
    @Benchmark
    public Event eventCreateDestroy(Dev d, OwnerArena o, EventKind k) {
        return event(o.perOp, o.shared, o.longLived, k.timing);
    }

    /** {@code cudaStreamCreateWithFlags(0)} + {@code cudaStreamDestroy} through the generated binding. */
    @Benchmark
    public long streamCreateDestroyRaw(Raw r) {
        return streamRaw(r.out);
    }

    /** {@code cudaEventCreateWithFlags} + {@code cudaEventDestroy} through the generated binding. */
    @Benchmark
    public long eventCreateDestroyRaw(Raw r, EventKind k) {
        return eventRaw(r.out, k.timing);
    }

    // The bodies, shared with ChurnCompare (C and Java alternating in one process): one source of truth for what
    // an operation is.

    /**
     * One stream create + release: in a new arena per op ({@code perOp}: shared or confined), closed at once, or in
     * {@code longLived}, then {@code close()}.
     */
    static Stream stream(boolean perOp, boolean shared, Arena longLived) {
        if (perOp) {
            try (Arena arena = OwnerArena.newArena(shared)) {
                return Stream.create(arena);
            }
        }
        Stream s = Stream.create(longLived);
        s.close();
        return s;
    }

    /**
     * One stream create on an explicit device ({@code Stream.create(device, owner)}) + {@code close()}, in a
     * long-lived owner: the device-scoped twin of {@code stream(false, false, longLived)} (the device is the
     * current one, so the difference is what naming the device costs).
     */
    static Stream streamOn(Device device, Arena longLived) {
        Stream s = Stream.create(device, longLived);
        s.close();
        return s;
    }

    /** One event create on an explicit device + {@code close()}, as {@link #streamOn}. */
    static Event eventOn(Device device, Arena longLived, boolean timing) {
        Event e = Event.create(device, longLived, timing);
        e.close();
        return e;
    }

    /** One event create + release, as {@link #stream}. */
    static Event event(boolean perOp, boolean shared, Arena longLived, boolean timing) {
        if (perOp) {
            try (Arena arena = OwnerArena.newArena(shared)) {
                return Event.create(arena, timing);
            }
        }
        Event e = Event.create(longLived, timing);
        e.close();
        return e;
    }

    /** {@code cudaStreamCreateWithFlags(out, 0)} + {@code cudaStreamDestroy}; {@code out}: one pointer (NVIDIA). */
    static long streamRaw(MemorySegment out) {
        MemorySegment s = handle(out, CudaRuntime.cudaStreamCreateWithFlags(out, 0), "cudaStreamCreateWithFlags");
        return CudaRuntime.cudaStreamDestroy(s) + s.address();
    }

    /** {@code cudaEventCreateWithFlags} + {@code cudaEventDestroy}, as {@link #streamRaw}. */
    static long eventRaw(MemorySegment out, boolean timing) {
        int flags = timing ? 0 : CudaRuntime.cudaEventDisableTiming();
        MemorySegment e = handle(out, CudaRuntime.cudaEventCreateWithFlags(out, flags), "cudaEventCreateWithFlags");
        return CudaRuntime.cudaEventDestroy(e) + e.address();
    }

    /** {@return the pointer in {@code out}} @throws IllegalStateException naming {@code call} when {@code rc} is not 0 */
    static MemorySegment handle(MemorySegment out, int rc, String call) {
        if (rc != 0) {
            throw new IllegalStateException(call + " failed: " + rc);
        }
        return out.get(ValueLayout.ADDRESS, 0);
    }
}
