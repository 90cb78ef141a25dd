package io.github.hipffm.interop;

import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fuzzing properties' budget, from their annotations (pure Java, no runtime): every class of this package
 * that runs under {@link FuzzHook} is listed in {@link FuzzHook#CLASSES}, and together they declare at least
 * {@link FuzzHook#MIN_CASES} cases. ({@link FuzzHook} fails a property that ran fewer than it declared.)
 */
class FuzzBudgetTest {
    @Test
    void theFuzzClassesRunAtLeastTenThousandCasesTogether() {
        assertTrue(FuzzHook.declaredCases() >= FuzzHook.MIN_CASES,
                "the fuzz classes declare " + FuzzHook.declaredCases() + " cases, fewer than " + FuzzHook.MIN_CASES);
    }

    @Test
    void everyFuzzClassIsListed() throws IOException, URISyntaxException {
        Path dir = Path.of(FuzzBudgetTest.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve(FuzzBudgetTest.class.getPackageName().replace('.', '/'));
        List<Class<?>> hooked;
        try (Stream<Path> files = Files.list(dir)) {
            hooked = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".class") && !n.contains("$"))
                    .map(n -> load(FuzzBudgetTest.class.getPackageName() + "." + n.substring(0, n.length() - 6)))
                    .filter(c -> c.isAnnotationPresent(AddLifecycleHook.class)
                            && c.getAnnotation(AddLifecycleHook.class).value() == FuzzHook.class)
                    .<Class<?>>map(c -> c)
                    .sorted(java.util.Comparator.comparing(Class::getName))
                    .toList();
        }
        assertEquals(hooked.stream().map(Class::getName).toList(),
                FuzzHook.CLASSES.stream().map(Class::getName).sorted().toList());
        for (Class<?> c : hooked) {
            assertTrue(Stream.of(c.getDeclaredMethods()).anyMatch(m -> m.isAnnotationPresent(Property.class)), c.getName());
        }
    }

    private static Class<?> load(String name) {
        try {
            return Class.forName(name);
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }
}
