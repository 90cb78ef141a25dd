package io.github.hipffm.interop;

import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.HipException;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.fuzz.Gen;
import io.github.hipffm.testrt.LinuxFds;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzing {@link Memory}: allocations of every size (and the sizes that must be refused), segments of every kind
 * (device, pinned, host, mapped external memory, heap, slices of them), then random sequences of copies and fills,
 * synchronous and on streams, with byte counts at the edges, and segments released on the way. Each call's outcome
 * is predicted from the javadoc, and a byte model of every allocation must equal what the runtime holds at the end.
 */
@Tag("testrt")
class CopyFuzzTest {
    enum Kind { DEVICE, PINNED, HOST, MAPPED, HEAP }

    /**
     * One allocation, and the part of it the sequence uses.
     *
     * @param kind where it lives
     * @param size its size (may be one an allocation refuses)
     * @param sliceOffset the slice's offset, as a fraction of the size
     * @param sliceLength the slice's length, as a fraction of what is left (1: to the end)
     */
    record Alloc(Kind kind, long size, double sliceOffset, double sliceLength) {
    }

    enum OpKind { COPY, COPY_ALL, COPY_ASYNC, FILL, FILL_ASYNC, SYNCHRONIZE, RELEASE }

    record Op(OpKind kind, int dst, int src, FuzzGen.Pick bytes, byte value, int stream) {
    }

    record Case(List<Alloc> allocs, List<Boolean> nonBlocking, List<Op> ops) {
    }

    Gen<Case> cases() {
        Gen<Long> sizes = Gen.frequencyOf(Gen.w(12, FuzzGen.sizes(32 * 1024)),
                Gen.w(1, Gen.of(0L, -1L, Long.MIN_VALUE, 1L << 40, Long.MAX_VALUE)));
        Gen<Double> fractions = Gen.frequencyOf(Gen.w(3, Gen.of(0.0, 1.0)),
                Gen.w(2, Gen.doubles(0, 1, 3)));
        Gen<Alloc> allocs = Gen.combine(
                Gen.frequency(Gen.w(4, Kind.DEVICE), Gen.w(2, Kind.PINNED), Gen.w(2, Kind.HOST),
                        Gen.w(2, Kind.MAPPED), Gen.w(1, Kind.HEAP)),
                sizes, Gen.frequencyOf(Gen.w(3, Gen.just(0.0)), Gen.w(1, fractions)),
                Gen.frequencyOf(Gen.w(3, Gen.just(1.0)), Gen.w(1, fractions))).as(Alloc::new);
        Gen<Op> ops = Gen.combine(
                Gen.frequency(Gen.w(5, OpKind.COPY), Gen.w(2, OpKind.COPY_ALL), Gen.w(3, OpKind.COPY_ASYNC),
                        Gen.w(3, OpKind.FILL), Gen.w(2, OpKind.FILL_ASYNC), Gen.w(1, OpKind.SYNCHRONIZE),
                        Gen.w(1, OpKind.RELEASE)),
                Gen.ints(0, 4), Gen.ints(0, 4), FuzzGen.picks(),
                Gen.bytes(), Gen.ints(0, 2)).as(Op::new);
        return Gen.combine(allocs.list().ofMinSize(1).ofMaxSize(5),
                Gen.of(true, false).list().ofMinSize(1).ofMaxSize(2), ops.list().ofMaxSize(16)).as(Case::new);
    }

    /** One live allocation: its arena, the whole of it, the slice used, and what it holds. */
    private static final class Buffer {
        final Arena arena;
        final Kind kind;
        final MemorySegment whole;
        final MemorySegment slice;
        final long sliceOffset;
        final byte[] model;
        boolean released;

        Buffer(Arena arena, Kind kind, MemorySegment whole, long sliceOffset, long sliceLength) {
            this.arena = arena;
            this.kind = kind;
            this.whole = whole;
            this.sliceOffset = sliceOffset;
            this.slice = whole.asSlice(sliceOffset, sliceLength);
            this.model = new byte[(int) whole.byteSize()];
        }
    }

    @Test
    @FuzzHook.Cases(1200)
    void copiesAndFillsDoExactlyWhatTheModelSays() {
        FuzzHook.check(cases(), this::copiesAndFillsDoExactlyWhatTheModelSays);
    }

