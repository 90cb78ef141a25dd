package io.github.hipffm.vulkan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.*;

import java.lang.foreign.Arena;
import java.nio.LongBuffer;

import static org.junit.jupiter.api.Assertions.*;
import static org.lwjgl.vulkan.VK10.*;
import static org.lwjgl.vulkan.VK11.*;

/** Exportable buffers on lavapipe: what HIP is told, the fd, and the checks of an application's buffer. */
class BufferExportTest extends VulkanDeviceTest {
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aBufferExportsAMemfdOfItsAllocation(boolean dedicated) {
        try (ExportableBuffer b = vk.createBuffer(100_000, dedicated)) {
            assertEquals(100_000, b.size());
            assertEquals(0, b.memoryOffset());
            assertEquals(dedicated, b.dedicated());
            assertTrue(b.allocationSize() >= b.size(), b.toString());
            assertTrue(b.alignment() > 0 && Long.bitCount(b.alignment()) == 1, b.toString());
            int fd = b.exportFd();
            try {
                assertTrue(fd > 2, "fd " + fd);
                System.out.println("BufferExportTest: " + b + " exported fd -> " + Harness.target(fd));
            } finally {
                Fds.close(fd);
            }
        }
    }

    @Test
    void badSizesAreRefusedBeforeVulkan() {
        assertThrows(IllegalArgumentException.class, () -> vk.createBuffer(0));
        assertThrows(IllegalArgumentException.class, () -> vk.createBuffer(-4, false));
    }

    /** A buffer of the application's, bound at {@code offset} to memory of {@code allocation} bytes. */
    private record Raw(long buffer, long memory) {
    }

    private Raw raw(long size, long allocation, long offset, boolean export) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkExternalMemoryBufferCreateInfo ext = VkExternalMemoryBufferCreateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            VkBufferCreateInfo bci = VkBufferCreateInfo.calloc(stack).sType$Default().pNext(export ? ext.address() : 0)
                    .size(size).usage(VK_BUFFER_USAGE_TRANSFER_DST_BIT).sharingMode(VK_SHARING_MODE_EXCLUSIVE);
            LongBuffer lp = stack.mallocLong(1);
            assertEquals(VK_SUCCESS, vkCreateBuffer(vk.device(), bci, null, lp));
            long buffer = lp.get(0);
            VkExportMemoryAllocateInfo ex = VkExportMemoryAllocateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            VkMemoryAllocateInfo ai = VkMemoryAllocateInfo.calloc(stack).sType$Default().pNext(export ? ex.address() : 0)
                    .allocationSize(allocation).memoryTypeIndex(0);
            assertEquals(VK_SUCCESS, vkAllocateMemory(vk.device(), ai, null, lp));
            long memory = lp.get(0);
            assertEquals(VK_SUCCESS, vkBindBufferMemory(vk.device(), buffer, memory, offset));
            return new Raw(buffer, memory);
        }
    }

    private void free(Raw r) {
        vkDestroyBuffer(vk.device(), r.buffer, null);
        vkFreeMemory(vk.device(), r.memory, null);
    }

    @Test
    void anApplicationsBufferIsCheckedWhenWrapped() {
        Raw r = raw(4096, 65536, 0, true);
        try {
            ExportableBuffer ok = ExportableBuffer.wrap(vk, r.buffer, 4096, r.memory, 0, 65536, false,
                    VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            assertEquals(65536, ok.allocationSize());
            ok.close(); // destroys nothing: the buffer is the application's
            assertSame(vk, ok.device());

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExportableBuffer.wrap(vk,
                    r.buffer, 4096, r.memory, 0, 65536, false, 0));
            assertTrue(e.getMessage().contains("not exportable"), e.getMessage());

            e = assertThrows(IllegalArgumentException.class, () -> ExportableBuffer.wrap(vk, r.buffer, 4096, r.memory,
                    0, 1024, false, VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT));
            assertTrue(e.getMessage().startsWith("size mismatch"), e.getMessage());

            e = assertThrows(IllegalArgumentException.class, () -> ExportableBuffer.wrap(vk, r.buffer, 8192, r.memory,
                    0, 65536, false, VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT));
            assertTrue(e.getMessage().startsWith("size mismatch"), e.getMessage());

            e = assertThrows(IllegalArgumentException.class, () -> ExportableBuffer.wrap(vk, r.buffer, 4096, r.memory,
                    1, 65536, false, VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT));
            assertTrue(e.getMessage().startsWith("alignment mismatch"), e.getMessage());

            e = assertThrows(IllegalArgumentException.class, () -> ExportableBuffer.wrap(vk, r.buffer, 4096, r.memory,
                    61440, 65536, true, VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT));
            assertTrue(e.getMessage().contains("dedicated"), e.getMessage());
            System.out.println("BufferExportTest: refusals name the problem, e.g. '" + e.getMessage() + "'");
        } finally {
            free(r);
        }
    }

    @Test
    void aWrappedBufferAtAnOffsetIsImportedWholeAndMappedAtItsOffset() {
        Raw r = raw(4096, 65536, 8192, true);
        try (Arena arena = Arena.ofConfined()) {
            ExportableBuffer b = ExportableBuffer.wrap(vk, r.buffer, 4096, r.memory, 8192, 65536, false,
                    VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            VulkanInterop.SharedBuffer shared = VulkanInterop.importBuffer(arena, b);
            assertEquals(65536, shared.memory().size());
            assertEquals(4096, shared.segment().byteSize());
        } finally {
            free(r);
        }
    }

    @Test
    void closedThingsAreRefusedBeforeAnyExport() {
        ExportableBuffer b = vk.createBuffer(4096);
        b.close();
        b.close();
        assertThrows(IllegalStateException.class, b::exportFd);
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalStateException.class, () -> VulkanInterop.importBuffer(arena, b));
        }
        try (ExportableBuffer open = vk.createBuffer(4096)) {
            Arena closed = Arena.ofConfined();
            closed.close();
            assertThrows(IllegalStateException.class, () -> VulkanInterop.importBuffer(closed, open));
        }
    }
}
