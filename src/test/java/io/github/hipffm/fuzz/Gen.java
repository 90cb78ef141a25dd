package io.github.hipffm.fuzz;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A generator of values of {@code T}: a pure function of a {@link Choices} sequence. The factories and combinators
 * here are what the fuzzing properties need; each maps the choice 0 to its simplest value, so that shrinking the
 * sequence towards zeros (and fewer choices) shrinks the value.
 *
 * @param <T> what it generates
 */
@FunctionalInterface
public interface Gen<T> {
    /** Tries of {@link #filter}, at most, per value. */
    int FILTER_TRIES = 100;

    /**
     * {@return a value, drawn from {@code c}}
     * @param c the choices to draw from
     */
    T generate(Choices c);

    default <R> Gen<R> map(Function<? super T, ? extends R> f) {
        return c -> f.apply(generate(c));
    }

    /** {@return a generator that generates a value, then one of the generator {@code f} makes of it} */
    default <R> Gen<R> flatMap(Function<? super T, ? extends Gen<? extends R>> f) {
        return c -> f.apply(generate(c)).generate(c);
    }

    /** {@return the values that pass {@code p}: at most {@link #FILTER_TRIES} tries, then IllegalStateException} */
    default Gen<T> filter(Predicate<? super T> p) {
        return c -> {
            for (int i = 0; i < FILTER_TRIES; i++) {
                T v = generate(c);
                if (p.test(v)) {
                    return v;
                }
            }
            throw new IllegalStateException("filter: no value passed in " + FILTER_TRIES + " tries");
        };
    }

    /** {@return lists of these values, 0 to 32 long unless {@link Lists#ofMinSize} and the others say otherwise} */
    default Lists<T> list() {
        return new Lists<>(this, 0, 32);
    }

    /** {@return always {@code v}, drawing nothing} */
    static <T> Gen<T> just(T v) {
        return c -> v;
    }

    /** {@return longs in {@code [min, max]}, uniform; simplest: the value nearest 0 (then 1, -1, 2, -2, ... when 0 is in range)} */
    static Gen<Long> longs(long min, long max) {
        if (min > max || max - min < 0) {
            throw new IllegalArgumentException("[" + min + ", " + max + "]");
        }
        return c -> {
            long z = c.draw(max - min);
            if (min >= 0) {
                return min + z;
            }
            if (max <= 0) {
                return max - z;
            }
            long k = Math.min(-min, max);   // 0, 1, -1, ..., k, -k, then the longer side
            if (z <= 2 * k) {
                return (z & 1) == 1 ? (z + 1) / 2 : -(z / 2);
            }
            return max > k ? z - k : -(z - k);
        };
    }

    /** {@return ints in {@code [min, max]}, as {@link #longs}} */
    static Gen<Integer> ints(int min, int max) {
        return longs(min, max).map(Long::intValue);
    }

