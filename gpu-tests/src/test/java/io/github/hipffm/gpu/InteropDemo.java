package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.Dim3;
import io.github.hipffm.Event;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.Hip;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Platform;
import io.github.hipffm.RuntimeCompiler;
import io.github.hipffm.Stream;
import io.github.hipffm.vulkan.VulkanDevice;
import io.github.hipffm.vulkan.SemaphoreType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;

/**
 * The interop demo: Vulkan (the producer) shares a buffer and a timeline semaphore with HIP. Each frame Vulkan
 * signals "ready" (2f+1), HIP waits for it on a stream, runs a kernel that adds one to every word of the shared
 * buffer in place, and signals "done" (2f+2); Vulkan waits for "done" and checks sampled words. At the end Vulkan
 * checks every word. Prints a progress line per second and a summary.
 *
 * <pre>java ... io.github.hipffm.gpu.InteropDemo [--frames N] [--mib M]</pre>
 * Without a GPU it says what is missing and exits with 2.
 */
public final class InteropDemo {
    private InteropDemo() {
    }

    /** Runs the demo. @param args {@code [--frames N] [--mib M]} */
    public static void main(String[] args) throws Exception {
        int frames = 10_000;
        int mib = 4;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--frames" -> frames = Integer.parseInt(args[++i]);
                case "--mib" -> mib = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: InteropDemo [--frames N] [--mib M]");
                    System.exit(64);
                }
            }
        }
        String missing = Gpu.unavailableReason();
        if (missing != null) {
            System.out.println("hip-ffm interop demo needs a GPU and Vulkan: " + missing);
            System.exit(2);
        }
        System.exit(run(frames, mib) == 0 ? 0 : 1);
    }

    /** {@return the number of errors} */
    static long run(int frames, int mib) throws Exception {
        Device device = Hip.device(0);
        long bytes = (long) mib << 20;
        long words = bytes / 4;
        try (VulkanDevice vk = Gpu.vulkan(device.uuidBytes());
                var buffer = Gpu.buffer(vk, bytes, false);
                var timeline = vk.createSemaphore(SemaphoreType.TIMELINE);
                Arena arena = Arena.ofConfined()) {
            System.out.printf(Locale.ROOT, "hip-ffm interop demo: %s (%s), Vulkan '%s', %d MiB shared buffer, %d frames%n",
                    device.name(), Hip.platform().id(), vk.name(), mib, frames);
            vk.write(buffer, 0, arena.allocate(bytes));                      // zeros
            ExternalMemory memory = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(buffer.exportFd(), buffer.allocationSize()));
            MemorySegment shared = memory.mapBuffer(0, bytes);
            ExternalSemaphore semaphore = ExternalSemaphore.importSemaphore(arena,
                    ExternalSemaphoreDescriptor.timelineFd(timeline.exportFd()));
            Kernel increment = kernel(arena);
            KernelArgs args = increment.newArgs(arena).set(0, shared).set(1, words);
            Stream stream = Stream.create(arena);
            Event start = Event.create(arena);
            Event end = Event.create(arena);
            Dim3 grid = Dim3.covering(words, 256);
            Dim3 block = Dim3.of(256);

            long[] latencyNs = new long[frames];
            float[] kernelMs = new float[frames];
            long errors = 0;
            long t0 = System.nanoTime();
            long nextReport = t0 + 1_000_000_000L;
            int reportedFrames = 0;
            for (int f = 0; f < frames; f++) {
                long ready = 2L * f + 1;
                long done = ready + 1;
                long s = System.nanoTime();
                timeline.signal(ready);                              // Vulkan: the buffer is ready
                semaphore.wait(ready, stream);                           // HIP: wait for it on the stream
                start.record(stream);
                increment.launch(grid, block, 0, stream, args);          // HIP: transform in place
                end.record(stream);
                semaphore.signal(done, stream);                          // HIP: done
                if (!timeline.await(done, Gpu.VK_TIMEOUT)) {   // Vulkan: wait for HIP
                    errors++;
                    System.out.println("frame " + f + ": Vulkan timed out waiting for HIP");
                    break;
                }
                latencyNs[f] = System.nanoTime() - s;
                end.synchronize();                                       // Vulkan saw the signal; the event may lag
                kernelMs[f] = Event.elapsedMillis(start, end);
                if ((f & 1023) == 0) {                                   // Vulkan samples the buffer
                    byte[] sample = vk.read(buffer, (f * 4096L) % (bytes - 16), 16);
                    for (int i = 0; i < 16; i += 4) {
                        int v = (sample[i] & 0xff) | (sample[i + 1] & 0xff) << 8 | (sample[i + 2] & 0xff) << 16
                                | (sample[i + 3] & 0xff) << 24;
                        if (v != f + 1) {
                            errors++;
                        }
                    }
                }
                long now = System.nanoTime();
                if (now >= nextReport) {
                    System.out.printf(Locale.ROOT, "  %6.1f s  frame %7d  %8.0f frames/s  errors %d%n", (now - t0) / 1e9,
                            f + 1, (f + 1 - reportedFrames) / ((now - nextReport + 1e9) / 1e9), errors);
                    reportedFrames = f + 1;
                    nextReport = now + 1_000_000_000L;
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            MemorySegment expected = arena.allocate(bytes);
            for (long i = 0; i < words; i++) {
                expected.setAtIndex(ValueLayout.JAVA_INT, i, frames);
            }
            long mismatch = Gpu.mismatch(vk, buffer, 0, expected);
            if (mismatch >= 0) {
                errors++;
                System.out.println("final check: first differing byte at " + mismatch);
            }
            long[] sorted = latencyNs.clone();
            Arrays.sort(sorted);
            float[] k = kernelMs.clone();
            Arrays.sort(k);
            System.out.printf(Locale.ROOT, "summary: frames %d in %.2f s (%.0f frames/s); frame latency (Vulkan signal ->"
                            + " Vulkan sees HIP's signal) p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us; kernel (GPU"
                            + " events) p50 %.1f us; bytes touched %.1f GB/s; errors %d%n",
                    frames, seconds, frames / seconds, pct(sorted, 50) / 1e3, pct(sorted, 90) / 1e3, pct(sorted, 99) / 1e3,
                    sorted[sorted.length - 1] / 1e3, k[k.length / 2] * 1e3, 2.0 * bytes * frames / seconds / 1e9, errors);
            return errors;
        }
    }

    private static Kernel kernel(Arena arena) throws Exception {
        byte[] code;
        if (Hip.platform() == Platform.NVIDIA) {
            code = KernelGpuTest.ptx();                                   // nvcc --ptx at build time
        } else {
            code = RuntimeCompiler.compile("""
                    extern "C" __global__ void increment(unsigned int* x, long long n) {
                        long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
                        if (i < n) x[i] += 1u;
                    }""", "increment.hip").code();
        }
        return HipModule.load(arena, code).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
    }

    private static long pct(long[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }
}
