package io.github.hipffm.bench;

import io.github.hipffm.Event;

import java.util.Arrays;
import java.util.Locale;

/**
 * Frame latency timed on the GPU: an event before the wait and one after the signal ({@code hipEventElapsedTime}),
 * and the wall clock around the whole frame (enqueue to completion). The GPU interval includes the time the GPU
 * idles while the host queues the frame, so host overhead shows in both. Prints percentiles as
 * {@code J,<figure>,<percentile>,<value>,us} lines, like the C twin {@code native/frame.c} prints {@code C,...}.
 *
 * With {@code graph} as third argument the frame is one graph launch ({@link Frame#enqueueGraph()}) and the figures
 * are {@code graphframe.event} and {@code graphframe.wall}, like {@code native/frame.c ... graph}.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar io.github.hipffm.bench.FrameLatency [frames] [warmup] [calls|graph]</pre>
 */
public final class FrameLatency {
    private FrameLatency() {
    }

    /**
     * Runs the frames.
     *
     * @param args frames to measure (default 20000), warm-up frames (default 20000, so that the frames measured run
     *     JIT-compiled code), and {@code calls} (default) or {@code graph}
     */
    public static void main(String[] args) {
        int frames = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        boolean graph = args.length > 2 && args[2].equals("graph");
        double[] gpu = new double[frames];
        double[] wall = new double[frames];
        try (Frame f = new Frame()) {
            Event start = Event.create(f.arena);
            Event end = Event.create(f.arena);
            timeFrames(f, start, end, graph, new double[warmup], new double[warmup]);
            timeFrames(f, start, end, graph, gpu, wall);
        }
        print(graph ? "graphframe.event" : "frame.event", gpu);
        print(graph ? "graphframe.wall" : "frame.wall", wall);
    }

    /**
     * Runs {@code gpu.length} frames (three calls, or one graph launch), each timed by an event before and one after
     * (µs into {@code gpu}) and by the wall clock from before the first record to after the end's synchronize (µs
     * into {@code wall}), as {@code native/frame.c} times them.
     */
    static void timeFrames(Frame f, Event start, Event end, boolean graph, double[] gpu, double[] wall) {
        for (int i = 0; i < gpu.length; i++) {
            long t0 = System.nanoTime();
            start.record(f.stream);
            if (graph) {
                f.enqueueGraph();
            } else {
                f.enqueue();
            }
            end.record(f.stream);
            end.synchronize();
            long t1 = System.nanoTime();
            gpu[i] = Event.elapsedMillis(start, end) * 1e3;
            wall[i] = (t1 - t0) / 1e3;
        }
    }

    static void print(String figure, double[] us) {
        double[] sorted = us.clone();
        Arrays.sort(sorted);
        for (double p : new double[] {50, 90, 99, 99.9}) {
            System.out.printf(Locale.ROOT, "J,%s,p%s,%.3f,us%n", figure, p == Math.rint(p) ? Integer.toString((int) p)
                    : Double.toString(p), percentile(sorted, p));
        }
        System.out.printf(Locale.ROOT, "J,%s,mean,%.3f,us%n", figure, Arrays.stream(us).average().orElse(Double.NaN));
    }

    /** Nearest-rank percentile of sorted values (the C twin uses the same rule). */
    static double percentile(double[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
