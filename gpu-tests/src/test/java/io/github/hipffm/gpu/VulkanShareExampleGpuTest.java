package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.Dim3;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.Stream;
import io.github.hipffm.vulkan.ExportableBuffer;
import io.github.hipffm.vulkan.ExportableSemaphore;
import io.github.hipffm.vulkan.SemaphoreType;
import io.github.hipffm.vulkan.VulkanDevice;
import io.github.hipffm.vulkan.VulkanInterop;
import io.github.hipffm.vulkan.VulkanInterop.SharedBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ten lines of {@code vulkan/README.md} ("Ten lines"), as they are there, on the GPU: a Vulkan buffer and a
 * timeline semaphore shared with a HIP kernel, all of it (CI runs the memory half against lavapipe, which exports no
 * semaphore, through {@code examples/vulkan-share.jsh}; the GPU bundle's runtime has no jshell). Around them: Vulkan
 * writes 1.5 into every float first and reads the kernel's 1.5 * 2 + 1 back after.
 */
@Tag("gpu")
class VulkanShareExampleGpuTest {
    @Test
    // Hung on the H200 before HipModule.kernel loaded the kernel (CUDA's lazy loading: the first launch, queued
    // behind a wait the host signals only after it, waited for the device). A hang now fails here instead.
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theReadmesTenLinesShareABufferAndATimelineWithAKernel() throws IOException {
        Device device = Gpu.require();
        int n = 1 << 16;
        try (Arena kernels = Arena.ofConfined()) {
            Kernel kernel = HipModule.load(kernels, KernelGpuTest.ptx()).kernel("scale_add", Kernel.Param.POINTER,
                    Kernel.Param.FLOAT, Kernel.Param.FLOAT, Kernel.Param.LONG);
            float[] seen = new float[1];
            boolean[] reached = new boolean[1];
            // ---- vulkan/README.md, "Ten lines" (the two lines marked "test" are not in it) ----
            try (VulkanDevice vk = VulkanDevice.create(device);                         // the Vulkan device with HIP's UUID
                 ExportableBuffer buffer = vk.createBuffer(4L * n);                       // device-local, exportable, dedicated
                 ExportableSemaphore timeline = vk.createSemaphore(SemaphoreType.TIMELINE);
                 Arena arena = Arena.ofConfined()) {
                vk.fill(buffer, 0, 4L * n, Float.floatToIntBits(1.5f));                  // test: Vulkan writes 1.5f
                SharedBuffer shared = VulkanInterop.importBuffer(arena, buffer);          // export fd, import, map: one call
                ExternalSemaphore sync = VulkanInterop.importTimelineSemaphore(arena, timeline);
                Stream stream = Stream.create(arena);
                sync.wait(1, stream);                                                     // HIP waits for Vulkan's 1 ...
                kernel.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, shared.segment(), 2.0f, 1.0f, (long) n);
                sync.signal(2, stream);                                                   // ... and signals 2 when done
                timeline.signal(1);                                                       // (here the host plays Vulkan)
                reached[0] = timeline.await(2, Duration.ofSeconds(5));                    // Vulkan may use the buffer again
                seen[0] = MemorySegment.ofArray(vk.read(buffer, 4L * (n - 1), 4))         // test: Vulkan reads the result
                        .get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0);
            }
            assertTrue(reached[0], "Vulkan saw HIP's signal of 2 within 5 s");
            assertEquals(4.0f, seen[0], "the last float as Vulkan reads it: 1.5 * 2 + 1");
            Gpu.record("vulkan/README.md's ten lines on the GPU: Vulkan saw HIP's 2, and read 1.5 * 2 + 1 = " + seen[0]);
        }
    }
}
