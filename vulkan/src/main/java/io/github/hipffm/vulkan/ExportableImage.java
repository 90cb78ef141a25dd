package io.github.hipffm.vulkan;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Extent;

import static org.lwjgl.vulkan.VK10.*;
import static org.lwjgl.vulkan.VK11.*;

/**
 * A {@code VkImage} (optimal tiling and a dedicated allocation unless made otherwise) exportable as an opaque fd, shaped as the HIP
 * mipmapped array it becomes: {@link #format()}, {@link #extent()}, {@link #levels()} and {@link #flags()} are the
 * arguments of {@code ExternalMemory.mapMipmappedArray}. Made by {@link VulkanDevice#createImage}.
 *
 * {@snippet :
 * ChannelFormat rgba8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);
 * try (ExportableImage image = vk.createImage(rgba8, Extent.of(256, 256), 9, 0);
 *      Arena arena = Arena.ofConfined()) {
 *     vk.submit(cmd -> vk.transition(cmd, image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_GENERAL));
 *     SharedImage shared = VulkanInterop.importImage(arena, image);
 *     ArrayLevel level0 = shared.array().level(0);
 * }
 * }
 */
public final class ExportableImage extends Exportable implements AutoCloseable {
    private final long image;
    private final long memory;
    private final long allocationSize;
    private final ImageShape shape;
    private final int tiling;
    private final boolean dedicated;

    ExportableImage(VulkanDevice owner, long image, long memory, long allocationSize, ImageShape shape, int tiling,
            boolean dedicated) {
        super(owner, "image");
        this.image = image;
        this.memory = memory;
        this.allocationSize = allocationSize;
        this.shape = shape;
        this.tiling = tiling;
        this.dedicated = dedicated;
    }

    /** {@return its {@code VkImageTiling}: {@code VK_IMAGE_TILING_OPTIMAL} or {@code VK_IMAGE_TILING_LINEAR}} */
    public int tiling() {
        return tiling;
    }

    /** {@return whether the memory is a dedicated allocation (imported with {@code hipExternalMemoryDedicated})} */
    public boolean dedicated() {
        return dedicated;
    }

    /** {@return the {@code VkImage}} */
    public long image() {
        return image;
    }

    /** {@return the {@code VkDeviceMemory}} */
    public long memory() {
        return memory;
    }

    /** {@return the allocation's size, bytes: the size HIP imports} */
    public long allocationSize() {
        return allocationSize;
    }

    /** {@return the element format} */
    public ChannelFormat format() {
        return shape.format();
    }

    /** {@return the {@code VkFormat} made from {@link #format()}} */
    public int vkFormat() {
        return shape.vkFormat();
    }

    /** {@return level 0's extent, as hip-ffm has it (layers and cube faces in the depth)} */
    public Extent extent() {
        return shape.extent();
    }

    /** {@return the mip levels} */
    public int levels() {
        return shape.levels();
    }

    /** {@return the Vulkan array layers (1, the layer count, or 6 per cube)} */
    public int layers() {
        return shape.layers();
    }

    /** {@return the {@code MipmappedArray} flags it was made for} */
    public int flags() {
        return shape.flags();
    }

    /**
     * {@return a new fd for the image's memory ({@code vkGetMemoryFdKHR}, {@code OPAQUE_FD}), the caller's}
     * @throws IllegalStateException when the image or its device is closed
     * @throws VulkanException when the export fails
     */
    public int exportFd() {
        return exportMemoryFd(memory);
    }

    /** Destroys the image and frees its memory once the device is idle. Close the HIP side first. Twice is harmless. */
    @Override
    public void close() {
        if (!markClosed()) {
            return;
        }
        vkDeviceWaitIdle(owner.device());
        vkDestroyImage(owner.device(), image, null);
        vkFreeMemory(owner.device(), memory, null);
    }

    @Override
    public String toString() {
        return "ExportableImage[" + shape + ", " + (tiling == VK_IMAGE_TILING_OPTIMAL ? "optimal" : "linear")
                + " tiling, " + allocationSize + " bytes" + (dedicated ? " dedicated" : "") + "]";
    }
}
