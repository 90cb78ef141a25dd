package io.github.hipffm.vulkan;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Extent;
import io.github.hipffm.Memory;
import io.github.hipffm.MipmappedArray;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.*;
import static org.lwjgl.vulkan.VK10.*;

/**
 * Vulkan (lavapipe) and hip-ffm (over the C test runtime, which maps lavapipe's memfds as lavapipe lays them out)
 * on the same memory: Vulkan writes, HIP reads, HIP writes, Vulkan reads; then nothing is left (fds, live objects).
 */
class RoundTripTest extends VulkanDeviceTest {
    @Test
    void vulkanWritesHipReadsHipWritesVulkanReads() {
        long size = 64 * 1024;
        try (ExportableBuffer buffer = vk.createBuffer(size)) {
            long fdsBefore = Harness.memfds(); // lavapipe's own memfd of the allocation is open by now
            // Vulkan writes: vkCmdFillBuffer over all of it, vkCmdUpdateBuffer of 16 bytes at 1024
            vk.fill(buffer, 0, size, 0x11223344);
            byte[] update = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
            vk.submit(cmd -> vkCmdUpdateBuffer(cmd, buffer.buffer(), 1024, ByteBuffer.allocateDirect(16).put(update).flip()));
            vk.submit(cmd -> vk.releaseToExternal(cmd, buffer));
            try (Arena arena = Arena.ofConfined()) {
                VulkanInterop.SharedBuffer shared = VulkanInterop.importBuffer(arena, buffer);
                assertEquals(fdsBefore + 1, Harness.memfds(), "the imported memory holds its fd");
                assertEquals(size, shared.segment().byteSize());
                assertEquals(buffer.allocationSize(), shared.memory().size());
                // HIP reads
                MemorySegment host = arena.allocate(size);
                Memory.copy(host, shared.segment());
                assertEquals(0x11223344, host.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
                assertEquals(0x11223344, host.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), size - 4));
                assertArrayEquals(update, host.asSlice(1024, 16).toArray(ValueLayout.JAVA_BYTE));
                // HIP writes: a fill of everything, then a copy of a pattern into the middle
                Memory.fill(shared.segment(), (byte) 0x5a);
                MemorySegment pattern = arena.allocate(256);
                for (int i = 0; i < 256; i++) {
                    pattern.set(ValueLayout.JAVA_BYTE, i, (byte) i);
                }
                Memory.copy(shared.segment().asSlice(4096, 256), pattern);
                // Vulkan reads
                vk.submit(cmd -> vk.acquireFromExternal(cmd, buffer));
                byte[] back = vk.read(buffer, 0, (int) size);
                assertEquals(0x5a, back[0]);
                assertEquals(0x5a, back[(int) size - 1]);
                assertEquals(0x5a, back[1024]);
                assertEquals(-1, MemorySegment.ofArray(back).asSlice(4096, 256).mismatch(pattern), "HIP's pattern in Vulkan");
                assertEquals(0x5a, back[4096 + 256]);
                System.out.println("RoundTripTest: " + buffer + ": Vulkan fill+update -> HIP read, HIP fill+copy -> Vulkan read");
            }
            assertEquals(fdsBefore, Harness.memfds(), "the arena's close closed the fd");
            assertEquals(java.util.Map.of(), Harness.live());
        }
    }

    @Test
    void aNonDedicatedBufferRoundTripsToo() {
        try (ExportableBuffer buffer = vk.createBuffer(1000, false); Arena arena = Arena.ofConfined()) {
            vk.fill(buffer, 0, 1000, 0x01010101);
            VulkanInterop.SharedBuffer shared = VulkanInterop.importBuffer(arena, buffer);
            MemorySegment host = arena.allocate(1000);
            Memory.copy(host, shared.segment());
            assertEquals(1, host.get(ValueLayout.JAVA_BYTE, 999));
            Memory.fill(shared.segment(), (byte) 3);
            assertEquals(3, vk.read(buffer, 996, 4)[3]);
        }
    }

    @Test
    void aFailedImportClosesTheExportedFd() {
        // The test runtime refuses a mapping past the memfd: an image whose shape needs more than its allocation
        // cannot be made by this library, so use a buffer whose allocation HIP is told is larger than the memfd.
        try (ExportableBuffer buffer = vk.createBuffer(4096); Arena arena = Arena.ofConfined()) {
            long before = Harness.memfds();
            ExportableBuffer lying = ExportableBuffer.wrap(vk, buffer.buffer(), 4096, buffer.memory(), 0,
                    buffer.allocationSize() + 1024 * 1024, false, org.lwjgl.vulkan.VK11.VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            assertThrows(io.github.hipffm.HipException.class, () -> VulkanInterop.importBuffer(arena, lying));
            assertEquals(before, Harness.memfds(), "the exported fd was closed after the failed import");
        }
    }

    @Test
    void anImageIsImportedAsAMipmappedArrayOfItsShape() {
        ChannelFormat rgba8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);
        try (ExportableImage image = vk.createImage(rgba8, Extent.of(64, 32), 4, 0); Arena arena = Arena.ofConfined()) {
            assertEquals(VK_FORMAT_R8G8B8A8_UINT, image.vkFormat());
            vk.submit(cmd -> vk.transition(cmd, image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_GENERAL));
            vk.submit(cmd -> vk.releaseToExternal(cmd, image, VK_IMAGE_LAYOUT_GENERAL));
            VulkanInterop.SharedImage shared = VulkanInterop.importImage(arena, image);
            MipmappedArray array = shared.array();
            assertEquals(4, array.levels());
            assertEquals(Extent.of(64, 32), array.extent());
            assertEquals(rgba8, array.format());
            System.out.println("RoundTripTest: " + image + " -> " + array);
        }
    }

    @Test
    void everyLevelOfAnImageIsWrittenFromTheHost() {
        ChannelFormat rgba8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);
        try (ExportableImage image = vk.createImage(rgba8, Extent.of(64, 32), 3, MipmappedArray.SURFACE_LOAD_STORE);
                Arena arena = Arena.ofConfined()) {
            MemorySegment[] levels = new MemorySegment[3];
            for (int l = 0; l < 3; l++) {
                levels[l] = arena.allocate(4L * Math.max(1, 64 >> l) * Math.max(1, 32 >> l));
                levels[l].fill((byte) (l + 1));
            }
            vk.write(image, levels);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> vk.write(image, levels[0], levels[1]));
            assertTrue(e.getMessage().contains("3 level(s)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> vk.write(image, levels[0], levels[2], levels[1]));
            assertTrue(e.getMessage().contains("level 1"), e.getMessage());
        }
    }

    @Test
    void aLinearImageInMemoryOfItsOwnOrNot() {
        ChannelFormat rgba8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);
        for (boolean dedicated : new boolean[] {false, true}) {
            ExportableImage image;
            try {
                image = vk.createImage(rgba8, Extent.of(64, 64), 1, 0, VK_IMAGE_TILING_LINEAR, dedicated);
            } catch (UnsupportedOperationException e) {
                System.out.println("RoundTripTest: no exportable linear image here: " + e.getMessage());
                continue;
            }
            try (image; Arena arena = Arena.ofConfined()) {
                assertEquals(VK_IMAGE_TILING_LINEAR, image.tiling());
                assertEquals(dedicated, image.dedicated());
                VulkanInterop.SharedImage shared = VulkanInterop.importImage(arena, image);
                assertEquals(1, shared.array().levels());
            }
        }
        try (ExportableImage image = vk.createImage(rgba8, Extent.of(16, 16), 1, 0, VK_IMAGE_TILING_OPTIMAL, false)) {
            assertFalse(image.dedicated());
        }
        assertThrows(IllegalArgumentException.class,
                () -> vk.createImage(rgba8, Extent.of(16, 16), 1, 0, 7, true), "no such tiling");
    }

    @Test
    void imageShapesFollowHipFfmsExtentAndFlags() {
        ChannelFormat r32f = new ChannelFormat(32, 0, 0, 0, ChannelFormat.Kind.FLOAT);
        try (ExportableImage cube = vk.createImage(r32f, new Extent(16, 16, 6), 5, MipmappedArray.CUBEMAP)) {
            assertEquals(6, cube.layers());
            assertEquals(VK_FORMAT_R32_SFLOAT, cube.vkFormat());
        }
        try (ExportableImage layered = vk.createImage(r32f, new Extent(16, 8, 3), 2, MipmappedArray.LAYERED)) {
            assertEquals(3, layered.layers());
        }
        try (ExportableImage volume = vk.createImage(r32f, new Extent(8, 8, 8), 4, 0)) {
            assertEquals(1, volume.layers());
        }
        assertThrows(IllegalArgumentException.class, () -> vk.createImage(r32f, new Extent(16, 8, 6), 1, MipmappedArray.CUBEMAP));
        assertThrows(IllegalArgumentException.class, () -> vk.createImage(r32f, Extent.of(16, 16), 6, 0));
        assertThrows(IllegalArgumentException.class, () -> vk.createImage(r32f, Extent.of(16, 0), 1, MipmappedArray.LAYERED));
    }
}
