package io.github.hipffm.testrt;

import io.github.hipffm.Hip;
import io.github.hipffm.HipError;
import io.github.hipffm.Platform;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The hooks of the C test runtime ({@code src/test/native/hipffm_testrt.c}): live-object counts, call counts
 * and fault injection. Only valid in the {@code testrt} Surefire executions, which load that library: as itself on
 * the AMD platform ({@code test-runtime}), or inside the cudart double ({@code hipffm_cudart.c}, CUDA's names over
 * the same runtime) on the NVIDIA platform ({@code test-runtime-nvidia}). Function names are HIP names on both:
 * the NVIDIA backend's calls are counted and failed under the HIP names they are reported under.
 */
public final class TestRuntime {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle LIVE;
    private static final MethodHandle FAIL_NEXT;
    private static final MethodHandle RESET;
    private static final MethodHandle CALL_COUNT;
    private static final MethodHandle RESET_CALL_COUNTS;
    private static final MethodHandle PENDING_WORK;
    private static final MethodHandle SET_DEVICE_COUNT;
    private static final MethodHandle STICKY_ERROR;
    private static final MethodHandle SEMAPHORE_COUNTER;
    private static final MethodHandle SEMAPHORE_SIGNALS;
    private static final MethodHandle TEXTURE_FETCH;
    private static final MethodHandle SURFACE_READ;
    private static final MethodHandle SURFACE_WRITE;
    /** The cudart double's hooks; null on the AMD platform. */
    private static final MethodHandle CUDA_CLOSED_FDS;
    private static final MethodHandle CUDA_ERROR_OF;
    private static final MethodHandle HIP_ERROR_OF;
    /** The kinds of {@code hipffmTest_liveObjects}, but "all". */
    private static final List<String> KINDS = List.of("memory", "externalMemory", "mappedBuffer", "mipmappedArray",
            "externalSemaphore", "stream", "event", "mapping", "module", "graphicsResource", "graphicsMapping",
            "glObject", "graph", "graphExec", "graphNode", "textureObject", "surfaceObject", "vmmHandle",
            "vmmReservation", "vmmMapping", "ipcMemory");

