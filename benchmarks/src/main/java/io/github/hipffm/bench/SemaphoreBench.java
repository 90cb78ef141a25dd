package io.github.hipffm.bench;

import io.github.hipffm.Device;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.Stream;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreSignalParams;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreWaitParams;
import io.github.hipffm.vulkan.ExportableSemaphore;
import io.github.hipffm.vulkan.SemaphoreType;
import io.github.hipffm.vulkan.VulkanDevice;
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
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code signal(v)} then {@code wait(v)} on Vulkan-exported timeline semaphores imported into HIP, queued on one
 * stream: per call (one semaphore) and per batch of 8 (one native call each for the 8 signals and the 8 waits).
 * Every value is reached by the signal queued just before it, so nothing ever blocks on Vulkan. One operation is
 * one signal plus one wait. The stream is synchronised after each iteration (the queue is bounded by the runtime,
 * as in the C twin {@code native/semaphore.c}).
 *
 * <p>{@code *Raw} variants make the same CUDA calls through the generated bindings with preallocated parameter
 * arrays: the floor for the idiomatic layer.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 400, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SemaphoreBench {
    static final int BATCH = 8;

    /** Eight imported timeline semaphores and a stream. */
    @State(Scope.Thread)
    public static class Sems {
        VulkanDevice vk;
        final List<ExportableSemaphore> vkSemaphores = new ArrayList<>();
        Arena arena;
        Stream stream;
        ExternalSemaphore[] sems = new ExternalSemaphore[BATCH];
        long value;
        // raw: the CUDA parameter arrays, filled once; only the fence values change
        MemorySegment handles;
        MemorySegment signalParams;
        MemorySegment waitParams;
        long signalStride;
        long waitStride;
        long signalValueOffset;
        long waitValueOffset;
        MemorySegment streamHandle;

        @Setup(Level.Trial)
        public void setup() {
            Device d = Gpu.requireNvidia();
            vk = Gpu.vulkan(d);
            arena = Arena.ofConfined();
            stream = Stream.create(arena);
            streamHandle = stream.handle();
            handles = arena.allocate(ValueLayout.ADDRESS, BATCH);
            for (int i = 0; i < BATCH; i++) {
                ExportableSemaphore s = vk.createSemaphore(SemaphoreType.TIMELINE);
                vkSemaphores.add(s);
                sems[i] = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(s.exportFd()));
                handles.setAtIndex(ValueLayout.ADDRESS, i, sems[i].handle());
            }
            signalParams = cudaExternalSemaphoreSignalParams.allocateArray(BATCH, arena);
            waitParams = cudaExternalSemaphoreWaitParams.allocateArray(BATCH, arena);
            signalStride = cudaExternalSemaphoreSignalParams.layout().byteSize();
            waitStride = cudaExternalSemaphoreWaitParams.layout().byteSize();
            signalValueOffset = cudaExternalSemaphoreSignalParams.layout().byteOffset(MemoryLayout.PathElement
                    .groupElement("params"), MemoryLayout.PathElement.groupElement("fence"),
                    MemoryLayout.PathElement.groupElement("value"));
            waitValueOffset = cudaExternalSemaphoreWaitParams.layout().byteOffset(MemoryLayout.PathElement
                    .groupElement("params"), MemoryLayout.PathElement.groupElement("fence"),
                    MemoryLayout.PathElement.groupElement("value"));
        }

        @TearDown(Level.Iteration)
        public void drain() {
            stream.synchronize();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            stream.synchronize();
            arena.close();
            vkSemaphores.forEach(ExportableSemaphore::close);
            vk.close();
        }
    }

    /** {@code signal(v, stream); wait(v, stream)} on one semaphore. */
    @Benchmark
    public long signalWait(Sems s) {
        long v = ++s.value;
        s.sems[0].signal(v, s.stream);
        s.sems[0].wait(v, s.stream);
        return v;
    }

    /** Eight semaphores: one {@code signal(List, stream)} and one {@code wait(List, stream)}. */
    @Benchmark
    public long signalWaitBatch8(Sems s) {
        long v = ++s.value;
        ExternalSemaphore[] sems = s.sems;
        List<ExternalSemaphore.Signal> signals = List.of(ExternalSemaphore.Signal.of(sems[0], v),
                ExternalSemaphore.Signal.of(sems[1], v), ExternalSemaphore.Signal.of(sems[2], v),
                ExternalSemaphore.Signal.of(sems[3], v), ExternalSemaphore.Signal.of(sems[4], v),
                ExternalSemaphore.Signal.of(sems[5], v), ExternalSemaphore.Signal.of(sems[6], v),
                ExternalSemaphore.Signal.of(sems[7], v));
        List<ExternalSemaphore.Wait> waits = List.of(ExternalSemaphore.Wait.of(sems[0], v),
                ExternalSemaphore.Wait.of(sems[1], v), ExternalSemaphore.Wait.of(sems[2], v),
                ExternalSemaphore.Wait.of(sems[3], v), ExternalSemaphore.Wait.of(sems[4], v),
                ExternalSemaphore.Wait.of(sems[5], v), ExternalSemaphore.Wait.of(sems[6], v),
                ExternalSemaphore.Wait.of(sems[7], v));
        ExternalSemaphore.signal(signals, s.stream);
        ExternalSemaphore.wait(waits, s.stream);
        return v;
    }

    /** The raw CUDA calls of {@link #signalWait}: two downcalls, parameters preallocated. */
    @Benchmark
    public int signalWaitRaw(Sems s) {
        return raw(s, 1);
    }

    /** The raw CUDA calls of {@link #signalWaitBatch8}. */
    @Benchmark
    public int signalWaitBatch8Raw(Sems s) {
        return raw(s, BATCH);
    }

    private static int raw(Sems s, int n) {
        long v = ++s.value;
        for (int i = 0; i < n; i++) {
            s.signalParams.set(ValueLayout.JAVA_LONG, i * s.signalStride + s.signalValueOffset, v);
            s.waitParams.set(ValueLayout.JAVA_LONG, i * s.waitStride + s.waitValueOffset, v);
        }
        int rc = CudaRuntime.cudaSignalExternalSemaphoresAsync(s.handles, s.signalParams, n, s.streamHandle);
        rc |= CudaRuntime.cudaWaitExternalSemaphoresAsync(s.handles, s.waitParams, n, s.streamHandle);
        if (rc != 0) {
            throw new IllegalStateException("cudaSignal/WaitExternalSemaphoresAsync failed: " + rc);
        }
        return rc;
    }
}
