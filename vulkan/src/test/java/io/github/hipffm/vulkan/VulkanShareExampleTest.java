package io.github.hipffm.vulkan;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs {@code examples/vulkan-share.jsh} in jshell as its header says, against the C test runtime and lavapipe
 * ({@code -Dhipffm.vulkan.device=first}), and checks what it prints: the kernel's result read back by Vulkan, and
 * the semaphore half either sharing or saying why not. (The core's JshellExamplesTest leaves this example to here.)
 */
class VulkanShareExampleTest {
    @Test
    void theExampleSharesABufferWithAKernel() throws IOException, InterruptedException {
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        assertTrue(Files.isExecutable(jshell), "no jshell in " + System.getProperty("java.home"));
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(jshell.toString(), "--class-path", classPath,
                "-R--enable-native-access=ALL-UNNAMED", "-R-Dsun.misc.unsafe.memory.access=allow",
                "-R-Dhipffm.library=" + System.getProperty("hipffm.library"), "-R-Dhipffm.platform=amd",
                "-R-Dhipffm.vulkan.device=first",
                "-R-Dorg.lwjgl.system.SharedLibraryExtractPath=" + System.getProperty("org.lwjgl.system.SharedLibraryExtractPath"),
                "--startup", "DEFAULT", "--startup", root.resolve("scripts/jshell-startup.jsh").toString(),
                root.resolve("examples/vulkan-share.jsh").toString(), root.resolve("scripts/jshell-exit.jsh").toString()));
        Process p = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        var output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            fail("jshell did not end within 120 s: " + output.join());
        }
        String out = output.join();
        System.out.println("VulkanShareExampleTest: " + out.strip().replace("\n", "\n  "));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("1.5 * 2 + 1 = 4.0 (written by Vulkan, computed by HIP, read by Vulkan)"), out);
        assertTrue(out.contains("timeline semaphore: Vulkan saw HIP's 1: true")
                || out.contains("timeline semaphore: not shared here: "), out);
        assertFalse(out.contains("|  Error") || out.contains("|  Exception"), out);
    }
}
