package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.Memory;
import io.github.hipffm.testrt.CapturedLog;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.vulkan.VulkanDevice;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU repetition of the stress test of shared owner arenas (issue 12): 8 threads import Vulkan-exported memory
 * into {@link Arena#ofShared()} owner arenas, map it, {@link Memory#fill} it and close it (or leave it to the
 * arena), while another thread closes those arenas at random moments, mid-flight; at least 10,000 cycles ({@code
 * -Dhipffm.stress.cycles} or {@code HIPFFM_STRESS_CYCLES}) within 150 s ({@code HIPFFM_STRESS_MAX_SECONDS}). A
 * cycle cut short by a close ({@link IllegalStateException} once its owner arena is closed) is an expected outcome;
 * any other exception is an error. Afterwards: no error, nothing logged at WARNING by hip-ffm, and the free device
 * memory and the open fds back to the baseline taken after a warm-up round. The figures go to {@code stress.txt}
 * beside the results file and into the results. Skipped with the reason where there is no GPU.
 */
@Tag("gpu")
class ChurnStressGpuTest {
    private static final int THREADS = 8;
    private static final long KiB = 1024;
    private static final long[] SIZES = {64 * KiB, 256 * KiB, 1024 * KiB, 4096 * KiB, 16384 * KiB};

    @Test
    void sharedOwnerArenasClosedMidFlightByAnotherThreadLeakNothing() throws Exception {
        Device device = Gpu.require();
        long cycles = Churn.setting("hipffm.stress.cycles", "HIPFFM_STRESS_CYCLES", 10_000);
        long seed = Churn.setting("hipffm.stress.seed", "HIPFFM_STRESS_SEED", System.nanoTime());
        try (VulkanDevice vk = Gpu.vulkan(device.uuidBytes())) {
            stress(device, SoakWorkload.vulkan(vk), THREADS, cycles, seed, "stress.txt");
        }
    }

