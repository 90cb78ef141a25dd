package io.github.hipffm.interop;

import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.Memory;
import io.github.hipffm.testrt.CapturedLog;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Owner arenas closed while other threads are in the middle of using what they own (issue #12's CI stress test).
 * Eight workers import memfds into shared owner arenas, map them, fill them ({@link Memory#fill}, a native call that
 * holds the mapped segment) and close them, while another thread keeps closing those arenas, and replacing them,
 * at random moments: at least {@value #INTERLEAVINGS} import-to-close cycles per test, each racing arena closes.
 *
 * <p>Whatever the interleaving: each call either works or throws what its javadoc documents
 * ({@link IllegalStateException} once the arena or the memory is closed); an import that throws leaves the fd
 * with the caller, open and still the same file (the fd rule); after the last arena closed, everything is released
 * (no live object in the runtime, the fds back to the start) and nothing was logged (a release refused because a
 * call was in flight must be carried out when the call ends, not logged and dropped).
 *
 * <p>The same with confined owner arenas on one thread (a close from another thread is refused with
 * {@link WrongThreadException}), and with workers closing their memory at the moment another thread closes its
 * arena. Each test prints one line with its counts.
 */
@Tag("testrt")
class ArenaCloseStressTest {
    private static final int THREADS = 8;
    private static final int INTERLEAVINGS = 10_000;
    /** Large enough that a fill (the call in flight) takes a while, small enough for 10,000 cycles in seconds. */
    private static final long SIZE = 16 * 1024;
    private static final long SEED = Long.parseLong(System.getProperty("hipffm.stress.seed", "12"));

    @RegisterExtension
    final NoLeaks noLeaks = new NoLeaks();

    /** What the workers saw, for the summary line and the checks. */
    private static final class Tally {
        final LongAdder cycles = new LongAdder();
        final LongAdder imported = new LongAdder();
        final LongAdder importRefused = new LongAdder();
        final LongAdder useRefused = new LongAdder();
        final LongAdder closedByWorker = new LongAdder();
        final LongAdder leftToArena = new LongAdder();
        final LongAdder arenaCloses = new LongAdder();
        /** Memory still open after both its close() and its arena's close returned. */
        final LongAdder closesLost = new LongAdder();
        final Queue<String> fdRuleBroken = new ConcurrentLinkedQueue<>();
        final Queue<Throwable> undocumented = new ConcurrentLinkedQueue<>();

        String line(String test, double seconds) {
            return String.format(Locale.ROOT, "hip-ffm stress: ArenaCloseStressTest.%s: %d interleavings (%d imported,"
                    + " %d imports and %d uses refused by a closed arena or memory, %d closed by the worker, %d left to"
                    + " the arena), %d arena closes, %s, %.1f s", test, cycles.sum(), imported.sum(), importRefused.sum(),
                    useRefused.sum(), closedByWorker.sum(), leftToArena.sum(), arenaCloses.sum(),
                    TestRuntime.nvidia() ? "nvidia" : "amd", seconds);
        }
    }

    /** A memfd of the test, and the name that tells it apart from any other fd of the same number. */
    private record Fd(int fd, String name) {
        static Fd open(String name) {
            return new Fd(LinuxFds.memfd(name, SIZE), name);
        }

        /** {@return null when the fd is open and still this memfd, else what it is} */
        String stillMine() {
            try {
                String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
                return link.equals("/memfd:" + name + " (deleted)") ? null : "fd " + fd + " is now " + link;
            } catch (IOException e) {
                return "fd " + fd + " is closed";
            }
        }
    }

    @Test
    void sharedOwnerArenasClosedMidFlightByAnotherThread() throws Exception {
        Tally tally = new Tally();
        AtomicReferenceArray<Arena> owners = new AtomicReferenceArray<>(8);
        for (int i = 0; i < owners.length(); i++) {
            owners.set(i, Arena.ofShared());
        }
        AtomicBoolean done = new AtomicBoolean();
        long start = System.nanoTime();
        String logged;
        try (CapturedLog log = CapturedLog.of("io.github.hipffm")) {
            runThreads(THREADS + 1, t -> {
                SplittableRandom random = new SplittableRandom(SEED * 31 + t);
                if (t == THREADS) {         // the closer: replaces an owner and closes the old one, mid-flight
                    while (!done.get()) {
                        Arena old = owners.getAndSet(random.nextInt(owners.length()), Arena.ofShared());
                        spin(random.nextInt(50));
                        old.close();
                        tally.arenaCloses.increment();
                    }
                    return;
                }
                for (int i = 0; i < INTERLEAVINGS / THREADS; i++) {
                    cycle(owners.get(random.nextInt(owners.length())), "hipffm-stress-" + t + "-" + i,
                            random.nextInt(4) != 0, random, tally);
                }
            }, done);
            for (int i = 0; i < owners.length(); i++) {
                owners.get(i).close();
                tally.arenaCloses.increment();
            }
            awaitReleased();
            logged = log.text();
        }
        report(tally, "sharedOwnerArenasClosedMidFlightByAnotherThread", start, logged);
    }

    @Test
    void workersCloseTheirMemoryWhileAnotherThreadClosesItsArena() throws Exception {
        Tally tally = new Tally();
        int pairs = THREADS / 2;
        long start = System.nanoTime();
        String logged;
        try (CapturedLog log = CapturedLog.of("io.github.hipffm")) {
            runThreads(pairs, t -> {
                SplittableRandom random = new SplittableRandom(SEED * 37 + t);
                ExecutorService partner = Executors.newSingleThreadExecutor();
                try {
                    for (int i = 0; i < INTERLEAVINGS / pairs / 6; i++) {
                        Arena owner = Arena.ofShared();
                        Fd fd = Fd.open("hipffm-stress-pair-" + t + "-" + i);
                        ExternalMemory memory = ExternalMemory.importMemory(owner, ExternalMemoryDescriptor.opaqueFd(fd.fd, SIZE));
                        tally.imported.increment();
                        MemorySegment buffer = memory.mapBuffer();
                        CountDownLatch go = new CountDownLatch(1);
                        int delay = random.nextInt(100);
                        Future<?> closer = partner.submit(() -> {
                            go.await();
                            spin(delay);
                            owner.close();
                            tally.arenaCloses.increment();
                            return null;
                        });
                        go.countDown();
                        for (int k = random.nextInt(4); k >= 0; k--) {   // fills racing the arena close
                            use(() -> Memory.fill(buffer, (byte) 7), tally);
                        }
                        memory.close();                                 // racing it too
                        tally.closedByWorker.increment();
                        closer.get(30, TimeUnit.SECONDS);
                        if (!memory.isClosed()) {
                            tally.closesLost.increment();
                        }
                        tally.cycles.increment();
                    }
                } finally {
                    partner.shutdownNow();
                }
            }, null);
            awaitReleased();
            logged = log.text();
        }
        report(tally, "workersCloseTheirMemoryWhileAnotherThreadClosesItsArena", start, logged);
    }

    @Test
    void confinedOwnerArenasOnOneThread() throws Exception {
        Tally tally = new Tally();
        Random random = new Random(SEED);
        ExecutorService other = Executors.newSingleThreadExecutor();
        long start = System.nanoTime();
        String logged;
        try (CapturedLog log = CapturedLog.of("io.github.hipffm")) {
            for (int i = 0; i < INTERLEAVINGS / 10; i++) {
                Arena owner = Arena.ofConfined();
                Fd fd = Fd.open("hipffm-stress-confined-" + i);
                ExternalMemory memory = ExternalMemory.importMemory(owner, ExternalMemoryDescriptor.opaqueFd(fd.fd, SIZE));
                tally.imported.increment();
                MemorySegment buffer = memory.mapBuffer();
                Memory.fill(buffer, (byte) i);
                if (random.nextInt(8) == 0) {      // another thread may not close what a confined arena owns
                    Future<?> refused = other.submit(memory::close);
                    var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> refused.get(30, TimeUnit.SECONDS));
                    assertTrue(e.getCause() instanceof WrongThreadException, () -> "threw " + e.getCause());
                    assertFalse(memory.isClosed());
                    Memory.fill(buffer, (byte) 1);
                }
                switch (random.nextInt(3)) {
                    case 0 -> {
                        memory.close();
                        tally.closedByWorker.increment();
                        owner.close();
                    }
                    case 1 -> {
                        owner.close();
                        tally.leftToArena.increment();
                        memory.close();                     // closed already: nothing happens
                    }
                    default -> {
                        owner.close();
                        tally.leftToArena.increment();
                    }
                }
                tally.arenaCloses.increment();
                assertTrue(memory.isClosed());
                assertThrows(IllegalStateException.class, () -> Memory.fill(buffer, (byte) 0));
                assertFalse(LinuxFds.isOpen(fd.fd) && fd.stillMine() == null, "the memory closed its fd");
                tally.cycles.increment();
            }
            awaitReleased();
            logged = log.text();
        } finally {
            other.shutdownNow();
        }
        report(tally, "confinedOwnerArenasOnOneThread", start, logged);
    }

    /** One import, map, fill, and close (or not) into an owner that another thread may close at any moment. */
    private static void cycle(Arena owner, String name, boolean close, SplittableRandom random, Tally tally) {
        Fd fd = Fd.open(name);
        ExternalMemory memory;
        try {
            memory = ExternalMemory.importMemory(owner, ExternalMemoryDescriptor.opaqueFd(fd.fd, SIZE));
        } catch (IllegalStateException refused) {   // the owner is closed: the fd is still the caller's, open
            tally.importRefused.increment();
            String broken = fd.stillMine();
            if (broken == null) {
                LinuxFds.close(fd.fd);
            } else {
                tally.fdRuleBroken.add("importMemory threw " + refused + ", but " + broken);
            }
            tally.cycles.increment();
            return;
        } catch (RuntimeException e) {
            tally.undocumented.add(e);
            LinuxFds.close(fd.fd);
            tally.cycles.increment();
            return;
        }
        tally.imported.increment();
        use(() -> {
            MemorySegment buffer = memory.mapBuffer();
            for (int k = random.nextInt(3); k >= 0; k--) {
                Memory.fill(buffer, (byte) k);
            }
        }, tally);
        if (close) {
            try {
                memory.close();
                tally.closedByWorker.increment();
            } catch (RuntimeException e) {
                tally.undocumented.add(e);
            }
        } else {
            tally.leftToArena.increment();
        }
        tally.cycles.increment();
    }

    /** Runs a use that a concurrent close may refuse, as documented, with {@link IllegalStateException}. */
    private static void use(Runnable use, Tally tally) {
        try {
            use.run();
        } catch (IllegalStateException refused) {
            tally.useRefused.increment();
        } catch (RuntimeException e) {
            tally.undocumented.add(e);
        }
    }

    private interface Worker {
        void run(int thread) throws Exception;
    }

    /** Runs {@code n} workers from one start, and waits for them (then sets {@code done}, when given). */
    private static void runThreads(int n, Worker worker, AtomicBoolean done) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    worker.run(thread);
                    return null;
                }));
            }
            start.countDown();
            int workers = done != null ? n - 1 : n;
            for (int t = 0; t < workers; t++) {
                futures.get(t).get(120, TimeUnit.SECONDS);
            }
            if (done != null) {
                done.set(true);
                futures.get(n - 1).get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Waits (at most 5 s) until the runtime holds no object and the fds are back to the start: a release that
     * waited for a call in flight happens when that call ends, on hip-ffm's own thread (destroy, then the fd).
     */
    private void awaitReleased() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while ((TestRuntime.liveAll() != 0 || LinuxFds.count() != noLeaks.fdsAtStart()) && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }

    private static void report(Tally tally, String test, long start, String logged) {
        System.out.println(tally.line(test, (System.nanoTime() - start) / 1e9));
        long warnings = logged.lines().filter(l -> l.startsWith("WARNING:")).count();
        assertAll(
                () -> assertEquals(List.of(), tally.undocumented.stream().map(Throwable::toString).limit(5).toList(),
                        "exceptions no javadoc documents"),
                () -> assertEquals(List.of(), tally.fdRuleBroken.stream().limit(5).toList(),
                        tally.fdRuleBroken.size() + " imports threw but took the fd (the first 5)"),
                () -> assertEquals("", logged.lines().limit(6).reduce("", (a, b) -> a + b + "\n"), warnings
                        + " warnings logged (a release refused because a call was in flight must happen when the call"
                        + " ends); the first"),
                () -> assertEquals(0, tally.closesLost.sum(), "memory still open after its close() and its arena's"
                        + " close returned"),
                () -> assertEquals(0, TestRuntime.liveAll(), () -> "not released: " + TestRuntime.liveByKind()),
                () -> assertTrue(tally.cycles.sum() >= INTERLEAVINGS / 10, "cycles run"));
    }

    /** Busy-waits about {@code micros} microseconds: a random moment, without a scheduler round trip. */
    private static void spin(int micros) {
        long end = System.nanoTime() + micros * 1000L;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
