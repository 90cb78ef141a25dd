package io.github.hipffm.vulkan;

import io.github.hipffm.Hip;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/** The fixture of the tests on one {@link VulkanDevice} (lavapipe here): opened before each test, closed after. */
@ExtendWith(Harness.class)
abstract class VulkanDeviceTest {
    VulkanDevice vk;

    @BeforeEach
    void open() {
        Hip.platform();
        vk = VulkanDevice.create(DeviceSelector.first());
    }

    @AfterEach
    void close() {
        vk.close();
    }
}
