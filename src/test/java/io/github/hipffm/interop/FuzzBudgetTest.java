package io.github.hipffm.interop;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fuzzing properties' budget, from their annotations (pure Java, no runtime): every class of this package
 * with a property (a method annotated {@link FuzzHook.Cases}) is listed in {@link FuzzHook#CLASSES}, and together
 * they declare at least {@link FuzzHook#MIN_CASES} cases. ({@link FuzzHook#check} runs exactly the cases of the
 * calling method's annotation, and refuses a class that is not listed.)
 */
class FuzzBudgetTest {
    @Test
    void theFuzzClassesRunAtLeastTenThousandCasesTogether() {
        assertTrue(FuzzHook.declaredCases() >= FuzzHook.MIN_CASES,
                "the fuzz classes declare " + FuzzHook.declaredCases() + " cases, fewer than " + FuzzHook.MIN_CASES);
    }

    @Test
    void everyFuzzClassIsListed() throws IOException, URISyntaxException {
        // The test classes are a directory under Maven and a jar in the GPU bundle: list the package in either.
        Path location = Path.of(FuzzBudgetTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String pkg = FuzzBudgetTest.class.getPackageName().replace('.', '/');
        List<Class<?>> hooked;
        try (FileSystem jar = Files.isDirectory(location) ? null : FileSystems.newFileSystem(location);
                Stream<Path> files = Files.list(jar == null ? location.resolve(pkg) : jar.getPath("/" + pkg))) {
            hooked = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".class") && !n.contains("$"))
                    .map(n -> load(FuzzBudgetTest.class.getPackageName() + "." + n.substring(0, n.length() - 6)))
                    .filter(c -> Stream.of(c.getDeclaredMethods())
                            .anyMatch(m -> m.isAnnotationPresent(FuzzHook.Cases.class)))
                    .<Class<?>>map(c -> c)
                    .sorted(java.util.Comparator.comparing(Class::getName))
                    .toList();
        }
        assertEquals(hooked.stream().map(Class::getName).toList(),
                FuzzHook.CLASSES.stream().map(Class::getName).sorted().toList());
        for (Class<?> c : hooked) {
            for (var m : c.getDeclaredMethods()) {
                if (m.isAnnotationPresent(FuzzHook.Cases.class)) {
                    assertTrue(m.isAnnotationPresent(Test.class) && m.getParameterCount() == 0
                            && m.getAnnotation(FuzzHook.Cases.class).value() > 0, m.toString());
                }
            }
            assertTrue(c.getSimpleName().endsWith("FuzzTest") && c.isAnnotationPresent(Tag.class)
                    && c.getAnnotation(Tag.class).value().equals("testrt"), c.getName());
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
