package io.github.hipffm.bench;

import io.github.hipffm.Event;
import io.github.hipffm.Hip;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreSignalNodeParams;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreSignalParams;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreWaitNodeParams;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreWaitParams;

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

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
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
 * {@code J.graph}, and {@code R.graph}: the graph frame through the generated binding alone, hip-ffm's graph exec,
 * nodes, semaphore, stream and events called raw, which shows what the downcalls cost beside C; the first variant
 * rotating); a round is {@code --frames} frames, each timed as {@code frame.c} times it
 * (events around the frame on the GPU; the wall clock from before the first event record to after the end event's
 * synchronize). A round's figure is its median frame. Per figure and language it prints (stdout, CSV):
 *
 * <pre>
 * P,&lt;figure&gt;,&lt;C|J|R&gt;,&lt;median of the rounds' medians, µs&gt;,&lt;paired ratio median&gt;,&lt;min&gt;,&lt;max&gt;,&lt;rounds&gt;
 * Q,&lt;figure&gt;,&lt;C|J|R&gt;,&lt;alternation&gt;,&lt;round median, µs&gt;                                    (every round)
 * </pre>
 *
 * with figures {@code frame.event}, {@code frame.wall}, {@code graphframe.event}, {@code graphframe.wall} (R: the
 * graph ones); the ratio is the variant's round over C's round of the same alternation (1 for C). NVIDIA only.
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
    private static final int VARIANTS = 5;

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
            RawGraph raw = new RawGraph(f, start, end, scratch);
            // [variant][alternation][event, wall]; variants: C.calls, J.calls, C.graph, J.graph, R.graph
            double[][][] medians = new double[VARIANTS][alternations][2];
            System.err.printf(Locale.ROOT, "frame-compare: %d warm-up + %d measured alternations of %d rounds of %d"
                    + " frames, first variant rotating%n", warmup, alternations, VARIANTS, frames);
            try {
                for (int alt = -warmup; alt < alternations; alt++) {
                    for (int k = 0; k < VARIANTS; k++) {
                        int variant = Math.floorMod(k + alt, VARIANTS);
                        boolean c = variant % 2 == 0 && variant < 4;
                        boolean asGraph = variant >= 2;
                        if (variant == 4) {
                            for (int i = 0; i < frames; i++) {
                                long t0 = System.nanoTime();
                                float ms = raw.frame();
                                long t1 = System.nanoTime();
                                gpu[i] = ms * 1e3;
                                wall[i] = (t1 - t0) / 1e3;
                            }
                        } else if (c) {
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
                            FrameLatency.timeFrames(f, start, end, asGraph, gpu, wall);
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
        System.out.println("# FrameCompare: P,figure,C|J|R,median of round medians (us),paired ratio over C median,"
                + "min,max,rounds; Q,figure,C|J|R,alternation,round median (us)");
        for (int fig = 0; fig < 4; fig++) {
            int c = (fig / 2) * 2;               // C.calls (0) for frame.*, C.graph (2) for graphframe.*
            int timing = fig % 2;                // 0: event, 1: wall
            double[] cs = new double[alternations];
            for (int a = 0; a < alternations; a++) {
                cs[a] = medians[c][a][timing];
                System.out.printf(Locale.ROOT, "Q,%s,C,%d,%.4f%n", FIGURES[fig], a, cs[a]);
            }
            System.out.printf(Locale.ROOT, "P,%s,C,%.4f,1.0000,1.0000,1.0000,%d%n", FIGURES[fig], median(cs),
                    alternations);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "frame-compare: %s: C %.3f us",
                    FIGURES[fig], median(cs)));
            for (int v : c == 0 ? new int[] {1} : new int[] {3, 4}) {
                String lang = v == 4 ? "R" : "J";
                double[] vs = new double[alternations];
                double[] ratios = new double[alternations];
                for (int a = 0; a < alternations; a++) {
                    vs[a] = medians[v][a][timing];
                    ratios[a] = vs[a] / cs[a];
                    System.out.printf(Locale.ROOT, "Q,%s,%s,%d,%.4f%n", FIGURES[fig], lang, a, vs[a]);
                }
                double[] sorted = ratios.clone();
                Arrays.sort(sorted);
                System.out.printf(Locale.ROOT, "P,%s,%s,%.4f,%.4f,%.4f,%.4f,%d%n", FIGURES[fig], lang, median(vs),
                        median(ratios), sorted[0], sorted[sorted.length - 1], alternations);
                line.append(String.format(Locale.ROOT, ", %s %.3f us, %s/C paired %.4f (%.4f-%.4f)", lang, median(vs),
                        lang, median(ratios), sorted[0], sorted[sorted.length - 1]));
            }
            System.err.println(line);
        }
    }

    /**
     * The graph frame through the generated binding alone: the calls {@code frame_graph_run} makes, on hip-ffm's
     * exec, nodes, semaphore, stream and events, with node parameters of its own. No allocation per frame.
     */
    private static final class RawGraph {
        private final MemorySegment exec;
        private final MemorySegment waitNode;
        private final MemorySegment signalNode;
        private final MemorySegment stream;
        private final MemorySegment start;
        private final MemorySegment end;
        private final MemorySegment waitNodeParams;
        private final MemorySegment signalNodeParams;
        private final MemorySegment waitParams;
        private final MemorySegment signalParams;
        private final long waitFence;
        private final long signalFence;
        private final MemorySegment ms;
        private final Frame frame;

        RawGraph(Frame f, Event start, Event end, Arena arena) {
            frame = f;
            exec = f.exec.handle();
            waitNode = f.waitNode.handle();
            signalNode = f.signalNode.handle();
            stream = f.stream.handle();
            this.start = start.handle();
            this.end = end.handle();
            MemorySegment sems = arena.allocate(ADDRESS);
            sems.set(ADDRESS, 0, f.semaphore.handle());
            waitParams = arena.allocate(cudaExternalSemaphoreWaitParams.layout());
            signalParams = arena.allocate(cudaExternalSemaphoreSignalParams.layout());
            waitFence = cudaExternalSemaphoreWaitParams.layout().byteOffset(groupElement("params"),
                    groupElement("fence"), groupElement("value"));
            signalFence = cudaExternalSemaphoreSignalParams.layout().byteOffset(groupElement("params"),
                    groupElement("fence"), groupElement("value"));
            waitNodeParams = arena.allocate(cudaExternalSemaphoreWaitNodeParams.layout());
            cudaExternalSemaphoreWaitNodeParams.extSemArray(waitNodeParams, sems);
            cudaExternalSemaphoreWaitNodeParams.paramsArray(waitNodeParams, waitParams);
            cudaExternalSemaphoreWaitNodeParams.numExtSems(waitNodeParams, 1);
            signalNodeParams = arena.allocate(cudaExternalSemaphoreSignalNodeParams.layout());
            cudaExternalSemaphoreSignalNodeParams.extSemArray(signalNodeParams, sems);
            cudaExternalSemaphoreSignalNodeParams.paramsArray(signalNodeParams, signalParams);
            cudaExternalSemaphoreSignalNodeParams.numExtSems(signalNodeParams, 1);
            ms = arena.allocate(ValueLayout.JAVA_FLOAT);
        }

        /** One frame (frame {@code frame.value}), waited for; {@return its GPU time in ms} */
        float frame() {
            long v = frame.value++;
            check(CudaRuntime.cudaEventRecord(start, stream), "cudaEventRecord");
            waitParams.set(JAVA_LONG, waitFence, v);
            signalParams.set(JAVA_LONG, signalFence, v + 1);
            check(CudaRuntime.cudaGraphExecExternalSemaphoresWaitNodeSetParams(exec, waitNode, waitNodeParams),
                    "cudaGraphExecExternalSemaphoresWaitNodeSetParams");
            check(CudaRuntime.cudaGraphExecExternalSemaphoresSignalNodeSetParams(exec, signalNode, signalNodeParams),
                    "cudaGraphExecExternalSemaphoresSignalNodeSetParams");
            check(CudaRuntime.cudaGraphLaunch(exec, stream), "cudaGraphLaunch");
            check(CudaRuntime.cudaEventRecord(end, stream), "cudaEventRecord");
            check(CudaRuntime.cudaEventSynchronize(end), "cudaEventSynchronize");
            check(CudaRuntime.cudaEventElapsedTime(ms, start, end), "cudaEventElapsedTime");
            return ms.get(ValueLayout.JAVA_FLOAT, 0);
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
