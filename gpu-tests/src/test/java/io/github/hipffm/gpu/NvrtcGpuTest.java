package io.github.hipffm.gpu;

import io.github.hipffm.CompilationException;
import io.github.hipffm.Dim3;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.RuntimeCompiler;
import io.github.hipffm.Stream;
import io.github.hipffm.vulkan.VulkanDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NVRTC on the GPU: a kernel compiled at run time runs on a mapped Vulkan-exported buffer and Vulkan sees the
 * result; a compile error carries the whole log.
 */
@Tag("gpu")
class NvrtcGpuTest {
    static final String SOURCE = """
            extern "C" __global__ void scale_add(float* x, float a, float b, long long n) {
                long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) x[i] = x[i] * a + b;
            }
            template <typename T> __global__ void fill(T* x, T v, long long n) {
                long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) x[i] = v;
            }""";
    private static VulkanDevice vk;

    @BeforeAll
    static void open() {
        if (Gpu.unavailableReason() == null) {
            vk = Gpu.vulkan(Gpu.require().uuidBytes());
        }
    }

    @AfterAll
    static void close() {
        if (vk != null) {
            vk.close();
        }
    }

    @BeforeEach
    void gpu() {
        Gpu.require();
    }

    @Test
    void aKernelCompiledAtRunTimeRunsOnAVulkanBuffer() {
        int n = 1 << 18;
        long bytes = 4L * n;
        RuntimeCompiler.Program program = RuntimeCompiler.compile(SOURCE, "scale_add.cu", List.of("-default-device"),
                List.of("fill<float>"));
        String ptx = new String(program.code(), StandardCharsets.US_ASCII);
        assertTrue(ptx.contains(".entry scale_add"), "PTX with the kernel");
        String fill = program.loweredNames().get("fill<float>");
        Gpu.record("NVRTC compiled " + program.code().length + " bytes of PTX; fill<float> lowered to " + fill);
        try (var buffer = Gpu.buffer(vk, bytes, false); Arena arena = Arena.ofConfined()) {
            MemorySegment input = arena.allocate(bytes);
            for (int i = 0; i < n; i++) {
                input.setAtIndex(ValueLayout.JAVA_FLOAT, i, i % 100);
            }
            vk.write(buffer, 0, input);
            ExternalMemory memory = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(buffer.exportFd(), buffer.allocationSize()));
            MemorySegment x = memory.mapBuffer(0, bytes);
            HipModule module = HipModule.load(arena, program.code());
            Kernel scaleAdd = module.kernel("scale_add", Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.FLOAT,
                    Kernel.Param.LONG);
            Stream stream = Stream.create(arena);
            scaleAdd.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, x, 3.0f, -1.0f, (long) n);
            stream.synchronize();
            MemorySegment expected = arena.allocate(bytes);
            for (int i = 0; i < n; i++) {
                expected.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 100) * 3.0f - 1.0f);
            }
            assertEquals(-1, Gpu.mismatch(vk, buffer, 0, expected), "first byte where Vulkan sees something else");

            Kernel fillFloat = module.kernel(fill, Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.LONG);
            fillFloat.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, x, 42.5f, (long) n);
            stream.synchronize();
            for (int i = 0; i < n; i++) {
                expected.setAtIndex(ValueLayout.JAVA_FLOAT, i, 42.5f);
            }
            assertEquals(-1, Gpu.mismatch(vk, buffer, 0, expected), "the C++ template kernel, by its lowered name");
        }
    }

    @Test
    void aCompileErrorCarriesTheWholeLog() {
        CompilationException e = assertThrows(CompilationException.class, () -> RuntimeCompiler.compile(
                "extern \"C\" __global__ void broken(float* x) { x[0] = undefined_name; }", "broken.cu"));
        Gpu.record("NVRTC compile error: " + e.getMessage().replace('\n', ' '));
        assertTrue(e.getMessage().startsWith("nvrtcCompileProgram failed for broken.cu: NVRTC_ERROR_COMPILATION"),
                e.getMessage());
        assertTrue(e.log().contains("undefined_name"), e.log());
    }
}
