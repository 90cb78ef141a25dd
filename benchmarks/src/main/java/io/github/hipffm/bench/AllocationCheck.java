package io.github.hipffm.bench;

import io.github.hipffm.Device;
import io.github.hipffm.Event;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.Hip;
import io.github.hipffm.HipError;
import io.github.hipffm.Memory;
import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;
import io.github.hipffm.vulkan.ExportableBuffer;
import io.github.hipffm.vulkan.ExportableSemaphore;
import io.github.hipffm.vulkan.SemaphoreType;
import io.github.hipffm.vulkan.VulkanDevice;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

/**
 * Java heap bytes allocated per operation on the hot paths, counted for the calling thread only
 * ({@code com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes}). JMH's {@code -prof gc} divides the
 * allocation of <em>every</em> thread of the JVM (JMH 1.37 reads {@code getTotalThreadAllocatedBytes}) by the
 * operations, so a long operation (a 20 ms copy) shows the JVM's background allocation; this counts what the
 * operation itself allocates.
 *
 * <p>Each path runs in rounds (interpreted and C1-compiled code allocates what C2 later eliminates) until a round
 * allocates nothing, at most {@value #MAX_ROUNDS} rounds; the line printed is the last round's bytes per operation
 * and the number of rounds: {@code J,alloc,<path>,<B/op>,B} and {@code J,alloc.rounds,<path>,<n>,rounds}. Needs the
 * NVIDIA platform, a GPU and Vulkan, as the other benchmarks.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar io.github.hipffm.bench.AllocationCheck</pre>
 */
public final class AllocationCheck {
    private static final int MAX_ROUNDS = 60;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private AllocationCheck() {
    }

    /** An operation measured in rounds; {@code prepare} runs before each round, outside the count. */
    private interface Op {
        void run(int i);

        default void prepare(int round) {
        }
    }

    private static void measure(String path, int opsPerRound, Op op) {
        long bytes = -1;
        int round = 0;
        while (round < MAX_ROUNDS) {
            op.prepare(round);
            long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < opsPerRound; i++) {
                op.run(i);
            }
            bytes = THREADS.getCurrentThreadAllocatedBytes() - before;
            round++;
            if (bytes == 0) {
                break;
            }
        }
        System.out.printf(Locale.ROOT, "J,alloc,%s,%.3f,B%n", path, (double) bytes / opsPerRound);
        System.out.printf(Locale.ROOT, "J,alloc.rounds,%s,%d,rounds%n", path, round);
    }

    /**
     * Runs every path.
     *
     * @param args unused
     */
    public static void main(String[] args) {
        Backend backend = Runtimes.current();
        HipError[] errors = {HipError.INVALID_VALUE, HipError.NOT_READY, HipError.OUT_OF_MEMORY, HipError.UNKNOWN};
        measure("Hip.deviceCount", 100_000, i -> Hip.deviceCount());
        measure("Backend.getDevice", 100_000, i -> backend.getDevice());
        measure("HipError.description", 100_000, i -> errors[i & 3].description());

        try (Frame f = new Frame()) {
            measure("signal+wait", 20_000, i -> {
                long v = f.value++;
                f.semaphore.signal(v + 1, f.stream);
                f.semaphore.wait(v + 1, f.stream);
            });
            f.stream.synchronize();
            measure("Kernel.launch (reused KernelArgs)", 20_000, i -> f.kernel.launch(f.grid, f.block, 0, f.stream, f.args));
            f.stream.synchronize();
            Event event = Event.create(f.arena);
            measure("Event.record+synchronize", 20_000, i -> {
                event.record(f.stream);
                event.synchronize();
            });
            measure("frame (wait+launch+signal+synchronize)", 20_000, i -> f.run());
            measure("graph frame (2 fence updates+launch+synchronize)", 20_000, i -> f.runGraph());
        }

        Device d = Gpu.requireNvidia();
        VulkanDevice vk = Gpu.vulkan(d);
        List<ExportableSemaphore> vkSemaphores = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            io.github.hipffm.Stream stream = io.github.hipffm.Stream.create(arena);
            ExternalSemaphore[] sems = new ExternalSemaphore[8];
            for (int i = 0; i < sems.length; i++) {
                ExportableSemaphore s = vk.createSemaphore(SemaphoreType.TIMELINE);
                vkSemaphores.add(s);
                sems[i] = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(s.exportFd()));
            }
            // The lists are the caller's: built before each round (fence values must rise), not counted.
            int ops = 2_000;
            long[] next = {1};
            List<List<ExternalSemaphore.Signal>> signals = new ArrayList<>();
            List<List<ExternalSemaphore.Wait>> waits = new ArrayList<>();
            measure("signal(List of 8)+wait(List of 8)", ops, new Op() {
                @Override
                public void prepare(int round) {
                    stream.synchronize();
                    signals.clear();
                    waits.clear();
                    for (int i = 0; i < ops; i++) {
                        long v = next[0]++;
                        signals.add(batch(sems, s -> ExternalSemaphore.Signal.of(sems[s], v)));
                        waits.add(batch(sems, s -> ExternalSemaphore.Wait.of(sems[s], v)));
                    }
                }

                @Override
                public void run(int i) {
                    ExternalSemaphore.signal(signals.get(i), stream);
                    ExternalSemaphore.wait(waits.get(i), stream);
                }
            });
            stream.synchronize();

            for (long bytes : new long[] {4096, 1L << 20, 256L << 20}) {
                MemorySegment pinned = Memory.allocatePinned(arena, bytes);
                MemorySegment device = Memory.allocateDevice(arena, bytes);
                int n = bytes > (16L << 20) ? 50 : 2_000;
                measure("Memory.copy host->device " + bytes, n, i -> Memory.copy(device, pinned, bytes));
                measure("Memory.copy device->host " + bytes, n, i -> Memory.copy(pinned, device, bytes));
                measure("Memory.copyAsync device->host " + bytes, n, i -> Memory.copyAsync(pinned, device, bytes, stream));
                stream.synchronize();
            }
            ExportableBuffer buffer = Gpu.buffer(vk, 256L << 20);
            try (Arena mapArena = Arena.ofConfined()) {
                ExternalMemory memory = ExternalMemory.importMemory(mapArena,
                        ExternalMemoryDescriptor.opaqueFd(buffer.exportFd(), buffer.allocationSize()));
                MemorySegment mapped = memory.mapBuffer(0, 256L << 20);
                MemorySegment device = Memory.allocateDevice(mapArena, 256L << 20);
                measure("Memory.copy mapped->device 1048576", 2_000, i -> Memory.copy(device, mapped, 1L << 20));
                measure("Memory.copy mapped->device 268435456", 50, i -> Memory.copy(device, mapped, 256L << 20));
            } finally {
                buffer.close();
            }
        } finally {
            vkSemaphores.forEach(ExportableSemaphore::close);
            vk.close();
        }
    }

    private static <T> List<T> batch(ExternalSemaphore[] sems, IntFunction<T> part) {
        List<T> list = new ArrayList<>(sems.length);
        for (int s = 0; s < sems.length; s++) {
            list.add(part.apply(s));
        }
        return List.copyOf(list);
    }
}
