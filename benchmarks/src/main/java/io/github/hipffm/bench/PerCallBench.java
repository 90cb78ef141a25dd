package io.github.hipffm.bench;

import io.github.hipffm.Hip;
import io.github.hipffm.HipError;
import io.github.hipffm.Platform;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
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
 * Per-call overhead of one native call, raw (the generated bindings: one FFM downcall) and through the idiomatic
 * layer. C twin: {@code native/percall.c}. The error-name calls need no GPU (the CUDA runtime answers them without a
 * driver); the device calls need one and fail in setup without it.
 *
 * <p>Error codes cycle through 0..7 as in the C twin, so neither side can constant-fold the call.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 400, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PerCallBench {

    /** The runtime, and a counter for the error codes. */
    @State(Scope.Thread)
    public static class Codes {
        boolean nvidia;
        Backend backend;
        int i;
        /** HIP errors with codes 0..7 (SUCCESS ... PROFILER_ALREADY_STARTED). */
        HipError[] errors = new HipError[8];

        @Setup(Level.Trial)
        public void setup() {
            nvidia = Hip.platform() == Platform.NVIDIA;          // loads the runtime; needs no device
            backend = Runtimes.current();
            for (int c = 0; c < 8; c++) {
                errors[c] = HipError.ofCode(c).orElseThrow();
            }
        }

        int next() {
            return i++ & 7;
        }
    }

    /**
     * {@code cudaGetErrorName} / {@code hipGetErrorName}: one downcall of the generated bindings. The pointer's
     * address is consumed, as a C caller gets a {@code const char*}; the {@code MemorySegment} wrapper does not
     * escape, so it need not be allocated.
     */
    @Benchmark
    public long errorNameRaw(Codes s) {
        int code = s.next();
        return (s.nvidia ? CudaRuntime.cudaGetErrorName(code)
                : io.github.hipffm.bindings.hip.Hip.hipGetErrorName(code)).address();
    }

    /** {@code cudaGetErrorString} / {@code hipGetErrorString}: one downcall, as {@link #errorNameRaw}. */
    @Benchmark
    public long errorStringRaw(Codes s) {
        int code = s.next();
        return (s.nvidia ? CudaRuntime.cudaGetErrorString(code)
                : io.github.hipffm.bindings.hip.Hip.hipGetErrorString(code)).address();
    }

    /** The platform's error name, as the idiomatic layer gets it (on NVIDIA a Java lookup: HIP names). */
    @Benchmark
    public String errorNameIdiomatic(Codes s) {
        return s.backend.errorName(s.next());
    }

    /** {@link HipError#description()}: the runtime's error string as a Java {@code String}. */
    @Benchmark
    public String errorDescriptionIdiomatic(Codes s) {
        return s.errors[s.next()].description();
    }

    /** A GPU device; setup fails with "no GPU: ..." without one. */
    @State(Scope.Thread)
    public static class Dev {
        boolean nvidia;
        Backend backend;
        Arena arena;
        MemorySegment out;

        @Setup(Level.Trial)
        public void setup() {
            Gpu.require();
            nvidia = Hip.platform() == Platform.NVIDIA;
            backend = Runtimes.current();
            arena = Arena.ofConfined();
            out = arena.allocate(ValueLayout.JAVA_INT);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** {@code cudaGetDevice} / {@code hipGetDevice} into a preallocated int: one downcall. */
    @Benchmark
    public int getDeviceRaw(Dev d) {
        int rc = d.nvidia ? CudaRuntime.cudaGetDevice(d.out) : io.github.hipffm.bindings.hip.Hip.hipGetDevice(d.out);
        return rc + d.out.get(ValueLayout.JAVA_INT, 0);
    }

    /**
     * The current device through the idiomatic layer's backend ({@code Backend.getDevice()}: checked, the HIP
     * error on failure). The public API has no current-device query; {@link #deviceCountIdiomatic} is its nearest
     * public call.
     */
    @Benchmark
    public int getDeviceIdiomatic(Dev d) {
        return d.backend.getDevice();
    }

    /** {@code cudaGetDeviceCount} / {@code hipGetDeviceCount} into a preallocated int: one downcall. */
    @Benchmark
    public int deviceCountRaw(Dev d) {
        int rc = d.nvidia ? CudaRuntime.cudaGetDeviceCount(d.out)
                : io.github.hipffm.bindings.hip.Hip.hipGetDeviceCount(d.out);
        return rc + d.out.get(ValueLayout.JAVA_INT, 0);
    }

    /** {@link Hip#deviceCount()}: the public API's device-count call. */
    @Benchmark
    public int deviceCountIdiomatic(Dev d) {
        return Hip.deviceCount();
    }
}
