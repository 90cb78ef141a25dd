package io.github.hipffm;

import io.github.hipffm.internal.Backend;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;

/**
 * A GPU, by ordinal. Obtain one from {@link Hip#device(int)} or {@link Hip#devices()}. Every query goes to the
 * runtime the device was obtained from (nothing is cached), and none changes the calling thread's current device except {@link #makeCurrent()}.
 *
 * <p>To share memory with Vulkan, pick the {@code VkPhysicalDevice} whose {@code deviceUUID} equals
 * {@link #uuidBytes()}.
 */
public final class Device {
    private final Backend backend;
    private final int ordinal;

    Device(Backend backend, int ordinal) {
        this.backend = backend;
        this.ordinal = ordinal;
    }

    /** {@return the ordinal, 0-based} */
    public int ordinal() {
        return ordinal;
    }

    /** {@return the marketing name, e.g. {@code NVIDIA H100 80GB HBM3}} */
    public String name() {
        return backend.deviceName(ordinal);
    }

    /** {@return the 16 UUID bytes, in the order Vulkan's {@code VkPhysicalDeviceIDProperties.deviceUUID} uses} */
    public byte[] uuidBytes() {
        return backend.deviceUuid(ordinal);
    }

    /** {@return the UUID as a {@link UUID} (same 16 bytes, big-endian)} */
    public UUID uuid() {
        ByteBuffer b = ByteBuffer.wrap(uuidBytes());
        return new UUID(b.getLong(), b.getLong());
    }

    /** {@return the PCI address} */
    public PciAddress pciAddress() {
        return PciAddress.parse(backend.pciBusId(ordinal));
    }

    /** {@return total device memory, bytes} */
    public long totalMemory() {
        return backend.totalMemory(ordinal);
    }

    /** {@return free and total memory now ({@code hipMemGetInfo} on this device)} */
    public MemoryInfo memoryInfo() {
        return backend.memoryInfo(ordinal);
    }

    /** {@return the compute capability (on AMD, HIP's major/minor for the GFX version)} */
    public ComputeCapability computeCapability() {
        return new ComputeCapability(attribute(DeviceAttribute.COMPUTE_CAPABILITY_MAJOR),
                attribute(DeviceAttribute.COMPUTE_CAPABILITY_MINOR));
    }

    /**
     * {@return the architecture name: {@code gcnArchName} on AMD (e.g. {@code gfx942:sramecc+:xnack-}),
     * {@code sm_XY} on NVIDIA; empty when the runtime cannot tell}
     */
    public Optional<String> archName() {
        return backend.archName(ordinal);
    }

    /**
     * {@return the value of a device attribute}
     * @param attribute which one
     */
    public int attribute(DeviceAttribute attribute) {
        Checks.notNull(attribute, "attribute");
        return backend.attribute(ordinal, attribute);
    }

    /** Makes this the calling thread's current device ({@code hipSetDevice}). */
    public void makeCurrent() {
        backend.setDevice(ordinal);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.ordinal == ordinal;
    }

    @Override
    public int hashCode() {
        return ordinal;
    }

    @Override
    public String toString() {
        return "Device[" + ordinal + "]";
    }

    /**
     * Free and total device memory.
     *
     * @param free bytes free
     * @param total bytes in all
     */
    public record MemoryInfo(long free, long total) {
    }

    /**
     * A compute capability.
     *
     * @param major major version
     * @param minor minor version
     */
    public record ComputeCapability(int major, int minor) {
        @Override
        public String toString() {
            return major + "." + minor;
        }
    }

    /**
     * A PCI address, {@code domain:bus:device.function}.
     *
     * @param domain PCI domain
     * @param bus PCI bus
     * @param device PCI device (slot)
     * @param function PCI function
     */
    public record PciAddress(int domain, int bus, int device, int function) {
        /**
         * {@return the address parsed from the runtime's bus id string, e.g. {@code 0000:c1:00.0}}
         * @param busId the string
         * @throws IllegalArgumentException when it is null or not of that form
         */
        public static PciAddress parse(String busId) {
            Checks.notNull(busId, "busId");
            var m = java.util.regex.Pattern.compile("(\\p{XDigit}+):(\\p{XDigit}+):(\\p{XDigit}+)\\.(\\p{XDigit}+)")
                    .matcher(busId.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("not a PCI bus id: '" + busId + "'");
            }
            return new PciAddress(HexFormat.fromHexDigits(m.group(1)), HexFormat.fromHexDigits(m.group(2)),
                    HexFormat.fromHexDigits(m.group(3)), HexFormat.fromHexDigits(m.group(4)));
        }

        @Override
        public String toString() {
            return String.format("%04x:%02x:%02x.%x", domain, bus, device, function);
        }
    }
}
