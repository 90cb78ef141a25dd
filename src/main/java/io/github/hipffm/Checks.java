package io.github.hipffm;

import java.lang.foreign.MemorySegment;

/** Argument checks with messages that name the bad value; all throw {@link IllegalArgumentException}. */
final class Checks {
    private Checks() {
    }

    static <T> T notNull(T value, String name) {
        if (value == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        return value;
    }

    /** A segment that native code can be given: non-null and off-heap. */
    static MemorySegment nativeSegment(MemorySegment segment, String name) {
        notNull(segment, name);
        if (!segment.isNative()) {
            throw new IllegalArgumentException(name + " is a heap segment; the runtime needs native memory"
                    + " (allocate it in an Arena, or use Memory.allocatePinned for fast copies)");
        }
        return segment;
    }

    /** {@code offset} and {@code size} describe a range inside {@code [0, limit)} with {@code size > 0}. */
    static void range(long offset, long size, long limit, String what) {
        if (offset < 0) {
            throw new IllegalArgumentException(what + " offset must be >= 0, got " + offset);
        }
        if (size <= 0) {
            throw new IllegalArgumentException(what + " size must be > 0, got " + size);
        }
        if (offset > limit || size > limit - offset) {
            throw new IllegalArgumentException(what + " [offset " + offset + ", size " + size + "] exceeds the "
                    + limit + " bytes available");
        }
    }
}
