package io.github.hipffm.vulkan;

import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferMemoryRequirementsInfo2;
import org.lwjgl.vulkan.VkMemoryDedicatedRequirements;
import org.lwjgl.vulkan.VkMemoryRequirements2;

import static org.lwjgl.vulkan.VK10.*;
import static org.lwjgl.vulkan.VK11.*;

/**
 * A {@code VkBuffer} bound to memory that can be exported as an opaque fd, with what HIP must be told about it: the
 * allocation's size ({@link #allocationSize()}), whether it is dedicated, and where the buffer lies in it
 * ({@link #memoryOffset()}, a multiple of {@link #alignment()}).
 *
 * <p>Made by {@link VulkanDevice#createBuffer(long, boolean)} (this library owns it: {@link #close()} destroys the
 * buffer and frees its memory) or declared by {@link #wrap} for the application's own buffer (checked against the
 * buffer's memory requirements when wrapped; {@link #close()} then destroys nothing).
 *
 * {@snippet :
 * try (ExportableBuffer buffer = vk.createBuffer(size, false);       // not dedicated
 *      Arena arena = Arena.ofConfined()) {
 *     SharedBuffer shared = VulkanInterop.importBuffer(arena, buffer); // fd exported, imported, mapped
 *     kernel.launch(grid, block, 0, stream, shared.segment(), n);
 *     stream.synchronize();
 * }                                                                     // HIP side first, then the buffer
 * }
 */
public final class ExportableBuffer extends Exportable implements AutoCloseable {
    private final long buffer;
    private final long size;
    private final long memory;
    private final long memoryOffset;
    private final long allocationSize;
    private final long alignment;
    private final boolean dedicated;
    private final int exportHandleTypes;
    private final boolean owned;

    ExportableBuffer(VulkanDevice owner, long buffer, long size, long memory, long memoryOffset, long allocationSize,
            long alignment, boolean dedicated, int exportHandleTypes, boolean owned) {
        super(owner, "buffer");
        this.buffer = buffer;
        this.size = size;
        this.memory = memory;
        this.memoryOffset = memoryOffset;
        this.allocationSize = allocationSize;
        this.alignment = alignment;
        this.dedicated = dedicated;
        this.exportHandleTypes = exportHandleTypes;
        this.owned = owned;
    }

