package io.github.hipffm.fuzz;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The choice sequence a {@link Gen} draws from (as in Hypothesis): every random decision of a generator is one
 * {@link #draw(long)} of a number in {@code [0, max]}, and the numbers drawn are recorded. Generation is a pure
 * function of that sequence, so a failing case is replayed from it, and shrunk by simplifying it: fewer numbers,
 * smaller numbers. Generators map 0 to their simplest value (a range's value nearest 0; the
 * first of {@link Gen#of}; a list's smallest size).
 *
 * <p>A sequence is either random (a new case: numbers from a seeded {@link SplittableRandom}) or replayed (a case
 * being shrunk: the numbers of a given sequence, each clamped to its draw's {@code max}; past its end, 0).
 */
public final class Choices {
    /** Draws in one case, at most: a generator that draws more is broken. */
    static final int MAX_DRAWS = 1_000_000;

    private final SplittableRandom random;
    private final long[] replay;
    private long[] drawn = new long[32];
    private int size;

    private Choices(SplittableRandom random, long[] replay) {
        this.random = random;
        this.replay = replay;
    }

    /** {@return a random sequence from {@code seed}} */
    public static Choices random(long seed) {
        return new Choices(new SplittableRandom(seed), null);
    }

    /** {@return the sequence {@code choices}, then zeros} */
    public static Choices replay(long[] choices) {
        return new Choices(null, choices.clone());
    }

    /**
     * {@return the next choice, in {@code [0, max]}}
     * @param max the largest choice, at least 0
     */
    public long draw(long max) {
        if (max < 0) {
            throw new IllegalArgumentException("max " + max);
        }
        if (size == MAX_DRAWS) {
            throw new IllegalStateException("more than " + MAX_DRAWS + " draws in one case");
        }
        long v;
        if (random != null) {
            v = max == Long.MAX_VALUE ? random.nextLong() & Long.MAX_VALUE : random.nextLong(max + 1);
        } else {
            v = size < replay.length ? Math.min(Math.max(replay[size], 0), max) : 0;
        }
        if (size == drawn.length) {
            drawn = Arrays.copyOf(drawn, size * 2);
        }
        drawn[size++] = v;
        return v;
    }

    /** {@return the choices drawn so far} */
    public long[] drawn() {
        return Arrays.copyOf(drawn, size);
    }
}