    /** {@return any int, 0 the simplest} */
    static Gen<Integer> ints() {
        return ints(Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    /** {@return any byte, 0 the simplest} */
    static Gen<Byte> bytes() {
        return longs(Byte.MIN_VALUE, Byte.MAX_VALUE).map(Long::byteValue);
    }

    /** {@return false or true, false the simplest} */
    static Gen<Boolean> booleans() {
        return of(false, true);
    }

    /** {@return doubles in {@code [min, max]} with {@code scale} decimals} */
    static Gen<Double> doubles(double min, double max, int scale) {
        double unit = Math.pow(10, scale);
        return longs(0, Math.round((max - min) * unit)).map(v -> Math.min(max, min + v / unit));
    }

    /** {@return one of {@code values}, uniform; the first the simplest} */
    @SafeVarargs
    static <T> Gen<T> of(T... values) {
        List<T> list = new ArrayList<>();
        for (T v : values) {     // not List.of(values): the array stays here (and nulls are values too)
            list.add(v);
        }
        return of(list);
    }

    /** {@return one of {@code values}} */
    static <T> Gen<T> of(List<? extends T> values) {
        List<? extends T> copy = new ArrayList<>(values);
        return c -> copy.get((int) c.draw(copy.size() - 1));
    }

    /** {@return a constant of the enum {@code type}} */
    static <E extends Enum<E>> Gen<E> of(Class<E> type) {
        return of(type.getEnumConstants());
    }

    /** {@return a value of one of {@code gens}, each as likely} */
    @SafeVarargs
    static <T> Gen<T> oneOf(Gen<? extends T>... gens) {
        List<Gen<? extends T>> list = new ArrayList<>();
        for (Gen<? extends T> g : gens) {
            list.add(g);
        }
        return c -> list.get((int) c.draw(list.size() - 1)).generate(c);
    }

    /** A value or generator with its weight, for {@link #frequency} and {@link #frequencyOf}. */
    record Weighted<T>(int weight, T value) {
    }

    /** {@return {@code value} with {@code weight}} */
    static <T> Weighted<T> w(int weight, T value) {
        return new Weighted<>(weight, value);
    }

    /** {@return one of the values, as likely as its weight; the first the simplest} */
    @SafeVarargs
    static <T> Gen<T> frequency(Weighted<? extends T>... values) {
        List<Weighted<? extends T>> list = new ArrayList<>();
        for (Weighted<? extends T> v : values) {
            list.add(v);
        }
        return frequency(list);
    }

    /** {@return one of the values, as likely as its weight} */
    static <T> Gen<T> frequency(List<? extends Weighted<? extends T>> list) {
        if (list.stream().anyMatch(v -> v.weight() < 0) || list.stream().mapToLong(Weighted::weight).sum() < 1) {
            throw new IllegalArgumentException("weights " + list);
        }
        List<? extends Weighted<? extends T>> copy = List.copyOf(list);
        long total = copy.stream().mapToLong(Weighted::weight).sum();
        return c -> {
            long x = c.draw(total - 1);
            for (Weighted<? extends T> v : copy) {
                x -= v.weight();
                if (x < 0) {
                    return v.value();
                }
            }
            throw new AssertionError();
        };
    }

    /** {@return a value of one of the generators, each as likely as its weight} */
    @SafeVarargs
    static <T> Gen<T> frequencyOf(Weighted<? extends Gen<? extends T>>... gens) {
        List<Weighted<? extends Gen<? extends T>>> list = new ArrayList<>();
        for (Weighted<? extends Gen<? extends T>> g : gens) {
            list.add(g);
        }
        Gen<Gen<? extends T>> which = frequency(list);
        return c -> which.generate(c).generate(c);
    }

    /** {@return subsets of {@code values}, each value in or out as likely; empty the simplest} */
    @SafeVarargs
    static <T> Gen<Set<T>> subsetOf(T... values) {
        return c -> {
            Set<T> set = new LinkedHashSet<>();
            for (T v : values) {
                if (c.draw(1) == 1) {
                    set.add(v);
                }
            }
            return set;
        };
    }

    /** Lists of a generator's values, sized uniformly in {@code [min, max]} (the size drawn first). */
    record Lists<T>(Gen<T> element, int min, int max) implements Gen<List<T>> {
        public Lists<T> ofMinSize(int n) {
            return new Lists<>(element, n, Math.max(n, max));
        }

        public Lists<T> ofMaxSize(int n) {
            return new Lists<>(element, Math.min(min, n), n);
        }

        public Lists<T> ofSize(int n) {
            return new Lists<>(element, n, n);
        }

        @Override
        public List<T> generate(Choices c) {
            int n = min + (int) c.draw(max - min);
            List<T> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(element.generate(c));
            }
            return list;
        }
    }

    /** {@return the values of 2 to 8 generators (drawn in order), to combine with {@code as}} */
    static <A, B> C2<A, B> combine(Gen<A> a, Gen<B> b) {
        return new C2<>(a, b);
    }

    static <A, B, C> C3<A, B, C> combine(Gen<A> a, Gen<B> b, Gen<C> c) {
        return new C3<>(a, b, c);
    }

    static <A, B, C, D> C4<A, B, C, D> combine(Gen<A> a, Gen<B> b, Gen<C> c, Gen<D> d) {
        return new C4<>(a, b, c, d);
    }

    static <A, B, C, D, E> C5<A, B, C, D, E> combine(Gen<A> a, Gen<B> b, Gen<C> c, Gen<D> d, Gen<E> e) {
        return new C5<>(a, b, c, d, e);
    }

    static <A, B, C, D, E, F> C6<A, B, C, D, E, F> combine(Gen<A> a, Gen<B> b, Gen<C> c, Gen<D> d, Gen<E> e,
            Gen<F> f) {
        return new C6<>(a, b, c, d, e, f);
    }

    static <A, B, C, D, E, F, G, H> C8<A, B, C, D, E, F, G, H> combine(Gen<A> a, Gen<B> b, Gen<C> c, Gen<D> d,
            Gen<E> e, Gen<F> f, Gen<G> g, Gen<H> h) {
        return new C8<>(a, b, c, d, e, f, g, h);
    }

    record C2<A, B>(Gen<A> a, Gen<B> b) {
        public <R> Gen<R> as(BiFunction<? super A, ? super B, ? extends R> f) {
            return x -> f.apply(a.generate(x), b.generate(x));
        }
    }

    record C3<A, B, C>(Gen<A> a, Gen<B> b, Gen<C> c) {
        public interface F<A, B, C, R> { R apply(A a, B b, C c); }

        public <R> Gen<R> as(F<? super A, ? super B, ? super C, ? extends R> f) {
            return x -> f.apply(a.generate(x), b.generate(x), c.generate(x));
        }
    }

    record C4<A, B, C, D>(Gen<A> a, Gen<B> b, Gen<C> c, Gen<D> d) {
        public interface F<A, B, C, D, R> { R apply(A a, B b, C c, D d); }

        public <R> Gen<R> as(F<? super A, ? super B, ? super C, ? super D, ? extends R> f) {
            return x -> f.apply(a.generate(x), b.generate(x), c.generate(x), d.generate(x));
        }
    }

    record C5<A, B, C, D, E>(Gen<A> a, Gen<B> b, Gen<C> c, Gen<D> d, Gen<E> e) {
        public interface F<A, B, C, D, E, R> { R apply(A a, B b, C c, D d, E e); }

        public <R> Gen<R> as(F<? super A, ? super B, ? super C, ? super D, ? super E, ? extends R> f) {
            return x -> f.apply(a.generate(x), b.generate(x), c.generate(x), d.generate(x), e.generate(x));
        }
    }

    record C6<A, B, C, D, E, F>(Gen<A> a, Gen<B> b, Gen<C> c, Gen<D> d, Gen<E> e, Gen<F> f) {
        public interface Fn<A, B, C, D, E, F, R> { R apply(A a, B b, C c, D d, E e, F f); }

        public <R> Gen<R> as(Fn<? super A, ? super B, ? super C, ? super D, ? super E, ? super F, ? extends R> fn) {
            return x -> fn.apply(a.generate(x), b.generate(x), c.generate(x), d.generate(x), e.generate(x),
                    f.generate(x));
        }
    }

    record C8<A, B, C, D, E, F, G, H>(Gen<A> a, Gen<B> b, Gen<C> c, Gen<D> d, Gen<E> e, Gen<F> f, Gen<G> g,
            Gen<H> h) {
        public interface Fn<A, B, C, D, E, F, G, H, R> { R apply(A a, B b, C c, D d, E e, F f, G g, H h); }

        public <R> Gen<R> as(Fn<? super A, ? super B, ? super C, ? super D, ? super E, ? super F, ? super G,
                ? super H, ? extends R> fn) {
            return x -> fn.apply(a.generate(x), b.generate(x), c.generate(x), d.generate(x), e.generate(x),
                    f.generate(x), g.generate(x), h.generate(x));
        }
    }
}
