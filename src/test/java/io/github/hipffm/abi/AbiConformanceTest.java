package io.github.hipffm.abi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.github.hipffm.abi.AbiTarget.HipPin;
import io.github.hipffm.abi.AbiTarget.PinnedHeaders;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves, without jextract, that the committed bindings match the pinned C headers they were generated from, and
 * that the same bindings hold for the second pinned HIP release.
 *
 * <p>For each target ({@code hip}, {@code hiprtc}, {@code cuda}) gcc compiles a probe against the headers and prints
 * the size and alignment of every struct and union the bindings have a class for, the offset and size of each of
 * their named members (through nested structs and unions), and the value of every included constant; each must equal
 * what the Java layouts and constant methods say. Every included function must have its method in the header class
 * and be declared by the headers. A missing gcc or missing headers fail the test: there is nothing to skip to.
 *
 * <p>The HIP targets run against both HIP header pins of {@code jextract-config/versions.env}, each under a test
 * method of its own: {@link #bindingsMatchRocm6Headers} (ROCm 6.4.3, the bindings' source: no exemption) and
 * {@link #bindingsMatchRocm7Headers} (ROCm 7.2.4: the {@link #VERSION_CONSTANTS}, by name, may differ; nothing else).
 * Each run also checks that its headers really are its pinned release. Against ROCm 7.2.4, the prototype of every
 * included function must also be the one of ROCm 6.4.3, from which the downcall descriptors were generated (up to
 * {@code const} qualifiers, which are named in the test's name).
 *
 * <p>The perturbation tests show that the comparison does catch an ABI change under both pins, that the
 * exemption covers the version constants of the ROCm 7 pin and nothing more, and that a changed parameter type is
 * caught.
 */
class AbiConformanceTest {

    /**
     * Mismatches that are jextract's limits rather than binding errors. jextract turns bitfields into padding, which
     * is byte-aligned: {@code hipDeviceArch_t}, all bitfields, keeps its C size but not its C alignment. Its one use,
     * the member {@code arch} of {@code hipDeviceProp_tR0600}, is still at its C offset (checked).
     */
    private static final Set<String> ACCEPTED = Set.of("hip: hipDeviceArch_t alignof: C=4 Java=1");

    /**
     * The constants of {@code hip/hip_version.h}, which name the HIP release itself: they differ between releases by
     * nature. Against the ROCm 7 pin, and only there, a difference in one of these, by name, is exempted (reported in
     * the test's name and output, not failed).
     */
    static final Set<String> VERSION_CONSTANTS = Set.of("HIP_VERSION", "HIP_VERSION_MAJOR", "HIP_VERSION_MINOR",
            "HIP_VERSION_PATCH", "HIP_VERSION_GITHASH", "HIP_VERSION_BUILD_ID", "HIP_VERSION_BUILD_NAME");

    /** The targets generated from the HIP headers. */
    private static final List<String> HIP_TARGETS = List.of("hip", "hiprtc");

    /** The definition the perturbation edits: everything up to {@code size}, then {@code size} itself. */
    private static final Pattern BUFFER_DESC_SIZE = Pattern.compile(
            "(struct hipExternalMemoryBufferDesc_st \\{[^}]*?)(unsigned long long size;)");
    /** A constant that is no version constant, and a version constant, as the perturbation edits them. */
    private static final Pattern DEDICATED = Pattern.compile(
            "(?<define>#define\\s+hipExternalMemoryDedicated\\s+)0x1\\b");
    private static final Pattern HTOD_SIZE = Pattern.compile(
            "(?<head>hipError_t hipMemcpyHtoD\\(hipDeviceptr_t dst, const void\\* src, )size_t sizeBytes\\);");
    private static final Pattern BUILD_ID = Pattern.compile(
            "(?<define>#define\\s+HIP_VERSION_BUILD_ID\\s+)0\\b");

    /** {@code hip} and {@code hiprtc} against the ROCm 6.4.3 headers they were generated from; nothing exempted. */
    @TestFactory
    Stream<DynamicContainer> bindingsMatchRocm6Headers() throws IOException {
        return hipContainers(PinnedHeaders.hip(HipPin.BINDINGS), Set.of());
    }

    /** {@code hip} and {@code hiprtc} against the ROCm 7.2.4 headers; only {@link #VERSION_CONSTANTS} may differ. */
    @TestFactory
    Stream<DynamicContainer> bindingsMatchRocm7Headers() throws IOException {
        return hipContainers(PinnedHeaders.hip(HipPin.ROCM7), VERSION_CONSTANTS);
    }

    /**
     * {@code cuda} (the runtime API) and {@code cudadrv} (the driver API's virtual memory management) against the
     * CUDA toolkit's headers; nothing exempted.
     */
    @TestFactory
    Stream<DynamicContainer> bindingsMatchCudaHeaders() throws IOException {
        Path includeDir = PinnedHeaders.cudaIncludeDir();
        List<AbiTarget> targets = List.of(AbiTarget.load("cuda", includeDir), AbiTarget.load("cudadrv", includeDir));
        return targets.stream().map(t -> dynamicContainer(t.name() + " against the CUDA headers at " + includeDir,
                Stream.of(t).flatMap(target -> testsOf(target, "CUDA headers", target.name(), Set.of(),
                        Optional.empty()))));
    }

    /**
     * One container per HIP target against {@code pin}: one test per C type, the constants, functions and classes;
     * for a pin other than the bindings' own, also the function prototypes against the bindings' pin.
     */
    private static Stream<DynamicContainer> hipContainers(HipPin pin, Set<String> exempt) throws IOException {
        HipPin bindings = PinnedHeaders.hip(HipPin.BINDINGS);
        return HIP_TARGETS.stream().map(name -> dynamicContainer(name + " against " + pin.label(),
                Stream.of(name).flatMap(n -> {
                    AbiTarget target = load(n, pin.includeDir());
                    Stream<DynamicTest> tests = testsOf(target, pin.label(), "rocm-" + pin.rocmVersion(), exempt,
                            Optional.of(pin));
                    return pin.equals(bindings) ? tests
                            : Stream.concat(tests, Stream.of(samePrototypes(target, pin, bindings)));
                })));
    }

    /**
     * The prototype of every function of {@code target}'s include list, as {@code gcc -aux-info} spells it, must be
     * the one in the bindings' pin, from which the bindings' downcall descriptors were generated (the layout
     * comparison covers types and constants, not function signatures). A difference in {@code const} qualifiers
     * only leaves the calling convention alone: it is named in the test's name, not failed.
     */
    private static DynamicTest samePrototypes(AbiTarget target, HipPin pin, HipPin bindings) {
        List<String> functions = target.includes().functions();
        Prototypes.Comparison comparison = comparePrototypes(target, bindings.includeDir(),
                AbiTarget.buildDir().resolve("abi").resolve(target.name()));
        String constOnly = comparison.constOnly().isEmpty() ? ""
                : "; differ in const only: " + String.join(", ", comparison.constOnly());
        System.out.printf("ABI %s against %s: %d function prototypes compared with ROCm %s's, %d differences%s%n",
                target.name(), pin.label(), functions.size(), bindings.rocmVersion(), comparison.differences().size(),
                constOnly);
        return dynamicTest("function prototypes (" + functions.size() + ") equal ROCm " + bindings.rocmVersion()
                + "'s" + constOnly, () -> {
            if (!comparison.differences().isEmpty()) {
                fail(comparison.differences().size() + " prototype(s) differ from ROCm " + bindings.rocmVersion()
                        + "'s:\n  " + String.join("\n  ", comparison.differences()));
            }
        });
    }

    /** Reads the prototypes of {@code target}'s headers and of the same header against {@code referenceDir}. */
    private static Prototypes.Comparison comparePrototypes(AbiTarget target, Path referenceDir, Path workDir) {
        try {
            Prototypes reference = Prototypes.read(target.header(), flags(target, referenceDir),
                    workDir.resolve("prototypes-reference"));
            Prototypes other = Prototypes.read(target.header(), flags(target, target.includeDir()),
                    workDir.resolve("prototypes"));
            return Prototypes.compare(target.includes().functions(), reference, other);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the prototypes of " + target.name(), e);
        }
    }

    private static List<String> flags(AbiTarget target, Path includeDir) {
        return Stream.concat(target.macros().stream(), Stream.of("-I", includeDir.toString())).toList();
    }

    private static Stream<DynamicTest> testsOf(AbiTarget target, String headers, String workDirName,
                                               Set<String> exempt, Optional<HipPin> pin) {
        AbiComparison.Result result = compare(target, workDirName, exempt);
        Map<String, Integer> checks = result.checks();
        long types = checks.keySet().stream()
                .filter(subject -> !Set.of(JavaSide.CONSTANTS, JavaSide.FUNCTIONS, JavaSide.CLASSES).contains(subject))
                .count();
        String exempted = result.exempted().stream().map(Mismatch::detail).collect(Collectors.joining(", "));
        System.out.printf("ABI %s against %s: %d C types, %d constants, %d functions; %d checks, "
                        + "%d unexpected mismatches%s%n",
                target.name(), headers, types, checks.getOrDefault(JavaSide.CONSTANTS, 0),
                checks.getOrDefault(JavaSide.FUNCTIONS, 0), checks.values().stream().mapToInt(Integer::intValue).sum(),
                unexpected(result.messages()).size(),
                exempted.isEmpty() ? "" : "; exempted by name (version constants): " + exempted);
        Stream<DynamicTest> subjects = checks.entrySet().stream().map(subject -> dynamicTest(
                subject.getKey() + " (" + subject.getValue() + " checks"
                        + (subject.getKey().equals(JavaSide.CONSTANTS) && !exempted.isEmpty()
                                ? "; exempted by name: " + exempted : "") + ")",
                () -> assertNoMismatches(result.messages(subject.getKey()))));
        // The headers must be the pinned release's: the C values of its version macros, not the Java ones.
        Stream<DynamicTest> release = pin.filter(p -> result.constants().containsKey("HIP_VERSION_MAJOR")).stream()
                .map(p -> dynamicTest("the headers are ROCm " + majorMinor(p.rocmVersion())
                        + "'s (HIP_VERSION_MAJOR.HIP_VERSION_MINOR)", () -> {
                    String major = result.constants().get("HIP_VERSION_MAJOR");
                    String minor = result.constants().get("HIP_VERSION_MINOR");
                    assertNotNull(minor, "HIP_VERSION_MINOR is not in the include list");
                    assertEquals(majorMinor(p.rocmVersion()), major + "." + minor,
                            "HIP_VERSION_MAJOR.HIP_VERSION_MINOR of " + target.includeDir());
                }));
        return Stream.concat(release, subjects);
    }

    private static String majorMinor(String version) {
        Matcher m = Pattern.compile("(\\d+)\\.(\\d+)").matcher(version);
        if (!m.lookingAt()) {
            throw new IllegalArgumentException("not a version: " + version);
        }
        return m.group(1) + "." + m.group(2);
    }

    private static AbiTarget load(String name, Path includeDir) {
        try {
            return AbiTarget.load(name, includeDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static AbiComparison.Result compare(AbiTarget target, String workDirName, Set<String> exempt) {
        try {
            return AbiComparison.run(target, AbiTarget.buildDir().resolve("abi").resolve(target.name())
                    .resolve(workDirName), exempt);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while probing " + target.name(), e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the " + target.name() + " bindings", e);
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

    // ---- perturbations: the comparison must catch a change ----

    /** The four mismatches a member inserted before {@code size} in {@code hipExternalMemoryBufferDesc_st} causes. */
    private static final List<String> MOVED_FIELD = List.of(
            "hip: struct hipExternalMemoryBufferDesc_st sizeof: C=96 Java=88",
            "hip: struct hipExternalMemoryBufferDesc_st.size offset: C=16 Java=8",
            "hip: struct hipExternalMemoryBufferDesc_st.flags offset: C=24 Java=16",
            "hip: struct hipExternalMemoryBufferDesc_st.reserved offset: C=28 Java=20");

    /**
     * Inserts a member before {@code size} in a copy of the ROCm 6.4.3 headers, and expects the comparison to report
     * exactly the moved fields and the grown struct: the check would fail if one field moved.
     */
    @Test
    void aMovedFieldIsDetectedInRocm6Headers(@TempDir Path temp) throws Exception {
        AbiComparison.Result result = perturbed(PinnedHeaders.hip(HipPin.BINDINGS), Set.of(), temp,
                AbiConformanceTest::moveSize);
        assertEquals(MOVED_FIELD, unexpected(result.messages()));
        assertEquals(List.of(), result.exempted());
    }

    /** The same in a copy of the ROCm 7.2.4 headers, with their exemptions: those do not hide a moved field. */
    @Test
    void aMovedFieldIsDetectedInRocm7Headers(@TempDir Path temp) throws Exception {
        AbiComparison.Result result = perturbed(PinnedHeaders.hip(HipPin.ROCM7), VERSION_CONSTANTS, temp,
                AbiConformanceTest::moveSize);
        assertEquals(MOVED_FIELD, unexpected(result.messages()));
    }

    /** Changes a version constant and another constant in the ROCm 6.4.3 headers: both are mismatches there. */
    @Test
    void aChangedConstantIsDetectedInRocm6Headers(@TempDir Path temp) throws Exception {
        AbiComparison.Result result = perturbed(PinnedHeaders.hip(HipPin.BINDINGS), Set.of(), temp,
                AbiConformanceTest::changeConstants);
        assertEquals(List.of("hip: constant HIP_VERSION_BUILD_ID: C=42 Java=0",
                "hip: constant hipExternalMemoryDedicated: C=3 Java=1"), unexpected(result.messages()));
        assertEquals(List.of(), result.exempted());
    }

    /**
     * The same change in the ROCm 7.2.4 headers, with their exemptions: the version constant is exempted (by name),
     * the other constant still fails.
     */
    @Test
    void onlyVersionConstantsAreExemptedInRocm7Headers(@TempDir Path temp) throws Exception {
        AbiComparison.Result result = perturbed(PinnedHeaders.hip(HipPin.ROCM7), VERSION_CONSTANTS, temp,
                AbiConformanceTest::changeConstants);
        assertEquals(List.of("hip: constant hipExternalMemoryDedicated: C=3 Java=1"), unexpected(result.messages()));
        List<String> exempted = result.exempted().stream().map(Mismatch::message).toList();
        if (!exempted.contains("hip: constant HIP_VERSION_BUILD_ID: C=42 Java=0")) {
            fail("the changed HIP_VERSION_BUILD_ID is not among the exempted differences: " + exempted);
        }
    }

    /**
     * Changes a parameter type of {@code hipMemcpyHtoD} ({@code size_t} to {@code unsigned int}) in a copy of the
     * ROCm 7.2.4 headers: the prototype comparison reports it; the const-only difference of
     * {@code hipMemcpyHtoDAsync} stays exempt.
     */
    @Test
    void aChangedPrototypeIsDetectedInRocm7Headers(@TempDir Path temp) throws Exception {
        Path headers = temp.resolve("include");
        copyTree(PinnedHeaders.hip(HipPin.ROCM7).includeDir(), headers);
        replace(headers.resolve("hip/hip_runtime_api.h"), HTOD_SIZE, "${head}unsigned int sizeBytes);");

        Prototypes.Comparison comparison = comparePrototypes(AbiTarget.load("hip", headers),
                PinnedHeaders.hip(HipPin.BINDINGS).includeDir(), temp.resolve("work"));

        assertEquals(List.of("hipError_t hipMemcpyHtoD (hipDeviceptr_t, void *, size_t) -> "
                + "hipError_t hipMemcpyHtoD (hipDeviceptr_t, const void *, unsigned int)"), comparison.differences());
        assertEquals(List.of("hipMemcpyHtoDAsync"), comparison.constOnly());
    }

    private interface Edit {
        void apply(Path headers) throws IOException;
    }

    /** Compares the {@code hip} bindings with a copy of the pin's headers after {@code edit}. */
    private static AbiComparison.Result perturbed(HipPin pin, Set<String> exempt, Path temp, Edit edit)
            throws Exception {
        Path headers = temp.resolve("include");
        copyTree(pin.includeDir(), headers);
        edit.apply(headers);
        return AbiComparison.run(AbiTarget.load("hip", headers), temp.resolve("probe"), exempt);
    }

    private static void moveSize(Path headers) throws IOException {
        replace(headers.resolve("hip/hip_runtime_api.h"), BUFFER_DESC_SIZE, "$1int perturbed;\n  $2");
    }

    private static void changeConstants(Path headers) throws IOException {
        replace(headers.resolve("hip/hip_runtime_api.h"), DEDICATED, "${define}0x3");
        replace(headers.resolve("hip/hip_version.h"), BUILD_ID, "${define}42");
    }

    private static void replace(Path file, Pattern pattern, String replacement) throws IOException {
        String original = Files.readString(file);
        String perturbed = pattern.matcher(original).replaceFirst(replacement);
        assertNotEquals(original, perturbed, "no match for " + pattern + " in " + file);
        Files.writeString(file, perturbed);
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
