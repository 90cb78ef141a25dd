package io.github.hipffm.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Per-thread native scratch memory for the out-parameters and small structs of hot calls, so that they allocate
 * nothing per call (no arena, no segment). Each thread gets fixed slices once; a slice is only used between
 * the start and the end of one backend call, and backend calls do not nest.
 */
final class Scratch {
    private static final ThreadLocal<Scratch> CURRENT = ThreadLocal.withInitial(Scratch::new);

    /** 8 bytes for an int or a pointer out-parameter. */
    final MemorySegment out;
    /** One pointer: a handle array of length 1. */
    final MemorySegment handle;
    /** Room for one semaphore signal or wait params struct (both are well under 256 bytes). */
    final MemorySegment params;

    private Scratch() {
        MemorySegment all = Arena.ofAuto().allocate(512, 64);
        out = all.asSlice(0, 8);
        handle = all.asSlice(64, 8);
        params = all.asSlice(128, 256);
    }

    /** Grown on demand for batch calls: the handle array and the params structs of one call. */
    private MemorySegment batch = MemorySegment.NULL;

    /**
     * {@return this thread's batch scratch, at least {@code bytes} long, its first {@code bytes} zeroed} It is
     * allocated again (and the old one left to the GC) only when a batch is bigger than any before on this thread.
     * The segment itself is returned, not a slice, so that no object is made per call even where the caller does
     * not inline this.
     * @param bytes how many bytes the call needs, a multiple of 8
     */
    MemorySegment batch(long bytes) {
        if (batch.byteSize() < bytes) {
            batch = Arena.ofAuto().allocate(Math.max(bytes, 2048), 64);
        }
        MemorySegment b = batch;
        for (long offset = 0; offset < bytes; offset += 8) {
            b.set(java.lang.foreign.ValueLayout.JAVA_LONG, offset, 0);
        }
        return b;
    }

    static Scratch get() {
        return CURRENT.get();
    }
}
