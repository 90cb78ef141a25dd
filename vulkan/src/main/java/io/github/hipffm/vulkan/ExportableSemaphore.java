package io.github.hipffm.vulkan;

import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkSemaphoreGetFdInfoKHR;
import org.lwjgl.vulkan.VkSemaphoreSignalInfo;
import org.lwjgl.vulkan.VkSemaphoreWaitInfo;

import java.nio.LongBuffer;
import java.time.Duration;

import static org.lwjgl.vulkan.KHRExternalSemaphoreFd.vkGetSemaphoreFdKHR;
import static org.lwjgl.vulkan.VK10.*;
import static org.lwjgl.vulkan.VK11.*;
import static org.lwjgl.vulkan.VK12.*;

/**
 * A binary or timeline {@code VkSemaphore} exportable as an opaque fd, with host-side timeline operations
 * ({@link #signal}, {@link #await}, {@link #value}). Made by {@link VulkanDevice#createSemaphore} or declared by
 * {@link #wrap} for the application's semaphore.
 *
 * {@snippet :
 * try (ExportableSemaphore timeline = vk.createSemaphore(SemaphoreType.TIMELINE);
 *      Arena arena = Arena.ofConfined()) {
 *     ExternalSemaphore hip = VulkanInterop.importTimelineSemaphore(arena, timeline);
 *     hip.signal(1, stream);                           // HIP signals 1 when the stream gets there
 *     timeline.await(1, Duration.ofSeconds(5));        // the host waits on the Vulkan side
 *     timeline.signal(2);                              // and signals 2, which HIP can wait for
 *     hip.wait(2, stream);
 * }
 * }
 */
public final class ExportableSemaphore extends Exportable implements AutoCloseable {
    /** How long {@link #await} polls the counter before it blocks, nanoseconds. */
    static final long SPIN_NANOS = 200_000;

    private final long semaphore;
    private final SemaphoreType type;
    private final int exportHandleTypes;
    private final boolean owned;

    ExportableSemaphore(VulkanDevice owner, long semaphore, SemaphoreType type, int exportHandleTypes, boolean owned) {
        super(owner, "semaphore");
        this.semaphore = semaphore;
        this.type = type;
        this.exportHandleTypes = exportHandleTypes;
        this.owned = owned;
    }

    /**
     * {@return the application's semaphore, declared with its type and export handle types (Vulkan cannot be asked
     * for either); {@link #close()} leaves it to the application}
     * @param device its device
     * @param semaphore the {@code VkSemaphore}
     * @param type the type it was created with ({@code VkSemaphoreTypeCreateInfo})
     * @param exportHandleTypes the {@code VkExportSemaphoreCreateInfo.handleTypes} it was created with
     * @throws IllegalArgumentException for a null argument or a semaphore not exportable as an opaque fd
     */
    public static ExportableSemaphore wrap(VulkanDevice device, long semaphore, SemaphoreType type, int exportHandleTypes) {
        if (device == null || semaphore == VK_NULL_HANDLE || type == null) {
            throw new IllegalArgumentException("device, semaphore and type must not be null");
        }
        device.checkOpen();
        if ((exportHandleTypes & VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT) == 0) {
            throw new IllegalArgumentException("the semaphore is not exportable as an opaque fd: created with export handle"
                    + " types 0x" + Integer.toHexString(exportHandleTypes) + "; create it with VkExportSemaphoreCreateInfo"
                    + ".handleTypes containing VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT");
        }
        return new ExportableSemaphore(device, semaphore, type, exportHandleTypes, false);
    }

    /** {@return the {@code VkSemaphore}} */
    public long semaphore() {
        return semaphore;
    }

    /** {@return its type} */
    public SemaphoreType type() {
        return type;
    }

    /**
     * {@return a new fd for the semaphore ({@code vkGetSemaphoreFdKHR}, {@code OPAQUE_FD}), the caller's}
     * @throws UnsupportedOperationException when the device cannot export semaphores
     * @throws VulkanException when the export fails
     */
    public int exportFd() {
        checkOpen();
        if (!owner.canExportSemaphores()) {
            throw new UnsupportedOperationException(owner.name() + ": VK_KHR_external_semaphore_fd is not enabled");
        }
        return exportFd("vkGetSemaphoreFdKHR", (stack, fd) -> vkGetSemaphoreFdKHR(owner.device(),
                VkSemaphoreGetFdInfoKHR.calloc(stack).sType$Default().semaphore(semaphore)
                        .handleType(VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT), fd));
    }

    /**
     * Timeline: signals {@code value} from the host ({@code vkSignalSemaphore}).
     *
     * @param value greater than the current value
     * @throws IllegalStateException for a binary semaphore
     */
    public void signal(long value) {
        checkTimeline("signal");
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VulkanException.check(vkSignalSemaphore(owner.device(), VkSemaphoreSignalInfo.calloc(stack).sType$Default()
                    .semaphore(semaphore).value(value)), "vkSignalSemaphore");
        }
    }

    /**
     * Timeline: waits on the host until the value reaches {@code value}: it polls the counter for up to
     * 200 µs, then blocks in {@code vkWaitSemaphores} (a blocking wait that has to sleep costs
     * milliseconds, too much for a frame loop).
     *
     * @param value the value
     * @param timeout how long at most (the polling comes on top)
     * @return true when reached, false on timeout
     * @throws IllegalStateException for a binary semaphore
     */
    public boolean await(long value, Duration timeout) {
        checkTimeline("await");
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (System.nanoTime() - spinUntil < 0) {
            if (value() >= value) {
                return true;
            }
            Thread.onSpinWait();
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            int rc = vkWaitSemaphores(owner.device(), VkSemaphoreWaitInfo.calloc(stack).sType$Default().semaphoreCount(1)
                    .pSemaphores(stack.longs(semaphore)).pValues(stack.longs(value)), VulkanDevice.nanos(timeout));
            if (rc == VK_TIMEOUT) {
                return false;
            }
            VulkanException.check(rc, "vkWaitSemaphores");
            return true;
        }
    }

    /**
     * {@return the current value ({@code vkGetSemaphoreCounterValue})}
     * @throws IllegalStateException for a binary semaphore
     */
    public long value() {
        checkTimeline("value");
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer v = stack.mallocLong(1);
            VulkanException.check(vkGetSemaphoreCounterValue(owner.device(), semaphore, v), "vkGetSemaphoreCounterValue");
            return v.get(0);
        }
    }

    private void checkTimeline(String what) {
        checkOpen();
        if (type != SemaphoreType.TIMELINE) {
            throw new IllegalStateException(what + " needs a timeline semaphore; this one is binary");
        }
    }

    /** Destroys the semaphore when this library made it (once the device is idle). Twice is harmless. */
    @Override
    public void close() {
        if (!markClosed()) {
            return;
        }
        if (owned) {
            vkDeviceWaitIdle(owner.device());
            vkDestroySemaphore(owner.device(), semaphore, null);
        }
    }

    @Override
    public String toString() {
        return "ExportableSemaphore[" + type + (owned ? "" : ", wrapped") + ", export types 0x"
                + Integer.toHexString(exportHandleTypes) + "]";
    }
}
