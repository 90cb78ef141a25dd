package io.github.hipffm.vulkan;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkCommandBuffer;
import org.lwjgl.vulkan.VkCommandBufferAllocateInfo;
import org.lwjgl.vulkan.VkCommandBufferBeginInfo;
import org.lwjgl.vulkan.VkFenceCreateInfo;
import org.lwjgl.vulkan.VkSubmitInfo;
import org.lwjgl.vulkan.VkTimelineSemaphoreSubmitInfo;

import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.lwjgl.vulkan.VK10.*;

/**
 * One {@code vkQueueSubmit} to a {@link VulkanDevice}'s queue, built step by step: the commands (recorded into a
 * one-time command buffer of the device's pool), the semaphores it waits on (with their stage masks) and those it
 * signals, with timeline values; {@link #submit()} returns the {@link Fence} it signals. This is how Vulkan work is
 * ordered with HIP's: HIP signals an imported semaphore that a submission waits on, or waits on one it signals.
 * Made by {@link VulkanDevice#submission()}; each can be submitted once.
 *
 * {@snippet :
 * // Vulkan copies once HIP has signalled `ready` (binary), then signals 5 on `done` (timeline) for HIP to wait on
 * try (Fence fence = vk.submission()
 *         .commands(cmd -> vkCmdCopyBuffer(cmd, src.buffer(), dst.buffer(), regions))
 *         .waitFor(ready, VK_PIPELINE_STAGE_TRANSFER_BIT)
 *         .signal(done, 5)
 *         .submit()) {
 *     hipReady.signal(0, stream);
 *     fence.await(Duration.ofSeconds(5));
 * }
 * }
 *
 * <p>A submission whose timeline semaphores are given values chains a {@code VkTimelineSemaphoreSubmitInfo}
 * (binary semaphores get the value 0 there, which Vulkan ignores); one with binary semaphores only does not.
 */
public final class Submission {
    private final VulkanDevice device;
    private Consumer<VkCommandBuffer> commands;
    private final List<ExportableSemaphore> waits = new ArrayList<>();
    private final List<Long> waitValues = new ArrayList<>();
    private final List<Integer> waitStages = new ArrayList<>();
    private final List<ExportableSemaphore> signals = new ArrayList<>();
    private final List<Long> signalValues = new ArrayList<>();
    private boolean submitted;

    Submission(VulkanDevice device) {
        this.device = device;
    }

    /**
     * {@return this submission, with {@code record}'s commands} They are recorded when {@link #submit()} runs, into a
     * one-time primary command buffer that the {@link Fence} frees when closed.
     * @param record what to record (the command buffer is in the recording state)
     */
    public Submission commands(Consumer<VkCommandBuffer> record) {
        check();
        if (record == null) {
            throw new IllegalArgumentException("record must not be null");
        }
        if (commands != null) {
            throw new IllegalStateException("a submission has one command buffer: record all its commands in one call");
        }
        commands = record;
        return this;
    }

    /**
     * {@return this submission, which waits for the binary semaphore {@code semaphore} at {@code stageMask}}
     * @param semaphore a binary semaphore of the same device
     * @param stageMask the {@code VkPipelineStageFlags} the wait holds back
     * @throws IllegalArgumentException for a timeline semaphore (give a value) or one of another device
     */
    public Submission waitFor(ExportableSemaphore semaphore, int stageMask) {
        return waitFor(semaphore, SemaphoreType.BINARY, 0, stageMask);
    }

    /**
     * {@return this submission, which waits until the timeline semaphore {@code semaphore} reaches {@code value}, at
     * {@code stageMask}}
     * @param semaphore a timeline semaphore of the same device
     * @param value the value to wait for
     * @param stageMask the {@code VkPipelineStageFlags} the wait holds back
     * @throws IllegalArgumentException for a binary semaphore or one of another device
     */
    public Submission waitFor(ExportableSemaphore semaphore, long value, int stageMask) {
        return waitFor(semaphore, SemaphoreType.TIMELINE, value, stageMask);
    }

    private Submission waitFor(ExportableSemaphore semaphore, SemaphoreType type, long value, int stageMask) {
        check();
        checkSemaphore(semaphore, type);
        waits.add(semaphore);
        waitValues.add(value);
        waitStages.add(stageMask);
        return this;
    }

    /**
     * {@return this submission, which signals the binary semaphore {@code semaphore} when it completes}
     * @param semaphore a binary semaphore of the same device
     * @throws IllegalArgumentException for a timeline semaphore (give a value) or one of another device
     */
    public Submission signal(ExportableSemaphore semaphore) {
        return signal(semaphore, SemaphoreType.BINARY, 0);
    }

    /**
     * {@return this submission, which signals {@code value} on the timeline semaphore {@code semaphore} when it
     * completes}
     * @param semaphore a timeline semaphore of the same device
     * @param value the value, greater than the semaphore's when the signal happens
     * @throws IllegalArgumentException for a binary semaphore or one of another device
     */
    public Submission signal(ExportableSemaphore semaphore, long value) {
        return signal(semaphore, SemaphoreType.TIMELINE, value);
    }

    private Submission signal(ExportableSemaphore semaphore, SemaphoreType type, long value) {
        check();
        checkSemaphore(semaphore, type);
        signals.add(semaphore);
        signalValues.add(value);
        return this;
    }

