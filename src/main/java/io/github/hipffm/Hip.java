package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * The entry point: which HIP runtime this JVM uses, its versions, and its devices.
 *
 * <p>The runtime is found and loaded on first use (see {@link Platform} for how the platform is chosen). When
 * none can be loaded every method throws {@link HipUnavailableException}, whose message lists each place that
 * was tried and why it failed.
 *
 * {@snippet :
 * System.out.println(Hip.platform() + " " + Hip.runtimeVersion() + " at " + Hip.library());
 * for (Device d : Hip.devices()) {
 *     System.out.println(d.ordinal() + ": " + d.name() + " " + d.uuid());
 * }
 * }
 */
public final class Hip {
    private Hip() {
    }

    /** {@return the platform in use, loading the runtime if needed} */
    public static Platform platform() {
        return Runtimes.current().platform();
    }

    /** {@return the runtime library file that was loaded} */
    public static Path library() {
        return Runtimes.current().library();
    }

    /** {@return the runtime version ({@code hipRuntimeGetVersion}, or the CUDA runtime's on NVIDIA)} */
    public static Version runtimeVersion() {
        var b = Runtimes.current();
        return Version.decode(b.platform(), b.runtimeVersion());
    }

    /** {@return the driver version ({@code hipDriverGetVersion}); 0 when no driver is installed} */
    public static Version driverVersion() {
        var b = Runtimes.current();
        return Version.decode(b.platform(), b.driverVersion());
    }

    /**
     * {@return the number of devices}
     * @throws HipException {@code hipErrorNoDevice} when there is none (on NVIDIA without a driver:
     *     {@code hipErrorInsufficientDriver})
     */
    public static int deviceCount() {
        return Runtimes.current().deviceCount();
    }

    /**
     * {@return every device, in ordinal order}
     * @throws HipException as {@link #deviceCount()}
     */
    public static List<Device> devices() {
        return Device.all(Runtimes.current());
    }

    /**
     * {@return the device with this ordinal}
     * @param ordinal 0 to {@code deviceCount() - 1}
     * @throws IllegalArgumentException when there is no such device
     */
    public static Device device(int ordinal) {
        Backend b = Runtimes.current();
        int n = b.deviceCount();
        if (ordinal < 0 || ordinal >= n) {
            throw new IllegalArgumentException("device ordinal " + ordinal + " out of range: " + n + " device(s)");
        }
        return new Device(b, ordinal);
    }

    /**
     * {@return the calling thread's current device ({@code hipGetDevice}): where resources created without a
     * device go}
     */
    public static Device currentDevice() {
        return Device.current(Runtimes.current());
    }

    /**
     * {@return the device with this UUID, e.g. Vulkan's {@code VkPhysicalDeviceIDProperties.deviceUUID}}
     * @param uuid the 16 bytes, in {@link Device#uuidBytes()} order
     * @throws IllegalArgumentException when it is null or not 16 bytes, or no device has it (the message lists the
     *     devices there are)
     */
    public static Device deviceByUuid(byte[] uuid) {
        Checks.notNull(uuid, "uuid");
        if (uuid.length != 16) {
            throw new IllegalArgumentException("a device UUID has 16 bytes, got " + uuid.length);
        }
        byte[] wanted = uuid.clone();
        return find(d -> Arrays.equals(d.uuidBytes(), wanted), "UUID " + HexFormat.of().formatHex(wanted));
    }

    /**
     * {@return the device with this UUID}
     * @param uuid 32 hex digits, with or without dashes, optionally prefixed {@code GPU-} as {@code nvidia-smi -L}
     *     prints it (e.g. {@code GPU-6869700f-6d00-0123-4567-89abcdef7e00}) or as {@link UUID#toString()} prints it
     * @throws IllegalArgumentException when it is null or not such a string, or no device has it
     */
    public static Device deviceByUuid(String uuid) {
        Checks.notNull(uuid, "uuid");
        String hex = uuid.strip();
        if (hex.regionMatches(true, 0, "GPU-", 0, 4)) {
            hex = hex.substring(4);
        }
        hex = hex.replace("-", "");
        if (!hex.matches("\\p{XDigit}{32}")) {
            throw new IllegalArgumentException("not a device UUID (32 hex digits, dashes and a GPU- prefix allowed): '"
                    + uuid + "'");
        }
        return deviceByUuid(HexFormat.of().parseHex(hex));
    }

    /**
     * {@return the device with this UUID}
     * @param uuid the UUID, as {@link Device#uuid()} gives it
     * @throws IllegalArgumentException when it is null or no device has it
     */
    public static Device deviceByUuid(UUID uuid) {
        Checks.notNull(uuid, "uuid");
        return find(d -> d.uuid().equals(uuid), "UUID " + uuid);
    }

    /**
     * {@return the device at this PCI address}
     * @param busId {@code domain:bus:device.function} as {@link Device#pciAddress()} prints it (e.g.
     *     {@code 0000:c1:00.0}), case and leading zeros do not matter
     * @throws IllegalArgumentException when it is null or not a PCI bus id, or no device is there
     */
    public static Device deviceByPciBusId(String busId) {
        Device.PciAddress wanted = Device.PciAddress.parse(busId);
        return find(d -> d.pciAddress().equals(wanted), "PCI bus id " + wanted);
    }

    private static Device find(Predicate<Device> match, String what) {
        List<Device> all = devices();
        for (Device d : all) {
            if (match.test(d)) {
                return d;
            }
        }
        throw new IllegalArgumentException("no device with " + what + "; the devices are: " + Device.describe(all));
    }
}
