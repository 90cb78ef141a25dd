package io.github.hipffm.bench;

import io.github.hipffm.Event;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.Hip;
import io.github.hipffm.Stream;
import io.github.hipffm.bindings.hip.hipExternalMemoryBufferDesc_st;
import io.github.hipffm.bindings.hip.hipExternalMemoryHandleDesc_st;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;

/**
 * A plain-Java churn loop to profile (JFR) what hip-ffm itself costs per create + release, without JMH's
 * machinery in the profile: {@code Stream.create} + close, {@code Event.create} + close, and
 * {@code ExternalMemory.importCopy} of a memfd + {@code mapBuffer()} + close, each in a confined or shared owner
 * arena, per operation or long-lived (as {@link OwnerArena}). Meant for the C test runtime, where the native side
 * costs next to nothing (a memfd is no GPU memory: the real CUDA runtime refuses it):
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -Dhipffm.library=target/native/libhipffm_testrt.so -Dhipffm.platform=amd \
 *      -XX:StartFlightRecording=filename=churn.jfr,settings=profile \
 *      -cp target/classes:benchmarks/target/classes io.github.hipffm.bench.ChurnProfile [OP [ARENA [LIFETIME [SECONDS]]]]
 * </pre>
 *
 * OP: {@code stream}, {@code event}, {@code import} or {@code all} (default), or a comma-separated list, which may
 * also name {@code streamRaw}, {@code eventRaw} and {@code importRaw}: the same runtime calls through the generated
 * HIP bindings (AMD platform only; the arena is not used); ARENA: {@code confined},
 * {@code shared} or {@code all}; LIFETIME: {@code perOp}, {@code longLived} or {@code all}; SECONDS per case
 * (default 3, after a warm-up of the same length). {@code -Dhipffm.churn.jfr=DIR} records each measured run (not
 * the warm-up) with JFR into {@code DIR/<op>-<arena>-<lifetime>.jfr}. Prints, per case, the mean time per operation and the bytes the
 * calling thread allocated per operation ({@code ThreadMXBean.getCurrentThreadAllocatedBytes}), as
 * {@code P,<op>,<arena>,<lifetime>,<ns/op>,<B/op>,<ops>}.
 */
public final class ChurnProfile {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final long IMPORT_BYTES = 1 << 20;

    private ChurnProfile() {
    }

    private interface Op {
        Object run(Arena owner, boolean perOp);
    }

