package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.testrt.CapturedLog;
import io.github.hipffm.vulkan.VulkanDevice;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The GPU soak (issue 12, part 5): {@link SoakWorkload}'s mixed workload (Vulkan imports of random sizes, maps,
 * fills, copies, kernels, timeline-semaphore frames, streams and events, module loads) on several worker threads,
 * while another thread closes shared owner arenas at random moments, for {@code HIPFFM_SOAK} seconds
 * ({@code -Dhipffm.soak.seconds}; the bundle: {@code HIPFFM_SOAK=330 .bundle/run}). GL registrations are soaked in a
 * JVM of their own ({@link GlSoakGpuTest}), as the bundle runs every GL test. After a warm-up on every thread (two
 * rounds of every kind, then {@code HIPFFM_SOAK_WARMUP} seconds of the mixed workload, default 30) and twice the
 * workload's bounds of streams and imports alive at once ({@link SoakWorkload#warmPools}: CUDA keeps memory for
 * the most streams ever alive at once, and the workload bounds them), the baseline; at the end: no error, nothing
 * logged at WARNING by hip-ffm, free device memory and open fds back to the baseline. The figures go to
 * {@code soak.txt} beside the results file. Tagged {@code soak}: the bundle's
 * ordinary run leaves it out; skipped with the reason where there is no GPU or no soak was asked for.
 */
@Tag("gpu")
@Tag("soak")
class SoakGpuTest {
    @Test
    void aMixedWorkloadOnSeveralThreadsLeavesNothingBehind() throws Exception {
        Device device = Gpu.require();
        long seconds = Churn.setting("hipffm.soak.seconds", "HIPFFM_SOAK", 0);
        assumeTrue(seconds > 0, "no soak asked for: HIPFFM_SOAK=SECONDS (e.g. HIPFFM_SOAK=330 .bundle/run) or "
                + "-Dhipffm.soak.seconds=SECONDS");
        int threads = (int) Churn.setting("hipffm.soak.threads", "HIPFFM_SOAK_THREADS", 6);
        long seed = Churn.setting("hipffm.soak.seed", "HIPFFM_SOAK_SEED", System.nanoTime());
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("test", "SoakGpuTest: Vulkan imports of random sizes, maps, fills, copies, kernels, timeline-semaphore"
                + " frames, streams and events, module loads; shared owner arenas closed by another thread mid-flight;"
                + " GL registrations in a JVM of their own (soak-gl.txt)");
        f.put("machine", Churn.machine(device));
        f.put("seed", seed);
        f.put("threads", threads + " workers + 1 closing shared owner arenas");
        try (VulkanDevice vk = Gpu.vulkan(device.uuidBytes())) {
            soak(device, seconds, threads, seed, f, SoakWorkload.vulkan(vk), KernelGpuTest.ptx(), null, "soak.txt");
        }
    }

    /**
     * Where device memory goes in the soak: each kind of operation alone ({@link SoakWorkload#only}), then the
     * mixed workload twice in a row, each a short soak of its own with its own baseline, so that memory a driver
     * keeps after first use (a one-time growth) shows apart from memory lost per operation (growth every time).
     * Asked for with {@code HIPFFM_SOAK_PROBE=SECONDS} (per run); the figures go to {@code probe-*.txt}.
     */
    @Test
    void perKind() throws Exception {
        long seconds = Churn.setting("hipffm.soak.probe", "HIPFFM_SOAK_PROBE", 0);
        Device device = Gpu.require();
        assumeTrue(seconds > 0, "no probe asked for: HIPFFM_SOAK_PROBE=SECONDS");
        int threads = (int) Churn.setting("hipffm.soak.threads", "HIPFFM_SOAK_THREADS", 6);
        long seed = Churn.setting("hipffm.soak.seed", "HIPFFM_SOAK_SEED", System.nanoTime());
        List<String> runs = new ArrayList<>(List.of(SoakWorkload.kinds()));
        runs.add("mixed");
        runs.add("mixed-again");
        // HIPFFM_SOAK_PROBE_KINDS: the runs, comma-separated, instead: kinds (and "vulkan": the import kind's fresh
        // Vulkan allocations alone), "mixed", and the import kind with parts switched off: "import-nofresh",
        // "import-nocopy", "import-nokernel", "import-bare" (all three off).
        String chosen = System.getenv("HIPFFM_SOAK_PROBE_KINDS");
        if (chosen != null && !chosen.isBlank()) {
            runs = List.of(chosen.strip().split("\\s*,\\s*"));
        }
        List<String> failed = new ArrayList<>();
        try (VulkanDevice vk = Gpu.vulkan(device.uuidBytes())) {
            for (String run : runs) {
                SoakWorkload.only = run.startsWith("mixed") ? null : run.startsWith("import") ? "import" : run;
                SoakWorkload.importFresh = !run.equals("import-nofresh") && !run.equals("import-bare");
                SoakWorkload.importCopy = !run.equals("import-nocopy") && !run.equals("import-bare");
                SoakWorkload.importKernel = !run.equals("import-nokernel") && !run.equals("import-bare");
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("test", "SoakGpuTest.perKind: " + run);
                f.put("machine", Churn.machine(device));
                f.put("seed", seed);
                try {
                    soak(device, seconds, threads, seed, f, SoakWorkload.vulkan(vk), KernelGpuTest.ptx(), null,
                            "probe-" + run.replace('+', '-') + ".txt");
                } catch (AssertionError e) {
                    failed.add(run + ": " + e.getMessage());
                } finally {
                    SoakWorkload.only = null;
                    SoakWorkload.importFresh = SoakWorkload.importCopy = SoakWorkload.importKernel = true;
                }
            }
        }
        assertTrue(failed.isEmpty(), () -> String.join("\n", failed));
    }

