package io.github.hipffm.bench;

import io.github.hipffm.Dim3;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.FdChannel;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.ReceivedMemory;
import io.github.hipffm.ReceivedSemaphore;
import io.github.hipffm.Stream;
import io.github.hipffm.vulkan.ExportableBuffer;
import io.github.hipffm.vulkan.ExportableSemaphore;
import io.github.hipffm.vulkan.SemaphoreType;
import io.github.hipffm.vulkan.VulkanInterop;
import io.github.hipffm.vulkan.VulkanDevice;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The cross-process frame against the same frame in one process. A frame: the producer (Vulkan, this JVM's main
 * thread) signals its timeline semaphore from the host ({@code 2f+1}), the consumer (hip-ffm) waits for that value
 * on its stream, runs the {@code increment} kernel on the shared 1 MiB buffer and signals {@code 2f+2}, and the
 * producer's host wait ({@link ExportableSemaphore#await}) sees it; the producer times each frame on the wall clock
 * from before its signal to after its wait returns. The consumer loops: wait, kernel, signal, stream synchronize.
 *
 * <p>Design: one producer, two consumers of the same code ({@link #consume}), each with a buffer and a semaphore
 * of its own that the producer exported and sent over an {@link FdChannel} (memory fd, then semaphore fd): one
 * consumer is a thread of this JVM ({@code I}, in-process; it connects to the socket like the other) and one is a
 * child JVM that this one starts on its own class path ({@code X}, cross-process). So the only difference between
 * the two is the process boundary. The producer alternates rounds of {@code --frames} frames between them (the
 * first rotating); each alternation gives a ratio X round / I round of the rounds' median frames, as in
 * {@link FrameCompare}. While one consumer's round runs, the other waits on the GPU for its next value. Each
 * consumer launches its kernel once before its first wait, a warm-up (that no first launch waits on CUDA's lazy
 * loading behind a host-signalled wait is {@code HipModule.kernel}'s part: it loads the kernel). Allocation: the
 * producer's thread and each consumer's thread count their bytes over the measured frames (0 B/op is the target).
 * At the end each consumer checks the first word of its buffer (one increment per frame). It prints (stdout):
 *
 * <pre>
 * P,ipcframe.wall,I,&lt;median of round medians, µs&gt;,1.0000,1.0000,1.0000,&lt;rounds&gt;
 * P,ipcframe.wall,X,&lt;median of round medians, µs&gt;,&lt;X/I paired ratio median&gt;,&lt;min&gt;,&lt;max&gt;,&lt;rounds&gt;
 * Q,ipcframe.wall,I|X,&lt;alternation&gt;,&lt;round median, µs&gt;
 * J,ipcframe.alloc,producer|consumer.I|consumer.X,&lt;bytes per frame&gt;,B/op
 * </pre>
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar io.github.hipffm.bench.IpcFrame \
 *      [--frames 2000] [--warmup 2] [--alternations 11]
 * </pre>
 * NVIDIA and Vulkan only (fails at once with {@code no GPU: ...} without them).
 */
public final class IpcFrame {
    static final long BYTES = 1L << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private IpcFrame() {
    }

    /**
     * Runs the producer, or with {@code --consumer SOCKET FRAMES MEASURED_FROM} a consumer.
     *
     * @param args {@code [--frames N] [--warmup N] [--alternations N]}
     */
    public static void main(String[] args) throws Throwable {
        if (args.length == 4 && args[0].equals("--consumer")) {
            long bytes = consume(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            System.out.printf(Locale.ROOT, "consumer-alloc %.1f%n", bytes / (double) (Integer.parseInt(args[2])
                    - Integer.parseInt(args[3])));
            return;
        }
        int frames = 2000;
        int warmup = 2;
        int alternations = 11;
        for (int i = 0; i < args.length; i += 2) {
            int v = Integer.parseInt(args[i + 1]);
            switch (args[i]) {
                case "--frames" -> frames = v;
                case "--warmup" -> warmup = v;
                case "--alternations" -> alternations = v;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--frames, --warmup, --alternations)");
            }
        }
        produce(frames, warmup, alternations);
    }

    private static void produce(int frames, int warmup, int alternations) throws Throwable {
        var device = Gpu.requireNvidia();
        int total = (warmup + alternations) * frames;
        int measuredFrom = warmup * frames;
        Path dir = Files.createTempDirectory("hipffm-ipcframe");
        try (VulkanDevice vk = Gpu.vulkan(device);
                ExportableBuffer bufI = Gpu.buffer(vk, BYTES);
                ExportableBuffer bufX = Gpu.buffer(vk, BYTES);
                ExportableSemaphore semI = vk.createSemaphore(SemaphoreType.TIMELINE);
                ExportableSemaphore semX = vk.createSemaphore(SemaphoreType.TIMELINE);
                FdChannel.Server serverI = FdChannel.listen(dir.resolve("i"));
                FdChannel.Server serverX = FdChannel.listen(dir.resolve("x"))) {
            vk.write(bufI, 0, Arena.ofAuto().allocate(BYTES));
            vk.write(bufX, 0, Arena.ofAuto().allocate(BYTES));
            AtomicReference<Object> inResult = new AtomicReference<>();
            Thread inThread = Thread.ofPlatform().name("ipcframe-consumer").start(() -> {
                try {
                    inResult.set(consume(dir.resolve("i"), total, measuredFrom));
                } catch (Throwable t) {
                    inResult.set(t);
                }
            });
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
            for (String p : List.of("hipffm.library", "hipffm.platform", "hipffm.bench.ptx")) {
                if (System.getProperty(p) != null) {
                    cmd.add("-D" + p + "=" + System.getProperty(p));
                }
            }
            cmd.addAll(List.of(IpcFrame.class.getName(), "--consumer", dir.resolve("x").toString(),
                    Integer.toString(total), Integer.toString(measuredFrom)));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(dir.resolve("consumer.out").toFile());
            Process child = pb.start();
            try (FdChannel chI = serverI.accept(Duration.ofSeconds(60));
                    FdChannel chX = serverX.accept(Duration.ofSeconds(60))) {
                VulkanInterop.send(chI, bufI);
                VulkanInterop.send(chI, semI);
                VulkanInterop.send(chX, bufX);
                VulkanInterop.send(chX, semX);
                ExportableSemaphore[] sems = {semI, semX};
                long[] next = new long[2];                   // each consumer's frame number
                long[] ns = new long[frames];
                double[][] medians = new double[2][alternations];
                long bytes = 0;
                for (int alt = -warmup; alt < alternations; alt++) {
                    for (int k = 0; k < 2; k++) {
                        int c = Math.floorMod(k + alt, 2);
                        ExportableSemaphore s = sems[c];
                        long a0 = THREADS.getCurrentThreadAllocatedBytes();
                        for (int i = 0; i < frames; i++) {
                            long f = next[c]++;
                            long t0 = System.nanoTime();
                            s.signal(2 * f + 1);
                            if (!s.await(2 * f + 2, TIMEOUT)) {
                                throw new IllegalStateException("consumer " + (c == 0 ? "I" : "X") + " did not"
                                        + " signal frame " + f + " within " + TIMEOUT);
                            }
                            ns[i] = System.nanoTime() - t0;
                        }
                        if (alt >= 0) {
                            bytes += THREADS.getCurrentThreadAllocatedBytes() - a0;
                            medians[c][alt] = median(ns) / 1e3;
                        }
                    }
                }
                inThread.join(TimeUnit.SECONDS.toMillis(60));
                if (!child.waitFor(60, TimeUnit.SECONDS) || child.exitValue() != 0) {
                    throw new IllegalStateException("the consumer JVM failed (exit " + (child.isAlive() ? "none, still"
                            + " running" : child.exitValue()) + ")");
                }
                if (inResult.get() instanceof Throwable t) {
                    throw new IllegalStateException("the in-process consumer failed", t);
                }
                String childAlloc = Files.readAllLines(dir.resolve("consumer.out")).stream()
                        .filter(l -> l.startsWith("consumer-alloc ")).map(l -> l.substring(15)).findFirst()
                        .orElse("NaN");
                report(medians, alternations);
                System.out.printf(Locale.ROOT, "J,ipcframe.alloc,producer,%.1f,B/op%n",
                        bytes / (2.0 * alternations * frames));
                System.out.printf(Locale.ROOT, "J,ipcframe.alloc,consumer.I,%.1f,B/op%n",
                        (Long) inResult.get() / (double) (total - measuredFrom));
                System.out.printf(Locale.ROOT, "J,ipcframe.alloc,consumer.X,%s,B/op%n", childAlloc);
            } finally {
                child.destroyForcibly();
                inThread.join(TimeUnit.SECONDS.toMillis(5));
            }
        } finally {
            for (String f : List.of("i", "x", "consumer.out")) {
                Files.deleteIfExists(dir.resolve(f));
            }
            Files.deleteIfExists(dir);
        }
    }

    /**
     * The consumer: connects to {@code socket}, imports the buffer and the semaphore it receives, and runs
     * {@code frames} frames (wait {@code 2f+1}, kernel, signal {@code 2f+2}, synchronize).
     * {@return the bytes this thread allocated from frame {@code measuredFrom} on}
     */
    static long consume(Path socket, int frames, int measuredFrom) {
        Gpu.requireNvidia();
        try (Arena arena = Arena.ofConfined();
                FdChannel channel = FdChannel.connect(socket, Duration.ofSeconds(60))) {
            MemorySegment buffer;
            try (ReceivedMemory m = channel.receiveMemory(TIMEOUT)) {
                buffer = m.importMemory(arena).mapBuffer(m.offset(), BYTES);
            }
            ExternalSemaphore semaphore;
            try (ReceivedSemaphore s = channel.receiveSemaphore(TIMEOUT)) {
                semaphore = s.importSemaphore(arena);
            }
            Stream stream = Stream.create(arena);
            long words = BYTES / 4;
            Kernel kernel = HipModule.load(arena, Gpu.kernelsPtx()).kernel("increment", Kernel.Param.POINTER,
                    Kernel.Param.LONG);
            MemorySegment scratch = Memory.allocateDevice(arena, BYTES);
            Dim3 grid = Dim3.covering(words, 256);
            Dim3 block = Dim3.of(256);
            kernel.launch(grid, block, 0, stream, kernel.newArgs(arena).set(0, scratch).set(1, words));   // loaded
            stream.synchronize();
            KernelArgs args = kernel.newArgs(arena).set(0, buffer).set(1, words);
            long a0 = 0;
            for (int f = 0; f < frames; f++) {
                if (f == measuredFrom) {
                    a0 = THREADS.getCurrentThreadAllocatedBytes();
                }
                semaphore.wait(2L * f + 1, stream);
                kernel.launch(grid, block, 0, stream, args);
                semaphore.signal(2L * f + 2, stream);
                stream.synchronize();
            }
            long bytes = THREADS.getCurrentThreadAllocatedBytes() - a0;
            MemorySegment first = arena.allocate(ValueLayout.JAVA_INT);
            Memory.copy(first, buffer, 4);
            int v = first.get(ValueLayout.JAVA_INT, 0);
            if (v != frames) {
                throw new IllegalStateException("the buffer's first word is " + v + " after " + frames + " frames");
            }
            return bytes;
        }
    }

    private static void report(double[][] medians, int alternations) {
        System.out.println("# IpcFrame: P,figure,I|X,median of round medians (us),X/I paired ratio median,min,max,"
                + "rounds; Q,figure,I|X,alternation,round median (us)");
        double[] ratios = new double[alternations];
        for (int a = 0; a < alternations; a++) {
            ratios[a] = medians[1][a] / medians[0][a];
            System.out.printf(Locale.ROOT, "Q,ipcframe.wall,I,%d,%.4f%nQ,ipcframe.wall,X,%d,%.4f%n", a,
                    medians[0][a], a, medians[1][a]);
        }
        double[] sorted = ratios.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "P,ipcframe.wall,I,%.4f,1.0000,1.0000,1.0000,%d%n", median(medians[0]),
                alternations);
        System.out.printf(Locale.ROOT, "P,ipcframe.wall,X,%.4f,%.4f,%.4f,%.4f,%d%n", median(medians[1]),
                median(ratios), sorted[0], sorted[alternations - 1], alternations);
        System.err.printf(Locale.ROOT, "ipc-frame: in-process %.3f us, cross-process %.3f us, X/I paired %.4f"
                + " (%.4f-%.4f)%n", median(medians[0]), median(medians[1]), median(ratios), sorted[0],
                sorted[alternations - 1]);
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double median(long[] values) {
        long[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
    }
}
