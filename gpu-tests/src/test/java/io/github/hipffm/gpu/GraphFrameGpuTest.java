package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.Dim3;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.Graph;
import io.github.hipffm.GraphExec;
import io.github.hipffm.GraphNode;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Stream;
import io.github.hipffm.vulkan.ExportableBuffer;
import io.github.hipffm.vulkan.ExportableSemaphore;
import io.github.hipffm.vulkan.SemaphoreType;
import io.github.hipffm.vulkan.VulkanDevice;
import io.github.hipffm.vulkan.VulkanInterop;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A Vulkan-driven frame loop as one graph (issue #15): per frame, Vulkan signals the frame's value from the host,
 * the graph's wait node waits for it, a kernel increments every word of an imported Vulkan buffer, and the signal
 * node signals the next value, which Vulkan waits for on the host and reads back. The exec is instantiated once;
 * each frame sets its two fence values ({@link GraphExec#setFence}) and launches it.
 */
@Tag("gpu")
class GraphFrameGpuTest {
    private static final long BYTES = 1L << 20;
    private static final long WORDS = BYTES / 4;
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** The frame graph over a buffer and a timeline semaphore, both from Vulkan. */
    private record FrameGraph(ExportableSemaphore vkSemaphore, GraphExec exec, GraphNode waitNode, GraphNode signalNode,
            Stream stream) {
        /** Launches frame {@code f}: waits for value 2f+1 (Vulkan's), signals 2f+2 (ours). */
        void launch(long f) {
            exec.setFence(waitNode, 2 * f + 1).setFence(signalNode, 2 * f + 2).launch(stream);
        }
    }

    private static FrameGraph frameGraph(Arena arena, ExportableSemaphore vkSemaphore,
            Graph body) {
        ExternalSemaphore semaphore = VulkanInterop.importTimelineSemaphore(arena, vkSemaphore);
        Graph graph = Graph.create(arena);
        GraphNode wait = graph.addWait(semaphore, 0);
        GraphNode work = graph.addChildGraph(body, wait);
        GraphNode signal = graph.addSignal(semaphore, 0, work);
        return new FrameGraph(vkSemaphore, graph.instantiate(), wait, signal, Stream.create(arena));
    }

    private static Kernel increment(Arena arena) throws IOException {
        return HipModule.load(arena, KernelGpuTest.ptx()).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
    }

    @Test
    void tenThousandGraphFramesAndVulkanSeesEveryValue() throws IOException, InterruptedException {
        Device device = Gpu.require();
        int frames = Integer.getInteger("hipffm.graphFrames", 10_000);
        try (VulkanDevice vk = VulkanDevice.create(device);
             ExportableBuffer vkBuffer = vk.createBuffer(BYTES);
             ExportableSemaphore vkSemaphore = vk.createSemaphore(SemaphoreType.TIMELINE);
             Arena arena = Arena.ofConfined()) {
            vk.fill(vkBuffer, 0, BYTES, 0);
            MemorySegment buffer = VulkanInterop.importBuffer(arena, vkBuffer).segment();
            ExternalSemaphore semaphore = VulkanInterop.importTimelineSemaphore(arena, vkSemaphore);
            Kernel increment = increment(arena);
            KernelArgs args = increment.newArgs(arena).set(0, buffer).set(1, WORDS);
            Graph graph = Graph.create(arena);
            GraphNode wait = graph.addWait(semaphore, 0);
            GraphNode kernel = graph.addKernel(increment, Dim3.covering(WORDS, 256), Dim3.of(256), 0, args, wait);
            GraphNode signal = graph.addSignal(semaphore, 0, kernel);
            GraphExec exec = graph.instantiate();
            Stream stream = Stream.create(arena);
            FrameGraph frame = new FrameGraph(vkSemaphore, exec, wait, signal, stream);
            int blockedChecks = 0;
            long start = System.nanoTime();
            for (long f = 0; f < frames; f++) {
                long produced = 2 * f + 1;
                long consumed = produced + 1;
                if (f % 1000 == 999) {
                    // Launch before Vulkan's signal: the wait node must hold the frame back until it comes.
                    frame.launch(f);
                    Thread.sleep(2);
                    assertEquals(produced - 1, vkSemaphore.value(), "frame " + f + " ran before Vulkan signalled "
                            + produced);
                    vkSemaphore.signal(produced);
                    blockedChecks++;
                } else {
                    vkSemaphore.signal(produced);
                    frame.launch(f);
                }
                if (!vkSemaphore.await(consumed, TIMEOUT)) {
                    fail("frame " + f + ": Vulkan did not see " + consumed + " within " + TIMEOUT + " (value "
                            + vkSemaphore.value() + ")");
                }
                assertEquals(consumed, vkSemaphore.value(), "frame " + f + ": Vulkan's value");
            }
            stream.synchronize();
            double seconds = (System.nanoTime() - start) / 1e9;
            IntBuffer words = ByteBuffer.wrap(vk.read(vkBuffer, 0, (int) BYTES)).order(ByteOrder.nativeOrder())
                    .asIntBuffer();
            int wrong = 0;
            for (int i = 0; i < words.capacity(); i++) {
                if (words.get(i) != frames) {
                    wrong++;
                }
            }
            assertEquals(0, wrong, "words of the Vulkan buffer that are not " + frames + " (e.g. word 0 = "
                    + words.get(0) + ")");
            Gpu.record(String.format(java.util.Locale.ROOT, "graph frame loop: %d frames (wait node -> increment "
                    + "kernel on a Vulkan buffer -> signal node, 2 exec fence updates + launch per frame), Vulkan saw "
                    + "all %d values, %d held back by the wait node until Vulkan signalled, buffer words all %d, "
                    + "errors 0, %.1f s (host waits included)", frames, frames, blockedChecks, frames, seconds));
        }
    }

    @Test
    void aCapturedKernelSequenceRunsBetweenSemaphoreNodes() throws IOException {
        Device device = Gpu.require();
        int frames = 100;
        try (VulkanDevice vk = VulkanDevice.create(device);
             ExportableBuffer vkBuffer = vk.createBuffer(BYTES);
             ExportableSemaphore vkSemaphore = vk.createSemaphore(SemaphoreType.TIMELINE);
             Arena arena = Arena.ofConfined()) {
            vk.fill(vkBuffer, 0, BYTES, 0);
            MemorySegment buffer = VulkanInterop.importBuffer(arena, vkBuffer).segment();
            Kernel increment = increment(arena);
            KernelArgs args = increment.newArgs(arena).set(0, buffer).set(1, WORDS);
            Stream capturing = Stream.create(arena);
            capturing.beginCapture();
            assertTrue(capturing.isCapturing());
            for (int i = 0; i < 3; i++) {
                increment.launch(Dim3.covering(WORDS, 256), Dim3.of(256), 0, capturing, args);
            }
            Graph body = capturing.endCapture(arena);
            FrameGraph frame = frameGraph(arena, vkSemaphore, body);
            for (long f = 0; f < frames; f++) {
                vkSemaphore.signal(2 * f + 1);
                frame.launch(f);
                assertTrue(vkSemaphore.await(2 * f + 2, TIMEOUT), "frame " + f + ": Vulkan did not see " + (2 * f + 2));
            }
            frame.stream().synchronize();
            IntBuffer words = ByteBuffer.wrap(vk.read(vkBuffer, 0, (int) BYTES)).order(ByteOrder.nativeOrder())
                    .asIntBuffer();
            for (int i = 0; i < words.capacity(); i++) {
                if (words.get(i) != 3 * frames) {
                    fail("word " + i + " is " + words.get(i) + ", expected " + 3 * frames);
                }
            }
            Gpu.record("graph with a captured child: " + frames + " frames of wait node -> child graph (3 captured "
                    + "kernel launches) -> signal node, Vulkan saw every value, buffer words all " + 3 * frames);
        }
    }
}
