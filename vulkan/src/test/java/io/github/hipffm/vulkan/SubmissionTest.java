package io.github.hipffm.vulkan;

import org.junit.jupiter.api.Test;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkBufferCopy;
import org.lwjgl.vulkan.VkSemaphoreCreateInfo;
import org.lwjgl.vulkan.VkSemaphoreTypeCreateInfo;

import java.lang.foreign.ValueLayout;
import java.nio.LongBuffer;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;
import static org.lwjgl.vulkan.VK10.*;
import static org.lwjgl.vulkan.VK12.*;

/**
 * Submissions with semaphores and fences ({@link VulkanDevice#submission()}). Lavapipe cannot export semaphores, so
 * the semaphores here are the test's own, declared with {@link ExportableSemaphore#wrap} (nothing is exported); on
 * the GPU machine the same calls run on exported ones (the GPU tests).
 */
class SubmissionTest extends VulkanDeviceTest {
    private long semaphore(boolean timeline) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkSemaphoreTypeCreateInfo type = VkSemaphoreTypeCreateInfo.calloc(stack).sType$Default()
                    .semaphoreType(VK_SEMAPHORE_TYPE_TIMELINE).initialValue(0);
            LongBuffer lp = stack.mallocLong(1);
            assertEquals(VK_SUCCESS, vkCreateSemaphore(vk.device(), VkSemaphoreCreateInfo.calloc(stack).sType$Default()
                    .pNext(timeline ? type.address() : 0), null, lp));
            return lp.get(0);
        }
    }

    private ExportableSemaphore wrap(long semaphore, SemaphoreType type) {
        return ExportableSemaphore.wrap(vk, semaphore, type, VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT);
    }

    @Test
    void commandsRunAndTheFenceSaysWhen() {
        int usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
        try (HostBuffer src = vk.createHostBuffer(4, usage, false); HostBuffer dst = vk.createHostBuffer(4, usage, false)) {
            src.segment().set(ValueLayout.JAVA_INT, 0, 42);
            try (Fence fence = vk.submission().commands(cmd -> {
                try (MemoryStack stack = MemoryStack.stackPush()) {
                    vkCmdCopyBuffer(cmd, src.buffer(), dst.buffer(), VkBufferCopy.calloc(1, stack).size(4));
                }
            }).submit()) {
                assertTrue(fence.await(Duration.ofSeconds(10)));
                assertTrue(fence.isSignalled());
            }
            assertEquals(42, dst.segment().get(ValueLayout.JAVA_INT, 0), "the copy ran");
        }
    }

    @Test
    void aSubmissionWaitsForATimelineValue() {
        long t = semaphore(true);
        try {
            ExportableSemaphore timeline = wrap(t, SemaphoreType.TIMELINE);
            Fence fence = vk.submission().waitFor(timeline, 2, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT).signal(timeline, 3)
                    .submit();
            assertFalse(fence.await(Duration.ofMillis(50)), "waits for 2");
            IllegalStateException e = assertThrows(IllegalStateException.class, fence::close);
            assertTrue(e.getMessage().contains("not completed"), e.getMessage());
            timeline.signal(2);
            assertTrue(fence.await(Duration.ofSeconds(10)), "ran once the host signalled 2");
            assertTrue(timeline.await(3, Duration.ofSeconds(10)), "and signalled 3");
            fence.close();
            fence.close();
            assertThrows(IllegalStateException.class, fence::isSignalled, "closed");
        } finally {
            vkDestroySemaphore(vk.device(), t, null);
        }
    }

    @Test
    void aBinarySignalWithoutAFenceReleasesAWaitingSubmission() {
        long b = semaphore(false);
        try {
            ExportableSemaphore binary = wrap(b, SemaphoreType.BINARY);
            vk.submission().signal(binary).submitWithoutFence();
            try (Fence fence = vk.submission().waitFor(binary, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT).submit()) {
                assertTrue(fence.await(Duration.ofSeconds(10)));
            }
            vk.waitIdle();
        } finally {
            vkDestroySemaphore(vk.device(), b, null);
        }
    }

    @Test
    void wrongTypesAndReuseAreRefusedBeforeVulkan() {
        long b = semaphore(false);
        long t = semaphore(true);
        try {
            ExportableSemaphore binary = wrap(b, SemaphoreType.BINARY);
            ExportableSemaphore timeline = wrap(t, SemaphoreType.TIMELINE);
            Submission s = vk.submission();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.waitFor(binary, 1, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT));
            assertTrue(e.getMessage().contains("wrong type"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.signal(timeline));
            assertThrows(IllegalArgumentException.class, () -> s.waitFor(null, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT));
            assertThrows(IllegalStateException.class, () -> vk.submission().commands(cmd -> { }).submitWithoutFence());
            s.submit().close();
            assertThrows(IllegalStateException.class, s::submit, "submitted already");
        } finally {
            vkDestroySemaphore(vk.device(), b, null);
            vkDestroySemaphore(vk.device(), t, null);
        }
    }
}
