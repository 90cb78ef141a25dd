package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.Hip;
import io.github.hipffm.HipException;
import io.github.hipffm.HipUnavailableException;
import io.github.hipffm.Platform;
import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Extent;
import io.github.hipffm.MipmappedArray;
import io.github.hipffm.vulkan.DeviceSelector;
import io.github.hipffm.vulkan.ExportableBuffer;
import io.github.hipffm.vulkan.ExportableImage;
import io.github.hipffm.vulkan.ExportableSemaphore;
import io.github.hipffm.vulkan.Fence;
import io.github.hipffm.vulkan.VulkanDevice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

import static org.junit.jupiter.api.Assumptions.abort;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;
import static org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
import static org.lwjgl.vulkan.VK10.VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;

/**
 * Whether this JVM has a GPU to test on, where GPU tests record their figures, and the GPU tests' Vulkan side: a
 * {@link VulkanDevice} of the companion (hip-ffm-vulkan) with the buffers, images and queue operations the tests
 * have always used.
 */
final class Gpu {
    /** How long a host waits on Vulkan at most. */
    static final Duration VK_TIMEOUT = Duration.ofSeconds(10);
    /** The usage of the tests' device-local buffers: transfer source and destination (written and read by staging). */
    static final int BUFFER_USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    private static final ChannelFormat RGBA8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);

    private Gpu() {
    }

    /** {@return the Vulkan device whose {@code deviceUUID} is {@code uuid} (the HIP device's)} */
    static VulkanDevice vulkan(byte[] uuid) {
        return VulkanDevice.create(DeviceSelector.uuid(uuid));
    }

    /** {@return a device-local buffer of {@code size} bytes, exportable, of {@link #BUFFER_USAGE}} */
    static ExportableBuffer buffer(VulkanDevice vk, long size, boolean dedicated) {
        return vk.createBuffer(size, dedicated, BUFFER_USAGE);
    }

    /** {@return an RGBA8 unsigned-integer 2D image with mip levels, optimal tiling, dedicated, usable as a surface} */
    static ExportableImage image(VulkanDevice vk, int width, int height, int levels) {
        return vk.createImage(RGBA8, Extent.of(width, height), levels, MipmappedArray.SURFACE_LOAD_STORE);
    }

    /** {@return the first byte of {@code buffer} at {@code offset} that differs from {@code expected}, as Vulkan reads it, or -1} */
    static long mismatch(VulkanDevice vk, ExportableBuffer buffer, long offset, MemorySegment expected) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seen = arena.allocate(expected.byteSize());
            vk.read(buffer, offset, seen);
            return seen.mismatch(expected);
        }
    }

    /** A queue submission that signals the binary {@code semaphore}. */
    static void queueSignal(VulkanDevice vk, ExportableSemaphore semaphore) {
        vk.submission().signal(semaphore).submitWithoutFence();
    }

    /** {@return whether a queue submission that waits for the binary {@code semaphore} completed within the timeout} */
    static boolean queueWait(VulkanDevice vk, ExportableSemaphore semaphore, Duration timeout) {
        Fence fence = vk.submission().waitFor(semaphore, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT).submit();
        try {
            return fence.await(timeout);
        } finally {
            vk.waitIdle();
            fence.close();
        }
    }

    private static volatile String unavailable;
    private static volatile boolean reported;

    /**
     * {@return device 0, or aborts the calling test with the reason there is none} Aborting marks the test
     * skipped with that reason, so each GPU test shows up as skipped, not silently absent; the reason is also
     * printed once.
     */
    static Device require() {
        String why = unavailableReason();
        if (why != null) {
            if (!reported) {
                reported = true;
                System.out.println("GPU tests skipped: " + why);
            }
            abort(why);
        }
        return Hip.device(0);
    }

    /** {@return why there is no GPU to test on, or null when there is one} */
    static synchronized String unavailableReason() {
        if (unavailable == null) {
            unavailable = probe();
        }
        return unavailable.isEmpty() ? null : unavailable;
    }

    private static String probe() {
        try {
            if (Hip.platform() != Platform.NVIDIA) {
                return "GPU tests need an NVIDIA GPU (the only kind available to this project); this JVM loaded the "
                        + Hip.platform().id() + " runtime " + Hip.library() + " and it has no device";
            }
            return Hip.deviceCount() > 0 ? "" : "no GPU: the CUDA runtime reports 0 devices";
        } catch (HipUnavailableException e) {
            return "no GPU: no HIP runtime loads here: " + e.getMessage().lines().findFirst().orElse("");
        } catch (HipException e) {
            return "no GPU: " + e.getMessage();
        }
    }

    /** Appends a line to the results file named by {@code hipffm.gpuResults}, and prints it. */
    static void record(String line) {
        System.out.println("GPU-RESULT " + line);
        String file = System.getProperty("hipffm.gpuResults");
        if (file != null) {
            try {
                Files.writeString(Path.of(file), line + System.lineSeparator(), StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
