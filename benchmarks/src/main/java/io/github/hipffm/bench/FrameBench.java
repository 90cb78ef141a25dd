package io.github.hipffm.bench;

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

import java.util.concurrent.TimeUnit;

/**
 * Wall-clock latency of one frame (wait, launch, signal, synchronize: see {@link Frame}), sampled: JMH reports
 * the median and p99 among its percentiles. {@link FrameLatency} measures the same frame with GPU events.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 600, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class FrameBench {

    /** The frame's resources. */
    @State(Scope.Thread)
    public static class FrameState {
        Frame frame;

        @Setup(Level.Trial)
        public void setup() {
            frame = new Frame();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            frame.close();
        }
    }

    /** One frame, waited for. */
    @Benchmark
    public long frame(FrameState s) {
        s.frame.run();
        return s.frame.value;
    }

    /** The same frame as one graph launch (fence values set on the exec), waited for. */
    @Benchmark
    public long graphFrame(FrameState s) {
        s.frame.runGraph();
        return s.frame.value;
    }
}
