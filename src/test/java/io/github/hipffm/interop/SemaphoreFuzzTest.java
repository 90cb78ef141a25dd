package io.github.hipffm.interop;

import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.ExternalSemaphoreHandleType;
import io.github.hipffm.HipException;
import io.github.hipffm.Stream;
import io.github.hipffm.fuzz.Gen;
import io.github.hipffm.internal.Runtimes;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzing {@link ExternalSemaphore}: imports of every handle type from fds of every kind, then random sequences of
 * signals, waits and batches of both (fence values at the edges, keyed-mutex keys where none belong, empty batches,
 * null entries) on the default, blocking and non-blocking streams, with semaphores and streams closed on the way.
 * Each call's outcome is predicted from the javadoc; a model of each semaphore (a timeline's value, a binary one's
 * state) predicts which waits are already satisfied: only those are made (an unsatisfied one would block the test
 * runtime for a second), and a final wait for what every semaphore reached must succeed, so a lost signal fails.
 *
 * <p>On the AMD platform hip-ffm refuses external semaphores by design where the runtime cannot import them (ROCm
 * aborts the process): there every import must be {@link HipException} {@code hipErrorNotSupported}. The test
 * runtime imports them, on both platforms.
 */
@Tag("testrt")
class SemaphoreFuzzTest {
    /** The stream an operation runs on. */
    enum StreamKind { DEFAULT, BLOCKING, NON_BLOCKING }

    /**
     * One semaphore to import.
     *
     * @param type its handle type
     * @param kind the fd's kind, for fd types
     * @param literalFd an fd number (0 or negative) instead of one of {@code kind}, when not null
     * @param copy importCopy instead of importSemaphore
     */
    record Sem(ExternalSemaphoreHandleType type, FuzzFds.Kind kind, Integer literalFd, boolean copy) {
    }

    enum OpKind { SIGNAL, WAIT, BATCH_SIGNAL, BATCH_WAIT, CLOSE_SEMAPHORE, CLOSE_STREAM, SYNCHRONIZE }

    /**
     * One entry of a batch.
     *
     * @param sem which semaphore (an index, modulo the imported ones)
     * @param value the fence value
     * @param key a keyed-mutex key (0: none)
     * @param timeout a keyed-mutex timeout (0: none)
     * @param isNull the entry is null instead
     */
    record Entry(int sem, long value, long key, int timeout, boolean isNull) {
    }

    /**
     * One operation.
     *
     * @param kind what
     * @param sem on which semaphore (index)
     * @param stream on which stream (index)
     * @param value the fence value
     * @param batch the entries of a batch
     */
    record Op(OpKind kind, int sem, int stream, long value, List<Entry> batch) {
    }

    record Case(List<Sem> semaphores, List<StreamKind> streams, List<Op> ops) {
    }

    private static Gen<Long> values() {
        return Gen.frequencyOf(Gen.w(6, Gen.longs(0, 20)),
                Gen.w(1, Gen.of(-1L, Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE - 1, 1L << 32)));
    }

    Gen<Case> cases() {
        Gen<Sem> sems = Gen.combine(
                Gen.frequencyOf(Gen.w(8, Gen.of(ExternalSemaphoreHandleType.OPAQUE_FD,
                        ExternalSemaphoreHandleType.TIMELINE_SEMAPHORE_FD)),
                        Gen.w(1, Gen.of(ExternalSemaphoreHandleType.class))),
                Gen.frequencyOf(Gen.w(8, Gen.of(FuzzFds.Kind.MEMFD, FuzzFds.Kind.PIPE)),
                        Gen.w(2, Gen.of(FuzzFds.Kind.class))),
                Gen.frequencyOf(Gen.w(30, Gen.just((Integer) null)), Gen.w(1, Gen.of(0, -1))),
                Gen.of(false, false, true)).as(Sem::new);
        Gen<Entry> entries = Gen.combine(Gen.ints(0, 3), values(),
                Gen.frequencyOf(Gen.w(12, Gen.just(0L)), Gen.w(1, Gen.of(1L, -1L))),
                Gen.frequencyOf(Gen.w(12, Gen.just(0)), Gen.w(1, Gen.of(1, -1))),
                Gen.frequency(Gen.w(20, false), Gen.w(1, true))).as(Entry::new);
        Gen<Op> ops = Gen.combine(
                Gen.frequency(Gen.w(6, OpKind.SIGNAL), Gen.w(6, OpKind.WAIT), Gen.w(3, OpKind.BATCH_SIGNAL),
                        Gen.w(3, OpKind.BATCH_WAIT), Gen.w(1, OpKind.CLOSE_SEMAPHORE), Gen.w(1, OpKind.CLOSE_STREAM),
                        Gen.w(2, OpKind.SYNCHRONIZE)),
                Gen.ints(0, 3), Gen.ints(0, 2), values(),
                entries.list().ofMaxSize(5)).as(Op::new);
        return Gen.combine(sems.list().ofMinSize(1).ofMaxSize(4),
                Gen.of(StreamKind.class).list().ofMinSize(1).ofMaxSize(3), ops.list().ofMaxSize(20)).as(Case::new);
    }

