package io.github.hipffm.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Per-thread native scratch memory for the out-parameters and small structs of hot calls, so that they allocate
 * nothing per call (no arena, no segment). Each thread gets fixed slices once; a slice is only used between
 * the start and the end of one backend call (or one {@link Posix} call), and those calls do not nest.
 */
final class Scratch {
    private static final ThreadLocal<Scratch> CURRENT = ThreadLocal.withInitial(Scratch::new);

    /** 8 bytes for an int or a pointer out-parameter. */
    final MemorySegment out;
    /** One pointer: a handle array of length 1. */
    final MemorySegment handle;
    /** Room for one semaphore signal or wait params struct (both are well under 256 bytes). */
    final MemorySegment params;
    /** A {@code struct stat} for {@link Posix#stat}. */
    final MemorySegment stat;
    /** The {@code errno} capture state of one {@link Posix} call. */
    final MemorySegment callState;

    private Scratch() {
        MemorySegment all = Arena.ofAuto().allocate(640, 64);
        out = all.asSlice(0, 8);
        handle = all.asSlice(64, 8);
        params = all.asSlice(128, 256);
        stat = all.asSlice(384, Posix.STAT.byteSize());
        callState = all.asSlice(576, Posix.callStateSize());
    }

    /** Grown on demand for batch calls: the handle array and the params structs of one call. */
    private MemorySegment batchHandles = MemorySegment.NULL;
    private MemorySegment batchParams = MemorySegment.NULL;

    /**
     * {@return this thread's batch handle array, at least {@code bytes} long, its first {@code bytes} zeroed}
     * Whole segments, not slices, are returned, so that a batch call makes no segment even where the JIT does
     * not inline this; a segment is allocated again (the old one left to the GC) only when a batch is bigger than
     * any before on this thread.
     * @param bytes how many bytes the call needs, a multiple of 8
     */
    MemorySegment batchHandles(long bytes) {
        if (batchHandles.byteSize() < bytes) {
            batchHandles = Arena.ofAuto().allocate(Math.max(bytes, 256), 64);
        }
        return zeroed(batchHandles, bytes);
    }

    /**
     * {@return this thread's batch params block, as {@link #batchHandles}}
     * @param bytes a multiple of 8
     */
    MemorySegment batchParams(long bytes) {
        if (batchParams.byteSize() < bytes) {
            batchParams = Arena.ofAuto().allocate(Math.max(bytes, 2048), 64);
        }
        return zeroed(batchParams, bytes);
    }

    /**
     * {@return {@link #params}, its first {@code bytes} zeroed: room for one small descriptor struct of a call}
     * @param bytes the struct's size, at most 256
     */
    MemorySegment params(long bytes) {
        return zeroed(params, (bytes + 7) & ~7L);
    }

    /** {@return the batch handle array as last filled} */
    MemorySegment batchHandles() {
        return batchHandles;
    }

    /** {@return the batch params block as last filled} */
    MemorySegment batchParams() {
        return batchParams;
    }

    private static MemorySegment zeroed(MemorySegment segment, long bytes) {
        for (long offset = 0; offset < bytes; offset += 8) {
            segment.set(java.lang.foreign.ValueLayout.JAVA_LONG, offset, 0);
        }
        return segment;
    }

    static Scratch get() {
        return CURRENT.get();
    }
}
