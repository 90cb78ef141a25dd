package io.github.hipffm.interop;

import io.github.hipffm.Hip;
import io.github.hipffm.fuzz.Gen;
import io.github.hipffm.fuzz.Property;
import io.github.hipffm.testrt.CapturedLog;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.TestRuntime;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The fuzzing properties' frame: each property is a JUnit {@code @Test} method annotated {@link Cases} that calls
 * {@link #check(Gen, Property.Check)}, which runs it on the in-house engine ({@link Property}) with
 *
 * <ul>
 *   <li>a fixed seed unless {@code -Dhipffm.fuzz.seed=N} (or {@code =random}) says otherwise, so that CI runs
 *       the same cases every time and a failure can be replayed; a failure prints the seed, the case, and the
 *       shrunk and the original value;</li>
 *   <li>the cases of {@link Cases} times {@code -Dhipffm.fuzz.scale=K} (default 1);</li>
 *   <li>in every case, as part of its check (so that shrinking sees it too), the leak check of
 *       {@link io.github.hipffm.testrt.NoLeaks}: the runtime reset before, then after: as many live objects in the
 *       runtime (none, unless a test before leaked) and as many open fds as before, and nothing logged by hip-ffm
 *       (a logged warning is a release that failed);</li>
 *   <li>one line per property in the build output: its cases, seed, platform and time.</li>
 * </ul>
 *
 * The fuzz classes ({@link #CLASSES}) together run at least {@link #MIN_CASES} cases per test-runtime execution
 * ({@code FuzzBudgetTest} checks their annotations).
 */
public final class FuzzHook {
    /** The seed of every property, unless {@code -Dhipffm.fuzz.seed} gives another (or {@code random}). */
    static final String DEFAULT_SEED = "20261201";
    /** Cases the fuzz classes run together, at least, per execution. */
    static final int MIN_CASES = 10_000;
    /** Every fuzz class: their cases together must reach {@link #MIN_CASES}. */
    static final List<Class<?>> CLASSES = List.of(MemoryImportFuzzTest.class, MappingFuzzTest.class,
            SemaphoreFuzzTest.class, CopyFuzzTest.class, KernelFuzzTest.class, StreamEventFuzzTest.class,
            GlFuzzTest.class, NullAndClosedFuzzTest.class, SequenceFuzzTest.class);

    /** The cases of a property: on its {@code @Test} method, which calls {@link #check(Gen, Property.Check)}. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    @interface Cases {
        int value();
    }

    private FuzzHook() {
    }

    /** {@return the cases the fuzz classes declare together} */
    static long declaredCases() {
        long total = 0;
        for (Class<?> c : CLASSES) {
            for (Method m : c.getDeclaredMethods()) {
                Cases cases = m.getAnnotation(Cases.class);
                if (cases != null) {
                    total += cases.value();
                }
            }
        }
        return total;
    }

    /** {@return the seed of this run} */
    static long seed() {
        String seed = System.getProperty("hipffm.fuzz.seed", DEFAULT_SEED).trim();
        return seed.isEmpty() || seed.equalsIgnoreCase("random") ? ThreadLocalRandom.current().nextLong()
                : Long.parseLong(seed);
    }

    private static int scale() {
        return Math.max(1, Integer.getInteger("hipffm.fuzz.scale", 1));
    }

    /**
     * Runs the property of the calling {@code @Test} method: its {@link Cases} (times the scale) values of
     * {@code gen}, each checked by {@code check} and the leak check.
     *
     * @param gen the cases
     * @param check the property
     * @param <T> the cases' type
     * @throws AssertionError when a case fails (after shrinking it)
     */
    static <T> void check(Gen<T> gen, Property.Check<? super T> check) {
        StackWalker.StackFrame caller = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
                .walk(s -> s.skip(1).findFirst()).orElseThrow();
        Class<?> container = caller.getDeclaringClass();
        if (!CLASSES.contains(container)) {
            throw new AssertionError(container.getName() + " is not listed in FuzzHook.CLASSES");
        }
        Cases cases;
        try {
            cases = container.getDeclaredMethod(caller.getMethodName()).getAnnotation(Cases.class);
        } catch (NoSuchMethodException e) {
            throw new AssertionError("FuzzHook.check is called from a @Test method without parameters", e);
        }
        if (cases == null) {
            throw new AssertionError(container.getSimpleName() + "." + caller.getMethodName() + " has no @Cases");
        }
        String name = container.getSimpleName() + "." + caller.getMethodName();
        int count = cases.value() * scale();
        long seed = seed();
        long start = System.nanoTime();
        String status = ", FAILED";
        try {
            new Property<T>(name, count, gen, value -> checkWithoutLeaks(check, value)).run(seed);
            status = "";
        } finally {
            System.out.println(String.format(Locale.ROOT, "hip-ffm fuzz: %s: %d cases, seed %d, %s, %.1f s%s", name,
                    count, seed, Hip.platform().id(), (System.nanoTime() - start) / 1e9, status));
        }
    }

    /** Checks one case, then that it left nothing behind. */
    private static <T> void checkWithoutLeaks(Property.Check<? super T> check, T value) throws Exception {
        TestRuntime.reset();
        long live = TestRuntime.liveAll();   // 0, unless a test before leaked: each case is judged on its own
        long fds = LinuxFds.count();
        String logged;
        try (CapturedLog log = CapturedLog.of("io.github.hipffm")) {
            check.accept(value);
            logged = log.text();
        }
        String leak = "";
        if (TestRuntime.liveAll() != live) {
            leak += "live objects in the runtime: " + TestRuntime.liveByKind() + ", " + live + " before the case; ";
        }
        long now = LinuxFds.count();
        if (now != fds) {
            leak += "open fds: " + now + ", " + fds + " before the case; ";
        }
        if (!logged.isEmpty()) {
            leak += "hip-ffm logged: " + logged;
        }
        if (!leak.isEmpty()) {
            throw new AssertionError("after the case: " + leak);
        }
    }
}
