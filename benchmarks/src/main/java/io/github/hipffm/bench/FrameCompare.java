package io.github.hipffm.bench;

import io.github.hipffm.Event;
import io.github.hipffm.Hip;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The frame ({@link Frame}: wait, kernel, signal) and the graph frame measured against their C twins in one process,
 * on the same resources: {@code libframeloop.so} ({@code native/inproc/frameloop.c}) runs frame.c's two frames on
 * the semaphore, buffer, stream and events this JVM made (their hip-ffm handles; the kernel loaded there from the
 * same PTX, the graph built there as {@code frame.c} builds it), and hip-ffm runs {@link Frame#enqueue()} and
 * {@link Frame#enqueueGraph()}. The separately run twins ({@code frame.c}, {@link FrameLatency}) differ by more than
 * the targets from one process to the next (on an H200, hip-ffm's three-call frame came out 10% faster than C's),
 * so the targets are judged on these paired ratios.
 *
 * <p>Each alternation runs one round of each variant ({@code C.calls}, {@code J.calls}, {@code C.graph},
 * {@code J.graph}, the first rotating); a round is {@code --frames} frames, each timed as {@code frame.c} times it
 * (events around the frame on the GPU; the wall clock from before the first event record to after the end event's
 * synchronize). A round's figure is its median frame. Per figure and language it prints (stdout, CSV):
 *
 * <pre>
 * P,&lt;figure&gt;,&lt;C|J&gt;,&lt;median of the rounds' medians, µs&gt;,&lt;J/C paired ratio median&gt;,&lt;min&gt;,&lt;max&gt;,&lt;rounds&gt;
 * Q,&lt;figure&gt;,&lt;C|J&gt;,&lt;alternation&gt;,&lt;round median, µs&gt;                                    (every round)
 * </pre>
 *
 * with figures {@code frame.event}, {@code frame.wall}, {@code graphframe.event}, {@code graphframe.wall}; the ratio
 * is J's round over C's round of the same alternation (1 for C). NVIDIA only.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar io.github.hipffm.bench.FrameCompare \
 *      --lib .bundle/bench/native/libframeloop.so [--frames 2000] [--warmup 3] [--alternations 15]
 * </pre>
 */
public final class FrameCompare {
    private FrameCompare() {
    }

    private static final String[] FIGURES = {"frame.event", "frame.wall", "graphframe.event", "graphframe.wall"};

    /** libframeloop.so's functions. */
    private record Loops(MethodHandle load, MethodHandle calls, MethodHandle graphMake, MethodHandle graphRun,
            MethodHandle graphFree) {
        static Loops load(Path library) throws Throwable {
            Linker linker = Linker.nativeLinker();
            SymbolLookup lib = SymbolLookup.libraryLookup(library, Arena.global());
            MethodHandle symbol = linker.downcallHandle(find(lib, library, "frame_runtime_symbol"),
                    FunctionDescriptor.of(ADDRESS));
            String theirs = ((MemorySegment) symbol.invokeExact()).reinterpret(4096).getString(0);
            System.err.println("frame-compare: libframeloop calls cudaGraphLaunch in " + theirs + "; hip-ffm loaded "
                    + Hip.library());
            return new Loops(
                    linker.downcallHandle(find(lib, library, "frame_load"), FunctionDescriptor.of(JAVA_INT, ADDRESS,
                            ADDRESS)),
                    linker.downcallHandle(find(lib, library, "frame_calls"), FunctionDescriptor.of(JAVA_INT, ADDRESS,
                            ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS,
                            ADDRESS)),
                    linker.downcallHandle(find(lib, library, "frame_graph_make"), FunctionDescriptor.of(JAVA_INT,
                            ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS)),
                    linker.downcallHandle(find(lib, library, "frame_graph_run"), FunctionDescriptor.of(JAVA_INT,
                            ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS)),
                    linker.downcallHandle(find(lib, library, "frame_graph_free"), FunctionDescriptor.of(JAVA_INT,
                            ADDRESS)));
        }

        private static MemorySegment find(SymbolLookup lib, Path library, String name) {
            return lib.find(name).orElseThrow(() -> new IllegalStateException(library + " has no " + name
                    + ": not a libframeloop.so of native/inproc/frameloop.c"));
        }
    }

    /**
     * Runs the comparison.
     *
     * @param args {@code --lib PATH} and optionally {@code --frames N}, {@code --warmup N}, {@code --alternations N}
     */
    public static void main(String[] args) throws Throwable {
        String library = System.getProperty("hipffm.frameloop");
        int frames = 2000;
        int warmup = 3;
        int alternations = 15;
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--lib" -> library = args[i + 1];
                case "--frames" -> frames = positive(args[i], args[i + 1]);
                case "--warmup" -> warmup = positive(args[i], args[i + 1]);
                case "--alternations" -> alternations = positive(args[i], args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--lib, --frames, --warmup, --alternations)");
            }
        }
        if (library == null) {
            throw new IllegalArgumentException("no libframeloop.so: pass --lib PATH (or -Dhipffm.frameloop=PATH)");
        }
        try (Frame f = new Frame(); Arena scratch = Arena.ofConfined()) {
            Loops loops = Loops.load(Path.of(library));
            Event start = Event.create(f.arena);
            Event end = Event.create(f.arena);
            MemorySegment ptx = scratch.allocateFrom(new String(Gpu.kernelsPtx(), StandardCharsets.UTF_8));
            MemorySegment out = scratch.allocate(ADDRESS);
            check((int) loops.load().invokeExact(ptx, out), "frame_load");
            MemorySegment kernel = out.get(ADDRESS, 0);
            check((int) loops.graphMake().invokeExact(f.semaphore.handle(), kernel, f.buffer, Frame.BYTES / 4, out),
                    "frame_graph_make");
            MemorySegment graph = out.get(ADDRESS, 0);
            MemorySegment value = scratch.allocate(JAVA_LONG);
            MemorySegment gpuC = scratch.allocate(JAVA_LONG.byteSize() * frames, 8);
            MemorySegment wallC = scratch.allocate(JAVA_LONG.byteSize() * frames, 8);
            double[] gpu = new double[frames];
            double[] wall = new double[frames];
            // [variant][alternation][event, wall]; variants: C.calls, J.calls, C.graph, J.graph
            double[][][] medians = new double[4][alternations][2];
            System.err.printf(Locale.ROOT, "frame-compare: %d warm-up + %d measured alternations of 4 rounds of %d"
                    + " frames, first variant rotating%n", warmup, alternations, frames);
            try {
                for (int alt = -warmup; alt < alternations; alt++) {
                    for (int k = 0; k < 4; k++) {
                        int variant = Math.floorMod(k + alt, 4);
                        boolean c = variant % 2 == 0;
                        boolean asGraph = variant >= 2;
                        if (c) {
                            value.set(JAVA_LONG, 0, f.value);
                            int rc = asGraph
                                    ? (int) loops.graphRun().invokeExact(graph, f.stream.handle(), start.handle(),
                                            end.handle(), value, frames, gpuC, wallC)
                                    : (int) loops.calls().invokeExact(f.semaphore.handle(), kernel, f.buffer,
                                            Frame.BYTES / 4, f.stream.handle(), start.handle(), end.handle(), value,
                                            frames, gpuC, wallC);
                            check(rc, asGraph ? "frame_graph_run" : "frame_calls");
                            f.value = value.get(JAVA_LONG, 0);
                            MemorySegment.copy(gpuC, ValueLayout.JAVA_DOUBLE, 0, gpu, 0, frames);
                            MemorySegment.copy(wallC, ValueLayout.JAVA_DOUBLE, 0, wall, 0, frames);
                        } else {
                            for (int i = 0; i < frames; i++) {
                                long t0 = System.nanoTime();
                                start.record(f.stream);
                                if (asGraph) {
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
                        if (alt >= 0) {
                            medians[variant][alt][0] = median(gpu);
                            medians[variant][alt][1] = median(wall);
                        }
                    }
                }
            } finally {
                f.stream.synchronize();
                check((int) loops.graphFree().invokeExact(graph), "frame_graph_free");
            }
            report(medians, alternations);
        }
    }

    private static void report(double[][][] medians, int alternations) {
        System.out.println("# FrameCompare: P,figure,C|J,median of round medians (us),J/C paired ratio median,min,max,"
                + "rounds; Q,figure,C|J,alternation,round median (us)");
        for (int fig = 0; fig < 4; fig++) {
            int c = (fig / 2) * 2;               // C.calls (0) for frame.*, C.graph (2) for graphframe.*
            int j = c + 1;
            int timing = fig % 2;                // 0: event, 1: wall
            double[] cs = new double[alternations];
            double[] js = new double[alternations];
            double[] ratios = new double[alternations];
            for (int a = 0; a < alternations; a++) {
                cs[a] = medians[c][a][timing];
                js[a] = medians[j][a][timing];
                ratios[a] = js[a] / cs[a];
                System.out.printf(Locale.ROOT, "Q,%s,C,%d,%.4f%n", FIGURES[fig], a, cs[a]);
                System.out.printf(Locale.ROOT, "Q,%s,J,%d,%.4f%n", FIGURES[fig], a, js[a]);
            }
            double[] sorted = ratios.clone();
            Arrays.sort(sorted);
            System.out.printf(Locale.ROOT, "P,%s,C,%.4f,1.0000,1.0000,1.0000,%d%n", FIGURES[fig], median(cs),
                    alternations);
            System.out.printf(Locale.ROOT, "P,%s,J,%.4f,%.4f,%.4f,%.4f,%d%n", FIGURES[fig], median(js),
                    median(ratios), sorted[0], sorted[sorted.length - 1], alternations);
            System.err.printf(Locale.ROOT, "frame-compare: %s: C %.3f us, J %.3f us, J/C paired %.4f (%.4f-%.4f)%n",
                    FIGURES[fig], median(cs), median(js), median(ratios), sorted[0], sorted[sorted.length - 1]);
        }
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static void check(int rc, String call) {
        if (rc != 0) {
            throw new IllegalStateException(call + " failed: CUDA error " + rc);
        }
    }

    private static int positive(String name, String value) {
        int v = Integer.parseInt(value);
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
        return v;
    }
}
