package io.github.hipffm.vulkan;

import java.util.List;

/**
 * No Vulkan physical device matches a {@link DeviceSelector}. The message names what was wanted (the HIP device's
 * UUID) and every Vulkan device seen, with its UUID; {@link #seen()} has them too.
 *
 * {@snippet :
 * try (VulkanDevice vk = VulkanDevice.create(Hip.device(0))) {
 *     // ...
 * } catch (NoMatchingDeviceException e) {
 *     System.err.println(e.getMessage());   // no Vulkan device has UUID 378d... of HIP device 0 (...); Vulkan sees: ...
 * }
 * }
 */
public final class NoMatchingDeviceException extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    /** Each device Vulkan sees, as "name uuid". */
    private final transient List<String> seen;

    NoMatchingDeviceException(DeviceSelector wanted, List<String> seen) {
        super("no Vulkan device has the " + wanted + "; Vulkan sees "
                + (seen.isEmpty() ? "no device (is a Vulkan driver installed? Debian: mesa-vulkan-drivers)"
                        : seen.size() + ": " + String.join("; ", seen)));
        this.seen = List.copyOf(seen);
    }

    /** {@return every Vulkan physical device seen, as its name and UUID in hex} */
    public List<String> seen() {
        return seen;
    }
}
