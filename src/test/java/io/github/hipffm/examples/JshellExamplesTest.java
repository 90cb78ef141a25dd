package io.github.hipffm.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@code examples/*.jsh} runs non-interactively in jshell, as {@code scripts/jshell} starts it, against the
 * C test runtime (so CI, without a GPU, runs them end to end), and prints what it should. Keeps the examples from
 * rotting. The examples that need a device run on both platforms: AMD against the test runtime, NVIDIA against
 * the cudart double over it.
 */
class JshellExamplesTest {
    private static final Path ROOT = Path.of(System.getProperty("hipffm.projectDir", "."));
    private static final Path BUILD = Path.of(System.getProperty("hipffm.buildDir", "target"));

    /** Runs an example against the test runtime of {@code platform} ("amd" or "nvidia"). */
    private static String run(String example, String platform) throws IOException, InterruptedException {
        String library = platform.equals("nvidia") ? "native/cudart/libcudart.so.13" : "native/libhipffm_testrt.so";
        String out = run(ROOT.resolve("examples").resolve(example), BUILD.resolve("classes").toString(),
                "-R-Dhipffm.library=" + BUILD.resolve(library), "-R-Dhipffm.platform=" + platform);
        return out;
    }

    private static String run(Path script, String classPath, String... remoteOptions)
            throws IOException, InterruptedException {
        String example = script.getFileName().toString();
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(jshell),
                "this Java runtime has no jshell (the GPU bundle's jlinked runtime has none): " + jshell);
        List<String> cmd = new ArrayList<>(List.of(jshell.toString(), "--class-path", classPath,
                "-R--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(List.of(remoteOptions));
        cmd.addAll(List.of("--startup", "DEFAULT", "--startup", ROOT.resolve("scripts/jshell-startup.jsh").toString(),
                script.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "jshell did not finish: " + out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(!out.contains("Exception") && !out.contains("Error:"), example + " printed an error:\n" + out);
        return out;
    }

    @Test
    void everyExampleIsCovered() throws IOException {
        try (var files = Files.list(ROOT.resolve("examples"))) {
            List<String> names = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".jsh")).sorted().toList();
            assertTrue(List.of("device-info.jsh", "gl-vertex-loop.jsh", "kernel.jsh", "seed-memory.jsh").containsAll(names),
                    "an example without a test here: " + names);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"amd", "nvidia"})
    void deviceInfo(String platform) throws Exception {
        String out = run("device-info.jsh", platform);
        assertTrue(out.contains("hip-ffm ready"), out);
        assertTrue(out.contains("platform " + io.github.hipffm.Platform.ofId(platform) + ", "), out);
        assertTrue(out.contains("device 0: hip-ffm test runtime"), out);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"amd", "nvidia"})
    void seedMemory(String platform) throws Exception {
        String out = run("seed-memory.jsh", platform);
        assertTrue(out.contains("HIP filled them; first bytes: 5a 5a 5a 5a"), out);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"amd", "nvidia"})
    void kernel(String platform) throws Exception {
        String out = run("kernel.jsh", platform);
        assertTrue(out.contains("x[0..3] = 1.0 3.0 5.0 7.0"), out);
    }

    /**
     * The GL loop needs an NVIDIA GPU with EGL (its Java twin, GlVertexLoopExample, runs in GlInteropGpuTest on the
     * GPU machine). Here it runs with the test class path instead of its {@code /env} line, against this machine's
     * default runtime: it must get through to a clear "failed: ..." line (no GPU, or no EGL device), or, on a GPU,
     * to its checksum line with the expected value.
     */
    @Test
    void glVertexLoopRunsToAClearEnd() throws Exception {
        Path original = ROOT.resolve("examples/gl-vertex-loop.jsh");
        Path script = Files.createTempFile("gl-vertex-loop", ".jsh");
        try {
            Files.write(script, Files.readAllLines(original).stream().filter(l -> !l.startsWith("/env")).toList());
            String classPath = String.join(java.io.File.pathSeparator, BUILD.resolve("classes").toString(),
                    BUILD.resolve("test-classes").toString(), System.getProperty("java.class.path"),
                    System.getProperty("jdk.module.path", ""));
            String out = run(script, classPath);
            var checksum = java.util.regex.Pattern.compile("checksum ([0-9.]+) \\(expected ([0-9.]+)\\)").matcher(out);
            if (checksum.find()) {
                assertEquals(checksum.group(2), checksum.group(1), out);
            } else {
                assertTrue(out.lines().anyMatch(l -> l.startsWith("failed: ")), "neither a checksum nor a clear failure:\n" + out);
            }
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