    private void check() {
        device.checkOpen();
        if (submitted) {
            throw new IllegalStateException("the submission was submitted already");
        }
    }

    private void checkSemaphore(ExportableSemaphore semaphore, SemaphoreType type) {
        if (semaphore == null) {
            throw new IllegalArgumentException("semaphore must not be null");
        }
        semaphore.checkOwner(device);
        if (semaphore.type() != type) {
            throw new IllegalArgumentException("semaphore of the wrong type: a " + type.name().toLowerCase()
                    + " semaphore is needed here (" + (type == SemaphoreType.TIMELINE ? "a value was given" : "no value was given")
                    + "), this one is " + semaphore.type().name().toLowerCase());
        }
    }

    /**
     * {@return the fence of this submission, submitted now ({@code vkQueueSubmit}); close it once it is signalled}
     * @throws IllegalStateException when submitted already, or the device or a semaphore is closed
     * @throws VulkanException when Vulkan fails; nothing is left behind
     */
    public Fence submit() {
        check();
        submitted = true;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer fp = stack.mallocLong(1);
            VulkanException.check(vkCreateFence(device.device(), VkFenceCreateInfo.calloc(stack).sType$Default(), null, fp),
                    "vkCreateFence");
            long fence = fp.get(0);
            VkCommandBuffer cmd = null;
            try {
                if (commands != null) {
                    cmd = record(stack);
                }
                queueSubmit(stack, cmd, fence);
                return new Fence(device, fence, cmd);
            } catch (RuntimeException | Error e) {
                if (cmd != null) {
                    vkFreeCommandBuffers(device.device(), device.commandPool(), cmd);
                }
                vkDestroyFence(device.device(), fence, null);
                throw e;
            }
        }
    }

    /**
     * Submits without a fence: for a submission of semaphore operations only (a binary signal, say), whose
     * completion the semaphores tell.
     *
     * @throws IllegalStateException when it has commands (their command buffer could never be freed safely), when
     *     submitted already, or the device or a semaphore is closed
     * @throws VulkanException when Vulkan fails
     */
    public void submitWithoutFence() {
        check();
        if (commands != null) {
            throw new IllegalStateException("a submission with commands needs a fence: use submit()");
        }
        submitted = true;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            queueSubmit(stack, null, VK_NULL_HANDLE);
        }
    }

    private VkCommandBuffer record(MemoryStack stack) {
        PointerBuffer pp = stack.mallocPointer(1);
        VulkanException.check(vkAllocateCommandBuffers(device.device(), VkCommandBufferAllocateInfo.calloc(stack)
                .sType$Default().commandPool(device.commandPool()).level(VK_COMMAND_BUFFER_LEVEL_PRIMARY)
                .commandBufferCount(1), pp), "vkAllocateCommandBuffers");
        VkCommandBuffer cmd = new VkCommandBuffer(pp.get(0), device.device());
        try {
            VulkanException.check(vkBeginCommandBuffer(cmd, VkCommandBufferBeginInfo.calloc(stack).sType$Default()
                    .flags(VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT)), "vkBeginCommandBuffer");
            commands.accept(cmd);
            VulkanException.check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
            return cmd;
        } catch (RuntimeException | Error e) {
            vkFreeCommandBuffers(device.device(), device.commandPool(), cmd);
            throw e;
        }
    }

    private void queueSubmit(MemoryStack stack, VkCommandBuffer cmd, long fence) {
        for (ExportableSemaphore s : waits) {
            s.checkOpen();
        }
        for (ExportableSemaphore s : signals) {
            s.checkOpen();
        }
        VkSubmitInfo si = VkSubmitInfo.calloc(stack).sType$Default();
        if (cmd != null) {
            si.pCommandBuffers(stack.pointers(cmd.address()));
        }
        if (!waits.isEmpty()) {
            si.waitSemaphoreCount(waits.size()).pWaitSemaphores(handles(stack, waits))
                    .pWaitDstStageMask(stack.ints(waitStages.stream().mapToInt(Integer::intValue).toArray()));
        }
        if (!signals.isEmpty()) {
            si.pSignalSemaphores(handles(stack, signals));
        }
        boolean timeline = waits.stream().anyMatch(s -> s.type() == SemaphoreType.TIMELINE)
                || signals.stream().anyMatch(s -> s.type() == SemaphoreType.TIMELINE);
        if (timeline) {
            VkTimelineSemaphoreSubmitInfo t = VkTimelineSemaphoreSubmitInfo.calloc(stack).sType$Default();
            if (!waits.isEmpty()) {
                t.waitSemaphoreValueCount(waits.size())
                        .pWaitSemaphoreValues(stack.longs(waitValues.stream().mapToLong(Long::longValue).toArray()));
            }
            if (!signals.isEmpty()) {
                t.signalSemaphoreValueCount(signals.size())
                        .pSignalSemaphoreValues(stack.longs(signalValues.stream().mapToLong(Long::longValue).toArray()));
            }
            si.pNext(t.address());
        }
        VulkanException.check(vkQueueSubmit(device.queue(), si, fence), "vkQueueSubmit");
    }

    private static LongBuffer handles(MemoryStack stack, List<ExportableSemaphore> semaphores) {
        return stack.longs(semaphores.stream().mapToLong(ExportableSemaphore::semaphore).toArray());
    }
}
