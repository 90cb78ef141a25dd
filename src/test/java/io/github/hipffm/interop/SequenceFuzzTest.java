package io.github.hipffm.interop;

import io.github.hipffm.ArrayLevel;
import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.Memory;
import io.github.hipffm.MipmappedArray;
import io.github.hipffm.fuzz.Gen;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fuzzing lifetimes across threads: two to four threads run random sequences of imports, maps, fills, copies,
 * mipmapped arrays and level copies, closes of what any of them made, and closes of the owner arenas, all at once,
 * on shared owner arenas and one confined to the first thread. Outcomes depend on the interleaving, so each call
 * may only throw what its javadoc documents for what can happen concurrently: {@link IllegalStateException} once
 * its arena or resource is closed, {@link WrongThreadException} for a resource of a confined arena used from
 * another thread; a close never throws; an import that throws leaves the caller's fd open and the same file. After
 * the last arena closed, the leak check of {@link FuzzHook} runs as for every case: nothing live, no fd left,
 * nothing logged.
 */
@Tag("testrt")
class SequenceFuzzTest {
    private static final long SIZE = 64 * 1024;
    private static final ChannelFormat R32F = new ChannelFormat(32, 0, 0, 0, ChannelFormat.Kind.FLOAT);
    private static final ExecutorService POOL = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "hipffm-fuzz-sequence");
        t.setDaemon(true);
        return t;
    });
    private static final AtomicInteger NAMES = new AtomicInteger();

    enum OpKind { IMPORT, MAP, FILL, COPY, MIPMAP, LEVEL_COPY, CLOSE_MEMORY, CLOSE_ARRAY, CLOSE_ARENA }

    record Op(OpKind kind, int target, int other) {
    }

    record Case(int sharedArenas, List<List<Op>> threads) {
    }

    Gen<Case> cases() {
        Gen<Op> ops = Gen.combine(
                Gen.frequency(Gen.w(6, OpKind.IMPORT), Gen.w(5, OpKind.MAP), Gen.w(5, OpKind.FILL),
                        Gen.w(2, OpKind.COPY), Gen.w(2, OpKind.MIPMAP), Gen.w(2, OpKind.LEVEL_COPY),
                        Gen.w(3, OpKind.CLOSE_MEMORY), Gen.w(1, OpKind.CLOSE_ARRAY), Gen.w(1, OpKind.CLOSE_ARENA)),
                Gen.ints(0, 7), Gen.ints(0, 7)).as(Op::new);
        return Gen.combine(Gen.ints(1, 3),
                ops.list().ofMinSize(1).ofMaxSize(14).list().ofMinSize(2).ofMaxSize(4)).as(Case::new);
    }

    /** Something made by one thread, usable by all, and the thread of its confined owner (null: shared). */
    private record Made<T>(T value, Thread confinedTo) {
    }

    /** What the threads share. */
    private static final class World {
        final List<Arena> arenas = new ArrayList<>();
        Thread confinedOwner;
        final List<Made<ExternalMemory>> memories = new CopyOnWriteArrayList<>();
        final List<Made<MemorySegment>> buffers = new CopyOnWriteArrayList<>();
        final List<Made<MipmappedArray>> arrays = new CopyOnWriteArrayList<>();
        final Queue<String> broken = new ConcurrentLinkedQueue<>();
    }

    @Test
    @FuzzHook.Cases(300)
    void concurrentSequencesOnlyThrowWhatIsDocumentedAndLeaveNothing() {
        FuzzHook.check(cases(), this::concurrentSequencesOnlyThrowWhatIsDocumentedAndLeaveNothing);
    }

    private void concurrentSequencesOnlyThrowWhatIsDocumentedAndLeaveNothing(Case c) throws Exception {
        long fds = io.github.hipffm.testrt.LinuxFds.count();    // as FuzzHook counted them just before
        long live = TestRuntime.liveAll();
        World w = new World();
        for (int i = 0; i < c.sharedArenas; i++) {
            w.arenas.add(Arena.ofShared());
        }
        CountDownLatch confinedMade = new CountDownLatch(1);
        CountDownLatch allDone = new CountDownLatch(c.threads.size());
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < c.threads.size(); t++) {
            int thread = t;
            futures.add(POOL.submit(() -> {
                Arena confined = null;
                if (thread == 0) {       // the first thread owns a confined arena, which only it may close
                    confined = Arena.ofConfined();
                    synchronized (w) {
                        w.confinedOwner = Thread.currentThread();
                        w.arenas.add(confined);
                    }
                    confinedMade.countDown();
                }
                confinedMade.await();
                start.await();
                try {
                    for (Op op : c.threads.get(thread)) {
                        apply(op, w);
                    }
                } finally {
                    allDone.countDown();
                    if (confined != null) {
                        allDone.await(60, TimeUnit.SECONDS);   // the others are done with it: close it on its thread
                        if (confined.scope().isAlive()) {
                            confined.close();
                        }
                    }
                }
                return null;
            }));
        }
        start.countDown();
        try {
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            for (Arena a : w.arenas) {
                if (a.scope().isAlive() && (a != w.arenas.get(w.arenas.size() - 1) || w.confinedOwner == null)) {
                    a.close();
                }
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while ((TestRuntime.liveAll() != live || io.github.hipffm.testrt.LinuxFds.count() != fds)
                && System.nanoTime() < deadline) {
            Thread.sleep(1);    // a release that waited for a call in flight happens when it ends, on hip-ffm's thread
        }
        assertEquals(List.of(), List.copyOf(w.broken));
    }

    private static void apply(Op op, World w) {
        Thread me = Thread.currentThread();
        switch (op.kind) {
            case IMPORT -> {
                Arena owner = w.arenas.get(op.target % w.arenas.size());
                boolean foreign = owner == confinedArena(w) && w.confinedOwner != me;
                String name = "hipffm-fuzz-sequence-" + NAMES.incrementAndGet();
                int fd = io.github.hipffm.testrt.LinuxFds.memfd(name, SIZE);
                try {
                    ExternalMemory m = ExternalMemory.importMemory(owner, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
                    w.memories.add(new Made<>(m, owner == confinedArena(w) ? w.confinedOwner : null));
                } catch (IllegalStateException | WrongThreadException e) {
                    if (e instanceof WrongThreadException && !foreign) {
                        w.broken.add("import into an arena of this thread threw " + e);
                    }
                    String link = link(fd);
                    if (link.equals("/memfd:" + name + " (deleted)")) {
                        io.github.hipffm.testrt.LinuxFds.close(fd);
                    } else {
                        w.broken.add("importMemory threw " + e + ", but fd " + fd + " is " + link);
                    }
                } catch (RuntimeException e) {
                    w.broken.add("importMemory threw " + e);
                    io.github.hipffm.testrt.LinuxFds.close(fd);
                }
            }
            case MAP -> use(w, pick(w.memories, op.target), m -> {
                MemorySegment b = m.value.mapBuffer(0, SIZE / 2);
                w.buffers.add(new Made<>(b, m.confinedTo));
            });
            case FILL -> use(w, pick(w.buffers, op.target), b -> Memory.fill(b.value, (byte) op.other));
            case COPY -> {
                Made<MemorySegment> src = pick(w.buffers, op.other);
                use(w, pick(w.buffers, op.target), dst -> {
                    if (src != null && src.value != dst.value) {
                        Thread other = src.confinedTo;
                        if (other != null && other != me) {
                            use(w, src, s -> Memory.copy(dst.value, s.value));
                        } else {
                            Memory.copy(dst.value, src.value);
                        }
                    }
                });
            }
            case MIPMAP -> use(w, pick(w.memories, op.target), m -> w.arrays.add(new Made<>(
                    m.value.mapMipmappedArray(SIZE / 2, R32F, Extent.of(16, 16), 2, 0), m.confinedTo)));
            case LEVEL_COPY -> use(w, pick(w.arrays, op.target), a -> {
                ArrayLevel level = a.value.level(op.other % 2);
                try (Arena host = Arena.ofConfined()) {
                    MemorySegment data = host.allocate(level.byteSize());
                    level.copyFrom(data);
                    level.copyTo(data);
                }
            });
            case CLOSE_MEMORY -> close(w, pick(w.memories, op.target));
            case CLOSE_ARRAY -> close(w, pick(w.arrays, op.target));
            case CLOSE_ARENA -> {
                Arena a = w.arenas.get(op.target % w.arenas.size());
                if (a == confinedArena(w) && w.confinedOwner != me) {
                    return;     // only its thread closes a confined arena (the FFM API's rule, not hip-ffm's)
                }
                try {
                    a.close();
                } catch (IllegalStateException alreadyClosed) {
                    // closing an arena twice: the FFM API's IllegalStateException
                }
            }
        }
    }

    private static Arena confinedArena(World w) {
        return w.confinedOwner == null ? null : w.arenas.get(w.arenas.size() - 1);
    }

    private static <T> Made<T> pick(List<Made<T>> pool, int i) {
        List<Made<T>> snapshot = List.copyOf(pool);
        return snapshot.isEmpty() ? null : snapshot.get(i % snapshot.size());
    }

    /** A use of something another thread may have closed: ISE, or WTE for what a confined arena of another thread owns. */
    private static <T> void use(World w, Made<T> made, java.util.function.Consumer<Made<T>> use) {
        if (made == null) {
            return;
        }
        try {
            use.accept(made);
        } catch (IllegalStateException e) {
            // closed by another thread, or with its arena: documented
        } catch (WrongThreadException e) {
            if (made.confinedTo == null || made.confinedTo == Thread.currentThread()) {
                w.broken.add("a use on the owner's thread, or of a shared arena's resource, threw " + e);
            }
        } catch (RuntimeException e) {
            w.broken.add("threw " + e);
        }
    }

    private static <T> void close(World w, Made<T> made) {
        if (made == null) {
            return;
        }
        try {
            ((AutoCloseable) made.value).close();
        } catch (WrongThreadException e) {
            if (made.confinedTo == null || made.confinedTo == Thread.currentThread()) {
                w.broken.add("close on the owner's thread, or of a shared arena's resource, threw " + e);
            }
        } catch (Exception e) {
            w.broken.add("close threw " + e);
        }
    }

    private static String link(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            return "closed";
        }
    }
}