    /**
     * The stress test on any {@code exporter} (Vulkan here), {@code threads} workers and at least {@code cycles}
     * cycles; figures into {@code file}; assertions.
     */
    static void stress(Device device, SoakWorkload.Exporter exporter, int threads, long cycles, long seed, String file)
            throws Exception {
        Churn.Errors errors = new Churn.Errors();
        Churn.Counts counts = new Churn.Counts();
        Churn.Counts warmUp = new Churn.Counts();
        List<SoakWorkload.Exported> buffers = new ArrayList<>();
        List<Integer> fds = new ArrayList<>();
        long t0 = System.nanoTime();
        try (CapturedLog log = CapturedLog.of("io.github.hipffm")) {
            // Each thread its own allocations: two threads filling one would overwrite each other's bytes.
            for (int t = 0; t < threads; t++) {
                for (long size : SIZES) {
                    SoakWorkload.Exported b = exporter.buffer(size);
                    buffers.add(b);
                    fds.add(b.exportFd());
                }
            }
            Churn.Closer closer = new Churn.Closer(4, 300_000, seed, errors);
            CyclicBarrier barrier = new CyclicBarrier(threads + 1);
            AtomicInteger claimed = new AtomicInteger();
            // A bound on the time, so that a slow machine fails the test instead of the whole run's time limit.
            long maxSeconds = Churn.setting("hipffm.stress.maxSeconds", "HIPFFM_STRESS_MAX_SECONDS", 150);
            long[] deadline = {Long.MAX_VALUE};
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                SplittableRandom random = new SplittableRandom(seed + 1 + t);
                List<SoakWorkload.Exported> myBuffers = buffers.subList(t * SIZES.length, (t + 1) * SIZES.length);
                List<Integer> myFds = fds.subList(t * SIZES.length, (t + 1) * SIZES.length);
                Thread w = new Thread(() -> {
                    try (Arena mine = Arena.ofConfined()) {
                        MemorySegment host = Memory.allocatePinned(mine, 256);
                        // Warm-up, on these threads and the closer's: lazily created runtime state (per thread
                        // too) is not a leak.
                        for (int i = 0; i < 40; i++) {
                            cycle(random, myBuffers, myFds, closer, host, warmUp, errors, i % 2 == 1);
                        }
                        barrier.await();                 // warmed up
                        barrier.await();                 // baseline taken
                        while (claimed.getAndIncrement() < cycles && System.nanoTime() < deadline[0]) {
                            cycle(random, myBuffers, myFds, closer, host, counts, errors, true);
                        }
                        barrier.await();                 // all cycles done
                        barrier.await();                 // end measured (the pinned buffer is part of both)
                    } catch (Throwable e) {
                        errors.add("worker", e);
                        barrier.reset();                     // the main thread stops with the errors
                    }
                }, "churn-stress-" + t);
                w.setDaemon(true);
                workers.add(w);
                w.start();
            }
            closer.start();
            Churn.await(barrier, 120, errors);          // warmed up
            closer.pause();
            closer.closeAll(true);                      // the warm-up's leftovers released
            closer.resetCounts();
            Churn.Snapshot start = Churn.Snapshot.take(device);
            long runStart = System.nanoTime();
            deadline[0] = runStart + maxSeconds * 1_000_000_000L;
            closer.resume();
            Churn.await(barrier, 120, errors);
            Churn.await(barrier, maxSeconds + 120, errors);   // all cycles done, or the time is up
            double runSeconds = (System.nanoTime() - runStart) / 1e9;
            closer.stop();
            Churn.Settled end = Churn.settle(device, start, 10_000);
            Churn.await(barrier, 120, errors);
            for (Thread w : workers) {
                w.join(10_000);
            }
            String logged = log.text();

            Map<String, Object> f = new LinkedHashMap<>();
            f.put("test", "ChurnStressGpuTest: " + threads + " threads, Arena.ofShared() owner arenas closed mid-flight");
            f.put("machine", Churn.machine(device));
            f.put("seed", seed);
            long done = counts.get("completed") + counts.get("cut short by a close");
            f.put("cycles", done + " (at least " + cycles + " asked, within " + maxSeconds + " s)");
            f.put("duration_s", String.format("%.2f", runSeconds));
            counts.snapshot().forEach((k, v) -> f.put("ops." + k, v));
            f.put("arena_closes", closer.closes.sum());
            f.put("arena_closes_mid_flight", closer.closesMidFlight.sum());
            f.put("arena_closes_refused_and_retried", closer.refusedCloses.sum());
            f.put("errors", errors.counts());
            f.put("warnings", warnings(logged) + firstWarning(logged));
            f.put("free_start", start.free());
            f.put("free_end", end.end().free());
            f.put("fds_start", start.fds());
            f.put("fds_end", end.end().fds());
            f.put("settled_ms", end.millis());
            boolean pass = errors.count() == 0 && warnings(logged) == 0 && end.matches(start)
                    && counts.get("completed") + counts.get("cut short by a close") >= cycles;
            f.put("result", pass ? "PASS" : "FAIL");
            Churn.writeFigures(file, f);
            Gpu.record("stress (" + threads + " threads, shared owner arenas closed mid-flight): "
                    + done + " cycles in " + f.get("duration_s") + " s, " + counts.snapshot() + ", arena closes "
                    + closer.closes.sum() + " (" + closer.closesMidFlight.sum() + " mid-flight), errors "
                    + errors.count() + ", warnings " + warnings(logged) + ", free memory " + start.free() + " -> "
                    + end.end().free() + " bytes, open fds " + start.fds() + " -> " + end.end().fds());

            assertEquals(0, errors.count(), errors::summary);
            assertFalse(logged.contains("WARNING"), () -> "hip-ffm logged:\n" + logged);
            assertTrue(counts.get("completed") + counts.get("cut short by a close") >= cycles, () -> "fewer than " + cycles
                    + " cycles in " + maxSeconds + " s: " + counts.snapshot());
            assertTrue(closer.closesMidFlight.sum() > 0, "no arena was closed while a worker used it: no interleaving");
            assertEquals(start.fds(), end.end().fds(), "open fds");
            assertEquals(start.free(), end.end().free(), "free device memory");
        } finally {
            for (int fd : fds) {
                LinuxFds.close(fd);
            }
            buffers.forEach(SoakWorkload.Exported::close);
            System.out.printf("stress: %.1f s in all%n", (System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * One cycle: import a copy of a random buffer's fd into a current shared owner arena (or, when
     * {@code contended} is false, into a confined arena of its own), map a random range, fill it, check 256 bytes
     * of it now and then, and close the memory or leave it to the arena.
     */
    private static void cycle(SplittableRandom random, List<SoakWorkload.Exported> buffers, List<Integer> fds,
            Churn.Closer closer, MemorySegment host, Churn.Counts counts, Churn.Errors errors, boolean contended) {
        int i = random.nextInt(buffers.size());
        SoakWorkload.Exported b = buffers.get(i);
        Churn.Owner owner = contended ? closer.pick(random) : null;
        Arena own = contended ? null : Arena.ofConfined();
        Arena arena = contended ? owner.arena : own;
        if (contended) {
            owner.inFlight.incrementAndGet();
        }
        String stage = "import";
        try {
            ExternalMemory memory = ExternalMemory.importCopy(arena, ExternalMemoryDescriptor.opaqueFd(fds.get(i), b.allocationSize()));
            stage = "map";
            long offset = random.nextLong(Math.max(1, b.size() / 2 / 65536)) * 65536;      // 64 KiB aligned
            long size = 4096 * (1 + random.nextLong((b.size() - offset) / 4096));         // 4 KiB to the end
            MemorySegment mapped = memory.mapBuffer(offset, size);
            stage = "fill";
            byte v = (byte) (random.nextInt(255) + 1);
            Memory.fill(mapped, v);
            if (random.nextInt(8) == 0) {
                stage = "check";
                long at = random.nextLong(mapped.byteSize() - 255);
                Memory.copy(host, mapped.asSlice(at, 256));
                for (int k = 0; k < 256; k++) {
                    if (host.get(ValueLayout.JAVA_BYTE, k) != v) {
                        throw new AssertionError("byte " + (at + k) + " of a mapped range is "
                                + host.get(ValueLayout.JAVA_BYTE, k) + " after a fill with " + v);
                    }
                }
            }
            stage = "close";
            if (random.nextBoolean()) {
                memory.close();
            }
            counts.add("completed");
        } catch (IllegalStateException e) {
            if (contended && !owner.isAlive()) {
                counts.add("cut short by a close");
                counts.add("cut short at " + stage);
            } else {
                errors.add(stage, e);
            }
        } catch (Throwable t) {
            errors.add(stage, t);
        } finally {
            if (contended) {
                owner.inFlight.decrementAndGet();
            } else {
                own.close();
            }
        }
    }

    static int warnings(String logged) {
        return (int) logged.lines().filter(l -> l.startsWith("WARNING")).count();
    }

    /** {@return the first WARNING line and the line after it (the exception), or "" when none} */
    static String firstWarning(String logged) {
        List<String> lines = logged.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("WARNING")) {
                return " (first: " + lines.get(i) + (i + 1 < lines.size() ? " / " + lines.get(i + 1) : "") + ")";
            }
        }
        return "";
    }
}
