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
 * the cudart double over it. An example opened in an interactive session ({@code /open}, as the banner suggests)
 * leaves the session running.
 *
 * <p>The examples and jshell scripts are found under {@code hipffm.projectDir} (Maven sets it), else in the first
 * directory holding {@code examples/} above this class's own location ({@code target/test-classes} in a checkout,
 * {@code lib/hip-ffm-tests.jar} in the GPU bundle, which carries them), whatever the working directory.
 */
class JshellExamplesTest {
    private static final Path ROOT = root();
    private static final Path BUILD = Path.of(System.getProperty("hipffm.buildDir", ROOT.resolve("target").toString()));

    private static Path root() {
        String dir = System.getProperty("hipffm.projectDir");
        if (dir != null) {
            return Path.of(dir);
        }
        try {
            Path here = Path.of(JshellExamplesTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path d = here; d != null; d = d.getParent()) {
                if (Files.isDirectory(d.resolve("examples")) && Files.isDirectory(d.resolve("scripts"))) {
                    return d;
                }
            }
            throw new IllegalStateException("no examples/ and scripts/ above " + here + " (set -Dhipffm.projectDir)");
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs an example against the test runtime of {@code platform} ("amd" or "nvidia"), with only the open check of
     * imported fds on NVIDIA ({@code -Dhipffm.fdCheck=open}, as the test-runtime-nvidia execution): the examples
     * import memfds and shm objects, which the doubles take for GPU exports and hip-ffm by default refuses there.
     */
    private static String run(String example, String platform) throws IOException, InterruptedException {
        return run(example, platform, platform.equals("nvidia") ? "open" : "kind");
    }

    /** Runs an example against the test runtime of {@code platform}, with {@code -Dhipffm.fdCheck=fdCheck}. */
    private static String run(String example, String platform, String fdCheck) throws IOException, InterruptedException {
        String library = platform.equals("nvidia") ? "native/cudart/libcudart.so.13" : "native/libhipffm_testrt.so";
        String out = run(ROOT.resolve("examples").resolve(example), BUILD.resolve("classes").toString(),
                "-R-Dhipffm.library=" + BUILD.resolve(library), "-R-Dhipffm.platform=" + platform,
                "-R-Dhipffm.fdCheck=" + fdCheck);
        return out;
    }

    /**
     * Runs {@code script} as {@code scripts/jshell} does: the example, then {@code scripts/jshell-exit.jsh}, which
     * must end the session (standard input stays open, so nothing else would).
     */
    private static String run(Path script, String classPath, String... remoteOptions)
            throws IOException, InterruptedException {
        String example = script.getFileName().toString();
        String out = jshell(classPath, List.of(remoteOptions), List.of(script.toString(),
                ROOT.resolve("scripts/jshell-exit.jsh").toString()), null);
        assertTrue(!out.contains("Exception") && !out.contains("Error:"), example + " printed an error:\n" + out);
        return out;
    }

    /** Runs jshell in {@code ROOT}, with {@code input} on standard input (left open when null); returns its output. */
    private static String jshell(String classPath, List<String> remoteOptions, List<String> files, String input)
            throws IOException, InterruptedException {
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(jshell),
                "this Java runtime has no jshell (the GPU bundle's jlinked runtime has none): " + jshell);
        List<String> cmd = new ArrayList<>(List.of(jshell.toString(), "--class-path", classPath,
                "-R--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(remoteOptions);
        cmd.addAll(List.of("--startup", "DEFAULT", "--startup", ROOT.resolve("scripts/jshell-startup.jsh").toString()));
        cmd.addAll(files);
        Process p = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true).start();
        if (input != null) {
            p.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
        }
        var output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("jshell did not end within 120 s: " + output.join());
        }
        String out = output.join();
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void everyExampleIsCovered() throws IOException {
        try (var files = Files.list(ROOT.resolve("examples"))) {
            List<String> names = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".jsh")).sorted().toList();
            // vulkan-share.jsh needs the Vulkan companion: vulkan/'s VulkanShareExampleTest runs it.
            assertTrue(List.of("device-info.jsh", "gl-vertex-loop.jsh", "graph-frame.jsh", "kernel.jsh", "receive-from-process.jsh",
                    "seed-memory.jsh", "texture-objects.jsh", "two-gpus.jsh", "vmm-export.jsh", "vulkan-share.jsh")
                    .containsAll(names),
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

    /**
     * The banner's suggestion, typed into an interactive session: the example runs, and the session goes on (the
     * examples do not {@code /exit}; only {@code scripts/jshell}'s exit file, for files it runs, does).
     */
    @Test
    void theBannersSuggestionKeepsTheSession() throws Exception {
        String input = "/open examples/device-info.jsh\nSystem.out.println(\"still here: \" + (6 * 7))\n/exit\n";
        String out = jshell(BUILD.resolve("classes").toString(), List.of("-R-Dhipffm.library="
                + BUILD.resolve("native/libhipffm_testrt.so"), "-R-Dhipffm.platform=amd"), List.of(), input);
        assertTrue(out.contains("or /open examples/device-info.jsh"), "the banner's suggestion:\n" + out);
        assertTrue(out.contains("device 0: hip-ffm test runtime"), "the example ran:\n" + out);
        assertTrue(out.contains("still here: 42"), "the session went on after the example:\n" + out);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"amd", "nvidia"})
    void seedMemory(String platform) throws Exception {
        String out = run("seed-memory.jsh", platform);
        assertTrue(out.contains("HIP filled them; first bytes: 5a 5a 5a 5a"), out);
    }

    /** Another JVM sends a memfd over an FdChannel; the example imports it and reads what the sender wrote. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"amd", "nvidia"})
    void receiveFromProcess(String platform) throws Exception {
        String out = run("receive-from-process.jsh", platform);
        assertTrue(out.contains("received 4096 bytes at offset 16 from pid "), out);
        assertTrue(out.matches("(?s).*the sender wrote: hello from process \\d+.*"), out);
        assertTrue(out.matches("(?s).*sender \\d+: sent fd \\d+ to Peer\\[pid=\\d+.*"), out);
    }

    /** A VirtualMemory export imported as VirtualMemory and as ExternalMemory: the same bytes on all sides. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"amd", "nvidia"})
    void vmmExport(String platform) throws Exception {
        String out = run("vmm-export.jsh", platform);
        assertTrue(out.contains("allocated 131072 bytes (100000 rounded up to the granularity, 65536)"), out);
        assertTrue(out.contains("the VirtualMemory import reads: hello through an fd"), out);
        assertTrue(out.contains("the ExternalMemory import reads the fill: 0x2a"), out);
    }

    /** As on a GPU: with the default fd check, hip-ffm on NVIDIA refuses the shm fd, and the example says why. */
    @Test
    void seedMemoryOnNvidiaWithTheDefaultFdCheckSaysWhatFdIsNeeded() throws Exception {
        String out = run("seed-memory.jsh", "nvidia", "kind");
        assertTrue(out.matches("(?s).*refused: fd \\d+ is a POSIX shared memory object \\(/dev/shm/hipffm-jshell-\\d+"
                + " \\(deleted\\), 1048576 bytes\\), not a GPU export.*vkGetMemoryFdKHR.*"), out);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"amd", "nvidia"})
    void kernel(String platform) throws Exception {
        String out = run("kernel.jsh", platform);
        assertTrue(out.contains("x[0..3] = 1.0 3.0 5.0 7.0"), out);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"amd", "nvidia"})
    void graphFrame(String platform) throws Exception {
        String out = run("graph-frame.jsh", platform);
        for (int frame = 1; frame <= 3; frame++) {
            assertTrue(out.contains("frame " + frame + ": one launch of 2 nodes, consumer at " + frame), out);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"amd", "nvidia"})
    void textureObjects(String platform) throws Exception {
        String out = run("texture-objects.jsh", platform);
        assertTrue(out.contains("texture: ARRAY, LINEAR, NORMALIZED_FLOAT; a kernel gets it as a 64-bit handle: true"),
                out);
        assertTrue(out.contains("surface over level 0 64x64x0"), out);
        assertTrue(out.contains("refused: filter LINEAR needs a texture that returns floats, but 8,8,8,8 UNSIGNED"),
                out);
        assertTrue(out.contains("after the memory's close: texture closed true, surface closed true"), out);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"amd", "nvidia"})
    void twoGpus(String platform) throws Exception {
        String out = run("two-gpus.jsh", platform);
        assertTrue(out.contains("stream on device 1, current device still 0"), out);
        assertTrue(out.matches("(?s).*refused: the destination is memory of device 1 \\(UUID 6869706666[0-9a-f]*7f.*"
                + "the stream of device 0 \\(UUID 6869706666[0-9a-f]*7e.*"), out);
        assertTrue(out.contains("first byte from device 1: 0x2a"), out);
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