    /**
     * {@return the application's buffer, declared exportable, checked before anything is exported or imported}
     *
     * @param device the device of the buffer ({@link VulkanDevice#wrap})
     * @param buffer the {@code VkBuffer}
     * @param size the buffer's size in bytes (what HIP maps)
     * @param memory the {@code VkDeviceMemory} it is bound to
     * @param memoryOffset where it is bound in the memory ({@code vkBindBufferMemory}'s offset)
     * @param allocationSize the memory's {@code allocationSize} (what HIP imports)
     * @param dedicated whether the memory was allocated with {@code VkMemoryDedicatedAllocateInfo} for this buffer
     * @param exportHandleTypes the {@code VkExportMemoryAllocateInfo.handleTypes} the memory was allocated with
     * @throws IllegalArgumentException when the memory is not exportable as an opaque fd (no
     *     {@code OPAQUE_FD_BIT} in {@code exportHandleTypes}), when the buffer does not fit the allocation at that
     *     offset or the offset breaks its alignment (from {@code vkGetBufferMemoryRequirements2}), when the driver
     *     requires a dedicated allocation and {@code dedicated} is false, or a dedicated allocation has an offset
     */
    public static ExportableBuffer wrap(VulkanDevice device, long buffer, long size, long memory, long memoryOffset,
            long allocationSize, boolean dedicated, int exportHandleTypes) {
        if (device == null || buffer == VK_NULL_HANDLE || memory == VK_NULL_HANDLE) {
            throw new IllegalArgumentException("device, buffer and memory must not be null");
        }
        device.checkOpen();
        if ((exportHandleTypes & VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT) == 0) {
            throw new IllegalArgumentException("the buffer's memory is not exportable as an opaque fd: it was allocated"
                    + " with export handle types 0x" + Integer.toHexString(exportHandleTypes) + "; allocate it with"
                    + " VkExportMemoryAllocateInfo.handleTypes containing VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT");
        }
        if (size <= 0 || memoryOffset < 0 || allocationSize <= 0) {
            throw new IllegalArgumentException("size and allocationSize must be > 0 and memoryOffset >= 0, got " + size
                    + ", " + allocationSize + ", " + memoryOffset);
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkMemoryDedicatedRequirements dr = VkMemoryDedicatedRequirements.calloc(stack).sType$Default();
            VkMemoryRequirements2 req = VkMemoryRequirements2.calloc(stack).sType$Default().pNext(dr.address());
            vkGetBufferMemoryRequirements2(device.device(),
                    VkBufferMemoryRequirementsInfo2.calloc(stack).sType$Default().buffer(buffer), req);
            long need = req.memoryRequirements().size();
            long align = req.memoryRequirements().alignment();
            if (size > need) {
                throw new IllegalArgumentException("size mismatch: the buffer is declared " + size
                        + " bytes but its memory requirements are " + need + " bytes: pass the VkBufferCreateInfo size");
            }
            if (memoryOffset % align != 0) {
                throw new IllegalArgumentException("alignment mismatch: memory offset " + memoryOffset
                        + " is not a multiple of the buffer's alignment " + align);
            }
            if (memoryOffset > allocationSize - need) {
                throw new IllegalArgumentException("size mismatch: the buffer needs " + need + " bytes at offset "
                        + memoryOffset + " but the allocation has " + allocationSize + " bytes");
            }
            if (dr.requiresDedicatedAllocation() && !dedicated) {
                throw new IllegalArgumentException("the driver requires a dedicated allocation for this buffer"
                        + " (VkMemoryDedicatedRequirements), but it is declared not dedicated");
            }
            if (dedicated && memoryOffset != 0) {
                throw new IllegalArgumentException("a dedicated allocation is bound at offset 0, got " + memoryOffset);
            }
            return new ExportableBuffer(device, buffer, size, memory, memoryOffset, allocationSize, align, dedicated,
                    exportHandleTypes, false);
        }
    }

    /** {@return the {@code VkBuffer}} */
    public long buffer() {
        return buffer;
    }

    /** {@return the buffer's size in bytes: what HIP maps} */
    public long size() {
        return size;
    }

    /** {@return the {@code VkDeviceMemory}} */
    public long memory() {
        return memory;
    }

    /** {@return where the buffer lies in the memory, bytes: the offset HIP maps at} */
    public long memoryOffset() {
        return memoryOffset;
    }

    /** {@return the memory's allocation size, bytes: the size HIP imports ({@code ExternalMemoryDescriptor.size})} */
    public long allocationSize() {
        return allocationSize;
    }

    /** {@return the buffer's required alignment in its memory ({@code VkMemoryRequirements.alignment})} */
    public long alignment() {
        return alignment;
    }

    /** {@return whether the memory is a dedicated allocation (HIP's {@code hipExternalMemoryDedicated})} */
    public boolean dedicated() {
        return dedicated;
    }

    /**
     * {@return a new fd for the memory ({@code vkGetMemoryFdKHR}, {@code OPAQUE_FD}): the caller's to close, or to
     * hand to {@code ExternalMemory.importMemory}, which then owns it} {@link VulkanInterop#importBuffer} does this
     * for you.
     * @throws IllegalStateException when the buffer or its device is closed
     * @throws VulkanException when the export fails
     */
    public int exportFd() {
        return exportMemoryFd(memory);
    }

    /**
     * Destroys the buffer and frees its memory when this library made them (after the device is idle); a
     * {@linkplain #wrap wrapped} buffer is left to the application. Close the HIP side first. Twice is harmless.
     */
    @Override
    public void close() {
        if (!markClosed()) {
            return;
        }
        if (owned) {
            vkDeviceWaitIdle(owner.device());
            vkDestroyBuffer(owner.device(), buffer, null);
            vkFreeMemory(owner.device(), memory, null);
        }
    }

    @Override
    public String toString() {
        return "ExportableBuffer[" + size + " bytes at " + memoryOffset + " of a " + allocationSize + "-byte"
                + (dedicated ? " dedicated" : "") + " allocation, alignment " + alignment + "]";
    }
}
