package io.github.hipffm.vulkan;

import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.Memory;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;
import static org.lwjgl.vulkan.VK10.*;

/**
 * Host-visible buffers ({@link VulkanDevice#createHostBuffer}): the host writes the mapping, HIP reads it through
 * the exported allocation, HIP writes, the host sees it; a buffer of a given usage; reads into a segment.
 */
class HostBufferTest extends VulkanDeviceTest {
    @Test
    void theHostAndHipShareAnExportedHostBuffer() {
        try (HostBuffer storage = vk.createHostBuffer(3, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                true); Arena arena = Arena.ofConfined()) {
            assertEquals(3, storage.size());
            assertTrue(storage.allocationSize() >= 3);
            assertEquals(storage.allocationSize(), storage.segment().byteSize(), "the whole allocation is mapped");
            ExternalMemory memory = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(storage.exportFd(), storage.allocationSize()));
            MemorySegment mapped = memory.mapBuffer(0, storage.allocationSize());
            storage.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 41);
            storage.segment().set(ValueLayout.JAVA_BYTE, 1, (byte) 40);
            storage.segment().set(ValueLayout.JAVA_BYTE, 2, (byte) 43);
            MemorySegment read = arena.allocate(3);
            Memory.copy(read, mapped.asSlice(0, 3), 3);
            assertArrayEquals(new byte[] {41, 40, 43}, read.toArray(ValueLayout.JAVA_BYTE), "HIP reads the host's writes");
            Memory.fill(mapped.asSlice(1, 1), (byte) 42);
            assertArrayEquals(new byte[] {41, 42, 43}, storage.segment().asSlice(0, 3).toArray(ValueLayout.JAVA_BYTE),
                    "the host sees HIP's write");
        }
    }

    @Test
    void aHostBufferNotMadeExportableRefusesToExport() {
        try (HostBuffer staging = vk.createHostBuffer(64, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, false)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, staging::exportFd);
            assertTrue(e.getMessage().contains("not made exportable"), e.getMessage());
            staging.close();
            assertThrows(IllegalStateException.class, staging::segment, "closed");
        }
        assertThrows(IllegalArgumentException.class, () -> vk.createHostBuffer(0, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, false));
        assertThrows(IllegalArgumentException.class, () -> vk.createHostBuffer(64, 0, false));
    }

    @Test
    void aBufferOfTheGivenUsageIsWrittenAndReadIntoASegment() {
        int usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
        try (ExportableBuffer buffer = vk.createBuffer(4096, false, usage); Arena arena = Arena.ofConfined()) {
            assertFalse(buffer.dedicated());
            MemorySegment data = arena.allocate(4096);
            for (int i = 0; i < 4096; i++) {
                data.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + 7));
            }
            vk.write(buffer, 0, data);
            MemorySegment back = arena.allocate(1024);
            vk.read(buffer, 1024, back);
            assertEquals(-1, back.mismatch(data.asSlice(1024, 1024)));
            assertThrows(IllegalArgumentException.class, () -> vk.read(buffer, 4000, arena.allocate(1024)), "past the end");
        }
        assertThrows(IllegalArgumentException.class, () -> vk.createBuffer(4096, false, 0));
    }
}
