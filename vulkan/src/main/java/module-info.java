/**
 * hip-ffm-vulkan: Vulkan resources shared with HIP through hip-ffm, on LWJGL's Vulkan binding.
 *
 * <p>Start with {@link io.github.hipffm.vulkan.VulkanDevice} (a Vulkan device on the same GPU as a HIP device, or one
 * the application already has) and {@link io.github.hipffm.vulkan.VulkanInterop} (one call from a Vulkan resource to
 * its HIP side). Run with {@code --enable-native-access=io.github.hipffm,io.github.hipffm.vulkan,org.lwjgl} on the
 * module path ({@code ALL-UNNAMED} on the class path).
 */
module io.github.hipffm.vulkan {
    requires transitive io.github.hipffm;
    requires transitive org.lwjgl;
    requires transitive org.lwjgl.vulkan;

    exports io.github.hipffm.vulkan;
}
