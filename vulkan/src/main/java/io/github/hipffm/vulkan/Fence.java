package io.github.hipffm.vulkan;

import org.lwjgl.vulkan.VkCommandBuffer;

import java.time.Duration;

import static org.lwjgl.vulkan.VK10.*;

/**
 * The {@code VkFence} of a {@link Submission}, with the command buffer it ran (if any): {@link #isSignalled()},
 * {@link #await(Duration)}, and {@link #close()} once it is signalled, which destroys the fence and frees the
 * command buffer.
 */
public final class Fence implements AutoCloseable {
    private final VulkanDevice device;
    private final long fence;
    private final VkCommandBuffer commands;
    private boolean closed;

    Fence(VulkanDevice device, long fence, VkCommandBuffer commands) {
        this.device = device;
        this.fence = fence;
        this.commands = commands;
    }

    /** {@return the {@code VkFence}} */
    public long fence() {
        return fence;
    }

    /**
     * {@return whether the submission has completed ({@code vkGetFenceStatus} is {@code VK_SUCCESS})}
     * @throws IllegalStateException when closed
     * @throws VulkanException when Vulkan reports an error (a lost device)
     */
    public boolean isSignalled() {
        checkOpen();
        int rc = vkGetFenceStatus(device.device(), fence);
        if (rc != VK_SUCCESS && rc != VK_NOT_READY) {
            VulkanException.check(rc, "vkGetFenceStatus");
        }
        return rc == VK_SUCCESS;
    }

    /**
     * Waits on the host until the submission has completed ({@code vkWaitForFences}).
     *
     * @param timeout how long at most
     * @return true when it completed, false on timeout
     * @throws IllegalStateException when closed
     * @throws VulkanException when Vulkan reports an error
     */
    public boolean await(Duration timeout) {
        checkOpen();
        int rc = vkWaitForFences(device.device(), fence, true, VulkanDevice.nanos(timeout));
        if (rc == VK_TIMEOUT) {
            return false;
        }
        VulkanException.check(rc, "vkWaitForFences");
        return true;
    }

    private void checkOpen() {
        device.checkOpen();
        if (closed) {
            throw new IllegalStateException("the Fence is closed");
        }
    }

    /**
     * Destroys the fence and frees the submission's command buffer. Twice is harmless.
     *
     * @throws IllegalStateException when the submission has not completed: the fence and command buffer are in use
     *     and stay alive (a submission that waits for a semaphore nobody signals never completes; wait with
     *     {@link #await(Duration)} first)
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (!isSignalled()) {
            throw new IllegalStateException("the submission has not completed: its fence and command buffer are still"
                    + " in use (await it first)");
        }
        closed = true;
        if (commands != null) {
            vkFreeCommandBuffers(device.device(), device.commandPool(), commands);
        }
        vkDestroyFence(device.device(), fence, null);
    }
}
