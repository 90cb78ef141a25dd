package io.github.hipffm.fuzz;

import java.util.Arrays;

/**
 * A property: {@code cases} values of {@code gen}, each given to {@code check}, which fails by throwing (an
 * {@link AssertionError} or any other exception).
 *
 * <p>{@link #run(long)} generates case {@code i} from its own seed, derived from the run's seed and {@code i}, so a
 * failure is replayed by the same seed. A failing case is then <em>shrunk</em>: its {@link Choices} sequence is
 * simplified (cut to its shortest failing prefix, single choices lowered towards 0 by binary search, chunks of
 * choices deleted or zeroed) and the value regenerated from it and checked again; a simpler sequence (shorter, or
 * as long and lexicographically smaller; trailing zeros, which replay as the end of the sequence, do not count)
 * that still fails (any failure) replaces it, until no step helps or the budget ({@link #SHRINK_ATTEMPTS} checks,
 * {@link #SHRINK_NANOS}) is spent. The {@link AssertionError} thrown then names the property, the seed, the case,
 * the shrunk value and its failure; its cause is the original failure.
 *
 * @param name the property's name, for messages
 * @param cases how many values to check
 * @param gen the values
 * @param check the property itself
 * @param <T> the values' type
 */
public record Property<T>(String name, int cases, Gen<T> gen, Check<? super T> check) {
    /** Checks that shrinking may run, at most. */
    public static final int SHRINK_ATTEMPTS = 500;
    /** Time that shrinking may take, at most. */
    public static final long SHRINK_NANOS = 20_000_000_000L;

    /** A property's check: it fails by throwing. */
    @FunctionalInterface
    public interface Check<T> {
        void accept(T value) throws Exception;
    }

    /** {@return the seed of case {@code index} of a run from {@code seed} (SplitMix64's finalizer)} */
    public static long caseSeed(long seed, int index) {
        long z = seed + (index + 1L) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Checks every case, from {@code seed}.
     *
     * @param seed the run's seed
     * @throws AssertionError when a case fails, after shrinking it
     */
    public void run(long seed) {
        for (int i = 0; i < cases; i++) {
            Choices choices = Choices.random(caseSeed(seed, i));
            T value = gen.generate(choices);
            Throwable failure = failure(value);
            if (failure != null) {
                fail(seed, i, canonical(choices.drawn()), String.valueOf(value), failure);
            }
        }
    }

    /** {@return what {@code check} threw for {@code value}, or null} */
    private Throwable failure(T value) {
        try {
            check.accept(value);
            return null;
        } catch (Exception | AssertionError e) {
            return e;
        }
    }

    /** A failing sequence, its failure. */
    private record Failing(long[] choices, Throwable failure) {
    }

    private void fail(long seed, int index, long[] original, String originalValue, Throwable originalFailure) {
        Shrinker s = new Shrinker(new Failing(original, originalFailure));
        s.shrink();
        String shrunk = String.valueOf(gen.generate(Choices.replay(s.best.choices)));
        AssertionError e = new AssertionError(String.format(
                "%s: case %d of %d failed (seed %d; rerun with -Dhipffm.fuzz.seed=%d)%n"
                + "  shrunk (%d choices, from %d, in %d checks): %s%n  its failure: %s%n  original case: %s",
                name, index, cases, seed, seed, s.best.choices.length, original.length, s.attempts, shrunk,
                s.best.failure, originalValue), originalFailure);
        if (s.best.failure != originalFailure) {
            e.addSuppressed(s.best.failure);
        }
        throw e;
    }

    /** Shrinks a failing sequence, keeping the simplest that still fails. */
    private final class Shrinker {
        Failing best;
        int attempts;
        final long deadline = System.nanoTime() + SHRINK_NANOS;

        Shrinker(Failing failing) {
            best = failing;
        }

        boolean budgetLeft() {
            return attempts < SHRINK_ATTEMPTS && System.nanoTime() - deadline < 0;
        }

        void shrink() {
            boolean improved = true;
            while (improved && budgetLeft()) {
                improved = truncate();
                for (int i = 0; i < best.choices.length && budgetLeft(); i++) {   // lower one choice
                    improved |= lower(i);
                }
                for (int k : new int[] {8, 4, 2, 1}) {     // delete k choices (an element, a tail), else zero them
                    for (int i = best.choices.length - k; i >= 0 && budgetLeft(); i--) {
                        if (i + k <= best.choices.length) {
                            long[] c = best.choices;
                            long[] candidate = new long[c.length - k];
                            System.arraycopy(c, 0, candidate, 0, i);
                            System.arraycopy(c, i + k, candidate, i, c.length - i - k);
                            if (tryReplace(candidate)) {
                                improved = true;
                            } else if (k > 1 && Arrays.stream(c, i, i + k).anyMatch(v -> v != 0)) {
                                long[] zeroed = c.clone();
                                Arrays.fill(zeroed, i, i + k, 0);
                                improved |= tryReplace(zeroed);
                            }
                        }
                    }
                }
            }
        }

        /** {@return whether a shorter prefix of the best sequence (the rest: zeros) still fails} */
        boolean truncate() {
            int lo = -1;                     // the longest prefix known to pass
            int hi = best.choices.length;    // the shortest known to fail
            boolean improved = false;
            while (hi - lo > 1 && budgetLeft()) {
                int mid = lo + (hi - lo) / 2;
                if (tryReplace(Arrays.copyOf(best.choices, mid))) {
                    improved = true;
                    hi = Math.min(mid, best.choices.length);
                } else {
                    lo = mid;
                }
            }
            return improved;
        }

        /** {@return whether choice {@code i} was lowered: to 0, else by binary search} */
        boolean lower(int i) {
            long lo = -1;                    // the largest value known to pass (-1: none)
            long hi = best.choices[i];
            boolean improved = false;
            while (hi - lo > 1 && budgetLeft()) {
                long mid = lo == -1 ? 0 : lo + (hi - lo) / 2;
                long[] candidate = best.choices.clone();
                candidate[i] = mid;
                if (tryReplace(candidate)) {
                    improved = true;
                    if (i >= best.choices.length) {
                        break;
                    }
                    hi = best.choices[i];
                } else {
                    lo = mid;
                }
            }
            return improved;
        }

        /** {@return whether {@code candidate} still fails and is simpler than the best, which it then replaces} */
        boolean tryReplace(long[] candidate) {
            attempts++;
            Choices choices = Choices.replay(candidate);
            T value;
            try {
                value = gen.generate(choices);
            } catch (RuntimeException e) {
                return false;                    // not a value (a filter that found none): not a case
            }
            long[] used = canonical(choices.drawn());
            if (!simpler(used, best.choices)) {
                return false;
            }
            Throwable failure = failure(value);
            if (failure == null) {
                return false;
            }
            best = new Failing(used, failure);
            return true;
        }
    }

    /** {@return {@code choices} without its trailing zeros: the same case, replayed} */
    static long[] canonical(long[] choices) {
        int n = choices.length;
        while (n > 0 && choices[n - 1] == 0) {
            n--;
        }
        return Arrays.copyOf(choices, n);
    }

    /** {@return whether {@code a} comes before {@code b}: shorter, or as long and lexicographically smaller} */
    static boolean simpler(long[] a, long[] b) {
        return a.length != b.length ? a.length < b.length : Arrays.compare(a, b) < 0;
    }
}
