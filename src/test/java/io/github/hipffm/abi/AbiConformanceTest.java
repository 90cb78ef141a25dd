package io.github.hipffm.abi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves, without jextract, that the committed bindings match the pinned C headers they were generated from.
 *
 * <p>For each target ({@code hip}, {@code hiprtc}, {@code cuda}) gcc compiles a probe against the headers and prints
 * the size and alignment of every struct and union the bindings have a class for, the offset and size of each of
 * their named members (through nested structs and unions), and the value of every included constant; each must equal
 * what the Java layouts and constant methods say. Every included function must have its method in the header class
 * and be declared by the headers. A missing gcc or missing headers fail the test: there is nothing to skip to.
 *
 * <p>{@link #aMovedFieldIsDetected} shows once that the comparison does catch an ABI change.
 */
class AbiConformanceTest {

    /**
     * Mismatches that are jextract's limits rather than binding errors. jextract turns bitfields into padding, which
     * is byte-aligned: {@code hipDeviceArch_t}, all bitfields, keeps its C size but not its C alignment. Its one use,
     * the member {@code arch} of {@code hipDeviceProp_tR0600}, is still at its C offset (checked).
     */
    private static final Set<String> ACCEPTED = Set.of("hip: hipDeviceArch_t alignof: C=4 Java=1");

    /** The definition the perturbation edits: everything up to {@code size}, then {@code size} itself. */
    private static final Pattern BUFFER_DESC_SIZE = Pattern.compile(
            "(struct hipExternalMemoryBufferDesc_st \\{[^}]*?)(unsigned long long size;)");

    /** One container per target, and in it one test per C type, plus the constants, the functions and the classes. */
    @TestFactory
    Stream<DynamicContainer> bindingsMatchTheHeaders() {
        return AbiTarget.ALL.stream()
                .map(name -> dynamicContainer(name, Stream.of(name).flatMap(AbiConformanceTest::testsOf)));
    }

    private static Stream<DynamicTest> testsOf(String target) {
        AbiComparison.Result result = compare(target);
        Map<String, Integer> checks = result.checks();
        long types = checks.keySet().stream()
                .filter(subject -> !Set.of(JavaSide.CONSTANTS, JavaSide.FUNCTIONS, JavaSide.CLASSES).contains(subject))
                .count();
        System.out.printf("ABI %s: %d C types, %d constants, %d functions; %d checks, %d unexpected mismatches%n",
                target, types, checks.getOrDefault(JavaSide.CONSTANTS, 0), checks.getOrDefault(JavaSide.FUNCTIONS, 0),
                checks.values().stream().mapToInt(Integer::intValue).sum(), unexpected(result.messages()).size());
        return result.checks().entrySet().stream().map(subject -> dynamicTest(
                subject.getKey() + " (" + subject.getValue() + " checks)",
                () -> assertNoMismatches(result.messages(subject.getKey()))));
    }

    private static AbiComparison.Result compare(String target) {
        try {
            return AbiComparison.run(AbiTarget.load(target), AbiTarget.buildDir().resolve("abi").resolve(target));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while probing " + target, e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the " + target + " bindings", e);
        }
    }

    private static List<String> unexpected(List<String> messages) {
        return messages.stream().filter(message -> !ACCEPTED.contains(message)).toList();
    }

    private static void assertNoMismatches(List<String> messages) {
        List<String> unexpected = unexpected(messages);
        if (!unexpected.isEmpty()) {
            fail(unexpected.size() + " ABI mismatch(es):\n  " + String.join("\n  ", unexpected));
        }
    }

    /**
     * Inserts a member before {@code size} in a copy of the pinned HIP headers, and expects the comparison to report
     * exactly the moved fields and the grown struct: the check would fail if one field moved.
     */
    @Test
    void aMovedFieldIsDetected(@TempDir Path temp) throws Exception {
        AbiTarget hip = AbiTarget.load("hip");
        Path headers = temp.resolve("include");
        copyTree(hip.includeDir(), headers);
        Path api = headers.resolve("hip/hip_runtime_api.h");
        String original = Files.readString(api);
        String perturbed = BUFFER_DESC_SIZE.matcher(original).replaceFirst("$1int perturbed;\n  $2");
        assertNotEquals(original, perturbed, "no 'unsigned long long size;' in hipExternalMemoryBufferDesc_st in " + api);
        Files.writeString(api, perturbed);

        AbiComparison.Result result = AbiComparison.run(hip.withIncludeDir(headers), temp.resolve("probe"));

        assertEquals(List.of(
                "hip: struct hipExternalMemoryBufferDesc_st sizeof: C=96 Java=88",
                "hip: struct hipExternalMemoryBufferDesc_st.size offset: C=16 Java=8",
                "hip: struct hipExternalMemoryBufferDesc_st.flags offset: C=24 Java=16",
                "hip: struct hipExternalMemoryBufferDesc_st.reserved offset: C=28 Java=20"),
                unexpected(result.messages()));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path path : paths.toList()) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(path, target);
                }
            }
        }
    }
}
