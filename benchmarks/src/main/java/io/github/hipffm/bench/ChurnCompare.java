package io.github.hipffm.bench;

import io.github.hipffm.Device;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.Hip;
import io.github.hipffm.Platform;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.bindings.cuda.cudaExternalMemoryBufferDesc;
import io.github.hipffm.bindings.cuda.cudaExternalMemoryHandleDesc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Churn measured against its C twin in one process: C and hip-ffm in the same JVM, on the same thread, in
 * alternating rounds, so that each Java/C ratio compares two rounds taken a fraction of a second apart. The C twins
 * ({@code native/churn.c}, {@code native/import.c}) run in a process of their own at another time, and on the GPU
 * machine the same twin binary measures a sub-microsecond operation up to 2x apart from one run to the next: more
 * than the 1.10x target, so a ratio across processes says little there.
 *
 * <p>Operations ({@code --ops}): {@code stream} (create + destroy), {@code eventTiming}, {@code eventNoTiming}
 * (create + destroy, with and without timing), {@code import1MiB}, {@code import256MiB} (import a copy of an
 * exported fd, map all of it, release). Variants of each, one round each per alternation:
 * <ul>
 *   <li>{@code C}: {@code libchurnloop.so} ({@code native/inproc/churnloop.c}): the C twin's loop body, N
 *       iterations in one downcall;</li>
 *   <li>{@code confined.perOp}, {@code confined.longLived}: ChurnBench's and ImportBench's benchmark bodies (the
 *       same methods) in a confined owner arena: an arena per operation, or one per round (opened and closed
 *       outside the timing, as JMH's per iteration) and each resource's {@code close()};</li>
 *   <li>{@code raw} (NVIDIA only): the same CUDA calls through the generated binding: ChurnBench's {@code *Raw}
 *       bodies, and for imports {@code dup} + {@code cudaImportExternalMemory} + map + free + destroy;</li>
 *   <li>{@code device.longLived} (streams and events): {@code confined.longLived} with the device named
 *       ({@code Stream.create(device, owner)}, {@code Event.create(device, owner, timing)}), the device being the
 *       current one: its rounds against {@code confined.longLived}'s of the same alternation are what a
 *       device-scoped call costs beyond the same call on the current device.</li>
 * </ul>
 * The imported fd is a Vulkan export of the size (ImportBench's {@code Exported}; NVIDIA's default) or a memfd
 * ({@code --import-fd memfd}; the default on AMD: the C test runtime, where no GPU is needed).
 *
 * <p>Each op runs {@code --warmup} alternations that are not counted, then {@code --alternations} measured ones; each
 * alternation runs every variant for one round, the first variant rotating from one alternation to the next. A round
 * runs the operation in chunks (one downcall of N iterations for C, a loop of N for Java) until {@code --round-ms}
 * has passed and at least {@code --min-ops} operations were made; the chunk is sized in the warm-up to about a
 * twentieth of a round, so the clock is read rarely. Time per operation: {@link System#nanoTime} around the round.
 * Per variant it prints (stdout, CSV; the figure and parameter are those of the C twin in {@code bench.csv}):
 *
 * <pre>
 * K,&lt;figure&gt;,&lt;param&gt;,&lt;variant&gt;,&lt;median ns/op&gt;,&lt;ratio median&gt;,&lt;ratio min&gt;,&lt;ratio max&gt;,&lt;rounds&gt;
 * R,&lt;figure&gt;,&lt;param&gt;,&lt;variant&gt;,&lt;alternation&gt;,&lt;ns/op&gt;,&lt;ops&gt;,&lt;CPU ns/op&gt;     (every measured round)
 * </pre>
 *
 * where the ratio is paired: this variant's round over the C round of the same alternation, its median, minimum and
 * maximum over the alternations (1 for C itself); CPU ns/op is the thread's CPU time (user + system) per operation
 * over the round, so a round whose wall time is far above it was waiting (preempted, or stopped for GC). The
 * settings, the JVM's arguments, the libraries, the runtime, and for imports the fds open before and after, are
 * printed to stderr.
 *
 * <p>Run it with a fixed, pre-touched heap ({@code -Xms2g -Xmx2g -XX:+AlwaysPreTouch}, as the scripts do): a heap
 * that grows and shrinks during the run costs page faults in some Java rounds and not others (measured against the
 * C test runtime: up to 10x the CPU time per event in a round), which no C round pays. By default a run is
 * (3 + 11 alternations) x 4-5 variants x 5 ops rounds of at least 0.2 s: a minute or more, longer where Java's
 * rounds last longer than 0.2 s (a round ends after the chunk that crosses its time).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -Xms2g -Xmx2g -XX:+AlwaysPreTouch -cp benchmarks.jar \
 *      io.github.hipffm.bench.ChurnCompare \
 *      --lib .bundle/bench/native/libchurnloop.so [--round-ms 200] [--warmup 3] [--alternations 11] [--min-ops 50] \
 *      [--ops stream,eventTiming,eventNoTiming,import1MiB,import256MiB] [--import-fd vulkan|memfd]
 * </pre>
 *
 * {@code libchurnloop.so} must call the runtime hip-ffm loaded (one runtime instance in the process): it is checked
 * by comparing the address of {@code StreamDestroy} as each side resolved it. On the CPU:
 * {@code benchmarks/paired-churn-testrt}.
 */
public final class ChurnCompare {
    private static final String USAGE = """
            usage: ChurnCompare --lib LIBCHURNLOOP [--round-ms MS] [--warmup N] [--alternations N] [--min-ops N]
                                [--ops OP,...] [--import-fd vulkan|memfd]
              --lib            libchurnloop.so (native/inproc/churnloop.c); default: -Dhipffm.churnloop
              --round-ms       time per round (default 200)
              --warmup         alternations not counted, >= 1 (default 3)
              --alternations   measured alternations, >= 1 (default 11)
              --min-ops        operations per round at least, >= 1 (default 50)
              --ops            of stream, eventTiming, eventNoTiming, import1MiB, import256MiB (default: all)
              --import-fd      what the imports import: a Vulkan export (default on NVIDIA) or a memfd (default
                               otherwise: the C test runtime)""";
    private static final String C = "C";
    private static final String PER_OP = "confined.perOp";
    private static final String LONG_LIVED = "confined.longLived";
    private static final String RAW = "raw";
    private static final String DEVICE = "device.longLived";
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    /** Where each chunk of a round ends up, so that nothing is dead code. */
    private static volatile Object sink;

    private ChurnCompare() {
    }

    /** An operation: its name on the command line, and the figure and parameter of its C twin in bench.csv. */
    private enum Op {
        STREAM("stream", "streamCreateDestroy", "", 0),
        EVENT_TIMING("eventTiming", "eventCreateDestroy", "true", 0),
        EVENT_NO_TIMING("eventNoTiming", "eventCreateDestroy", "false", 0),
        IMPORT_1MIB("import1MiB", "importMapRelease", "1048576", 1L << 20),
        IMPORT_256MIB("import256MiB", "importMapRelease", "268435456", 256L << 20);

        final String id;
        final String figure;
        final String param;
        /** The bytes imported; 0 for streams and events. */
        final long bytes;

        Op(String id, String figure, String param, long bytes) {
            this.id = id;
            this.figure = figure;
            this.param = param;
            this.bytes = bytes;
        }

        static Op of(String id) {
            for (Op op : values()) {
                if (op.id.equals(id)) {
                    return op;
                }
            }
            throw new IllegalArgumentException("unknown op '" + id + "' in --ops: one of " + String.join(", ",
                    Arrays.stream(values()).map(o -> o.id).toList()));
        }
    }

    /** The command line. */
    private record Settings(Path library, long roundNanos, int warmup, int alternations, long minOps, List<Op> ops,
            String importFd) {

        static Settings parse(String[] args) {
            String library = System.getProperty("hipffm.churnloop");
            long roundMs = 200;
            int warmup = 3;
            int alternations = 11;
            long minOps = 50;
            List<Op> ops = List.of(Op.values());
            String importFd = null;
            for (int i = 0; i < args.length; i++) {
                String name = args[i];
                if (!name.startsWith("--")) {
                    throw new IllegalArgumentException("unexpected argument '" + name + "'");
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(name + " needs a value");
                }
                String value = args[++i];
                switch (name) {
                    case "--lib" -> library = value;
                    case "--round-ms" -> roundMs = positive(name, value);
                    case "--warmup" -> warmup = (int) Math.min(positive(name, value), 1000);
                    case "--alternations" -> alternations = (int) Math.min(positive(name, value), 10_000);
                    case "--min-ops" -> minOps = positive(name, value);
                    case "--ops" -> {
                        Set<Op> chosen = new LinkedHashSet<>();
                        for (String id : value.split(",")) {
                            chosen.add(Op.of(id.strip()));
                        }
                        ops = List.copyOf(chosen);
                    }
                    case "--import-fd" -> {
                        if (!value.equals("vulkan") && !value.equals("memfd")) {
                            throw new IllegalArgumentException("--import-fd must be vulkan or memfd, got '" + value + "'");
                        }
                        importFd = value;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + name);
                }
            }
            if (library == null || library.isBlank()) {
                throw new IllegalArgumentException("no libchurnloop.so: pass --lib PATH (or -Dhipffm.churnloop=PATH)");
            }
            Path lib = Path.of(library).toAbsolutePath();
            if (!Files.isRegularFile(lib)) {
                throw new IllegalArgumentException("--lib " + lib + ": no such file (scripts/bench builds it into"
                        + " .bundle/bench/native/; benchmarks/paired-churn-testrt for the C test runtime)");
            }
            return new Settings(lib, roundMs * 1_000_000L, warmup, alternations, minOps, ops, importFd);
        }

        private static long positive(String name, String value) {
            long v;
            try {
                v = Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " must be a whole number, got '" + value + "'");
            }
            if (v < 1) {
                throw new IllegalArgumentException(name + " must be at least 1, got " + v);
            }
            return v;
        }
    }

    /** N operations of one variant; {@code longLived} is the round's arena for a long-lived variant, else null. */
    @FunctionalInterface
    private interface Body {
        Object run(long n, Arena longLived) throws Throwable;
    }

    /** One variant of an op: its body, its chunk size, and its measured rounds. */
    private static final class Variant {
        final String name;
        final boolean longLived;
        final Body body;
        final double[] nsPerOp;
        final long[] ops;
        long chunk = 1;

        Variant(String name, boolean longLived, Body body, int alternations) {
            this.name = name;
            this.longLived = longLived;
            this.body = body;
            this.nsPerOp = new double[alternations];
            this.ops = new long[alternations];
        }
    }

    /** libchurnloop.so's functions. */
    private record Loops(MethodHandle stream, MethodHandle event, MethodHandle importMap) {
        static Loops load(Path library, String runtimePrefix) throws Throwable {
            Linker linker = Linker.nativeLinker();
            SymbolLookup lib;
            try {
                lib = SymbolLookup.libraryLookup(library, Arena.global());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("cannot load " + library + ": " + e.getMessage(), e);
            }
            MethodHandle symbol = linker.downcallHandle(find(lib, library, "churn_runtime_symbol"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS));
            MethodHandle path = linker.downcallHandle(find(lib, library, "churn_runtime_path"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS));
            // One runtime instance in the process: the StreamDestroy that libchurnloop calls is hip-ffm's.
            long theirs = ((MemorySegment) symbol.invokeExact()).address();
            String theirPath = ((MemorySegment) path.invokeExact()).reinterpret(4096).getString(0);
            MemorySegment ours = SymbolLookup.libraryLookup(Hip.library(), Arena.global())
                    .find(runtimePrefix + "StreamDestroy").orElse(MemorySegment.NULL);
            System.err.printf(Locale.ROOT, "churn-compare: libchurnloop calls the runtime %s (%sStreamDestroy at"
                    + " 0x%x; hip-ffm's at 0x%x)%n", theirPath, runtimePrefix, theirs, ours.address());
            if (ours.address() == 0 || ours.address() != theirs) {
                throw new IllegalStateException(library + " calls StreamDestroy at 0x" + Long.toHexString(theirs)
                        + " in " + theirPath + ", but hip-ffm's runtime " + Hip.library() + " has "
                        + runtimePrefix + "StreamDestroy at 0x" + Long.toHexString(ours.address())
                        + ": two runtimes (or a library built for the other platform); build libchurnloop.so against"
                        + " the runtime hip-ffm loads (" + (runtimePrefix.equals("hip") ? "-DCHURN_HIP, " : "")
                        + "linked with that file)");
            }
            return new Loops(
                    linker.downcallHandle(find(lib, library, "churn_stream"),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)),
                    linker.downcallHandle(find(lib, library, "churn_event"),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)),
                    linker.downcallHandle(find(lib, library, "churn_import"), FunctionDescriptor.of(
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG)));
        }

        private static MemorySegment find(SymbolLookup lib, Path library, String name) {
            return lib.find(name).orElseThrow(() -> new IllegalStateException(library + " has no " + name
                    + ": not a libchurnloop.so of native/inproc/churnloop.c"));
        }
    }

    /** The fd the imports import (the caller's, kept open for the whole op), and what closes it. */
    private record Exported(int fd, long size, ExternalMemoryDescriptor descriptor, AutoCloseable owner) {
        static Exported vulkan(long bytes) {
            ImportBench.Exported e = new ImportBench.Exported();
            e.bytes = bytes;
            e.setup();
            return new Exported(e.fd, e.buffer.allocationSize(), e.descriptor, e::tearDown);
        }

        static Exported memfd(long bytes) throws Throwable {
            Linker linker = Linker.nativeLinker();
            MethodHandle memfdCreate = linker.downcallHandle(linker.defaultLookup().find("memfd_create").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            MethodHandle ftruncate = linker.downcallHandle(linker.defaultLookup().find("ftruncate").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
            int fd;
            try (Arena a = Arena.ofConfined()) {
                fd = (int) memfdCreate.invokeExact(a.allocateFrom("hipffm-churn-compare"), 0);
            }
            if (fd < 0 || (int) ftruncate.invokeExact(fd, bytes) != 0) {
                throw new IllegalStateException("memfd_create/ftruncate of " + bytes + " bytes failed");
            }
            return new Exported(fd, bytes, ExternalMemoryDescriptor.opaqueFd(fd, bytes), () -> Gpu.closeFd(fd));
        }
    }

    /**
     * The import cycle through the generated CUDA binding, as the C loop: {@code dup}, import (CUDA closes the dup),
     * map all of it, free, destroy; descriptors written once.
     */
    private static final class RawImport {
        private static final MethodHandle DUP = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("dup").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        private final MemorySegment out;
        private final MemorySegment desc;
        private final MemorySegment bufferDesc;
        private final int fd;

        RawImport(Arena arena, int fd, long size) {
            this.fd = fd;
            out = arena.allocate(ValueLayout.ADDRESS);
            desc = arena.allocate(cudaExternalMemoryHandleDesc.layout());
            bufferDesc = arena.allocate(cudaExternalMemoryBufferDesc.layout());
            cudaExternalMemoryHandleDesc.type(desc, CudaRuntime.cudaExternalMemoryHandleTypeOpaqueFd());
            cudaExternalMemoryHandleDesc.size(desc, size);
            cudaExternalMemoryBufferDesc.size(bufferDesc, size);
        }

        long run() throws Throwable {
            int copy = (int) DUP.invokeExact(fd);
            if (copy < 0) {
                throw new IllegalStateException("dup(" + fd + ") failed");
            }
            cudaExternalMemoryHandleDesc.handle.fd(cudaExternalMemoryHandleDesc.handle(desc), copy);
            MemorySegment m = ChurnBench.handle(out, CudaRuntime.cudaImportExternalMemory(out, desc),
                    "cudaImportExternalMemory");
            MemorySegment p = ChurnBench.handle(out, CudaRuntime.cudaExternalMemoryGetMappedBuffer(out, m, bufferDesc),
                    "cudaExternalMemoryGetMappedBuffer");
            return CudaRuntime.cudaFree(p) + CudaRuntime.cudaDestroyExternalMemory(m) + p.address();
        }
    }

    /**
     * Runs the comparison.
     *
     * @param args see the class documentation; {@code --help} prints the usage
     * @throws Throwable on an unexpected failure (an expected one, such as no GPU, a failed C loop or two runtimes
     *     in the process, exits 1 with its reason; bad arguments exit 2 with the usage)
     */
    public static void main(String[] args) throws Throwable {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.println(USAGE);
            return;
        }
        Settings s;
        try {
            s = Settings.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("churn-compare: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        try {
            run(s);
        } catch (IllegalStateException e) {
            System.err.println("churn-compare: FAILED: " + e.getMessage());
            System.exit(1);
        } catch (Throwable t) {
            System.err.println("churn-compare: FAILED: " + t);
            throw t;
        }
    }

    private static void run(Settings s) throws Throwable {
        long start = System.nanoTime();
        Gpu.require();
        Platform platform = Hip.platform();
        boolean nvidia = platform == Platform.NVIDIA;
        String importFd = s.importFd() != null ? s.importFd() : nvidia ? "vulkan" : "memfd";
        System.err.printf(Locale.ROOT, "churn-compare: java %s %s, hip-ffm platform %s, runtime %s%n",
                Runtime.version(), ManagementFactory.getRuntimeMXBean().getInputArguments(), platform.id(),
                Hip.library());
        System.err.printf(Locale.ROOT, "churn-compare: libchurnloop %s; rounds of %d ms and at least %d ops, %d warm-up"
                        + " + %d measured alternations, first variant rotating; ops %s; imports of %s%n",
                s.library(), s.roundNanos() / 1_000_000, s.minOps(), s.warmup(), s.alternations(),
                String.join(",", s.ops().stream().map(o -> o.id).toList()),
                importFd.equals("vulkan") ? "a Vulkan export" : "a memfd");
        if (!nvidia) {
            System.err.println("churn-compare: raw: skipped: the raw variant calls CUDA's runtime through the generated"
                    + " binding (ChurnBench's *Raw), and this JVM uses the " + platform.id() + " platform");
        }
        Loops loops = Loops.load(s.library(), nvidia ? "cuda" : "hip");
        System.out.println("# ChurnCompare: C (libchurnloop) and Java in one JVM and thread, alternating rounds."
                + " K,figure,param,variant,median ns/op,paired ratio median,min,max,rounds;"
                + " R,figure,param,variant,alternation,ns/op,ops,CPU ns/op");
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment out = scratch.allocate(ValueLayout.ADDRESS);
            for (Op op : s.ops()) {
                long t0 = System.nanoTime();
                Exported exported = op.bytes == 0 ? null
                        : importFd.equals("vulkan") ? Exported.vulkan(op.bytes) : Exported.memfd(op.bytes);
                long fds = openFds();
                try {
                    List<Variant> variants = variants(op, loops, exported, nvidia ? out : null, scratch, s.alternations());
                    measure(s, op, variants);
                    report(op, variants, s.alternations());
                } finally {
                    // Every variant releases each import's fd (CUDA closes the dup it imports; on HIP the caller
                    // closes it): a count that grew by about the imports made says one of them does not.
                    long after = openFds();
                    if (exported != null) {
                        System.err.printf(Locale.ROOT, "churn-compare: %s: %d fds open before, %d after%n", op.id,
                                fds, after);
                        exported.owner().close();
                    }
                }
                System.err.printf(Locale.ROOT, "churn-compare: %s took %.1f s%n", op.id, (System.nanoTime() - t0) / 1e9);
            }
        }
        System.err.printf(Locale.ROOT, "churn-compare: done in %.1f s%n", (System.nanoTime() - start) / 1e9);
    }

    /**
     * C, the two confined Java variants, raw where {@code out} is given (NVIDIA), and for streams and events the
     * device-scoped one.
     */
    private static List<Variant> variants(Op op, Loops loops, Exported exported, MemorySegment out, Arena scratch,
            int alternations) {
        List<Variant> v = new ArrayList<>();
        Device device = Hip.currentDevice();
        switch (op) {
            case STREAM -> {
                v.add(new Variant(C, false, (n, a) -> check((int) loops.stream().invokeExact(n), "churn_stream"),
                        alternations));
                v.add(new Variant(PER_OP, false, (n, a) -> {
                    Object last = null;
                    for (long i = 0; i < n; i++) {
                        last = ChurnBench.stream(true, false, null);
                    }
                    return last;
                }, alternations));
                v.add(new Variant(LONG_LIVED, true, (n, a) -> {
                    Object last = null;
                    for (long i = 0; i < n; i++) {
                        last = ChurnBench.stream(false, false, a);
                    }
                    return last;
                }, alternations));
                v.add(new Variant(DEVICE, true, (n, a) -> {
                    Object last = null;
                    for (long i = 0; i < n; i++) {
                        last = ChurnBench.streamOn(device, a);
                    }
                    return last;
                }, alternations));
                if (out != null) {
                    v.add(new Variant(RAW, false, (n, a) -> {
                        long sum = 0;
                        for (long i = 0; i < n; i++) {
                            sum += ChurnBench.streamRaw(out);
                        }
                        return sum;
                    }, alternations));
                }
            }
            case EVENT_TIMING, EVENT_NO_TIMING -> {
                boolean timing = op == Op.EVENT_TIMING;
                v.add(new Variant(C, false, (n, a) -> check((int) loops.event().invokeExact(timing ? 1 : 0, n),
                        "churn_event"), alternations));
                v.add(new Variant(PER_OP, false, (n, a) -> {
                    Object last = null;
                    for (long i = 0; i < n; i++) {
                        last = ChurnBench.event(true, false, null, timing);
                    }
                    return last;
                }, alternations));
                v.add(new Variant(LONG_LIVED, true, (n, a) -> {
                    Object last = null;
                    for (long i = 0; i < n; i++) {
                        last = ChurnBench.event(false, false, a, timing);
                    }
                    return last;
                }, alternations));
                v.add(new Variant(DEVICE, true, (n, a) -> {
                    Object last = null;
                    for (long i = 0; i < n; i++) {
                        last = ChurnBench.eventOn(device, a, timing);
                    }
                    return last;
                }, alternations));
                if (out != null) {
                    v.add(new Variant(RAW, false, (n, a) -> {
                        long sum = 0;
                        for (long i = 0; i < n; i++) {
                            sum += ChurnBench.eventRaw(out, timing);
                        }
                        return sum;
                    }, alternations));
                }
            }
            case IMPORT_1MIB, IMPORT_256MIB -> {
                int fd = exported.fd();
                long size = exported.size();
                ExternalMemoryDescriptor d = exported.descriptor();
                v.add(new Variant(C, false, (n, a) -> check((int) loops.importMap().invokeExact(fd, size, n),
                        "churn_import"), alternations));
                v.add(new Variant(PER_OP, false, (n, a) -> {
                    long sum = 0;
                    for (long i = 0; i < n; i++) {
                        sum += ImportBench.importMapRelease(d, true, false, null);
                    }
                    return sum;
                }, alternations));
                v.add(new Variant(LONG_LIVED, true, (n, a) -> {
                    long sum = 0;
                    for (long i = 0; i < n; i++) {
                        sum += ImportBench.importMapRelease(d, false, false, a);
                    }
                    return sum;
                }, alternations));
                if (out != null) {
                    RawImport raw = new RawImport(scratch, fd, size);
                    v.add(new Variant(RAW, false, (n, a) -> {
                        long sum = 0;
                        for (long i = 0; i < n; i++) {
                            sum += raw.run();
                        }
                        return sum;
                    }, alternations));
                }
            }
        }
        return v;
    }

    /** {@return how many fds this process has open ({@code /proc/self/fd}), -1 when unknown} */
    private static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException | UncheckedIOException e) {
            return -1;
        }
    }

    /** {@code rc} of a C loop, boxed; @throws IllegalStateException naming the error when it is not 0 */
    private static Object check(int rc, String loop) {
        if (rc != 0) {
            throw new IllegalStateException(loop + " failed: " + (rc < 0 ? "dup: errno " + -rc : errorName(rc)));
        }
        return rc;
    }

    private static String errorName(int rc) {
        MemorySegment name = Hip.platform() == Platform.NVIDIA ? CudaRuntime.cudaGetErrorName(rc)
                : io.github.hipffm.bindings.hip.Hip.hipGetErrorName(rc);
        return (name.address() == 0 ? "?" : name.reinterpret(256).getString(0)) + " (" + rc + ")";
    }

    /** Warm-up alternations (each variant's chunk grows to a twentieth of a round), then the measured ones. */
    private static void measure(Settings s, Op op, List<Variant> variants) throws Throwable {
        int n = variants.size();
        long target = Math.max(1, s.roundNanos() / 20);
        for (int alt = -s.warmup(); alt < s.alternations(); alt++) {
            for (int i = 0; i < n; i++) {
                Variant v = variants.get(Math.floorMod(i + alt, n));
                long[] r = round(v, s.roundNanos(), s.minOps(), alt < 0 ? target : 0);
                double ns = (double) r[0] / r[1];
                if (alt == -1) {
                    // The measured rounds' chunk, from the last warm-up round's time per operation.
                    v.chunk = Math.max(1, Math.min(1L << 30, (long) (target / ns)));
                }
                if (alt >= 0) {
                    v.nsPerOp[alt] = ns;
                    v.ops[alt] = r[1];
                    System.out.printf(Locale.ROOT, "R,%s,%s,%s,%d,%.2f,%d,%.2f%n", op.figure, op.param, v.name, alt, ns,
                            r[1], (double) r[2] / r[1]);
                }
            }
        }
        for (Variant v : variants) {
            System.err.printf(Locale.ROOT, "churn-compare: %s %s: %d ops per chunk%n", op.id, v.name, v.chunk);
        }
    }

    /**
     * One round: chunks until {@code roundNanos} have passed and {@code minOps} operations were made; with
     * {@code grow} > 0 (warm-up), a chunk shorter than {@code grow} ns doubles the next one.
     *
     * @return {elapsed ns, operations}
     */
    private static long[] round(Variant v, long roundNanos, long minOps, long grow) throws Throwable {
        Arena arena = v.longLived ? Arena.ofConfined() : null;
        long ops = 0;
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        long t = t0;
        do {
            long c0 = t;
            sink = v.body.run(v.chunk, arena);
            ops += v.chunk;
            t = System.nanoTime();
            if (grow > 0 && t - c0 < grow && v.chunk < 1L << 30) {
                v.chunk *= 2;
            }
        } while (t - t0 < roundNanos || ops < minOps);
        long cpu = THREADS.getCurrentThreadCpuTime() - cpu0;
        if (arena != null) {
            arena.close();
        }
        return new long[] {t - t0, ops, cpu};
    }

    /** The K lines of one op, and a summary on stderr. */
    private static void report(Op op, List<Variant> variants, int alternations) {
        Variant c = variants.get(0);
        StringBuilder summary = new StringBuilder("churn-compare: " + op.id + ":");
        for (Variant v : variants) {
            double[] ratios = new double[alternations];
            for (int a = 0; a < alternations; a++) {
                ratios[a] = v.nsPerOp[a] / c.nsPerOp[a];
            }
            double[] sorted = ratios.clone();
            Arrays.sort(sorted);
            double median = median(v.nsPerOp);
            double ratio = median(ratios);
            System.out.printf(Locale.ROOT, "K,%s,%s,%s,%.2f,%.4f,%.4f,%.4f,%d%n", op.figure, op.param, v.name, median,
                    ratio, sorted[0], sorted[alternations - 1], alternations);
            summary.append(String.format(Locale.ROOT, " %s %.0f ns", v.name, median));
            if (v != c) {
                summary.append(String.format(Locale.ROOT, " (%.3fx, %.3f-%.3f)", ratio, sorted[0],
                        sorted[alternations - 1]));
            }
            summary.append(";");
        }
        System.out.flush();
        System.err.println(summary.substring(0, summary.length() - 1));
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int m = v.length / 2;
        return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    }
}
