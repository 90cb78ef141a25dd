package io.github.hipffm.interop;

import io.github.hipffm.Hip;
import io.github.hipffm.testrt.CapturedLog;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.TestRuntime;
import net.jqwik.api.AfterFailureMode;
import net.jqwik.api.GenerationMode;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.AroundTryHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;
import net.jqwik.api.lifecycle.TryExecutionResult;
import net.jqwik.api.lifecycle.TryExecutor;
import net.jqwik.api.lifecycle.TryLifecycleContext;

import java.lang.reflect.Method;
import java.util.List;
import java.util.Locale;

/**
 * The fuzzing properties' frame ({@code @AddLifecycleHook(FuzzHook.class)} on each fuzz class):
 *
 * <ul>
 *   <li>a fixed seed unless {@code -Dhipffm.fuzz.seed=N} (or {@code =random}) says otherwise, so that CI runs
 *       the same cases every time and a failure can be replayed; jqwik prints the seed and the original and
 *       shrunk sample of a failure;</li>
 *   <li>the tries of {@code @Property(tries = ...)} times {@code -Dhipffm.fuzz.scale=K} (default 1), all of them
 *       generated at random (a property that ran fewer, e.g. exhaustively, fails);</li>
 *   <li>around every try, the leak check of {@link io.github.hipffm.testrt.NoLeaks}: the runtime reset before, then
 *       after: as many live objects in the runtime (none, unless a test before leaked) and as many open fds as
 *       before, and nothing logged by hip-ffm (a logged warning is a release that failed);</li>
 *   <li>one line per property in the build output: its cases, seed, platform and time.</li>
 * </ul>
 *
 * The fuzz classes ({@link #CLASSES}) together run at least {@link #MIN_CASES} cases per test-runtime execution
 * ({@code FuzzBudgetTest} checks their annotations).
 */
public final class FuzzHook implements AroundPropertyHook, AroundTryHook {
    /** The seed of every property, unless {@code -Dhipffm.fuzz.seed} gives another (or {@code random}). */
    static final String DEFAULT_SEED = "20261201";
    /** Cases the fuzz classes run together, at least, per execution. */
    static final int MIN_CASES = 10_000;
    /** Every fuzz class: their tries together must reach {@link #MIN_CASES}. */
    static final List<Class<?>> CLASSES = List.of(MemoryImportFuzzTest.class, MappingFuzzTest.class,
            SemaphoreFuzzTest.class, CopyFuzzTest.class, KernelFuzzTest.class, StreamEventFuzzTest.class,
            GlFuzzTest.class, NullAndClosedFuzzTest.class, SequenceFuzzTest.class);

    /** {@return the cases the fuzz classes declare together} */
    static long declaredCases() {
        long total = 0;
        for (Class<?> c : CLASSES) {
            for (Method m : c.getDeclaredMethods()) {
                Property p = m.getAnnotation(Property.class);
                if (p != null) {
                    total += p.tries();
                }
            }
        }
        return total;
    }

    /** {@return the seed of this run, or null for a random one} */
    static String seed() {
        String seed = System.getProperty("hipffm.fuzz.seed", DEFAULT_SEED).trim();
        return seed.isEmpty() || seed.equalsIgnoreCase("random") ? null : seed;
    }

    private static int scale() {
        return Math.max(1, Integer.getInteger("hipffm.fuzz.scale", 1));
    }

    /** The properties of the class it is added to. */
    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.DIRECT_DESCENDANTS;
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        Class<?> container = context.containerClass();
        if (!CLASSES.contains(container)) {
            throw new AssertionError(container.getName() + " is not listed in FuzzHook.CLASSES");
        }
        Property annotation = context.findAnnotation(Property.class).orElseThrow();
        int tries = annotation.tries() * scale();
        context.attributes().setTries(tries);
        context.attributes().setGeneration(GenerationMode.RANDOMIZED);
        context.attributes().setAfterFailure(AfterFailureMode.RANDOM_SEED);   // this seed, whatever failed before
        String seed = seed();
        if (seed != null) {
            context.attributes().setSeed(seed);
        }
        long start = System.nanoTime();
        PropertyExecutionResult result = property.execute();
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.println(String.format(Locale.ROOT, "hip-ffm fuzz: %s.%s: %d cases, seed %s, %s, %.1f s%s",
                container.getSimpleName(), context.targetMethod().getName(), result.countTries(),
                result.seed().orElse("?"), Hip.platform().id(), seconds,
                result.status() == PropertyExecutionResult.Status.SUCCESSFUL ? "" : ", " + result.status()));
        if (result.status() == PropertyExecutionResult.Status.SUCCESSFUL && result.countTries() != tries) {
            return result.mapToFailed("ran " + result.countTries() + " cases of " + tries);
        }
        return result;
    }

    @Override
    public TryExecutionResult aroundTry(TryLifecycleContext context, TryExecutor aTry, List<Object> parameters) {
        TestRuntime.reset();
        long live = TestRuntime.liveAll();   // 0, unless a test before leaked: each case is judged on its own
        long fds = LinuxFds.count();
        TryExecutionResult result;
        String logged;
        try (CapturedLog log = CapturedLog.of("io.github.hipffm")) {
            result = aTry.execute(parameters);
            logged = log.text();
        }
        if (!result.isSatisfied()) {
            return result;
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
        return leak.isEmpty() ? result : TryExecutionResult.falsified(new AssertionError("after the case: " + leak));
    }
}