    static {
        Runtimes.current(); // loads the library named by hipffm.library
        SymbolLookup l = SymbolLookup.loaderLookup();
        if (l.find("hipffmTest_isTestRuntime").isEmpty()) {
            throw new IllegalStateException("the test runtime is not loaded: run with -Dhipffm.library="
                    + "target/native/libhipffm_testrt.so (the 'test-runtime' Surefire execution does)");
        }
        LIVE = LINKER.downcallHandle(l.find("hipffmTest_liveObjects").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        FAIL_NEXT = LINKER.downcallHandle(l.find("hipffmTest_failNext").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        RESET = LINKER.downcallHandle(l.find("hipffmTest_reset").orElseThrow(), FunctionDescriptor.ofVoid());
        CALL_COUNT = LINKER.downcallHandle(l.find("hipffmTest_callCount").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        RESET_CALL_COUNTS = LINKER.downcallHandle(l.find("hipffmTest_resetCallCounts").orElseThrow(),
                FunctionDescriptor.ofVoid());
        PENDING_WORK = LINKER.downcallHandle(l.find("hipffmTest_pendingWork").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        SET_DEVICE_COUNT = LINKER.downcallHandle(l.find("hipffmTest_setDeviceCount").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        STICKY_ERROR = LINKER.downcallHandle(l.find("hipffmTest_stickyError").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
        SEMAPHORE_COUNTER = LINKER.downcallHandle(l.find("hipffmTest_semaphoreCounter").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        SEMAPHORE_SIGNALS = LINKER.downcallHandle(l.find("hipffmTest_semaphoreSignals").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        TEXTURE_FETCH = LINKER.downcallHandle(l.find("hipffmTest_textureFetch").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_FLOAT,
                        ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS));
        FunctionDescriptor surface = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG);
        SURFACE_READ = LINKER.downcallHandle(l.find("hipffmTest_surfaceRead").orElseThrow(), surface);
        SURFACE_WRITE = LINKER.downcallHandle(l.find("hipffmTest_surfaceWrite").orElseThrow(), surface);
        if (nvidia()) {
            if (l.find("hipffmTest_cudaClosedFds").isEmpty()) {
                throw new IllegalStateException("the NVIDIA platform runs against the cudart double: run with"
                        + " -Dhipffm.library=target/native/cudart/libcudart.so.13 (the 'test-runtime-nvidia' Surefire"
                        + " execution does)");
            }
            CUDA_CLOSED_FDS = LINKER.downcallHandle(l.find("hipffmTest_cudaClosedFds").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG));
            CUDA_ERROR_OF = LINKER.downcallHandle(l.find("hipffmTest_cudaErrorOf").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            HIP_ERROR_OF = LINKER.downcallHandle(l.find("hipffmTest_hipErrorOf").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        } else {
            CUDA_CLOSED_FDS = null;
            CUDA_ERROR_OF = null;
            HIP_ERROR_OF = null;
        }
        // Once per test JVM, so the test output says which run this is.
        System.out.println("hip-ffm testrt: platform " + Hip.platform().id() + ", " + Hip.library()
                + (nvidia() ? " (the cudart double: CUDA's names over the C test runtime)" : " (the C test runtime)"));
    }

    private TestRuntime() {
    }

    /** {@return live objects of a kind ("memory", "externalMemory", "mappedBuffer", ..., "all")} */
    public static long live(String kind) {
        try (Arena a = Arena.ofConfined()) {
            return (long) LIVE.invokeExact(a.allocateFrom(kind));
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /** {@return every live object the runtime holds} */
    public static long liveAll() {
        return live("all");
    }

    /** {@return every kind {@link #live(String)} counts, in the C runtime's order} */
    public static List<String> kinds() {
        return KINDS;
    }

    /** {@return the kinds with live objects, each with its count (empty when nothing is live)} */
    public static Map<String, Long> liveByKind() {
        Map<String, Long> live = new LinkedHashMap<>();
        for (String kind : KINDS) {
            long n = live(kind);
            if (n != 0) {
                live.put(kind, n);
            }
        }
        return live;
    }

    /** Makes the {@code skip+1}-th next call of {@code function} return {@code error}, with no side effect. */
    public static void failNext(String function, HipError error, int skip) {
        try (Arena a = Arena.ofConfined()) {
            FAIL_NEXT.invokeExact(a.allocateFrom(function), error.code(), skip);
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /** Disarms every injected fault and zeroes the call counts. */
    public static void reset() {
        try {
            RESET.invokeExact();
            RESET_CALL_COUNTS.invokeExact();
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /** {@return how often {@code function} was called since the last {@link #reset()}} */
    public static long calls(String function) {
        try (Arena a = Arena.ofConfined()) {
            return (long) CALL_COUNT.invokeExact(a.allocateFrom(function));
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /**
     * {@return the operations the runtime has deferred and not yet run} The runtime's synchronous device-to-device
     * copies, fills of device memory and array copies from device memory are queued on the null stream and run where a
     * real runtime would have finished them for the caller (src/test/native/README.md, "Deferred work").
     */
    public static long pendingWork() {
        try {
            return (long) PENDING_WORK.invokeExact();
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /**
     * Makes the runtime report {@code n} fake devices (1, the default, or 2), each with its own UUID and PCI bus id,
     * every resource on the device current when it was made, and work that mixes devices refused as CUDA does (see
     * hipffm_testrt.c, "Fake devices"), and no peer access enabled: the runtime's and hip-ffm's record of it are
     * both cleared. Set it back to 1 after the test.
     */
    public static void setDeviceCount(int n) {
        Runtimes.current().forgetPeerAccess();
        try {
            SET_DEVICE_COUNT.invokeExact(n);
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /**
     * {@return the runtime's sticky error (a HIP code, 0 when none): set by a launch whose kernel touched another
     * device's memory, as a GPU's illegal-address fault; cleared by {@link #reset()}}
     */
    public static int stickyError() {
        try {
            return (int) STICKY_ERROR.invokeExact();
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /**
     * {@return the double's value of a semaphore (its raw handle): a timeline's counter, a binary one's 0 or 1; -1
     * for a handle that is not a live semaphore}
     */
    public static long semaphoreValue(MemorySegment semaphore) {
        try {
            return (long) SEMAPHORE_COUNTER.invokeExact(semaphore);
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /** {@return how many signals a semaphore (its raw handle) received so far; -1 for one that is not live} */
    public static long semaphoreSignals(MemorySegment semaphore) {
        try {
            return (long) SEMAPHORE_SIGNALS.invokeExact(semaphore);
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /**
     * What a texture fetch on the double's CPU sampler returned: four channels, as floats (a float format or a
     * normalised read) or as the bits of 32-bit integers (element-type reads of integer formats).
     *
     * @param floats whether the channels are floats
     * @param bits the four channels' 32 bits
     */
    public record Texel(boolean floats, int[] bits) {
        /** {@return channel {@code c} as a float} */
        public float f(int c) {
            return Float.intBitsToFloat(bits[c]);
        }

        /** {@return channel {@code c} as an int} */
        public int i(int c) {
            return bits[c];
        }
    }

    /**
     * {@return a texture object (its {@code value()}) sampled by the double at (x, y, z) of mip level {@code level}
     * (a whole mipmapped array's; the nearest level after the descriptor's bias and clamps), as a kernel's
     * {@code tex3D}/{@code tex2D}/{@code tex1D} (linear memory: {@code tex1Dfetch} of element x) would}
     * @throws IllegalStateException when the texture is not live (-1) or what it views was released (-2)
     */
    public static Texel fetch(long texture, float x, float y, float z, float level) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_INT, 4);
            int rc = (int) TEXTURE_FETCH.invokeExact(MemorySegment.ofAddress(texture), x, y, z, level, out);
            if (rc < 0) {
                throw new IllegalStateException("hipffmTest_textureFetch: " + rc);
            }
            return new Texel(rc == 0, out.toArray(ValueLayout.JAVA_INT));
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /**
     * Reads one element of a surface object (its {@code value()}) at x bytes, row y, slice z, as
     * {@code surf3Dread} would, into {@code dst} (exactly one element).
     * @return 0, or -1 (not a live surface), -2 (its array was released), -3 (out of range or not one element)
     */
    public static int surfaceRead(long surface, long xBytes, long y, long z, MemorySegment dst) {
        try {
            return (int) SURFACE_READ.invokeExact(MemorySegment.ofAddress(surface), xBytes, y, z, dst, dst.byteSize());
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /** Writes one element of a surface object, as {@code surf3Dwrite} would; returns as {@link #surfaceRead}. */
    public static int surfaceWrite(long surface, long xBytes, long y, long z, MemorySegment src) {
        try {
            return (int) SURFACE_WRITE.invokeExact(MemorySegment.ofAddress(surface), xBytes, y, z, src, src.byteSize());
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /** {@return whether this run is the NVIDIA platform's, against the cudart double} */
    public static boolean nvidia() {
        return Hip.platform() == Platform.NVIDIA;
    }

    /**
     * {@return how many imported fds the cudart double has closed under CUDA's fd rule (on success, and on a memory
     * import refused after the fd was accepted; see src/test/native/README.md), process wide}
     * @throws IllegalStateException on the AMD platform, whose runtime never closes an fd
     */
    public static long fdsClosedByCuda() {
        try {
            return (long) cudartHook(CUDA_CLOSED_FDS).invokeExact();
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /** {@return the cudaError_t the cudart double returns for a HIP double's hipError_t} NVIDIA platform only. */
    public static int cudaErrorOf(int hipError) {
        try {
            return (int) cudartHook(CUDA_ERROR_OF).invokeExact(hipError);
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    /** {@return the hipError_t the cudart double maps a cudaError_t to} NVIDIA platform only. */
    public static int hipErrorOf(int cudaError) {
        try {
            return (int) cudartHook(HIP_ERROR_OF).invokeExact(cudaError);
        } catch (Throwable t) {
            throw LinuxFds.propagate(t);
        }
    }

    private static MethodHandle cudartHook(MethodHandle h) {
        if (h == null) {
            throw new IllegalStateException("a hook of the cudart double: the NVIDIA platform's run only");
        }
        return h;
    }

}
