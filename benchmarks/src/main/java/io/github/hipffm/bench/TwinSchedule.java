package io.github.hipffm.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * The C twins' schedule ({@code native/bench.h}'s {@code MEASURE}) for plain Java mains that print {@code J,...}
 * lines beside a twin's {@code C,...} line: 2 warm-up rounds of 0.3 s, 5 measured rounds of 0.4 s, each running the
 * body in chunks until its time is up; the median round's time per body, and the bytes the calling thread allocated
 * per body in the last round ({@code com.sun.management.ThreadMXBean}).
 */
final class TwinSchedule {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private TwinSchedule() {
    }

    /** What {@link #measure} found: the median round's ns per body and the last round's bytes per body. */
    record Result(double nsPerOp, double bytesPerOp) {
    }

    /** A body that may throw. */
    interface Body {
        void run() throws Throwable;
    }

    /** {@return the median round's time per {@code body} and the bytes per body} @param chunk bodies between clock reads */
    static Result measure(int chunk, Body body) throws Throwable {
        double[] rounds = new double[5];
        double bytes = 0;
        for (int k = -2; k < rounds.length; k++) {
            double limit = k < 0 ? 0.3e9 : 0.4e9;
            long n = 0;
            long a0 = THREADS.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            long t;
            do {
                for (int j = 0; j < chunk; j++) {
                    body.run();
                }
                n += chunk;
            } while ((t = System.nanoTime()) - t0 < limit);
            long a1 = THREADS.getCurrentThreadAllocatedBytes();
            if (k >= 0) {
                rounds[k] = (double) (t - t0) / n;
                bytes = (double) (a1 - a0) / n;
            }
        }
        Arrays.sort(rounds);
        return new Result(rounds[rounds.length / 2], bytes);
    }
}