    /**
     * The soak itself, for this test and {@link GlSoakGpuTest}: {@code threads} workers run
     * {@link SoakWorkload#runOne} until the time is up (and {@code glLoop}, when given, runs on the calling thread
     * meanwhile, its operations counted in the same counters); figures into {@code f} and the file; assertions.
     *
     * @param exporter what makes the memory and semaphores to import, or null for no imports and no frames
     * @param ptx the module with the {@code increment} kernel
     * @param glLoop null, or run on this thread while the workers run: called with the deadline (nanoTime), the
     *     workload (for its counters and errors) and whether this is the warm-up
     * @param file the figures file's name
     */
    static void soak(Device device, long seconds, int threads, long seed, Map<String, Object> f,
            SoakWorkload.Exporter exporter, byte[] ptx, GlLoop glLoop, String file) throws Exception {
        Churn.Errors errors = new Churn.Errors();
        Churn.Closer closer = new Churn.Closer(4, 2_000_000, seed, errors);
        long warmUpSeconds = Churn.setting("hipffm.soak.warmup", "HIPFFM_SOAK_WARMUP", 30);
        // Imports of fresh Vulkan allocations from all the workers: on the H200 (2026-12-01) the first 40 s of them
        // took 64 KiB of device memory that the next 40 s, and the 40 s after, left exactly where it was (the
        // driver's high-water mark, SoakGpuTest.perKind with HIPFFM_SOAK_PROBE_KINDS=import,import,import); before
        // the baseline, so that the soak measures what it does, not what the driver keeps after first use.
        long importWarmUpSeconds = exporter == null ? 0
                : Churn.setting("hipffm.soak.warmupImports", "HIPFFM_SOAK_WARMUP_IMPORTS", 45);
        f.put("warm_up_s", warmUpSeconds + " of the mixed workload after two rounds of every kind and "
                + importWarmUpSeconds + " of imports, before the baseline");
        long t0 = System.nanoTime();
        long importWarmUpEnd = t0 + importWarmUpSeconds * 1_000_000_000L;
        long warmUpEnd = importWarmUpEnd + warmUpSeconds * 1_000_000_000L;
        try (Arena global = Arena.ofShared(); CapturedLog log = CapturedLog.of("io.github.hipffm")) {
            Kernel increment = HipModule.load(global, ptx).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            SoakWorkload work = new SoakWorkload(exporter, increment, ptx, closer, errors);
            CyclicBarrier barrier = new CyclicBarrier(threads + 1);
            long[] deadline = {0};
            List<Thread> running = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long workerSeed = seed + 1 + t;
                Thread thread = new Thread(() -> {
                    try (SoakWorkload.Worker w = work.new Worker(workerSeed)) {
                        // Warm-up: every kind in every owner arena it allows, twice, on this thread; then the
                        // mixed workload until the warm-up time is up (what the runtimes and drivers keep after
                        // first use, growing to the workload's high-water marks, is then in the baseline).
                        for (int round = 0; round < 2; round++) {
                            for (String kind : SoakWorkload.kinds()) {
                                for (SoakWorkload.Mode mode : SoakWorkload.Mode.values()) {
                                    if (work.can(w, kind) && SoakWorkload.allowed(kind, mode)) {
                                        work.run(w, kind, mode);
                                    }
                                }
                            }
                        }
                        while (System.nanoTime() < importWarmUpEnd && work.can(w, "import")) {
                            work.run(w, "import", null);
                        }
                        while (System.nanoTime() < warmUpEnd) {
                            work.runOne(w);
                        }
                        barrier.await();                 // warmed up
                        barrier.await();                 // baseline taken
                        while (System.nanoTime() < deadline[0]) {
                            work.runOne(w);
                        }
                        barrier.await();                 // time is up
                        barrier.await();                 // end measured
                    } catch (Throwable e) {
                        errors.add("worker", e);
                        barrier.reset();
                    }
                }, "soak-" + t);
                thread.setDaemon(true);
                running.add(thread);
            }
            closer.start();
            running.forEach(Thread::start);
            if (glLoop != null) {
                glLoop.run(0, work, true);              // the GL thread's warm-up
            }
            Churn.await(barrier, 300, errors);
            closer.pause();
            closer.closeAll(true);                      // the warm-up's leftovers released
            closer.resetCounts();
            work.warmPools();                           // CUDA keeps memory for the most ever alive at once
            Map<String, Long> warmUp = work.counts.snapshot();
            Churn.Snapshot start = Churn.Snapshot.take(device);
            long runStart = System.nanoTime();
            deadline[0] = runStart + seconds * 1_000_000_000L;
            closer.resume();
            Churn.await(barrier, 60, errors);
            if (glLoop != null) {
                glLoop.run(deadline[0], work, false);
            }
            Churn.await(barrier, seconds + 300, errors);
            double ran = (System.nanoTime() - runStart) / 1e9;
            closer.stop();
            if (glLoop != null) {
                glLoop.finish();
            }
            Churn.Settled end = Churn.settle(device, start, 10_000);
            Churn.await(barrier, 60, errors);
            for (Thread t : running) {
                t.join(60_000);
            }
            String logged = log.text();
            int warnings = ChurnStressGpuTest.warnings(logged);

            f.put("duration_s", String.format("%.1f (asked %d)", ran, seconds));
            Map<String, Long> ops = new LinkedHashMap<>(work.counts.snapshot());
            warmUp.forEach((k, v) -> ops.merge(k, -v, Long::sum));
            // Operations per kind first (what the workers and the GL thread picked), then what they did inside.
            long total = 0;
            List<String> kinds = new ArrayList<>(List.of(SoakWorkload.kinds()));
            kinds.add("gl");
            for (String kind : kinds) {
                if (ops.containsKey(kind)) {
                    f.put("ops." + kind, ops.get(kind));
                    total += ops.get(kind);
                }
            }
            for (Map.Entry<String, Long> e : ops.entrySet()) {
                if (!kinds.contains(e.getKey())) {
                    f.put("detail." + e.getKey(), e.getValue());
                }
            }
            f.put("ops_total", total + " operations (" + String.format("%.0f", total / ran) + "/s), besides "
                    + ops.getOrDefault("cut short by a close", 0L) + " cut short by a close");
            f.put("peak_live_streams", work.streams.toString());
            f.put("peak_live_imports", work.imports.toString());
            f.put("arena_closes", closer.closes.sum());
            f.put("arena_closes_mid_flight", closer.closesMidFlight.sum());
            f.put("arena_closes_refused_and_retried", closer.refusedCloses.sum());
            f.put("errors", errors.counts());
            f.put("warnings", warnings + ChurnStressGpuTest.firstWarning(logged));
            f.put("free_start", start.free());
            f.put("free_end", end.end().free());
            f.put("fds_start", start.fds());
            f.put("fds_end", end.end().fds());
            f.put("settled_ms", end.millis());
            boolean pass = errors.count() == 0 && warnings == 0 && end.matches(start) && ran >= seconds;
            f.put("result", pass ? "PASS" : "FAIL");
            Churn.writeFigures(file, f);
            Gpu.record(file.replace(".txt", "") + ": " + f.get("duration_s") + " s, " + f.get("ops_total")
                    + ", arena closes " + closer.closes.sum() + " (" + closer.closesMidFlight.sum() + " mid-flight), errors "
                    + errors.count() + ", warnings " + warnings + ", free memory " + start.free() + " -> "
                    + end.end().free() + " bytes, open fds " + start.fds() + " -> " + end.end().fds() + ": "
                    + f.get("result"));

            assertEquals(0, errors.count(), errors::summary);
            assertFalse(logged.contains("WARNING"), () -> "hip-ffm logged:\n" + logged);
            assertTrue(ran >= seconds, "ran " + ran + " s of " + seconds);
            assertEquals(start.fds(), end.end().fds(), "open fds");
            assertEquals(start.free(), end.end().free(), "free device memory");
        } finally {
            System.out.printf("%s: %.1f s in all%n", file, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** The GL soak's loop on the thread whose GL context is current. */
    interface GlLoop {
        /**
         * @param deadline System.nanoTime() to stop at (ignored in the warm-up)
         * @param work the workload, for its counters and errors
         * @param warmUp whether this is the warm-up round
         */
        void run(long deadline, SoakWorkload work, boolean warmUp) throws Exception;

        /** Releases what the loop kept between rounds, before the end measurement. */
        void finish();
    }
}
