package io.github.hipffm.interop;

import io.github.hipffm.Dim3;
import io.github.hipffm.Event;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.Hip;
import io.github.hipffm.HipError;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.internal.FdRule;
import io.github.hipffm.internal.Posix;
import io.github.hipffm.internal.Runtimes;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;


/**
 * The hot paths allocate nothing on the Java heap once the JIT has compiled them: bytes allocated by this thread
 * ({@code com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes}, exact for one thread, unlike JMH's
 * {@code -prof gc}, which counts every thread of the JVM) over rounds of 10,000 operations. The test runtime stands
 * in for the GPU; the Java code measured is the same as on a GPU (the AMD backend here, the NVIDIA one in the
 * benchmarks' {@code AllocationCheck}).
 *
 * <p>An operation passes when one round allocates 0 bytes within {@value #ROUNDS} rounds (the first rounds run
 * interpreted or C1-compiled code, which does not eliminate short-lived objects); it fails with the fewest bytes
 * per operation any round saw.
 */
@Tag("testrt")
class HotPathAllocationTest {
    private static final int OPS = 10_000;
    private static final int ROUNDS = 100;
    private static final byte[] MODULE = "hipffm-test-module\nscale_add\nincrement\n".getBytes(StandardCharsets.US_ASCII);
    /** {@code ()long}: {@code com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes} of the JVM's bean. */
    private static final MethodHandle ALLOCATED = allocatedBytes();

    private static Arena arena;
    private static Stream stream;
    private static List<ExternalSemaphore> semaphores;

    /** A reset before {@link #open()}; nothing live after {@link #close()}. */
    @RegisterExtension
    static final NoLeaks NO_LEAKS = NoLeaks.aroundAllTests().withoutFdCount();

