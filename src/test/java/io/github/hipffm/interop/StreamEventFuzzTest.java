package io.github.hipffm.interop;

import io.github.hipffm.Event;
import io.github.hipffm.HipException;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.fuzz.Gen;
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
 * Fuzzing {@link Stream} and {@link Event}: random sequences of records, synchronizations, queries, waits, timings
 * and closes on blocking, non-blocking and default streams and on timing and non-timing events, with work queued
 * between them. Each call's outcome is predicted from the javadoc and a model of which events were recorded; a
 * closed stream or event refuses every use with {@link IllegalStateException}, the default stream is never closed.
 */
@Tag("testrt")
class StreamEventFuzzTest {
    enum OpKind { RECORD, SYNCHRONIZE_EVENT, QUERY_EVENT, SYNCHRONIZE_STREAM, QUERY_STREAM, WAIT_FOR, ELAPSED,
        WORK, CLOSE_STREAM, CLOSE_EVENT, DESCRIBE }

    record Op(OpKind kind, int stream, int event, int other) {
    }

    record Case(List<Boolean> nonBlocking, List<Boolean> timing, List<Op> ops) {
    }

    Gen<Case> cases() {
        Gen<Op> ops = Gen.combine(
                Gen.frequency(Gen.w(6, OpKind.RECORD), Gen.w(2, OpKind.SYNCHRONIZE_EVENT),
                        Gen.w(2, OpKind.QUERY_EVENT), Gen.w(2, OpKind.SYNCHRONIZE_STREAM), Gen.w(2, OpKind.QUERY_STREAM),
                        Gen.w(3, OpKind.WAIT_FOR), Gen.w(4, OpKind.ELAPSED), Gen.w(3, OpKind.WORK),
                        Gen.w(1, OpKind.CLOSE_STREAM), Gen.w(1, OpKind.CLOSE_EVENT), Gen.w(1, OpKind.DESCRIBE)),
                Gen.ints(0, 3), Gen.ints(0, 3),
                Gen.ints(0, 3)).as(Op::new);
        return Gen.combine(Gen.of(true, false).list().ofMaxSize(3),
                Gen.of(true, false).list().ofMinSize(1).ofMaxSize(3), ops.list().ofMaxSize(25)).as(Case::new);
    }

    private static final class E {
        final Event event;
        final boolean timing;
        boolean recorded;
        boolean closed;

        E(Event event, boolean timing) {
            this.event = event;
            this.timing = timing;
        }
    }

    private static final class S {
        final Stream stream;
        boolean closed;

        S(Stream stream) {
            this.stream = stream;
        }
    }

    @Test
    @FuzzHook.Cases(800)
    void streamsAndEventsBehaveAsDocumented() {
        FuzzHook.check(cases(), this::streamsAndEventsBehaveAsDocumented);
    }

    private void streamsAndEventsBehaveAsDocumented(Case c) {
        try (Arena arena = Arena.ofConfined()) {
            List<S> streams = new ArrayList<>();
            streams.add(new S(Stream.defaultStream()));
            for (boolean nb : c.nonBlocking) {
                Stream s = Calls.call("Stream.create", Calls.OWNED, () -> Stream.create(arena, nb)).get();
                assertTrue(s.toString().contains(nb ? "non-blocking" : ", blocking"), s::toString);
                streams.add(new S(s));
            }
            List<E> events = new ArrayList<>();
            for (boolean timing : c.timing) {
                events.add(new E(Calls.call("Event.create", Calls.OWNED, () -> Event.create(arena, timing)).get(), timing));
            }
            MemorySegment device = Memory.allocateDevice(arena, 4096);
            for (Op op : c.ops) {
                S s = streams.get(op.stream % streams.size());
                E e = events.get(op.event % events.size());
                E f = events.get(op.other % events.size());
                Class<? extends RuntimeException> closedOne = e.closed || s.closed ? IllegalStateException.class : null;
                switch (op.kind) {
                    case RECORD -> {
                        var r = Calls.call("record", Calls.NATIVE, () -> e.event.record(s.stream)).expect(closedOne);
                        if (r.ok()) {
                            assertEquals(e.event, r.get(), "record returns its event");
                            e.recorded = true;
                        }
                    }
                    case SYNCHRONIZE_EVENT -> Calls.run("Event.synchronize", Calls.NATIVE, e.event::synchronize)
                            .expect(e.closed ? IllegalStateException.class : null);
                    case QUERY_EVENT -> {
                        var r = Calls.call("isComplete", Calls.NATIVE, e.event::isComplete)
                                .expect(e.closed ? IllegalStateException.class : null);
                        if (r.ok()) {
                            assertTrue(r.get(), "the test runtime finishes work at once: every event is complete");
                        }
                    }
                    case SYNCHRONIZE_STREAM -> Calls.run("Stream.synchronize", Calls.NATIVE, s.stream::synchronize)
                            .expect(s.closed ? IllegalStateException.class : null);
                    case QUERY_STREAM -> {
                        var r = Calls.call("isIdle", Calls.NATIVE, s.stream::isIdle)
                                .expect(s.closed ? IllegalStateException.class : null);
                        if (r.ok()) {
                            assertTrue(r.get(), "nothing is left running after hip-ffm's synchronous calls");
                        }
                    }
                    case WAIT_FOR -> Calls.run("waitFor", Calls.NATIVE, () -> s.stream.waitFor(e.event)).expect(closedOne);
                    case ELAPSED -> {
                        Class<? extends RuntimeException> expected = e.closed || f.closed ? IllegalStateException.class
                                : !e.recorded || !f.recorded || !e.timing || !f.timing ? HipException.class : null;
                        var r = Calls.call("elapsedMillis", Calls.NATIVE, () -> Event.elapsedMillis(e.event, f.event))
                                .expect(expected);
                        if (r.ok()) {
                            assertFalse(Float.isNaN(r.get()) || Float.isInfinite(r.get()), "milliseconds " + r.get());
                            if (e == f) {
                                assertEquals(0f, r.get(), "an event from itself");
                            }
                        }
                    }
                    case WORK -> Calls.run("fillAsync", Calls.NATIVE, () -> Memory.fillAsync(device, (byte) 1, s.stream))
                            .expect(s.closed ? IllegalStateException.class : null);
                    case CLOSE_STREAM -> {
                        Calls.run("Stream.close", Calls.CLOSE, s.stream::close).get();
                        s.closed = s.stream != Stream.defaultStream();
                        assertEquals(s.closed, s.stream.isClosed());
                        Calls.call("Stream.handle", Calls.NATIVE, s.stream::handle)
                                .expect(s.closed ? IllegalStateException.class : null);
                    }
                    case CLOSE_EVENT -> {
                        Calls.run("Event.close", Calls.CLOSE, e.event::close).get();
                        e.closed = true;
                        assertTrue(e.event.isClosed());
                        Calls.call("Event.handle", Calls.NATIVE, e.event::handle).expect(IllegalStateException.class);
                    }
                    case DESCRIBE -> {
                        assertEquals(e.closed, e.event.toString().endsWith(", closed]"), e.event::toString);
                        assertEquals(s.closed, s.stream.toString().endsWith(", closed]"), s.stream::toString);
                    }
                }
            }
            Stream.defaultStream().synchronize();
        }
    }
}
