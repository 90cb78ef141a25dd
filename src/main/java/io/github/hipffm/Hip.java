package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
        Backend b = Runtimes.current();
        int n = b.deviceCount();
        List<Device> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            all.add(new Device(b, i));
        }
        return List.copyOf(all);
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
}