    private void copiesAndFillsDoExactlyWhatTheModelSays(Case c) {
        List<Buffer> buffers = new ArrayList<>();
        try (Arena streams = Arena.ofConfined()) {
            List<Stream> queues = new ArrayList<>();
            queues.add(Stream.defaultStream());
            for (boolean nonBlocking : c.nonBlocking) {
                queues.add(Stream.create(streams, nonBlocking));
            }
            for (Alloc a : c.allocs) {
                Buffer b = allocate(a, buffers.size());
                if (b != null) {
                    buffers.add(b);
                }
            }
            if (buffers.isEmpty()) {
                return;
            }
            for (Op op : c.ops) {
                apply(op, buffers, queues.get(op.stream % queues.size()));
            }
            Stream.defaultStream().synchronize();
            for (Stream q : queues) {
                q.synchronize();
            }
            for (int i = 0; i < buffers.size(); i++) {
                Buffer b = buffers.get(i);
                if (b.released) {
                    continue;
                }
                byte[] held = new byte[b.model.length];
                if (b.kind == Kind.HEAP || b.kind == Kind.HOST) {
                    MemorySegment.copy(b.whole, ValueLayout.JAVA_BYTE, 0, held, 0, held.length);
                } else {
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment host = a.allocate(held.length);
                        Memory.copy(host, b.whole);
                        MemorySegment.copy(host, ValueLayout.JAVA_BYTE, 0, held, 0, held.length);
                    }
                }
                assertEquals(-1, java.util.Arrays.mismatch(b.model, held), "first byte of buffer " + i + " (" + b.kind
                        + ") that differs from the model");
            }
        } finally {
            for (Buffer b : buffers) {
                if (!b.released) {
                    b.arena.close();
                }
            }
        }
    }

    /** {@return the allocation, filled with a pattern, or null when it was refused as documented} */
    private static Buffer allocate(Alloc a, int index) {
        Arena arena = Arena.ofConfined();
        boolean valid = a.size > 0;
        boolean tooLarge = a.size > 64L * 1024 * 1024;
        var made = switch (a.kind) {
            case DEVICE -> Calls.call("allocateDevice(" + a.size + ")", Calls.NATIVE, () -> Memory.allocateDevice(arena, a.size))
                    .expect(!valid ? IllegalArgumentException.class : tooLarge ? HipException.class : null);
            case PINNED -> Calls.call("allocatePinned(" + a.size + ")", Calls.NATIVE, () -> Memory.allocatePinned(arena, a.size))
                    .expect(!valid ? IllegalArgumentException.class : tooLarge ? HipException.class : null);
            default -> new Calls.Result<MemorySegment>("", null, valid && !tooLarge ? null : new IllegalArgumentException());
        };
        if (!made.ok()) {
            arena.close();
            return null;
        }
        MemorySegment whole = switch (a.kind) {
            case DEVICE, PINNED -> made.get();
            case HOST -> arena.allocate(a.size);
            case HEAP -> MemorySegment.ofArray(new byte[(int) a.size]);
            case MAPPED -> {
                int fd = LinuxFds.memfd("hipffm-fuzz-copy", a.size);
                yield ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, a.size)).mapBuffer();
            }
        };
        assertEquals(a.size, whole.byteSize());
        assertTrue(whole.isNative() == (a.kind != Kind.HEAP));
        long offset = (long) (a.sliceOffset * a.size);
        long length = (long) (a.sliceLength * (a.size - offset));
        Buffer b = new Buffer(arena, a.kind, whole, offset, length);
        for (int i = 0; i < b.model.length; i++) {
            b.model[i] = (byte) (i * 31 + index * 7 + 1);
        }
        if (a.kind == Kind.HOST || a.kind == Kind.HEAP) {
            MemorySegment.copy(b.model, 0, whole, ValueLayout.JAVA_BYTE, 0, b.model.length);
        } else {
            try (Arena temp = Arena.ofConfined()) {
                MemorySegment pattern = temp.allocate(b.model.length);
                MemorySegment.copy(b.model, 0, pattern, ValueLayout.JAVA_BYTE, 0, b.model.length);
                Memory.copy(whole, pattern);
            }
        }
        return b;
    }

    private static void apply(Op op, List<Buffer> buffers, Stream stream) {
        Buffer dst = buffers.get(op.dst % buffers.size());
        Buffer src = buffers.get(op.src % buffers.size());
        switch (op.kind) {
            case COPY, COPY_ALL, COPY_ASYNC -> {
                long bytes = op.kind == OpKind.COPY_ALL ? src.slice.byteSize() : op.bytes.of(src.slice.byteSize());
                if (dst.whole == src.whole && bytes > 0 && overlap(dst, src, bytes)) {
                    return;      // an overlapping copy is undefined in HIP and CUDA: not made
                }
                Class<? extends RuntimeException> expected = dst.kind == Kind.HEAP || src.kind == Kind.HEAP
                        || bytes < 0 || bytes > src.slice.byteSize() || bytes > dst.slice.byteSize()
                        ? IllegalArgumentException.class
                        : dst.released || src.released || (op.kind == OpKind.COPY_ASYNC && stream.isClosed())
                        ? IllegalStateException.class : null;
                var result = switch (op.kind) {
                    case COPY -> Calls.run("copy(" + bytes + ")", Calls.NATIVE, () -> Memory.copy(dst.slice, src.slice, bytes));
                    case COPY_ALL -> Calls.run("copy", Calls.NATIVE, () -> Memory.copy(dst.slice, src.slice));
                    default -> Calls.run("copyAsync(" + bytes + ")", Calls.NATIVE,
                            () -> Memory.copyAsync(dst.slice, src.slice, bytes, stream));
                };
                result.expect(expected);
                if (expected == null) {
                    System.arraycopy(src.model, (int) src.sliceOffset, dst.model, (int) dst.sliceOffset, (int) bytes);
                }
            }
            case FILL, FILL_ASYNC -> {
                Class<? extends RuntimeException> expected = dst.kind == Kind.HEAP ? IllegalArgumentException.class
                        : dst.released ? IllegalStateException.class : null;
                var result = op.kind == OpKind.FILL
                        ? Calls.run("fill", Calls.NATIVE, () -> Memory.fill(dst.slice, op.value))
                        : Calls.run("fillAsync", Calls.NATIVE, () -> Memory.fillAsync(dst.slice, op.value, stream));
                result.expect(expected);
                if (expected == null) {
                    java.util.Arrays.fill(dst.model, (int) dst.sliceOffset, (int) (dst.sliceOffset + dst.slice.byteSize()),
                            op.value);
                }
            }
            case SYNCHRONIZE -> Calls.run("synchronize", Calls.NATIVE, stream::synchronize).get();
            case RELEASE -> {
                if (!dst.released) {
                    dst.arena.close();
                    dst.released = true;
                    assertTrue(dst.kind == Kind.HEAP || !dst.slice.scope().isAlive());
                }
            }
        }
    }

    /** {@return whether {@code bytes} at the start of both slices of one allocation overlap} */
    private static boolean overlap(Buffer dst, Buffer src, long bytes) {
        return dst.sliceOffset < src.sliceOffset + bytes && src.sliceOffset < dst.sliceOffset + bytes;
    }
}