    @BeforeAll
    static void open() {
        arena = Arena.ofShared();
        stream = Stream.create(arena);
        semaphores = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int fd = LinuxFds.memfd("hipffm-semaphore", 0);     // the semaphore owns it once imported
            semaphores.add(ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(fd)));
        }
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    /**
     * The bean through reflection: hip-ffm's module (which the tests are patched into) does not read
     * {@code java.management}; a module may add that read edge for itself at run time, which this does.
     */
    private static MethodHandle allocatedBytes() {
        try {
            Class<?> factory = Class.forName("java.lang.management.ManagementFactory");
            Class<?> bean = Class.forName("com.sun.management.ThreadMXBean");
            HotPathAllocationTest.class.getModule().addReads(factory.getModule()).addReads(bean.getModule());
            Object threads = factory.getMethod("getThreadMXBean").invoke(null);
            bean.getMethod("setThreadAllocatedMemoryEnabled", boolean.class).invoke(threads, true);
            return MethodHandles.lookup().unreflect(bean.getMethod("getCurrentThreadAllocatedBytes")).bindTo(threads);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this JVM has no com.sun.management.ThreadMXBean", e);
        }
    }

    private static long allocated() {
        try {
            return (long) ALLOCATED.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Returns once a round of {@link #OPS} calls allocates nothing; else fails with the best round's B/op. */
    private static void assertAllocatesNothing(String what, Runnable op) {
        long best = Long.MAX_VALUE;
        // At least ROUNDS rounds and 10 s: on a loaded machine the JIT may take longer than ROUNDS rounds to compile
        // the path (seen once with the fd check, whose every op is a syscall); a path that allocates fails anyway.
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (int round = 0; round < ROUNDS || System.nanoTime() < deadline; round++) {
            long before = allocated();
            for (int i = 0; i < OPS; i++) {
                op.run();
            }
            long bytes = allocated() - before;
            if (bytes == 0) {
                return;
            }
            best = Math.min(best, bytes);
        }
        throw new AssertionError(what + ": every round of " + OPS + " allocated; the best " + best + " bytes ("
                + (double) best / OPS + " B/op)");
    }

    @Test
    void deviceCountAndErrorDescription() {
        assertAllocatesNothing("Hip.deviceCount()", Hip::deviceCount);
        HipError[] errors = {HipError.INVALID_VALUE, HipError.NOT_READY, HipError.OUT_OF_MEMORY};
        int[] i = {0};
        assertAllocatesNothing("HipError.description()", () -> errors[i[0]++ % errors.length].description());
    }

    /** The already-current path of creation on a device: one critical hipGetDevice, no switch, no allocation. */
    @Test
    void runningOnTheCurrentDevice() {
        io.github.hipffm.Device current = Hip.currentDevice();
        java.util.function.Supplier<Object> nothing = () -> null;
        assertAllocatesNothing("Device.call on the current device", () -> current.call(nothing));
    }

    /**
     * The fd check every import makes before any native call ({@code FdRule.check}: one {@code fstat} and this
     * platform's rule), on a memfd it lets through (AMD: not a dma-buf; the NVIDIA execution runs with
     * {@code -Dhipffm.fdCheck=open}), and the NVIDIA rule's verdict on what {@code fstat} says of an export of
     * {@code /dev/nvidiactl} (195:255), which must not need the fd's link.
     */
    @Test
    void theFdCheckOfAnImport() {
        FdRule rule = Runtimes.current().fdRule();
        int fd = LinuxFds.memfd("hipffm-check", 4096);
        try {
            assertAllocatesNothing("FdRule.check (fstat + the rule)", () -> rule.check(fd, "OPAQUE_FD memory", 4096, "-"));
            Posix.Stat nvidiactl = new Posix.Stat(6, 1, Posix.Stat.S_IFCHR | 0666, (195L << 8) | 255, 0);
            Supplier<String> noLink = () -> {
                throw new AssertionError("the link of an NVIDIA export is not read");
            };
            assertAllocatesNothing("FdRule.refusal of an NVIDIA export", () -> rule.refusal(nvidiactl, 4096, noLink));
        } finally {
            LinuxFds.close(fd);
        }
    }

    @Test
    void signalAndWaitOneSemaphore() {
        ExternalSemaphore s = semaphores.getFirst();
        long[] v = {0};
        assertAllocatesNothing("signal(v) + wait(v)", () -> {
            long value = ++v[0];
            s.signal(value, stream);
            s.wait(value, stream);
        });
    }

    /** A frame of a graph: the exec-level fence values of its wait and signal nodes changed, then one launch. */
    @Test
    void aGraphLaunchWithNewFenceValues() {
        try (Arena local = Arena.ofConfined()) {
            ExternalSemaphore in = semaphores.get(1);
            ExternalSemaphore out = semaphores.get(2);
            io.github.hipffm.Graph graph = io.github.hipffm.Graph.create(local);
            io.github.hipffm.GraphNode acquire = graph.addWait(in, 0);
            io.github.hipffm.GraphNode release = graph.addSignal(out, 0, acquire);
            io.github.hipffm.GraphExec exec = graph.instantiate();
            long[] v = {0};
            assertAllocatesNothing("GraphExec.setFence x2 + launch", () -> {
                long value = ++v[0];
                exec.setFence(acquire, 0).setFence(release, value).launch(stream);
            });
        }
    }

    @Test
    void signalAndWaitABatchOfEight() {
        List<ExternalSemaphore.Signal> signals = new ArrayList<>();
        List<ExternalSemaphore.Wait> waits = new ArrayList<>();
        for (ExternalSemaphore s : semaphores) {
            signals.add(ExternalSemaphore.Signal.of(s, 1));
            waits.add(ExternalSemaphore.Wait.of(s, 1));
        }
        List<ExternalSemaphore.Signal> signalList = List.copyOf(signals);
        List<ExternalSemaphore.Wait> waitList = List.copyOf(waits);
        assertAllocatesNothing("signal(List of 8) + wait(List of 8)", () -> {
            ExternalSemaphore.signal(signalList, stream);
            ExternalSemaphore.wait(waitList, stream);
        });
    }

    @Test
    void launchWithReusedArgumentsAndAsyncCopies() {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(local, 256);
            MemorySegment other = Memory.allocateDevice(local, 256);
            MemorySegment pinned = Memory.allocatePinned(local, 256);
            Kernel increment = HipModule.load(local, MODULE).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            KernelArgs args = increment.newArgs(local).set(0, device).set(1, 64L);
            Dim3 grid = Dim3.of(1);
            Dim3 block = Dim3.of(64);
            Event event = Event.create(local);
            ExternalSemaphore s = semaphores.getLast();
            long[] v = {0};

            assertAllocatesNothing("Kernel.launch with reused KernelArgs",
                    () -> increment.launch(grid, block, 0, stream, args));
            assertAllocatesNothing("Memory.copyAsync", () -> Memory.copyAsync(other, device, 256, stream));
            assertAllocatesNothing("Memory.copy", () -> Memory.copy(pinned, device, 256));
            assertAllocatesNothing("Event.record + Stream.synchronize", () -> {
                event.record(stream);
                stream.synchronize();
            });
            assertAllocatesNothing("frame: wait, launch, signal, synchronize", () -> {
                long value = ++v[0];
                s.wait(value - 1, stream);
                increment.launch(grid, block, 0, stream, args);
                s.signal(value, stream);
                stream.synchronize();
            });
        }
    }
}
