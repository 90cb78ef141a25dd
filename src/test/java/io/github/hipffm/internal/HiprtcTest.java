package io.github.hipffm.internal;

import io.github.hipffm.CompilationException;
import io.github.hipffm.Platform;
import io.github.hipffm.RuntimeCompiler;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * hiprtc for real, without a GPU: ROCm's runtime compiler (in Debian's libamdhip64 5.2, CI) compiles HIP source
 * for an explicit {@code --offload-arch}. Runs where the AMD runtime is the one in use.
 */
class HiprtcTest {
    private static final String SOURCE = """
            extern "C" __global__ void scale_add(float* x, float a, float b, long long n) {
                long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) x[i] = x[i] * a + b;
            }
            template <typename T> __global__ void fill(T* x, T v, int n) {
                int i = blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) x[i] = v;
            }""";

    @BeforeEach
    void amdRuntime() {
        Backend b = Runtimes.current();
        assumeTrue(b.platform() == Platform.AMD, "hiprtc is the AMD platform's compiler; this JVM uses " + b.library());
    }

    @Test
    void compilesACodeObjectForTheRequestedArchitecture() {
        RuntimeCompiler.Program p = RuntimeCompiler.compile(SOURCE, "scale_add.hip", List.of("--offload-arch=gfx90a"),
                List.of("fill<float>"));
        assertTrue(p.code().length > 1000, "code object of " + p.code().length + " bytes");
        String head = new String(p.code(), 0, 24, StandardCharsets.ISO_8859_1);
        assertTrue(head.startsWith("\u007fELF") || head.startsWith("__CLANG_OFFLOAD_BUNDLE__"),
                "an ELF code object or a clang offload bundle, got: " + head);
        String lowered = p.loweredNames().get("fill<float>");
        assertTrue(lowered != null && lowered.startsWith("_Z") && lowered.contains("fill"), "lowered name " + lowered);
    }

    @Test
    void aCompileErrorCarriesTheWholeLog() {
        CompilationException e = assertThrows(CompilationException.class, () -> RuntimeCompiler.compile(
                "extern \"C\" __global__ void broken(float* x) { x[0] = undefined_name; }", "broken.hip",
                List.of("--offload-arch=gfx90a")));
        assertEquals("broken.hip", e.program());
        assertTrue(e.log().contains("undefined_name"), e.log());
        assertTrue(e.getMessage().startsWith("hiprtcCompileProgram failed for broken.hip: HIPRTC_ERROR_COMPILATION"),
                e.getMessage());
        assertTrue(e.getMessage().contains("undefined_name"), "the message carries the log: " + e.getMessage());
    }

    /**
     * Without an {@code --offload-arch} and without a device to take it from (CI: ROCm 5.2, no GPU), hiprtc cannot
     * compile ("Please provide architecture..."): the failure says which option to pass. With an AMD GPU the
     * device's architecture is added and the same call compiles.
     */
    @Test
    void withoutAnArchitectureItIsTheDevicesOrTheFailureSaysWhichOptionToPass() {
        if (RealRuntimeTest.gpuPresent(Platform.AMD)) {
            RuntimeCompiler.Program p = RuntimeCompiler.compile(SOURCE, "scale_add.hip");
            assertTrue(p.code().length > 1000, "code object of " + p.code().length + " bytes");
            return;
        }
        CompilationException e = assertThrows(CompilationException.class,
                () -> RuntimeCompiler.compile(SOURCE, "scale_add.hip"));
        assertTrue(e.getMessage().startsWith("hiprtcCompileProgram failed for scale_add.hip: "), e.getMessage());
        assertTrue(e.getMessage().contains("pass --offload-arch=gfxNNN, the gcnArchName of the GPU the code is for"),
                e.getMessage());
    }

    @Test
    void argumentsAreCheckedBeforeTheCompilerRuns() {
        assertThrows(IllegalArgumentException.class, () -> RuntimeCompiler.compile(null, "x.hip"));
        assertThrows(IllegalArgumentException.class, () -> RuntimeCompiler.compile(SOURCE, null));
        assertThrows(IllegalArgumentException.class, () -> RuntimeCompiler.compile(SOURCE, "x.hip",
                java.util.Arrays.asList("--offload-arch=gfx90a", null)));
    }
}
