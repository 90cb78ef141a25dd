package io.github.hipffm.vulkan;

import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkMemoryGetFdInfoKHR;

import java.nio.IntBuffer;
import java.util.function.ToIntFunction;

import static org.lwjgl.vulkan.KHRExternalMemoryFd.vkGetMemoryFdKHR;
import static org.lwjgl.vulkan.VK11.VK_ERROR_INVALID_EXTERNAL_HANDLE;
import static org.lwjgl.vulkan.VK11.VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;

/**
 * What {@link ExportableBuffer}, {@link ExportableImage}, {@link ExportableSemaphore} and {@link HostBuffer} share: the device they
 * belong to, whether they are closed, and the export of an opaque fd.
 */
abstract sealed class Exportable permits ExportableBuffer, ExportableImage, ExportableSemaphore, HostBuffer {
    final VulkanDevice owner;
    private final String noun;
    private boolean closed;

    /** @param noun what it is in messages: "buffer", "image", "semaphore" */
    Exportable(VulkanDevice owner, String noun) {
        this.owner = owner;
        this.noun = noun;
    }

    /** {@return the device it belongs to} */
    public VulkanDevice device() {
        return owner;
    }

    void checkOpen() {
        owner.checkOpen();
        if (closed) {
            throw new IllegalStateException("the " + getClass().getSimpleName() + " is closed");
        }
    }

    void checkOwner(VulkanDevice device) {
        checkOpen();
        if (device != owner) {
            throw new IllegalArgumentException("the " + noun + " belongs to another VulkanDevice: " + owner);
        }
    }

    /** {@return true the first time, when {@code close()} has something to do; it is closed from then on} */
    boolean markClosed() {
        if (closed) {
            return false;
        }
        closed = true;
        return true;
    }

    /** {@return a new opaque fd for {@code memory} ({@code vkGetMemoryFdKHR}), once {@link #checkOpen()} passes} */
    int exportMemoryFd(long memory) {
        checkOpen();
        return exportFd("vkGetMemoryFdKHR", (stack, fd) -> vkGetMemoryFdKHR(owner.device(),
                VkMemoryGetFdInfoKHR.calloc(stack).sType$Default().memory(memory)
                        .handleType(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT), fd));
    }

    /** A {@code vkGet…FdKHR} call: the {@code VkResult}, the fd written to {@code fd}. */
    interface FdCall {
        int get(MemoryStack stack, IntBuffer fd);
    }

    /**
     * {@return the fd {@code call} wrote}
     * @throws VulkanException when it fails or writes a negative fd
     */
    static int exportFd(String function, FdCall call) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer fd = stack.mallocInt(1);
            VulkanException.check(call.get(stack, fd), function);
            if (fd.get(0) < 0) {
                throw new VulkanException(function + " (returned fd " + fd.get(0) + ")", VK_ERROR_INVALID_EXTERNAL_HANDLE);
            }
            return fd.get(0);
        }
    }
}
