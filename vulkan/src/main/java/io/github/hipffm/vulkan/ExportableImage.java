package io.github.hipffm.vulkan;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Extent;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkMemoryGetFdInfoKHR;

import java.nio.IntBuffer;

import static org.lwjgl.vulkan.KHRExternalMemoryFd.vkGetMemoryFdKHR;
import static org.lwjgl.vulkan.VK10.*;
import static org.lwjgl.vulkan.VK11.*;

/**
 * An optimal-tiling {@code VkImage} with a dedicated allocation exportable as an opaque fd, shaped as the HIP
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
public final class ExportableImage implements AutoCloseable {
    private final VulkanDevice owner;
    private final long image;
    private final long memory;
    private final long allocationSize;
    private final ImageShape shape;
    private boolean closed;

    ExportableImage(VulkanDevice owner, long image, long memory, long allocationSize, ImageShape shape) {
        this.owner = owner;
        this.image = image;
        this.memory = memory;
        this.allocationSize = allocationSize;
        this.shape = shape;
    }

    /** {@return the {@code VkImage}} */
    public long image() {
        return image;
    }

    /** {@return the {@code VkDeviceMemory} (dedicated to the image)} */
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

    /** {@return the device it belongs to} */
    public VulkanDevice device() {
        return owner;
    }

    /**
     * {@return a new fd for the image's memory ({@code vkGetMemoryFdKHR}, {@code OPAQUE_FD}), the caller's}
     * @throws IllegalStateException when the image or its device is closed
     * @throws VulkanException when the export fails
     */
    public int exportFd() {
        checkOpen();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkMemoryGetFdInfoKHR info = VkMemoryGetFdInfoKHR.calloc(stack).sType$Default().memory(memory)
                    .handleType(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            IntBuffer fd = stack.mallocInt(1);
            VulkanException.check(vkGetMemoryFdKHR(owner.device(), info, fd), "vkGetMemoryFdKHR");
            if (fd.get(0) < 0) {
                throw new VulkanException("vkGetMemoryFdKHR (returned fd " + fd.get(0) + ")", VK_ERROR_INVALID_EXTERNAL_HANDLE);
            }
            return fd.get(0);
        }
    }

    void checkOpen() {
        owner.checkOpen();
        if (closed) {
            throw new IllegalStateException("the ExportableImage is closed");
        }
    }

    void checkOwner(VulkanDevice device) {
        checkOpen();
        if (device != owner) {
            throw new IllegalArgumentException("the image belongs to another VulkanDevice: " + owner);
        }
    }

    /** Destroys the image and frees its memory once the device is idle. Close the HIP side first. Twice is harmless. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        vkDeviceWaitIdle(owner.device());
        vkDestroyImage(owner.device(), image, null);
        vkFreeMemory(owner.device(), memory, null);
    }

    @Override
    public String toString() {
        return "ExportableImage[" + shape + ", " + allocationSize + " bytes]";
    }
}
