package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.Dim3;
import io.github.hipffm.Event;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.FdChannel;
import io.github.hipffm.Hip;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.Platform;
import io.github.hipffm.ReceivedMemory;
import io.github.hipffm.ReceivedSemaphore;
import io.github.hipffm.RuntimeCompiler;
import io.github.hipffm.Stream;
import io.github.hipffm.channel.Peers;
import io.github.hipffm.vulkan.ExportableBuffer;
import io.github.hipffm.vulkan.ExportableSemaphore;
import io.github.hipffm.vulkan.VulkanDevice;
import io.github.hipffm.vulkan.VulkanInterop;
import io.github.hipffm.vulkan.SemaphoreType;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

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

    /** The child's last line: its kernel times' median (µs) and the number of frames it ran. */
    private static final String KERNEL_LINE = "kernel-p50-us ";

    /** Runs the demo. @param args {@code [--frames N] [--mib M] [--two-process]} */
    public static void main(String[] args) throws Exception {
        if (args.length == 4 && args[0].equals("--hip-side")) {
            hipSide(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            return;
        }
        int frames = 10_000;
        int mib = 4;
        boolean twoProcess = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--frames" -> frames = Integer.parseInt(args[++i]);
                case "--mib" -> mib = Integer.parseInt(args[++i]);
                case "--two-process" -> twoProcess = true;
                default -> {
                    System.err.println("usage: InteropDemo [--frames N] [--mib M] [--two-process]");
                    System.exit(64);
                }
            }
        }
        String missing = Gpu.unavailableReason();
        if (missing != null) {
            System.out.println("hip-ffm interop demo needs a GPU and Vulkan: " + missing);
            System.exit(2);
        }
        System.exit((twoProcess ? runTwoProcess(frames, mib) : run(frames, mib)) == 0 ? 0 : 1);
    }

    /** HIP's side of the frames: in this process ({@link #run}) or in the child ({@link #runTwoProcess}). */
    private interface HipFrames {
        /** Queues a frame's HIP work: wait for {@code ready}, kernel, signal {@code done}. */
        void enqueue(long ready, long done);

        /** After Vulkan saw {@code done}: {@return the frame's kernel time in ms, NaN when it is not known here} */
        float kernelMs();
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
            HipFrames hip = hipFrames(arena, shared, words, semaphore);
            float[] kernelMs = new float[frames];
            Frames run = frames(vk, buffer, timeline, hip, frames, bytes, kernelMs);
            return summary(vk, buffer, arena, frames, bytes, run, kernelMs);
        }
    }

    /** HIP's side of a frame on {@code shared}: the kernel, a stream and events around the kernel. */
    private static HipFrames hipFrames(Arena arena, MemorySegment shared, long words, ExternalSemaphore semaphore)
            throws Exception {
        Kernel increment = kernel(arena);
        KernelArgs args = increment.newArgs(arena).set(0, shared).set(1, words);
        Stream stream = Stream.create(arena);
        Event start = Event.create(arena);
        Event end = Event.create(arena);
        Dim3 grid = Dim3.covering(words, 256);
        Dim3 block = Dim3.of(256);
        MemorySegment scratch = Memory.allocateDevice(arena, 4);
        increment.launch(Dim3.of(1), Dim3.of(1), 0, stream, increment.newArgs(arena).set(0, scratch).set(1, 1L));
        stream.synchronize();                                            // loaded before any wait is queued
        return new HipFrames() {
            @Override
            public void enqueue(long ready, long done) {
                semaphore.wait(ready, stream);                           // HIP: wait for it on the stream
                start.record(stream);
                increment.launch(grid, block, 0, stream, args);          // HIP: transform in place
                end.record(stream);
                semaphore.signal(done, stream);                          // HIP: done
            }

            @Override
            public float kernelMs() {
                end.synchronize();                                       // Vulkan saw the signal; the event may lag
                return Event.elapsedMillis(start, end);
            }
        };
    }

    /**
     * The frames, Vulkan's side: signal ready, let {@code hip} queue its part (nothing when it runs in the child),
     * wait for done, sample the buffer every 1024 frames, print progress; {@code kernelMs} gets each frame's kernel
     * time where {@code hip} knows it. {@return the errors, the time and the latencies}
     */
    private static Frames frames(VulkanDevice vk, ExportableBuffer buffer, ExportableSemaphore timeline, HipFrames hip,
            int frames, long bytes, float[] kernelMs) {
        long[] latencyNs = new long[frames];
        long errors = 0;
        long t0 = System.nanoTime();
        long nextReport = t0 + 1_000_000_000L;
        int reportedFrames = 0;
        for (int f = 0; f < frames; f++) {
            long ready = 2L * f + 1;
            long done = ready + 1;
            long s = System.nanoTime();
            timeline.signal(ready);                              // Vulkan: the buffer is ready
            if (hip != null) {
                hip.enqueue(ready, done);                            // HIP (this process): wait, kernel, signal
            }
            if (!timeline.await(done, Gpu.VK_TIMEOUT)) {   // Vulkan: wait for HIP
                errors++;
                System.out.println("frame " + f + ": Vulkan timed out waiting for HIP");
                break;
            }
            latencyNs[f] = System.nanoTime() - s;
            kernelMs[f] = hip == null ? Float.NaN : hip.kernelMs();
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
        return new Frames(errors, (System.nanoTime() - t0) / 1e9, latencyNs);
    }

    /** What {@link #frames} saw: its errors, the seconds the frames took, each frame's latency. */
    private record Frames(long errors, double seconds, long[] latencyNs) {
    }

    /**
     * Vulkan's final check of every word (one increment per frame) and the summary line.
     * {@return the number of errors, the frames' and the final check's}
     */
    private static long summary(VulkanDevice vk, ExportableBuffer buffer, Arena arena, int frames, long bytes,
            Frames run, float[] kernelMs) {
        long words = bytes / 4;
        long errors = run.errors();
        double seconds = run.seconds();
        MemorySegment expected = arena.allocate(bytes);
        for (long i = 0; i < words; i++) {
            expected.setAtIndex(ValueLayout.JAVA_INT, i, frames);
        }
        long mismatch = Gpu.mismatch(vk, buffer, 0, expected);
        if (mismatch >= 0) {
            errors++;
            System.out.println("final check: first differing byte at " + mismatch);
        }
        long[] sorted = run.latencyNs().clone();
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

    /**
     * The two-process mode: Vulkan here, HIP in a child JVM that gets the buffer and the semaphore over an
     * {@link FdChannel}. {@return the number of errors}
     */
    static long runTwoProcess(int frames, int mib) throws Exception {
        Device device = Hip.device(0);
        long bytes = (long) mib << 20;
        Path dir = Files.createTempDirectory("hipffm-demo");     // owner-only (rwx------)
        Path socket = dir.resolve("channel");
        List<String> cmd = Peers.jvmCommand(InteropDemo.class,
                List.of("--hip-side", socket.toString(), Integer.toString(frames), Integer.toString(mib)));
        try (VulkanDevice vk = Gpu.vulkan(device.uuidBytes());
                var buffer = Gpu.buffer(vk, bytes, false);
                var timeline = vk.createSemaphore(SemaphoreType.TIMELINE);
                Arena arena = Arena.ofConfined();
                FdChannel.Server server = FdChannel.listen(socket)) {
            System.out.printf(Locale.ROOT, "hip-ffm interop demo, two processes: Vulkan '%s' here (pid %d), HIP on %s"
                    + " (%s) in a child JVM, %d MiB shared buffer, %d frames%n", vk.name(), ProcessHandle.current().pid(),
                    device.name(), Hip.platform().id(), mib, frames);
            vk.write(buffer, 0, arena.allocate(bytes));                      // zeros
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            Process child = pb.start();
            float[] childKernel = {Float.NaN};
            Thread echo = Thread.ofVirtual().start(() -> {                 // the child's output, behind [hip]
                try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        if (line.startsWith(KERNEL_LINE)) {
                            childKernel[0] = Float.parseFloat(line.substring(KERNEL_LINE.length()).split(" ")[0]);
                        }
                        System.out.println("  [hip] " + line);
                    }
                } catch (java.io.IOException e) {
                    System.out.println("  [hip] output lost: " + e);
                }
            });
            try {
                Frames run;
                try (FdChannel channel = server.accept(Duration.ofSeconds(60))) {
                    System.out.println("child JVM " + channel.peer() + " connected; sending the buffer and the semaphore");
                    VulkanInterop.send(channel, buffer);
                    VulkanInterop.send(channel, timeline);
                    run = frames(vk, buffer, timeline, null, frames, bytes, new float[frames]);
                }
                long errors = run.errors();
                if (!child.waitFor(run.errors() > 0 ? 5 : 60, TimeUnit.SECONDS)) {
                    errors++;
                    System.out.println("the HIP process did not end after the frames");
                } else if (child.exitValue() != 0) {
                    errors++;
                    System.out.println("the HIP process failed: exit " + child.exitValue());
                }
                echo.join(Duration.ofSeconds(5));
                float[] kernelMs = new float[frames];
                Arrays.fill(kernelMs, childKernel[0] / 1e3f);                // the child's median, in ms
                return summary(vk, buffer, arena, frames, bytes, new Frames(errors, run.seconds(), run.latencyNs()),
                        kernelMs);
            } finally {
                child.destroyForcibly();
            }
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * The child of {@link #runTwoProcess}: connects to {@code socket}, imports the buffer and the semaphore it
     * receives, and runs HIP's side of {@code frames} frames (frame {@code f}: wait {@code 2f+1}, kernel, signal
     * {@code 2f+2}), each waited for before the next is queued; its last line is its kernel times' median.
     */
    private static void hipSide(Path socket, int frames, int mib) throws Exception {
        long bytes = (long) mib << 20;
        Hip.device(0).makeCurrent();
        try (Arena arena = Arena.ofConfined();
                FdChannel channel = FdChannel.connect(socket, Duration.ofSeconds(30))) {
            MemorySegment shared;
            try (ReceivedMemory m = channel.receiveMemory(Duration.ofSeconds(30))) {
                shared = m.importMemory(arena).mapBuffer(m.offset(), bytes);
            }
            ExternalSemaphore semaphore;
            try (ReceivedSemaphore s = channel.receiveSemaphore(Duration.ofSeconds(30))) {
                semaphore = s.importSemaphore(arena);
            }
            System.out.printf(Locale.ROOT, "pid %d imported the %d MiB buffer and the timeline semaphore from %s%n",
                    ProcessHandle.current().pid(), mib, channel.peer());
            HipFrames hip = hipFrames(arena, shared, bytes / 4, semaphore);
            float[] kernelMs = new float[frames];
            for (int f = 0; f < frames; f++) {
                hip.enqueue(2L * f + 1, 2L * f + 2);
                kernelMs[f] = hip.kernelMs();                                // the wait ends with Vulkan's signal
            }
            Arrays.sort(kernelMs);
            System.out.printf(Locale.ROOT, "%s%.3f (%d frames)%n", KERNEL_LINE, kernelMs[frames / 2] * 1e3, frames);
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
