package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.Hip;
import io.github.hipffm.testrt.LinuxFds;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * What the GPU stress test and the soak share: shared owner arenas that another thread closes at random moments
 * ({@link Closer}), counters per kind of operation, the errors of every thread, and the leak check (free device
 * memory and the process's open fds against a baseline taken after a warm-up, polled until they settle).
 */
final class Churn {
    private Churn() {
    }

    /** A shared owner arena that the {@link Closer} may close at any moment, and how many workers are using it. */
    static final class Owner {
        final Arena arena = Arena.ofShared();
        final AtomicInteger inFlight = new AtomicInteger();

        boolean isAlive() {
            return arena.scope().isAlive();
        }
    }

    /**
     * Rotating shared owner arenas: a thread that, after a random pause, replaces one of them with a new arena and
     * closes the old one, whether or not workers are using it. A close that FFM refuses (a segment of the arena
     * is held by a native call on another thread) is retried until it succeeds, and counted.
     */
    static final class Closer {
        private final AtomicReferenceArray<Owner> slots;
        private final long maxPauseNanos;
        private final Errors errors;
        private final Thread thread;
        private final Object lock = new Object();
        private volatile boolean stop;
        private boolean paused;
        final LongAdder closes = new LongAdder();
        final LongAdder closesMidFlight = new LongAdder();
        final LongAdder refusedCloses = new LongAdder();

        Closer(int slots, long maxPauseNanos, long seed, Errors errors) {
            this.slots = new AtomicReferenceArray<>(slots);
            for (int i = 0; i < slots; i++) {
                this.slots.set(i, new Owner());
            }
            this.maxPauseNanos = maxPauseNanos;
            this.errors = errors;
            SplittableRandom random = new SplittableRandom(seed);
            thread = new Thread(() -> {
                while (!stop) {
                    LockSupport.parkNanos(random.nextLong(maxPauseNanos + 1));
                    synchronized (lock) {
                        if (paused) {
                            continue;
                        }
                        try {
                            rotate(random.nextInt(slots), true);
                        } catch (Throwable t) {
                            errors.add("closer", t);
                        }
                    }
                }
            }, "churn-closer");
            thread.setDaemon(true);
        }

        /** {@return one of the current owners, at random} */
        Owner pick(SplittableRandom random) {
            return slots.get(random.nextInt(slots.length()));
        }

        void start() {
            thread.start();
        }

        /** Stops closing (returns once a close under way has finished) until {@link #resume()}. */
        void pause() {
            synchronized (lock) {
                paused = true;
            }
        }

        void resume() {
            synchronized (lock) {
                paused = false;
            }
        }

        /** Clears the counters (after a warm-up). */
        void resetCounts() {
            closes.reset();
            closesMidFlight.reset();
            refusedCloses.reset();
        }

        /** Stops the thread (waits for it) and closes every current owner arena. */
        void stop() throws InterruptedException {
            stop = true;
            thread.join(TimeUnit.SECONDS.toMillis(30));
            if (thread.isAlive()) {
                errors.add("closer", new AssertionError("the closer thread did not stop within 30 s"));
            }
            closeAll(false);
        }

        /** Closes every current owner arena, replacing each with a new one (or with none). */
        void closeAll(boolean replace) {
            for (int i = 0; i < slots.length(); i++) {
                if (replace) {
                    rotate(i, false);
                } else {
                    close(slots.get(i), false);
                }
            }
        }

        private void rotate(int slot, boolean count) {
            Owner old = slots.getAndSet(slot, new Owner());
            close(old, count);
        }

        private void close(Owner old, boolean count) {
            boolean midFlight = old.inFlight.get() > 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    old.arena.close();
                    break;
                } catch (IllegalStateException e) {
                    if (!old.isAlive()) {
                        break;
                    }
                    refusedCloses.increment();            // in use by a native call: retry shortly
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("an owner arena could not be closed for 30 s", e);
                    }
                    LockSupport.parkNanos(20_000);
                }
            }
            if (count) {
                closes.increment();
                if (midFlight) {
                    closesMidFlight.increment();
                }
            }
        }

        long maxPauseMicros() {
            return maxPauseNanos / 1000;
        }
    }

    /**
     * Waits at {@code barrier}; if it breaks or times out (a thread failed), throws an {@link AssertionError}
     * with the errors seen so far.
     */
    static void await(java.util.concurrent.CyclicBarrier barrier, long seconds, Errors errors) {
        try {
            barrier.await(seconds, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("a worker did not reach the barrier (" + e + "); errors: " + errors.summary(), e);
        }
    }

    /** The errors of every thread: the first few kept whole, all counted by where they happened. */
    static final class Errors {
        private final Queue<String> first = new ConcurrentLinkedQueue<>();
        private final Map<String, LongAdder> byWhere = new ConcurrentHashMap<>();
        private final AtomicLong count = new AtomicLong();

        void add(String where, Throwable t) {
            byWhere.computeIfAbsent(where + ": " + t.getClass().getSimpleName(), k -> new LongAdder()).increment();
            if (count.getAndIncrement() < 5) {
                StringWriter s = new StringWriter();
                t.printStackTrace(new PrintWriter(s));
                first.add(where + ": " + s);
            }
        }

        long count() {
            return count.get();
        }

        String summary() {
            return count.get() == 0 ? "none" : byWhere + "; first:\n" + String.join("\n", first);
        }

        String counts() {
            return count.get() == 0 ? "0" : count.get() + " " + byWhere;
        }
    }

    /** Operations per kind, in the order first seen. */
    static final class Counts {
        private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
        private final Map<String, Integer> order = new ConcurrentHashMap<>();
        private final AtomicInteger next = new AtomicInteger();

        void add(String kind) {
            counts.computeIfAbsent(kind, k -> {
                order.put(k, next.getAndIncrement());
                return new LongAdder();
            }).increment();
        }

        long get(String kind) {
            LongAdder a = counts.get(kind);
            return a == null ? 0 : a.sum();
        }

        Map<String, Long> snapshot() {
            Map<String, Long> m = new LinkedHashMap<>();
            counts.keySet().stream().sorted((a, b) -> Integer.compare(order.get(a), order.get(b)))
                    .forEach(k -> m.put(k, counts.get(k).sum()));
            return m;
        }
    }

    /** Free device memory and open fds at one moment. */
    record Snapshot(long free, long fds) {
        static Snapshot take(Device device) {
            return new Snapshot(device.memoryInfo().free(), LinuxFds.count());
        }
    }

    /** The end snapshot, polled until it equals {@code start} or {@code timeoutMs} passed, and how long it took. */
    record Settled(Snapshot end, long millis) {
        boolean matches(Snapshot start) {
            return end.equals(start);
        }
    }

    static Settled settle(Device device, Snapshot start, long timeoutMs) {
        long t0 = System.nanoTime();
        Snapshot end = Snapshot.take(device);
        while (!end.equals(start) && System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(timeoutMs)) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            end = Snapshot.take(device);
        }
        return new Settled(end, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    /** {@return what identifies the machine: GPU, runtime, CPU cores, Java} */
    static String machine(Device device) {
        return device.name() + " (uuid " + java.util.HexFormat.of().formatHex(device.uuidBytes()) + ", "
                + Math.round(device.totalMemory() / 1048576.0) + " MiB), " + Hip.platform().id() + " runtime "
                + Hip.runtimeVersion() + ", driver " + Hip.driverVersion() + ", " + Runtime.getRuntime().availableProcessors()
                + " CPUs, Java " + Runtime.version();
    }

    /**
     * {@return where the figures files go: {@code HIPFFM_SOAK_OUT}, else the folder of the results file
     * ({@code hipffm.gpuResults}), else the working directory}
     */
    static Path outDir() {
        String env = System.getenv("HIPFFM_SOAK_OUT");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String results = System.getProperty("hipffm.gpuResults");
        Path parent = results == null ? null : Path.of(results).toAbsolutePath().getParent();
        return parent != null ? parent : Path.of(".");
    }

    /** Writes {@code key: value} lines to {@code name} in {@link #outDir()}, and returns the file. */
    static Path writeFigures(String name, Map<String, Object> figures) {
        StringBuilder s = new StringBuilder();
        figures.forEach((k, v) -> s.append(k).append(": ").append(v).append(System.lineSeparator()));
        Path file = outDir().resolve(name);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.print(s);
        return file;
    }

    /** {@return a long from the system property, else the environment variable, else {@code otherwise}} */
    static long setting(String property, String env, long otherwise) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            v = System.getenv(env);
        }
        return v == null || v.isBlank() ? otherwise : Long.parseLong(v.trim());
    }
}
