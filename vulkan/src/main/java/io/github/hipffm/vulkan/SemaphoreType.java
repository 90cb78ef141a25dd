package io.github.hipffm.vulkan;

/**
 * The type of a Vulkan semaphore ({@code VkSemaphoreType}), which decides how HIP imports it: a binary semaphore as
 * {@code OPAQUE_FD}, a timeline semaphore as {@code TIMELINE_SEMAPHORE_FD}.
 *
 * {@snippet :
 * ExportableSemaphore done = vk.createSemaphore(SemaphoreType.TIMELINE);
 * ExternalSemaphore hipSide = VulkanInterop.importTimelineSemaphore(arena, done);
 * }
 */
public enum SemaphoreType {
    /** {@code VK_SEMAPHORE_TYPE_BINARY}. */
    BINARY,
    /** {@code VK_SEMAPHORE_TYPE_TIMELINE}: a 64-bit counter, signalled and waited on with values. */
    TIMELINE
}
