package io.github.hipffm.vulkan;

import io.github.hipffm.Device;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * Which Vulkan physical device to use for a HIP device. Interop needs both APIs on the same GPU, and the only sure
 * way to tell is the UUID: HIP's {@link Device#uuidBytes()} and Vulkan's {@code VkPhysicalDeviceIDProperties.deviceUUID}.
 *
 * <ul>
 *   <li>{@link #of(Device)}: the device whose UUID equals the HIP device's. What real programs use.</li>
 *   <li>{@link #uuid(byte[])}: a given UUID (for example from a configuration file).</li>
 *   <li>{@link #first()}: the first physical device, whatever it is. Only for tools and tests that run HIP as a
 *       test double (hip-ffm's C test runtime, whose device UUID is made up) next to a CPU Vulkan such as lavapipe;
 *       the two do not share memory in the GPU sense, so never use it with a real HIP runtime.</li>
 *   <li>{@link #fromProperty(Device)}: {@link #of(Device)} unless the system property {@value #PROPERTY} says
 *       {@code first} or a UUID (32 hex digits), so a test or tool can be pointed elsewhere without code changes.</li>
 * </ul>
 *
 * {@snippet :
 * Device hip = Hip.device(0);
 * try (VulkanDevice vk = VulkanDevice.create(DeviceSelector.of(hip))) {   // throws NoMatchingDeviceException
 *     System.out.println("Vulkan " + vk.name() + " is HIP device " + hip.name());
 * }
 * }
 */
public sealed interface DeviceSelector {
    /** The system property of {@link #fromProperty(Device)}: {@code first}, or a UUID of 32 hex digits. */
    String PROPERTY = "hipffm.vulkan.device";

    /**
     * {@return the selector of the physical device with the HIP device's UUID}
     * @param hipDevice the HIP device
     */
    static DeviceSelector of(Device hipDevice) {
        if (hipDevice == null) {
            throw new IllegalArgumentException("hipDevice must not be null");
        }
        return new ByUuid(hipDevice.uuidBytes(), "HIP device " + hipDevice.ordinal() + " (" + hipDevice.name() + ")");
    }

    /**
     * {@return the selector of the physical device with this UUID}
     * @param uuid 16 bytes
     */
    static DeviceSelector uuid(byte[] uuid) {
        return new ByUuid(uuid, "the UUID given");
    }

    /** {@return the selector of the first physical device: for tests and tools with a HIP test double only} */
    static DeviceSelector first() {
        return First.INSTANCE;
    }

    /**
     * {@return {@link #of(Device)}, unless the system property {@value #PROPERTY} is set: {@code first} selects
     * {@link #first()}, 32 hex digits {@link #uuid(byte[])}}
     * @param hipDevice the HIP device, used when the property is not set
     * @throws IllegalArgumentException when the property is neither
     */
    static DeviceSelector fromProperty(Device hipDevice) {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return of(hipDevice);
        }
        value = value.strip();
        if (value.equals("first")) {
            return first();
        }
        String hex = value.replace("-", "");
        if (hex.length() != 32) {
            throw new IllegalArgumentException(PROPERTY + " must be 'first' or a UUID of 32 hex digits, got '" + value + "'");
        }
        try {
            return new ByUuid(HexFormat.of().parseHex(hex), PROPERTY + "=" + value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PROPERTY + " must be 'first' or a UUID of 32 hex digits, got '" + value + "'", e);
        }
    }

    /**
     * Select by UUID.
     *
     * @param uuid the 16-byte UUID
     * @param source where it came from, for messages
     */
    record ByUuid(byte[] uuid, String source) implements DeviceSelector {
        /**
         * Checks and copies the UUID.
         *
         * @throws IllegalArgumentException unless it has 16 bytes
         */
        public ByUuid {
            if (uuid == null || uuid.length != 16) {
                throw new IllegalArgumentException("a device UUID has 16 bytes, got "
                        + (uuid == null ? "null" : uuid.length + ": " + HexFormat.of().formatHex(uuid)));
            }
            uuid = uuid.clone();
        }

        @Override
        public byte[] uuid() {
            return uuid.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ByUuid b && Arrays.equals(uuid, b.uuid);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(uuid);
        }

        @Override
        public String toString() {
            return "UUID " + HexFormat.of().formatHex(uuid) + " of " + source;
        }
    }

    /** Select the first physical device (tests and tools with a HIP test double). */
    enum First implements DeviceSelector {
        /** The one instance. */
        INSTANCE;

        @Override
        public String toString() {
            return "the first Vulkan device (no UUID match)";
        }
    }
}
