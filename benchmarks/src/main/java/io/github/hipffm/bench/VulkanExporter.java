package io.github.hipffm.bench;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.Configuration;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkApplicationInfo;
import org.lwjgl.vulkan.VkBufferCreateInfo;
import org.lwjgl.vulkan.VkDevice;
import org.lwjgl.vulkan.VkDeviceCreateInfo;
import org.lwjgl.vulkan.VkDeviceQueueCreateInfo;
import org.lwjgl.vulkan.VkExportMemoryAllocateInfo;
import org.lwjgl.vulkan.VkExportSemaphoreCreateInfo;
import org.lwjgl.vulkan.VkExternalMemoryBufferCreateInfo;
import org.lwjgl.vulkan.VkInstance;
import org.lwjgl.vulkan.VkInstanceCreateInfo;
import org.lwjgl.vulkan.VkMemoryAllocateInfo;
import org.lwjgl.vulkan.VkMemoryGetFdInfoKHR;
import org.lwjgl.vulkan.VkMemoryRequirements;
import org.lwjgl.vulkan.VkPhysicalDevice;
import org.lwjgl.vulkan.VkPhysicalDeviceIDProperties;
import org.lwjgl.vulkan.VkPhysicalDeviceMemoryProperties;
import org.lwjgl.vulkan.VkPhysicalDeviceProperties2;
import org.lwjgl.vulkan.VkPhysicalDeviceVulkan12Features;
import org.lwjgl.vulkan.VkQueueFamilyProperties;
import org.lwjgl.vulkan.VkSemaphoreCreateInfo;
import org.lwjgl.vulkan.VkSemaphoreGetFdInfoKHR;
import org.lwjgl.vulkan.VkSemaphoreTypeCreateInfo;

import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;

import static org.lwjgl.vulkan.KHRExternalMemoryFd.vkGetMemoryFdKHR;
import static org.lwjgl.vulkan.KHRExternalSemaphoreFd.vkGetSemaphoreFdKHR;
import static org.lwjgl.vulkan.VK10.*;
import static org.lwjgl.vulkan.VK11.*;
import static org.lwjgl.vulkan.VK12.*;

/**
 * The producer of the import and semaphore benchmarks: a Vulkan 1.2 device (LWJGL) on the HIP device (matched by
 * UUID) that allocates device-local buffers and timeline semaphores and exports them as opaque fds. A trimmed copy
 * of the GPU tests' {@code VulkanProducer} (test code, not in the library jar); {@code benchmarks/native/vk.h} is
 * its C twin.
 */
final class VulkanExporter implements AutoCloseable {
    static {
        // LWJGL extracts its JNI library; the default (~/.lwjgl) may be read-only on the GPU machine.
        if (System.getProperty("org.lwjgl.system.SharedLibraryExtractPath") == null) {
            Configuration.SHARED_LIBRARY_EXTRACT_PATH.set(
                    Path.of(System.getProperty("java.io.tmpdir"), "hipffm-bench-lwjgl").toString());
        }
    }

    private final VkInstance instance;
    private final VkPhysicalDevice physical;
    private final VkDevice device;

    private VulkanExporter(VkInstance instance, VkPhysicalDevice physical, VkDevice device) {
        this.instance = instance;
        this.physical = physical;
        this.device = device;
    }