    /**
     * Runs the cases.
     *
     * @param args OP ARENA LIFETIME SECONDS, each optional
     * @throws Throwable when memfd_create fails, or JFR cannot record
     */
    public static void main(String[] args) throws Throwable {
        String opArg = args.length > 0 ? args[0] : "all";
        String arenaArg = args.length > 1 ? args[1] : "all";
        String lifetimeArg = args.length > 2 ? args[2] : "all";
        double seconds = args.length > 3 ? Double.parseDouble(args[3]) : 3;
        System.err.println("churn profile: " + Hip.platform().id() + " runtime " + Hip.library());

        Linker linker = Linker.nativeLinker();
        MethodHandle memfdCreate = linker.downcallHandle(linker.defaultLookup().find("memfd_create").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MethodHandle ftruncate = linker.downcallHandle(linker.defaultLookup().find("ftruncate").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        int fd;
        try (Arena a = Arena.ofConfined()) {
            fd = (int) memfdCreate.invokeExact(a.allocateFrom("hipffm-churn"), 0);
        }
        if (fd < 0 || (int) ftruncate.invokeExact(fd, IMPORT_BYTES) != 0) {
            throw new IllegalStateException("memfd_create/ftruncate failed");
        }
        ExternalMemoryDescriptor descriptor = ExternalMemoryDescriptor.opaqueFd(fd, IMPORT_BYTES);

        List<String> ops = opArg.equals("all") ? List.of("stream", "event", "import") : List.of(opArg.split(","));
        Raw raw = new Raw(fd);
        List<String> arenas = arenaArg.equals("all") ? List.of("confined", "shared") : List.of(arenaArg);
        List<String> lifetimes = lifetimeArg.equals("all") ? List.of("perOp", "longLived") : List.of(lifetimeArg);
        for (String op : ops) {
            Op body = switch (op) {
                case "stream" -> (owner, perOp) -> {
                    Stream s = Stream.create(owner);
                    if (!perOp) {
                        s.close();
                    }
                    return s;
                };
                case "event" -> (owner, perOp) -> {
                    Event e = Event.create(owner);
                    if (!perOp) {
                        e.close();
                    }
                    return e;
                };
                case "import" -> (owner, perOp) -> {
                    ExternalMemory m = ExternalMemory.importCopy(owner, descriptor);
                    m.mapBuffer();
                    if (!perOp) {
                        m.close();
                    }
                    return m;
                };
                case "streamRaw" -> (owner, perOp) -> raw.stream();
                case "eventRaw" -> (owner, perOp) -> raw.event();
                case "importRaw" -> (owner, perOp) -> raw.importMapRelease();
                default -> throw new IllegalArgumentException("OP: stream, event, import, streamRaw, eventRaw, importRaw"
                        + " or all; got " + op);
            };
            for (String arena : arenas) {
                boolean shared = switch (arena) {
                    case "confined" -> false;
                    case "shared" -> true;
                    default -> throw new IllegalArgumentException("ARENA: confined, shared or all; got " + arena);
                };
                for (String lifetime : lifetimes) {
                    boolean perOp = switch (lifetime) {
                        case "perOp" -> true;
                        case "longLived" -> false;
                        default -> throw new IllegalArgumentException("LIFETIME: perOp, longLived or all; got " + lifetime);
                    };
                    run(body, shared, perOp, seconds);                  // warm-up
                    Object recording = startRecording();
                    long[] r = run(body, shared, perOp, seconds);
                    stopRecording(recording, op + "-" + arena + "-" + lifetime);
                    String line = String.format(Locale.ROOT, "P,%s,%s,%s,%.1f,%.1f,%d", op, arena, lifetime,
                            (double) r[0] / r[2], (double) r[1] / r[2], r[2]);
                    System.out.println(line);
                }
            }
        }
    }

    /**
     * With {@code -Dhipffm.churn.jfr=DIR}: a JFR recording ({@code profile} settings, allocation samples at up to
     * 20,000/s, and the CPU-time sampler)
     * of the measured run only, dumped to {@code DIR/<case>.jfr}, so that its events count the measured
     * operations. Reflection keeps {@code jdk.jfr} optional (the GPU bundle's runtime has no such module).
     */
    private static Object startRecording() throws ReflectiveOperationException {
        if (System.getProperty("hipffm.churn.jfr") == null) {
            return null;
        }
        Class<?> configuration = Class.forName("jdk.jfr.Configuration");
        Object profile = configuration.getMethod("getConfiguration", String.class).invoke(null, "profile");
        Class<?> recordingClass = Class.forName("jdk.jfr.Recording");
        Object recording = recordingClass.getConstructor(configuration).newInstance(profile);
        java.lang.reflect.Method with = Class.forName("jdk.jfr.EventSettings").getMethod("with", String.class, String.class);
        Object allocation = recordingClass.getMethod("enable", String.class).invoke(recording, "jdk.ObjectAllocationSample");
        with.invoke(allocation, "throttle", "20000/s");
        try {
            Object cpu = recordingClass.getMethod("enable", String.class).invoke(recording, "jdk.CPUTimeSample");
            with.invoke(cpu, "throttle", "1ms");
        } catch (ReflectiveOperationException e) {
            System.err.println("no CPU-time sampler in this JDK: " + e);
        }
        recordingClass.getMethod("start").invoke(recording);
        return recording;
    }

    private static void stopRecording(Object recording, String name) throws ReflectiveOperationException {
        if (recording == null) {
            return;
        }
        Class<?> recordingClass = recording.getClass();
        recordingClass.getMethod("stop").invoke(recording);
        java.nio.file.Path file = java.nio.file.Path.of(System.getProperty("hipffm.churn.jfr"), name + ".jfr");
        recordingClass.getMethod("dump", java.nio.file.Path.class).invoke(recording, file);
        recordingClass.getMethod("close").invoke(recording);
    }

    /** {@return {elapsed ns, bytes allocated by this thread, operations}} */
    private static long[] run(Op body, boolean shared, boolean perOp, double seconds) {
        long ops = 0;
        long sink = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long bytes0 = THREADS.getCurrentThreadAllocatedBytes();
        long t0 = System.nanoTime();
        long t;
        // A long-lived arena lives for 10,000 operations (as ChurnBench's lives for a JMH iteration).
        Arena longLived = perOp ? null : newArena(shared);
        do {
            for (int i = 0; i < 1000; i++) {
                if (perOp) {
                    try (Arena a = newArena(shared)) {
                        sink += body.run(a, true).hashCode();
                    }
                } else {
                    sink += body.run(longLived, false).hashCode();
                }
            }
            ops += 1000;
            if (!perOp && ops % 10_000 == 0) {
                longLived.close();
                longLived = newArena(shared);
            }
        } while ((t = System.nanoTime()) < end);
        if (longLived != null) {
            longLived.close();
        }
        long bytes = THREADS.getCurrentThreadAllocatedBytes() - bytes0;
        if (sink == 42) {
            System.out.print("");
        }
        return new long[] {t - t0, bytes, ops};
    }

    /**
     * The same runtime calls through the generated HIP bindings (the AMD platform: the C test runtime), with
     * preallocated out-parameters and descriptors: what a downcall costs in this JVM, without hip-ffm's code
     * ({@code dup} and {@code close} through downcalls of their own, as hip-ffm's {@code Posix}).
     */
    private static final class Raw {
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        private final MemorySegment desc = arena.allocate(hipExternalMemoryHandleDesc_st.layout());
        private final MemorySegment bufferDesc = arena.allocate(hipExternalMemoryBufferDesc_st.layout());
        private final int fd;
        private final MethodHandle dup;
        private final MethodHandle close;

        Raw(int fd) {
            this.fd = fd;
            Linker linker = Linker.nativeLinker();
            dup = linker.downcallHandle(linker.defaultLookup().find("dup").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            hipExternalMemoryHandleDesc_st.size(desc, IMPORT_BYTES);
            hipExternalMemoryBufferDesc_st.size(bufferDesc, IMPORT_BYTES);
        }

        private MemorySegment out(int rc, String call) {
            if (rc != 0) {
                throw new IllegalStateException(call + " failed: " + rc);
            }
            return out.get(ValueLayout.ADDRESS, 0);
        }

        Object stream() {
            MemorySegment s = out(io.github.hipffm.bindings.hip.Hip.hipStreamCreateWithFlags(out, 0), "hipStreamCreateWithFlags");
            out(io.github.hipffm.bindings.hip.Hip.hipStreamDestroy(s), "hipStreamDestroy");
            return s;
        }

        Object event() {
            MemorySegment e = out(io.github.hipffm.bindings.hip.Hip.hipEventCreateWithFlags(out, 0), "hipEventCreateWithFlags");
            out(io.github.hipffm.bindings.hip.Hip.hipEventDestroy(e), "hipEventDestroy");
            return e;
        }

        Object importMapRelease() {
            try {
                int copy = (int) dup.invokeExact(fd);
                hipExternalMemoryHandleDesc_st.type(desc, io.github.hipffm.bindings.hip.Hip.hipExternalMemoryHandleTypeOpaqueFd());
                hipExternalMemoryHandleDesc_st.handle.fd(hipExternalMemoryHandleDesc_st.handle(desc), copy);
                MemorySegment m = out(io.github.hipffm.bindings.hip.Hip.hipImportExternalMemory(out, desc), "hipImportExternalMemory");
                MemorySegment p = out(io.github.hipffm.bindings.hip.Hip.hipExternalMemoryGetMappedBuffer(out, m, bufferDesc),
                        "hipExternalMemoryGetMappedBuffer");
                out(io.github.hipffm.bindings.hip.Hip.hipFree(p), "hipFree");
                out(io.github.hipffm.bindings.hip.Hip.hipDestroyExternalMemory(m), "hipDestroyExternalMemory");
                int rc = (int) close.invokeExact(copy);
                return p.address() + rc;
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

    private static Arena newArena(boolean shared) {
        return shared ? Arena.ofShared() : Arena.ofConfined();
    }
}
