package io.github.hipffm.gpu;

import io.github.hipffm.Dim3;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.vulkan.VulkanDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Kernels on the GPU: PTX built by nvcc at build time ({@code src/test/cuda/kernels.cu}), loaded with
 * {@link HipModule}, launched on device memory and on a mapped Vulkan buffer that Vulkan then reads.
 */
@Tag("gpu")
class KernelGpuTest {
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

    static byte[] ptx() throws IOException {
        try (InputStream in = KernelGpuTest.class.getResourceAsStream("/io/github/hipffm/kernels.ptx")) {
            if (in == null) {
                throw new IllegalStateException("kernels.ptx is not on the class path (src/test/cuda/build.sh builds it)");
            }
            return in.readAllBytes();
        }
    }

    @Test
    void aKernelRunsOnAMappedVulkanBufferAndVulkanSeesTheResult() throws IOException {
        int n = 1 << 20;
        long bytes = 4L * n;
        try (var buffer = Gpu.buffer(vk, bytes, false); Arena arena = Arena.ofConfined()) {
            MemorySegment input = arena.allocate(bytes);
            for (int i = 0; i < n; i++) {
                input.setAtIndex(ValueLayout.JAVA_FLOAT, i, i % 1000);
            }
            vk.write(buffer, 0, input);
            ExternalMemory memory = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(buffer.exportFd(), buffer.allocationSize()));
            MemorySegment x = memory.mapBuffer(0, bytes);
            HipModule module = HipModule.load(arena, ptx());
            Kernel scaleAdd = module.kernel("scale_add", Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.FLOAT,
                    Kernel.Param.LONG);
            Stream stream = Stream.create(arena);
            scaleAdd.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, x, 2.0f, 1.0f, (long) n);
            stream.synchronize();
            MemorySegment expected = arena.allocate(bytes);
            for (int i = 0; i < n; i++) {
                expected.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 1000) * 2.0f + 1.0f);
            }
            assertEquals(-1, Gpu.mismatch(vk, buffer, 0, expected), "first byte where Vulkan sees something else");
        }
    }

    @Test
    void reusedArgumentsLaunchAThousandTimes() throws IOException {
        int n = 4096;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 4L * n);
            Memory.fill(device, (byte) 0);
            Kernel increment = HipModule.load(arena, ptx()).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            KernelArgs args = increment.newArgs(arena).set(0, device).set(1, (long) n);
            Stream stream = Stream.create(arena);
            for (int i = 0; i < 1000; i++) {
                increment.launch(Dim3.covering(n, 128), Dim3.of(128), 0, stream, args);
            }
            stream.synchronize();
            MemorySegment host = Memory.allocatePinned(arena, 4L * n);
            Memory.copy(host, device);
            for (int i = 0; i < n; i++) {
                assertEquals(1000, host.getAtIndex(ValueLayout.JAVA_INT, i), "word " + i);
            }
        }
    }
}
