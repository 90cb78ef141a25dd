package io.github.hipffm.fuzz;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The property engine itself (pure Java): generation is a function of the choices, failures shrink. */
class PropertyTest {
    private static int sum(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).sum();
    }

    @Test
    void aFalsePropertyFailsAndShrinksToAMinimalCounterexample() {
        Gen<List<Integer>> lists = Gen.ints(0, 1000).list().ofMaxSize(10);
        Property<List<Integer>> p = new Property<>("sumsBelow100", 100, lists,
                l -> assertTrue(sum(l) < 100, "sum " + sum(l)));
        AssertionError e = assertThrows(AssertionError.class, () -> p.run(42));
        // The simplest failing list: one element, the smallest that fails.
        assertTrue(e.getMessage().contains("): [100]\n"), e.getMessage());
        assertTrue(e.getMessage().contains("seed 42"), e.getMessage());
        assertTrue(e.getMessage().contains("its failure: org.opentest4j.AssertionFailedError: sum 100"), e.getMessage());
        assertInstanceOf(AssertionError.class, e.getCause());    // the original failure
    }

    @Test
    void anyExceptionIsAFailureAndShrinksToo() {
        Gen<List<Integer>> pairs = Gen.combine(Gen.ints(-50, 50), Gen.ints(0, 9)).as(List::of);
        Property<List<Integer>> p = new Property<>("noDivisionByZero", 200, pairs, v -> {
            if (v.get(0) / v.get(1) > 1_000) {
                throw new AssertionError();
            }
        });
        AssertionError e = assertThrows(AssertionError.class, () -> p.run(7));
        assertInstanceOf(ArithmeticException.class, e.getCause());
        assertTrue(e.getMessage().contains("shrunk (0 choices") && e.getMessage().contains("): [0, 0]\n"),
                e.getMessage());
    }

    @Test
    void aTruePropertyChecksEveryCase() {
        List<Long> seen = new ArrayList<>();
        new Property<>("inRange", 500, Gen.longs(-3, 5), v -> {
            seen.add(v);
            assertTrue(v >= -3 && v <= 5);
        }).run(1);
        assertEquals(500, seen.size());
        assertTrue(seen.contains(-3L) && seen.contains(5L));
    }

    @Test
    void generationIsAFunctionOfTheChoices() {
        Gen<List<String>> gen = Gen.frequencyOf(Gen.w(3, Gen.of("a", "b")), Gen.w(1, Gen.just("c")))
                .list().ofMinSize(1).ofMaxSize(5);
        Choices random = Choices.random(Property.caseSeed(99, 3));
        List<String> value = gen.generate(random);
        Choices replay = Choices.replay(random.drawn());
        assertEquals(value, gen.generate(replay));
        assertArrayEquals(random.drawn(), replay.drawn());
        // Zeros (and past the end): the simplest values.
        assertEquals(List.of("a"), gen.generate(Choices.replay(new long[0])));
        assertEquals(0L, Gen.longs(-5, 5).generate(Choices.replay(new long[0])));
        assertEquals(-1L, Gen.longs(-5, -1).generate(Choices.replay(new long[0])));
        assertEquals(3L, Gen.longs(3, 9).generate(Choices.replay(new long[0])));
    }

    @Test
    void signedRangesCoverEveryValueOnce() {
        for (long[] r : new long[][] {{-3, 5}, {-5, 3}, {-2, 2}, {-1, 0}, {0, 4}, {-4, -1}}) {
            List<Long> values = new ArrayList<>();
            for (long z = 0; z <= r[1] - r[0]; z++) {
                values.add(Gen.longs(r[0], r[1]).generate(Choices.replay(new long[] {z})));
            }
            assertEquals(r[1] - r[0] + 1, values.stream().distinct().filter(v -> v >= r[0] && v <= r[1]).count(),
                    values.toString());
        }
        assertEquals(Integer.MIN_VALUE, Gen.ints().generate(Choices.replay(new long[] {0xFFFF_FFFFL})));
        assertEquals(Integer.MAX_VALUE, Gen.ints().generate(Choices.replay(new long[] {0xFFFF_FFFEL - 1})));
    }
}
