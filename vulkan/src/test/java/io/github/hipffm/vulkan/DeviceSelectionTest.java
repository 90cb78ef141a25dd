package io.github.hipffm.vulkan;

import io.github.hipffm.Device;
import io.github.hipffm.Hip;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.*;

/** Device selection against lavapipe (or whatever ICD is installed) and hip-ffm's C test runtime. */
@ExtendWith(Harness.class)
class DeviceSelectionTest {

    @Test
    void firstSelectsAVulkanDeviceWithTheExtensions() {
        try (VulkanDevice vk = VulkanDevice.create(DeviceSelector.first())) {
            System.out.println("DeviceSelectionTest: Vulkan device " + vk);
            assertTrue(vk.ownsDevice());
            assertNotNull(vk.instance());
            assertEquals(16, vk.uuid().length);
            assertTrue(vk.device().getCapabilities().VK_KHR_external_memory_fd);
        }
    }

    @Test
    void theHipDevicesUuidMatchesNoLavapipeDeviceAndTheMessageListsBothSides() {
        Device hip = Hip.device(0);
        String hipUuid = HexFormat.of().formatHex(hip.uuidBytes());
        byte[] vulkanUuid;
        try (VulkanDevice vk = VulkanDevice.create(DeviceSelector.first())) {
            vulkanUuid = vk.uuid();
        }
        NoMatchingDeviceException e = assertThrows(NoMatchingDeviceException.class, () -> VulkanDevice.create(hip));
        System.out.println("DeviceSelectionTest: " + e.getMessage());
        assertTrue(e.getMessage().contains(hipUuid), e.getMessage());
        assertTrue(e.getMessage().contains(HexFormat.of().formatHex(vulkanUuid)), e.getMessage());
        assertTrue(e.getMessage().contains("HIP device 0"), e.getMessage());
        assertFalse(e.seen().isEmpty());
    }

    @Test
    void aUuidSelectsThatDevice() {
        byte[] uuid;
        try (VulkanDevice vk = VulkanDevice.create(DeviceSelector.first())) {
            uuid = vk.uuid();
        }
        try (VulkanDevice vk = VulkanDevice.create(DeviceSelector.uuid(uuid))) {
            assertArrayEquals(uuid, vk.uuid());
        }
        byte[] other = uuid.clone();
        other[0] ^= 1;
        assertThrows(NoMatchingDeviceException.class, () -> VulkanDevice.create(DeviceSelector.uuid(other)));
    }

    @Test
    void thePropertyOverridesTheHipDevice() {
        Device hip = Hip.device(0);
        String old = System.getProperty(DeviceSelector.PROPERTY);
        try {
            System.clearProperty(DeviceSelector.PROPERTY);
            assertEquals(DeviceSelector.of(hip), DeviceSelector.fromProperty(hip));
            System.setProperty(DeviceSelector.PROPERTY, "first");
            assertSame(DeviceSelector.first(), DeviceSelector.fromProperty(hip));
            System.setProperty(DeviceSelector.PROPERTY, "00112233-4455-6677-8899-aabbccddeeff");
            assertEquals(DeviceSelector.uuid(HexFormat.of().parseHex("00112233445566778899aabbccddeeff")),
                    DeviceSelector.fromProperty(hip));
            System.setProperty(DeviceSelector.PROPERTY, "gpu0");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceSelector.fromProperty(hip));
            assertTrue(e.getMessage().contains("gpu0"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty(DeviceSelector.PROPERTY);
            } else {
                System.setProperty(DeviceSelector.PROPERTY, old);
            }
        }
    }

    @Test
    void aUuidHasSixteenBytes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceSelector.uuid(new byte[4]));
        assertTrue(e.getMessage().contains("16 bytes"), e.getMessage());
    }

    @Test
    void wrapLeavesTheApplicationsDeviceAlone() {
        try (VulkanDevice app = VulkanDevice.create(DeviceSelector.first())) {
            try (VulkanDevice wrapped = VulkanDevice.wrap(app.device(), app.queue(), app.queueFamilyIndex())) {
                assertFalse(wrapped.ownsDevice());
                assertNull(wrapped.instance());
                try (ExportableBuffer b = wrapped.createBuffer(4096)) {
                    wrapped.fill(b, 0, 4096, 7);
                    assertEquals(7, wrapped.read(b, 0, 4)[0]);
                }
            }
            // the device still works after the wrapper closed
            try (ExportableBuffer b = app.createBuffer(256)) {
                app.fill(b, 0, 256, 9);
                assertEquals(9, app.read(b, 0, 1)[0]);
            }
        }
    }
}