    /** What the test knows of one imported semaphore. */
    private static final class Model {
        final ExternalSemaphore semaphore;
        final boolean timeline;
        long value;          // a timeline's value, a binary semaphore's 0 or 1
        boolean closed;

        Model(ExternalSemaphore semaphore) {
            this.semaphore = semaphore;
            this.timeline = semaphore.handleType().isTimeline();
        }

        boolean satisfies(long wanted) {
            return timeline ? Long.compareUnsigned(value, wanted) >= 0 : value == 1;
        }

        void signal(long v) {
            value = timeline ? (Long.compareUnsigned(v, value) > 0 ? v : value) : 1;
        }
    }

    @Test
    @FuzzHook.Cases(1000)
    void signalsAndWaitsBehaveAsDocumentedAndNoneIsLost() {
        FuzzHook.check(cases(), this::signalsAndWaitsBehaveAsDocumentedAndNoneIsLost);
    }

    private void signalsAndWaitsBehaveAsDocumentedAndNoneIsLost(Case c) {
        List<FuzzFds.Fd> callerFds = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            List<Model> sems = new ArrayList<>();
            for (Sem s : c.semaphores) {
                ExternalSemaphore imported = importOne(s, arena, callerFds);
                if (imported != null) {
                    sems.add(new Model(imported));
                }
            }
            List<Stream> streams = new ArrayList<>();
            List<Boolean> streamClosed = new ArrayList<>();
            for (StreamKind k : c.streams) {
                streams.add(k == StreamKind.DEFAULT ? Stream.defaultStream() : Stream.create(arena, k == StreamKind.NON_BLOCKING));
                streamClosed.add(false);
            }
            if (sems.isEmpty()) {
                return;
            }
            for (Op op : c.ops) {
                Model m = sems.get(op.sem % sems.size());
                int si = op.stream % streams.size();
                Stream stream = streams.get(si);
                boolean sClosed = streamClosed.get(si);
                switch (op.kind) {
                    case SIGNAL -> {
                        Class<? extends RuntimeException> expected = op.value < 0 ? IllegalArgumentException.class
                                : m.closed || sClosed ? IllegalStateException.class : null;
                        Calls.run("signal(" + op.value + ")", Calls.NATIVE, () -> m.semaphore.signal(op.value, stream))
                                .expect(expected);
                        if (expected == null) {
                            m.signal(op.value);
                        }
                    }
                    case WAIT -> {
                        Class<? extends RuntimeException> expected = op.value < 0 ? IllegalArgumentException.class
                                : m.closed || sClosed ? IllegalStateException.class : null;
                        if (expected == null && !m.satisfies(op.value)) {
                            break;     // would block: not made
                        }
                        Calls.run("wait(" + op.value + ")", Calls.NATIVE, () -> m.semaphore.wait(op.value, stream))
                                .expect(expected);
                        if (expected == null && !m.timeline) {
                            m.value = 0;
                        }
                    }
                    case BATCH_SIGNAL, BATCH_WAIT -> batch(op, sems, stream, sClosed);
                    case CLOSE_SEMAPHORE -> {
                        Calls.run("ExternalSemaphore.close", Calls.CLOSE, m.semaphore::close).get();
                        m.closed = true;
                        assertTrue(m.semaphore.isClosed());
                        Calls.call("handle", Calls.NATIVE, m.semaphore::handle).expect(IllegalStateException.class);
                    }
                    case CLOSE_STREAM -> {
                        Calls.run("Stream.close", Calls.CLOSE, stream::close).get();
                        streamClosed.set(si, stream != Stream.defaultStream());
                        assertEquals(streamClosed.get(si), stream.isClosed(), "the default stream is never closed");
                    }
                    case SYNCHRONIZE -> Calls.run("synchronize", Calls.NATIVE, stream::synchronize)
                            .expect(sClosed ? IllegalStateException.class : null);
                }
            }
            // Every signal arrived: a wait for what each semaphore reached succeeds at once.
            for (Model m : sems) {
                if (!m.closed && m.satisfies(m.value)) {
                    Calls.run("final wait(" + m.value + ")", Calls.NATIVE,
                            () -> m.semaphore.wait(m.value, Stream.defaultStream())).get();
                }
            }
        } finally {
            for (FuzzFds.Fd fd : callerFds) {
                fd.close();
            }
        }
    }

    /** A batch signal or wait, with the outcome of each entry's record and of the call predicted. */
    private static void batch(Op op, List<Model> sems, Stream stream, boolean streamClosed) {
        boolean signal = op.kind == OpKind.BATCH_SIGNAL;
        List<Object> parts = new ArrayList<>();
        List<Model> models = new ArrayList<>();
        for (Entry e : op.batch) {
            if (e.isNull) {
                parts.add(null);
                models.add(null);
                continue;
            }
            Model m = sems.get(e.sem % sems.size());
            // no keyed-mutex type on Linux: a key (or a wait's timeout) is refused; a Signal has no timeout
            boolean valid = e.value >= 0 && e.key == 0 && (signal || e.timeout == 0);
            var part = signal
                    ? Calls.call("Signal", Calls.VALUE, () -> new ExternalSemaphore.Signal(m.semaphore, e.value, e.key))
                    : Calls.call("Wait", Calls.VALUE, () -> new ExternalSemaphore.Wait(m.semaphore, e.value, e.key, e.timeout));
            part.expect(valid ? null : IllegalArgumentException.class);
            if (valid) {
                parts.add(part.get());
                models.add(m);
            }
        }
        Class<? extends RuntimeException> expected = parts.isEmpty() ? IllegalArgumentException.class : null;
        for (int i = 0; i < parts.size() && expected == null; i++) {
            if (parts.get(i) == null) {
                expected = IllegalArgumentException.class;
            } else if (models.get(i).closed) {
                expected = IllegalStateException.class;
            }
        }
        if (expected == null && streamClosed) {
            expected = IllegalStateException.class;
        }
        if (expected == null && !signal) {
            for (int i = 0; i < parts.size(); i++) {
                if (!models.get(i).satisfies(((ExternalSemaphore.Wait) parts.get(i)).value())) {
                    return;     // would block: not made
                }
            }
        }
        List<Object> list = parts;
        @SuppressWarnings("unchecked")
        var result = signal
                ? Calls.run("signal(batch)", Calls.NATIVE, () -> ExternalSemaphore.signal((List<ExternalSemaphore.Signal>) (List<?>) list, stream))
                : Calls.run("wait(batch)", Calls.NATIVE, () -> ExternalSemaphore.wait((List<ExternalSemaphore.Wait>) (List<?>) list, stream));
        result.expect(expected);
        if (expected != null) {
            return;
        }
        for (int i = 0; i < parts.size(); i++) {
            Model m = models.get(i);
            if (signal) {
                m.signal(((ExternalSemaphore.Signal) parts.get(i)).value());
            } else if (!m.timeline) {
                m.value = 0;
            }
        }
    }

    /** {@return the imported semaphore, or null when the import failed as predicted} */
    private static ExternalSemaphore importOne(Sem s, Arena arena, List<FuzzFds.Fd> callerFds) {
        FuzzFds.Fd fd = null;
        ExternalSemaphoreDescriptor d;
        if (s.type.isFd()) {
            int number;
            if (s.literalFd != null) {
                number = s.literalFd;
            } else {
                fd = FuzzFds.open(s.kind, 0, callerFds.size());
                number = fd.fd();
            }
            var descriptor = Calls.call("ExternalSemaphoreDescriptor", Calls.VALUE,
                    () -> new ExternalSemaphoreDescriptor(s.type, number, null, null, null))
                    .expect(number > 0 ? null : IllegalArgumentException.class);
            if (!descriptor.ok()) {
                return null;
            }
            d = descriptor.get();
        } else if (s.type == ExternalSemaphoreHandleType.NVSCISYNC) {
            d = ExternalSemaphoreDescriptor.nvSciSync(MemorySegment.ofAddress(0x3000));
        } else {
            d = ExternalSemaphoreDescriptor.win32(s.type, MemorySegment.ofAddress(0x3000));
        }
        ExternalSemaphoreDescriptor descriptor = d;
        var imported = Calls.call(s.copy ? "importCopy" : "importSemaphore", Calls.NATIVE,
                () -> s.copy ? ExternalSemaphore.importCopy(arena, descriptor) : ExternalSemaphore.importSemaphore(arena, descriptor));
        imported.expect(expectedImport(s, fd));
        boolean taken = imported.ok() && !s.copy && fd != null;
        if (fd != null && !taken) {
            callerFds.add(fd);
            if (fd.isOpen()) {
                assertTrue(LinuxFds.isOpen(fd.fd()), "the caller's fd is still open");
            }
        }
        if (!imported.ok()) {
            if (imported.thrown() instanceof HipException e && !Runtimes.current().supportsExternalSemaphores()) {
                assertEquals(io.github.hipffm.HipError.NOT_SUPPORTED, e.error());
            }
            return null;
        }
        ExternalSemaphore semaphore = imported.get();
        assertEquals(s.type, semaphore.handleType());
        assertFalse(semaphore.isClosed());
        return semaphore;
    }

    private static Class<? extends RuntimeException> expectedImport(Sem s, FuzzFds.Fd fd) {
        boolean nvidia = TestRuntime.nvidia();
        boolean supported = s.type.isFd() || (s.type == ExternalSemaphoreHandleType.NVSCISYNC && nvidia);
        if (!supported) {
            return IllegalArgumentException.class;
        }
        boolean open = fd != null && fd.isOpen();
        if (s.type.isFd() && !open) {
            return IllegalArgumentException.class;       // checked first: the fd must be open
        }
        if (s.type.isFd() && FuzzFds.notAnExport(fd.kind())) {
            return IllegalArgumentException.class;       // checked first: on NVIDIA, of a kind a GPU export can be
        }
        if (!Runtimes.current().supportsExternalSemaphores()) {
            return HipException.class;                    // refused by hip-ffm: hipErrorNotSupported
        }
        if (!s.type.isFd()) {
            return HipException.class;                    // NvSciSync: not supported by the runtime
        }
        return null;
    }
}
