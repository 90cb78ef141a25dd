package io.github.hipffm.vulkan;

import java.lang.foreign.MemorySegment;

import static org.lwjgl.vulkan.VK10.*;

/**
 * A {@code VkBuffer} in host-visible, coherent memory of its own, mapped into this process for as long as it lives:
 * the host reads and writes {@link #segment()} directly, Vulkan copies to and from {@link #buffer()}, and, when made
 * exportable, HIP imports the allocation ({@link #exportFd()}, {@link #allocationSize()}). Made by
 * {@link VulkanDevice#createHostBuffer}; {@link #close()} unmaps, destroys the buffer and frees the memory.
 *
 * {@snippet :
 * try (HostBuffer storage = vk.createHostBuffer(4096, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, true);
 *      Arena arena = Arena.ofConfined()) {
 *     ExternalMemory memory = ExternalMemory.importMemory(arena,
 *             ExternalMemoryDescriptor.opaqueFd(storage.exportFd(), storage.allocationSize()));
 *     MemorySegment device = memory.mapBuffer(0, storage.allocationSize());
 *     storage.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 42);   // the host writes, HIP reads it
 * }
 * }
 */
public final class HostBuffer extends Exportable implements AutoCloseable {
    private final long buffer;
    private final long size;
    private final long memory;
    private final long allocationSize;
    private final MemorySegment host;
    private final boolean exportable;

    HostBuffer(VulkanDevice owner, long buffer, long size, long memory, long allocationSize, MemorySegment host,
            boolean exportable) {
        super(owner, "buffer");
        this.buffer = buffer;
        this.size = size;
        this.memory = memory;
        this.allocationSize = allocationSize;
        this.host = host;
        this.exportable = exportable;
    }

    /** {@return the {@code VkBuffer}} */
    public long buffer() {
        return buffer;
    }

    /** {@return the buffer's size in bytes, as asked for} */
    public long size() {
        return size;
    }

    /** {@return the {@code VkDeviceMemory}} */
    public long memory() {
        return memory;
    }

    /** {@return the allocation's size ({@code VkMemoryRequirements.size}, at least {@link #size()}): what HIP imports} */
    public long allocationSize() {
        return allocationSize;
    }

    /** {@return whether the memory can be exported} */
    public boolean exportable() {
        return exportable;
    }

    /**
     * {@return the host mapping of the whole allocation ({@link #allocationSize()} bytes, {@code vkMapMemory}), coherent}
     * The segment is valid until {@link #close()}: do not use it afterwards.
     * @throws IllegalStateException when the buffer or its device is closed
     */
    public MemorySegment segment() {
        checkOpen();
        return host;
    }

    /**
     * {@return a new fd for the memory ({@code vkGetMemoryFdKHR}, {@code OPAQUE_FD}): the caller's to close, or to hand
     * to {@code ExternalMemory.importMemory}, which then owns it}
     * @throws IllegalStateException when the buffer was not made exportable, or it or its device is closed
     * @throws VulkanException when the export fails
     */
    public int exportFd() {
        if (!exportable) {
            throw new IllegalStateException("the host buffer was not made exportable: createHostBuffer(size, usage, true)");
        }
        return exportMemoryFd(memory);
    }

    /** Unmaps, destroys the buffer and frees its memory once the device is idle. Close the HIP side first. Twice is harmless. */
    @Override
    public void close() {
        if (!markClosed()) {
            return;
        }
        vkDeviceWaitIdle(owner.device());
        vkUnmapMemory(owner.device(), memory);
        vkDestroyBuffer(owner.device(), buffer, null);
        vkFreeMemory(owner.device(), memory, null);
    }

    @Override
    public String toString() {
        return "HostBuffer[" + size + " bytes in a " + allocationSize + "-byte host-visible allocation"
                + (exportable ? ", exportable" : "") + "]";
    }
}