    /**
     * {@return the Vulkan device whose {@code deviceUUID} is {@code uuid}}
     * @throws IllegalStateException when Vulkan is missing or has no such device
     */
    static VulkanExporter open(byte[] uuid) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkApplicationInfo app = VkApplicationInfo.calloc(stack).sType$Default()
                    .pApplicationName(stack.UTF8("hip-ffm benchmarks")).apiVersion(VK_API_VERSION_1_2);
            VkInstanceCreateInfo ici = VkInstanceCreateInfo.calloc(stack).sType$Default().pApplicationInfo(app);
            PointerBuffer pp = stack.mallocPointer(1);
            check(vkCreateInstance(ici, null, pp), "vkCreateInstance");
            VkInstance instance = new VkInstance(pp.get(0), ici);
            IntBuffer count = stack.mallocInt(1);
            check(vkEnumeratePhysicalDevices(instance, count, null), "vkEnumeratePhysicalDevices");
            PointerBuffer devices = stack.mallocPointer(count.get(0));
            check(vkEnumeratePhysicalDevices(instance, count, devices), "vkEnumeratePhysicalDevices");
            StringBuilder seen = new StringBuilder();
            for (int i = 0; i < devices.capacity(); i++) {
                VkPhysicalDevice pd = new VkPhysicalDevice(devices.get(i), instance);
                VkPhysicalDeviceIDProperties id = VkPhysicalDeviceIDProperties.calloc(stack).sType$Default();
                VkPhysicalDeviceProperties2 p2 = VkPhysicalDeviceProperties2.calloc(stack).sType$Default()
                        .pNext(id.address());
                vkGetPhysicalDeviceProperties2(pd, p2);
                byte[] u = new byte[16];
                id.deviceUUID().get(u);
                seen.append(p2.properties().deviceNameString()).append(' ').append(HexFormat.of().formatHex(u)).append("; ");
                if (Arrays.equals(u, uuid)) {
                    return new VulkanExporter(instance, pd, createDevice(pd, stack));
                }
            }
            vkDestroyInstance(instance, null);
            throw new IllegalStateException("no Vulkan device has the HIP device's UUID " + HexFormat.of().formatHex(uuid)
                    + "; Vulkan sees: " + seen);
        }
    }

    private static VkDevice createDevice(VkPhysicalDevice pd, MemoryStack stack) {
        IntBuffer n = stack.mallocInt(1);
        vkGetPhysicalDeviceQueueFamilyProperties(pd, n, null);
        VkQueueFamilyProperties.Buffer families = VkQueueFamilyProperties.calloc(n.get(0), stack);
        vkGetPhysicalDeviceQueueFamilyProperties(pd, n, families);
        int family = 0;
        for (int i = 0; i < families.capacity(); i++) {
            if ((families.get(i).queueFlags() & (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT)) != 0) {
                family = i;
                break;
            }
        }
        VkDeviceQueueCreateInfo.Buffer qci = VkDeviceQueueCreateInfo.calloc(1, stack).sType$Default()
                .queueFamilyIndex(family).pQueuePriorities(stack.floats(1f));
        VkPhysicalDeviceVulkan12Features f12 = VkPhysicalDeviceVulkan12Features.calloc(stack).sType$Default()
                .timelineSemaphore(true);
        VkDeviceCreateInfo dci = VkDeviceCreateInfo.calloc(stack).sType$Default().pNext(f12.address())
                .pQueueCreateInfos(qci)
                .ppEnabledExtensionNames(stack.pointers(stack.UTF8("VK_KHR_external_memory_fd"),
                        stack.UTF8("VK_KHR_external_semaphore_fd")));
        PointerBuffer pp = stack.mallocPointer(1);
        check(vkCreateDevice(pd, dci, null, pp), "vkCreateDevice");
        return new VkDevice(pp.get(0), pd, dci, VK_API_VERSION_1_2);
    }

    /** A device-local buffer whose memory can be exported as an opaque fd. */
    final class Buffer implements AutoCloseable {
        final long buffer;
        final long memory;
        /** The allocation's size: what an import must be told. */
        final long allocationSize;

        private Buffer(long buffer, long memory, long allocationSize) {
            this.buffer = buffer;
            this.memory = memory;
            this.allocationSize = allocationSize;
        }

        /** {@return a new fd for the memory ({@code vkGetMemoryFdKHR}); the caller owns it} */
        int exportFd() {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                VkMemoryGetFdInfoKHR info = VkMemoryGetFdInfoKHR.calloc(stack).sType$Default().memory(memory)
                        .handleType(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
                IntBuffer fd = stack.mallocInt(1);
                check(vkGetMemoryFdKHR(device, info, fd), "vkGetMemoryFdKHR");
                return fd.get(0);
            }
        }

        @Override
        public void close() {
            vkDestroyBuffer(device, buffer, null);
            vkFreeMemory(device, memory, null);
        }
    }

    /** {@return an exportable device-local buffer of {@code size} bytes (not a dedicated allocation)} */
    Buffer createBuffer(long size) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkExternalMemoryBufferCreateInfo ext = VkExternalMemoryBufferCreateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            VkBufferCreateInfo bci = VkBufferCreateInfo.calloc(stack).sType$Default().pNext(ext.address()).size(size)
                    .usage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT)
                    .sharingMode(VK_SHARING_MODE_EXCLUSIVE);
            LongBuffer lp = stack.mallocLong(1);
            check(vkCreateBuffer(device, bci, null, lp), "vkCreateBuffer");
            long buffer = lp.get(0);
            VkMemoryRequirements req = VkMemoryRequirements.calloc(stack);
            vkGetBufferMemoryRequirements(device, buffer, req);
            VkExportMemoryAllocateInfo export = VkExportMemoryAllocateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            VkPhysicalDeviceMemoryProperties mp = VkPhysicalDeviceMemoryProperties.calloc(stack);
            vkGetPhysicalDeviceMemoryProperties(physical, mp);
            int type = -1;
            for (int i = 0; i < mp.memoryTypeCount() && type < 0; i++) {
                if ((req.memoryTypeBits() & (1 << i)) != 0
                        && (mp.memoryTypes(i).propertyFlags() & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) != 0) {
                    type = i;
                }
            }
            if (type < 0) {
                throw new IllegalStateException("no device-local Vulkan memory type for the buffer");
            }
            VkMemoryAllocateInfo ai = VkMemoryAllocateInfo.calloc(stack).sType$Default().pNext(export.address())
                    .allocationSize(req.size()).memoryTypeIndex(type);
            check(vkAllocateMemory(device, ai, null, lp), "vkAllocateMemory");
            long memory = lp.get(0);
            check(vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory");
            return new Buffer(buffer, memory, req.size());
        }
    }

    /** A timeline semaphore (initial value 0), exportable as an opaque fd. */
    final class Semaphore implements AutoCloseable {
        final long semaphore;

        private Semaphore(long semaphore) {
            this.semaphore = semaphore;
        }

        /** {@return a new fd for the semaphore ({@code vkGetSemaphoreFdKHR}); the caller owns it} */
        int exportFd() {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                VkSemaphoreGetFdInfoKHR info = VkSemaphoreGetFdInfoKHR.calloc(stack).sType$Default().semaphore(semaphore)
                        .handleType(VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT);
                IntBuffer fd = stack.mallocInt(1);
                check(vkGetSemaphoreFdKHR(device, info, fd), "vkGetSemaphoreFdKHR");
                return fd.get(0);
            }
        }

        @Override
        public void close() {
            vkDestroySemaphore(device, semaphore, null);
        }
    }

    /** {@return a new exportable timeline semaphore} */
    Semaphore createTimelineSemaphore() {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkSemaphoreTypeCreateInfo type = VkSemaphoreTypeCreateInfo.calloc(stack).sType$Default()
                    .semaphoreType(VK_SEMAPHORE_TYPE_TIMELINE).initialValue(0);
            VkExportSemaphoreCreateInfo export = VkExportSemaphoreCreateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT).pNext(type.address());
            VkSemaphoreCreateInfo sci = VkSemaphoreCreateInfo.calloc(stack).sType$Default().pNext(export.address());
            LongBuffer lp = stack.mallocLong(1);
            check(vkCreateSemaphore(device, sci, null, lp), "vkCreateSemaphore");
            return new Semaphore(lp.get(0));
        }
    }

    private static void check(int rc, String call) {
        if (rc != VK_SUCCESS) {
            throw new IllegalStateException(call + " failed: VkResult " + rc);
        }
    }

    @Override
    public void close() {
        vkDeviceWaitIdle(device);
        vkDestroyDevice(device, null);
        vkDestroyInstance(instance, null);
    }
}
