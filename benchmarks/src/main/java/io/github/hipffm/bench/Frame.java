package io.github.hipffm.bench;

import io.github.hipffm.Device;
import io.github.hipffm.Dim3;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.Graph;
import io.github.hipffm.GraphExec;
import io.github.hipffm.GraphNode;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.vulkan.ExportableBuffer;
import io.github.hipffm.vulkan.ExportableSemaphore;
import io.github.hipffm.vulkan.SemaphoreType;
import io.github.hipffm.vulkan.VulkanDevice;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One interop frame, as an application runs it: wait on the Vulkan timeline semaphore, launch a small kernel
 * ({@code increment}: +1 on every 32-bit word) on a Vulkan-exported buffer imported and mapped into HIP, signal
 * the semaphore, and wait for the stream. Frame {@code i} waits for value {@code i} (signalled by frame
 * {@code i-1}) and signals {@code i+1}, so the semaphore operations are real but never block on Vulkan.
 * Shared by {@link FrameBench} (JMH, wall clock) and {@link FrameLatency} (GPU events); C twin:
 * {@code native/frame.c}. The same frame is also recorded once as a graph (wait node, kernel node, signal node):
 * {@link #enqueueGraph()} sets the exec's two fence values and launches it ({@code frame.c ... graph}).
 */
final class Frame implements AutoCloseable {
    /** The mapped buffer: 1 MiB, 262,144 words (one block of 256 threads per 256 words). */
    static final long BYTES = 1L << 20;
    static final int THREADS = 256;

    private final VulkanDevice vk;
    private final ExportableBuffer vkBuffer;
    private final ExportableSemaphore vkSemaphore;
    final Arena arena = Arena.ofConfined();
    final Stream stream;
    final ExternalSemaphore semaphore;
    final MemorySegment buffer;
    final Kernel kernel;
    final KernelArgs args;
    final Dim3 grid;
    final Dim3 block = Dim3.of(THREADS);
    final GraphExec exec;
    final GraphNode waitNode;
    final GraphNode signalNode;
    long value;

    Frame() {
        Device d = Gpu.requireNvidia();
        byte[] ptx = Gpu.kernelsPtx();
        vk = Gpu.vulkan(d);
        vkBuffer = Gpu.buffer(vk, BYTES);
        vkSemaphore = vk.createSemaphore(SemaphoreType.TIMELINE);
        stream = Stream.create(arena);
        ExternalMemory memory = ExternalMemory.importMemory(arena,
                ExternalMemoryDescriptor.opaqueFd(vkBuffer.exportFd(), vkBuffer.allocationSize()));
        buffer = memory.mapBuffer(0, BYTES);
        Memory.fill(buffer, (byte) 0);
        semaphore = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(vkSemaphore.exportFd()));
        long words = BYTES / 4;
        kernel = HipModule.load(arena, ptx).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
        args = kernel.newArgs(arena).set(0, buffer).set(1, words);
        grid = Dim3.covering(words, THREADS);
        Graph graph = Graph.create(arena);
        waitNode = graph.addWait(semaphore, 0);
        GraphNode launch = graph.addKernel(kernel, grid, block, 0, args, waitNode);
        signalNode = graph.addSignal(semaphore, 0, launch);
        exec = graph.instantiate();
    }

    /** Queues one frame's work (wait, launch, signal) without waiting for it. */
    void enqueue() {
        long v = value++;
        semaphore.wait(v, stream);
        kernel.launch(grid, block, 0, stream, args);
        semaphore.signal(v + 1, stream);
    }

    /** Queues the same frame as one graph launch, with this frame's fence values set on the exec. */
    void enqueueGraph() {
        long v = value++;
        exec.setFence(waitNode, v).setFence(signalNode, v + 1).launch(stream);
    }

    /** One whole frame: {@link #enqueue()} and wait for the stream. */
    void run() {
        enqueue();
        stream.synchronize();
    }

    /** One whole frame as a graph: {@link #enqueueGraph()} and wait for the stream. */
    void runGraph() {
        enqueueGraph();
        stream.synchronize();
    }

    @Override
    public void close() {
        stream.synchronize();
        arena.close();
        vkSemaphore.close();
        vkBuffer.close();
        vk.close();
    }
}
