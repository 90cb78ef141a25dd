package io.github.hipffm.vulkan;

/**
 * A Vulkan call failed: {@link #call()} returned {@link #result()} ({@code VkResult}).
 *
 * {@snippet :
 * try (VulkanDevice vk = VulkanDevice.create(DeviceSelector.first())) {
 *     vk.createBuffer(1L << 40);                       // too large for the device
 * } catch (VulkanException e) {
 *     System.err.println(e.call() + " returned " + e.result());   // vkCreateBuffer or vkAllocateMemory
 * }
 * }
 */
public final class VulkanException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** The failing call. */
    private final String call;
    /** Its {@code VkResult}. */
    private final int result;

    /**
     * Creates the exception.
     *
     * @param call the Vulkan function that failed
     * @param result the {@code VkResult} it returned
     */
    public VulkanException(String call, int result) {
        super(call + " failed: " + resultName(result) + " (" + result + ")");
        this.call = call;
        this.result = result;
    }

    /** {@return the Vulkan function that failed} */
    public String call() {
        return call;
    }

    /** {@return the {@code VkResult} it returned} */
    public int result() {
        return result;
    }

    /** {@return the name of a {@code VkResult}, for the common ones} */
    static String resultName(int result) {
        return switch (result) {
            case 1 -> "VK_NOT_READY";
            case 2 -> "VK_TIMEOUT";
            case -1 -> "VK_ERROR_OUT_OF_HOST_MEMORY";
            case -2 -> "VK_ERROR_OUT_OF_DEVICE_MEMORY";
            case -3 -> "VK_ERROR_INITIALIZATION_FAILED";
            case -4 -> "VK_ERROR_DEVICE_LOST";
            case -6 -> "VK_ERROR_LAYER_NOT_PRESENT";
            case -7 -> "VK_ERROR_EXTENSION_NOT_PRESENT";
            case -8 -> "VK_ERROR_FEATURE_NOT_PRESENT";
            case -9 -> "VK_ERROR_INCOMPATIBLE_DRIVER";
            case -11 -> "VK_ERROR_FORMAT_NOT_SUPPORTED";
            case -1000072003 -> "VK_ERROR_INVALID_EXTERNAL_HANDLE";
            default -> "VkResult";
        };
    }

    /** Throws unless {@code rc} is {@code VK_SUCCESS}. */
    static void check(int rc, String call) {
        if (rc != 0) {
            throw new VulkanException(call, rc);
        }
    }
}
