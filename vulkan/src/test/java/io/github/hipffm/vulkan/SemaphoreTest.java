package io.github.hipffm.vulkan;

import io.github.hipffm.ExternalSemaphore;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkExportSemaphoreCreateInfo;
import org.lwjgl.vulkan.VkSemaphoreCreateInfo;
import org.lwjgl.vulkan.VkSemaphoreTypeCreateInfo;

import java.lang.foreign.Arena;
import java.nio.LongBuffer;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;
import static org.lwjgl.vulkan.VK10.*;
import static org.lwjgl.vulkan.VK11.*;
import static org.lwjgl.vulkan.VK12.*;

/**
 * Semaphores: the type checks and the host-side timeline operations run everywhere (on semaphores made by the
 * test, as an application would); the fd export runs where the driver can export semaphores, and is skipped with
 * the driver's answer where it cannot (lavapipe; the GPU machine runs it).
 */
class SemaphoreTest extends VulkanDeviceTest {
    /** An application's semaphore, created declaring OPAQUE_FD export. */
    private long raw(boolean timeline) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkSemaphoreTypeCreateInfo type = VkSemaphoreTypeCreateInfo.calloc(stack).sType$Default()
                    .semaphoreType(VK_SEMAPHORE_TYPE_TIMELINE).initialValue(0);
            VkExportSemaphoreCreateInfo export = VkExportSemaphoreCreateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT).pNext(timeline ? type.address() : 0);
            VkSemaphoreCreateInfo sci = VkSemaphoreCreateInfo.calloc(stack).sType$Default()
                    .pNext(vk.canExportSemaphores() ? export.address() : timeline ? type.address() : 0);
            LongBuffer lp = stack.mallocLong(1);
            assertEquals(VK_SUCCESS, vkCreateSemaphore(vk.device(), sci, null, lp));
            return lp.get(0);
        }
    }

    @Test
    void aSemaphoreOfTheWrongTypeIsRefusedBeforeAnyExport() {
        long binary = raw(false);
        long timeline = raw(true);
        try (Arena arena = Arena.ofConfined()) {
            ExportableSemaphore b = ExportableSemaphore.wrap(vk, binary, SemaphoreType.BINARY,
                    VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT);
            ExportableSemaphore t = ExportableSemaphore.wrap(vk, timeline, SemaphoreType.TIMELINE,
                    VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> VulkanInterop.importTimelineSemaphore(arena, b));
            assertTrue(e.getMessage().contains("wrong type"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> VulkanInterop.importBinarySemaphore(arena, t));
            assertTrue(e.getMessage().contains("wrong type"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> b.signal(1));
            assertThrows(IllegalStateException.class, () -> b.value());
            e = assertThrows(IllegalArgumentException.class, () -> ExportableSemaphore.wrap(vk, binary,
                    SemaphoreType.BINARY, 0));
            assertTrue(e.getMessage().contains("not exportable"), e.getMessage());
        } finally {
            vkDestroySemaphore(vk.device(), binary, null);
            vkDestroySemaphore(vk.device(), timeline, null);
        }
    }

    @Test
    void hostSideTimelineSignalAndWait() throws Exception {
        long timeline = raw(true);
        try {
            ExportableSemaphore t = ExportableSemaphore.wrap(vk, timeline, SemaphoreType.TIMELINE,
                    VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT);
            assertEquals(0, t.value());
            assertFalse(t.await(1, Duration.ofMillis(20)), "not signalled yet");
            Thread signaller = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                t.signal(3);
            });
            assertTrue(t.await(2, Duration.ofSeconds(10)), "another thread signalled 3");
            signaller.join();
            assertEquals(3, t.value());
        } finally {
            vkDestroySemaphore(vk.device(), timeline, null);
        }
    }

    @Test
    void timelineAndBinarySemaphoresExportAndImport() {
        for (SemaphoreType type : SemaphoreType.values()) {
            ExportableSemaphore s;
            try {
                s = vk.createSemaphore(type);
            } catch (UnsupportedOperationException e) {
                System.out.println("SemaphoreTest: SKIPPED the fd export of " + type + " semaphores: " + e.getMessage()
                        + " (tested on the GPU machine)");
                Assumptions.abort("semaphore fd export not supported by " + vk.name() + ": " + e.getMessage());
                return;
            }
            try (s; Arena arena = Arena.ofConfined()) {
                ExternalSemaphore hip = VulkanInterop.importSemaphore(arena, s);
                assertFalse(hip.isClosed());
            }
        }
    }
}
