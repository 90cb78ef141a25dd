package io.github.hipffm.gpu;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.*;

import java.lang.foreign.MemorySegment;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.function.ToIntFunction;

import static org.lwjgl.vulkan.KHRExternalMemoryFd.vkGetMemoryFdKHR;
import static org.lwjgl.vulkan.KHRExternalSemaphoreFd.vkGetSemaphoreFdKHR;
import static org.lwjgl.vulkan.VK10.*;
import static org.lwjgl.vulkan.VK11.*;
import static org.lwjgl.vulkan.VK12.*;

/**
 * The other API of the GPU tests: a minimal Vulkan 1.2 device (LWJGL) on the same GPU as HIP, which exports
 * memory, images and semaphores as opaque fds and reads and writes them through staging buffers.
 *
 * <p>{@link #openLikeHipTests} opens the device as hip-tests' {@code VulkanTest} fixture does (its queue family and
 * command pool), for the peer suite's {@code VkFixture}, which builds its resources on this class's plumbing.
 */
final class VulkanProducer implements AutoCloseable {
    private static final long TIMEOUT_NS = 10_000_000_000L;

    private final VkInstance instance;
    private final VkPhysicalDevice physical;
    private final VkDevice device;
    private final VkQueue queue;
    private final long commandPool;
    private final String name;

    private VulkanProducer(VkInstance instance, VkPhysicalDevice physical, VkDevice device, VkQueue queue,
            long commandPool, String name) {
        this.instance = instance;
        this.physical = physical;
        this.device = device;
        this.queue = queue;
        this.commandPool = commandPool;
        this.name = name;
    }

    /**
     * Opens the Vulkan device whose {@code deviceUUID} equals {@code uuid}: one queue of the first graphics or
     * compute family, a command pool whose buffers can be reset.
     */
    static VulkanProducer open(byte[] uuid) {
        return open(uuid, "hip-ffm gpu tests", VulkanProducer::firstGraphicsOrComputeFamily,
                VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT);
    }

    /**
     * Opens the Vulkan device whose {@code deviceUUID} equals {@code uuid} as hip-tests' {@code VulkanTest} does:
     * one queue of the first compute family that has queues (an {@link IllegalStateException} when none has), a
     * command pool with no flags.
     */
    static VulkanProducer openLikeHipTests(byte[] uuid) {
        return open(uuid, "hip-ffm peer suite", VulkanProducer::firstComputeFamily, 0);
    }

    private static int firstGraphicsOrComputeFamily(VkQueueFamilyProperties.Buffer families) {
        int family = -1;
        for (int i = 0; i < families.capacity() && family < 0; i++) {
            if ((families.get(i).queueFlags() & (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT)) != 0) {
                family = i;
            }
        }
        return family;
    }

    private static int firstComputeFamily(VkQueueFamilyProperties.Buffer families) {
        int family = -1;
        for (int i = 0; i < families.capacity() && family < 0; i++) {
            if (families.get(i).queueCount() > 0 && (families.get(i).queueFlags() & VK_QUEUE_COMPUTE_BIT) != 0) {
                family = i;
            }
        }
        if (family < 0) {
            throw new IllegalStateException("no compute queue family");
        }
        return family;
    }

    /** Opens the device of {@code uuid}; the instance is destroyed again when anything after its creation fails. */
    private static VulkanProducer open(byte[] uuid, String applicationName,
            ToIntFunction<VkQueueFamilyProperties.Buffer> queueFamily, int commandPoolFlags) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkApplicationInfo app = VkApplicationInfo.calloc(stack).sType$Default()
                    .pApplicationName(stack.UTF8(applicationName)).apiVersion(VK_API_VERSION_1_2);
            VkInstanceCreateInfo ici = VkInstanceCreateInfo.calloc(stack).sType$Default().pApplicationInfo(app);
            PointerBuffer pp = stack.mallocPointer(1);
            check(vkCreateInstance(ici, null, pp), "vkCreateInstance");
            VkInstance instance = new VkInstance(pp.get(0), ici);

            IntBuffer count = stack.mallocInt(1);
            check(instance, vkEnumeratePhysicalDevices(instance, count, null), "vkEnumeratePhysicalDevices");
            PointerBuffer devices = stack.mallocPointer(count.get(0));
            check(instance, vkEnumeratePhysicalDevices(instance, count, devices), "vkEnumeratePhysicalDevices");
            StringBuilder seen = new StringBuilder();
            for (int i = 0; i < devices.capacity(); i++) {
                VkPhysicalDevice pd = new VkPhysicalDevice(devices.get(i), instance);
                VkPhysicalDeviceIDProperties id = VkPhysicalDeviceIDProperties.calloc(stack).sType$Default();
                VkPhysicalDeviceProperties2 p2 = VkPhysicalDeviceProperties2.calloc(stack).sType$Default()
                        .pNext(id.address());
                vkGetPhysicalDeviceProperties2(pd, p2);
                byte[] u = new byte[16];
                id.deviceUUID().get(u);
                String devName = p2.properties().deviceNameString();
                seen.append(devName).append(' ').append(java.util.HexFormat.of().formatHex(u)).append("; ");
                if (Arrays.equals(u, uuid)) {
                    return createOrDestroy(instance, pd, devName, queueFamily, commandPoolFlags, stack);
                }
            }
            vkDestroyInstance(instance, null);
            throw new IllegalStateException("no Vulkan device has the HIP device's UUID "
                    + java.util.HexFormat.of().formatHex(uuid) + "; Vulkan sees: " + seen);
        }
    }

    /** {@link #check(int, String)}, destroying {@code instance} first when {@code rc} is an error. */
    private static void check(VkInstance instance, int rc, String call) {
        if (rc != VK_SUCCESS) {
            vkDestroyInstance(instance, null);
            check(rc, call);
        }
    }

    /** {@link #create}, destroying {@code instance} when it fails. */
    private static VulkanProducer createOrDestroy(VkInstance instance, VkPhysicalDevice pd, String name,
            ToIntFunction<VkQueueFamilyProperties.Buffer> queueFamily, int commandPoolFlags, MemoryStack stack) {
        try {
            return create(instance, pd, name, queueFamily, commandPoolFlags, stack);
        } catch (RuntimeException e) {
            vkDestroyInstance(instance, null);
            throw e;
        }
    }

    private static VulkanProducer create(VkInstance instance, VkPhysicalDevice pd, String name,
            ToIntFunction<VkQueueFamilyProperties.Buffer> queueFamily, int commandPoolFlags, MemoryStack stack) {
        IntBuffer n = stack.mallocInt(1);
        vkGetPhysicalDeviceQueueFamilyProperties(pd, n, null);
        VkQueueFamilyProperties.Buffer families = VkQueueFamilyProperties.calloc(n.get(0), stack);
        vkGetPhysicalDeviceQueueFamilyProperties(pd, n, families);
        int family = queueFamily.applyAsInt(families);
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
        VkDevice device = new VkDevice(pp.get(0), pd, dci, VK_API_VERSION_1_2);
        vkGetDeviceQueue(device, family, 0, pp);
        VkQueue queue = new VkQueue(pp.get(0), device);
        VkCommandPoolCreateInfo cpci = VkCommandPoolCreateInfo.calloc(stack).sType$Default()
                .flags(commandPoolFlags).queueFamilyIndex(family);
        LongBuffer lp = stack.mallocLong(1);
        check(vkCreateCommandPool(device, cpci, null, lp), "vkCreateCommandPool");
        return new VulkanProducer(instance, pd, device, queue, lp.get(0), name);
    }

    String deviceName() {
        return name;
    }

    VkDevice device() {
        return device;
    }

    VkQueue queue() {
        return queue;
    }

    long commandPool() {
        return commandPool;
    }

    // ---- buffers --------------------------------------------------------------------------------------

    /** A buffer of device-local memory, exportable as an opaque fd. */
    final class Buffer implements AutoCloseable {
        final long buffer;
        final long memory;
        final long size;
        final long allocationSize;

        private Buffer(long buffer, long memory, long size, long allocationSize) {
            this.buffer = buffer;
            this.memory = memory;
            this.size = size;
            this.allocationSize = allocationSize;
        }

        /** {@return a new fd for the memory ({@code vkGetMemoryFdKHR}); the caller (or HIP) owns it} */
        int exportFd() {
            return memoryFd(memory);
        }

        /** Writes {@code data} at {@code offset} through a staging buffer and a transfer. */
        void write(long offset, MemorySegment data) {
            try (Staging s = new Staging(data.byteSize())) {
                s.segment().copyFrom(data);
                copy(s.buffer, 0, buffer, offset, data.byteSize());
            }
        }

        /** {@return {@code length} bytes at {@code offset}, read through a transfer into a staging buffer} */
        byte[] read(long offset, int length) {
            try (Staging s = new Staging(length)) {
                copy(buffer, offset, s.buffer, 0, length);
                return s.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            }
        }

        /** Compares {@code length} bytes at {@code offset} with {@code expected}; returns the first mismatch or -1. */
        long mismatch(long offset, MemorySegment expected) {
            try (Staging s = new Staging(expected.byteSize())) {
                copy(buffer, offset, s.buffer, 0, expected.byteSize());
                return s.segment().mismatch(expected);
            }
        }

        @Override
        public void close() {
            vkDestroyBuffer(device, buffer, null);
            vkFreeMemory(device, memory, null);
        }
    }

    Buffer createBuffer(long size, boolean dedicated) {
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
            VkMemoryDedicatedAllocateInfo ded = VkMemoryDedicatedAllocateInfo.calloc(stack).sType$Default().buffer(buffer);
            VkExportMemoryAllocateInfo export = VkExportMemoryAllocateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT).pNext(dedicated ? ded.address() : 0);
            long memory = allocate(req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, export.address());
            check(vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory");
            return new Buffer(buffer, memory, size, req.size());
        }
    }

    // ---- images ---------------------------------------------------------------------------------------

    /** An RGBA8 unsigned-integer 2D image with mip levels, optimal tiling, exportable. */
    final class Image implements AutoCloseable {
        final long image;
        final long memory;
        final int width;
        final int height;
        final int levels;
        final long allocationSize;

        private Image(long image, long memory, int width, int height, int levels, long allocationSize) {
            this.image = image;
            this.memory = memory;
            this.width = width;
            this.height = height;
            this.levels = levels;
            this.allocationSize = allocationSize;
        }

        int exportFd() {
            return memoryFd(memory);
        }

        /** Uploads each level's tightly packed RGBA8 bytes and leaves the image in GENERAL layout. */
        void upload(MemorySegment[] levelData) {
            long total = Arrays.stream(levelData).mapToLong(MemorySegment::byteSize).sum();
            try (Staging s = new Staging(total); MemoryStack stack = MemoryStack.stackPush()) {
                VkBufferImageCopy.Buffer regions = VkBufferImageCopy.calloc(levels, stack);
                long offset = 0;
                for (int l = 0; l < levels; l++) {
                    s.segment().asSlice(offset, levelData[l].byteSize()).copyFrom(levelData[l]);
                    int level = l;
                    regions.get(l).bufferOffset(offset).imageSubresource(r -> r.aspectMask(VK_IMAGE_ASPECT_COLOR_BIT)
                            .mipLevel(level).baseArrayLayer(0).layerCount(1));
                    regions.get(l).imageExtent().set(Math.max(1, width >> l), Math.max(1, height >> l), 1);
                    offset += levelData[l].byteSize();
                }
                submit(cmd -> {
                    barrier(cmd, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, stack);
                    vkCmdCopyBufferToImage(cmd, s.buffer, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, regions);
                    barrier(cmd, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_GENERAL, stack);
                });
            }
        }

        private void barrier(VkCommandBuffer cmd, int from, int to, MemoryStack stack) {
            VkImageMemoryBarrier.Buffer b = VkImageMemoryBarrier.calloc(1, stack).sType$Default()
                    .srcAccessMask(VK_ACCESS_MEMORY_WRITE_BIT).dstAccessMask(VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT)
                    .oldLayout(from).newLayout(to).srcQueueFamilyIndex(VK_QUEUE_FAMILY_IGNORED)
                    .dstQueueFamilyIndex(VK_QUEUE_FAMILY_IGNORED).image(image)
                    .subresourceRange(r -> r.aspectMask(VK_IMAGE_ASPECT_COLOR_BIT).baseMipLevel(0).levelCount(levels)
                            .baseArrayLayer(0).layerCount(1));
            vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, null,
                    null, b);
        }

        @Override
        public void close() {
            vkDestroyImage(device, image, null);
            vkFreeMemory(device, memory, null);
        }
    }

    Image createImage(int width, int height, int levels) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkExternalMemoryImageCreateInfo ext = VkExternalMemoryImageCreateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            VkImageCreateInfo ici = VkImageCreateInfo.calloc(stack).sType$Default().pNext(ext.address())
                    .imageType(VK_IMAGE_TYPE_2D).format(VK_FORMAT_R8G8B8A8_UINT).mipLevels(levels).arrayLayers(1)
                    .samples(VK_SAMPLE_COUNT_1_BIT).tiling(VK_IMAGE_TILING_OPTIMAL)
                    .usage(VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT
                            | VK_IMAGE_USAGE_STORAGE_BIT)
                    .sharingMode(VK_SHARING_MODE_EXCLUSIVE).initialLayout(VK_IMAGE_LAYOUT_UNDEFINED);
            ici.extent().set(width, height, 1);
            LongBuffer lp = stack.mallocLong(1);
            check(vkCreateImage(device, ici, null, lp), "vkCreateImage");
            long image = lp.get(0);
            VkMemoryRequirements req = VkMemoryRequirements.calloc(stack);
            vkGetImageMemoryRequirements(device, image, req);
            VkMemoryDedicatedAllocateInfo ded = VkMemoryDedicatedAllocateInfo.calloc(stack).sType$Default().image(image);
            VkExportMemoryAllocateInfo export = VkExportMemoryAllocateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT).pNext(ded.address());
            long memory = allocate(req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, export.address());
            check(vkBindImageMemory(device, image, memory, 0), "vkBindImageMemory");
            return new Image(image, memory, width, height, levels, req.size());
        }
    }

    // ---- semaphores -----------------------------------------------------------------------------------

    /** A timeline or binary semaphore, exportable as an opaque fd. */
    final class Semaphore implements AutoCloseable {
        final long semaphore;
        final boolean timeline;

        private Semaphore(long semaphore, boolean timeline) {
            this.semaphore = semaphore;
            this.timeline = timeline;
        }

        int exportFd() {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                VkSemaphoreGetFdInfoKHR info = VkSemaphoreGetFdInfoKHR.calloc(stack).sType$Default().semaphore(semaphore)
                        .handleType(VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT);
                IntBuffer fd = stack.mallocInt(1);
                check(vkGetSemaphoreFdKHR(device, info, fd), "vkGetSemaphoreFdKHR");
                return fd.get(0);
            }
        }

        /** Timeline: signals {@code value} from the host ({@code vkSignalSemaphore}). */
        void hostSignal(long value) {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                check(vkSignalSemaphore(device, VkSemaphoreSignalInfo.calloc(stack).sType$Default().semaphore(semaphore)
                        .value(value)), "vkSignalSemaphore");
            }
        }

        /** Timeline: waits on the host until {@code value} ({@code vkWaitSemaphores}); false on timeout. */
        boolean hostWait(long value, long timeoutNs) {
            // Poll briefly first: a blocking vkWaitSemaphores that has to sleep costs the demo milliseconds.
            long spinUntil = System.nanoTime() + 200_000;
            while (System.nanoTime() < spinUntil) {
                if (value() >= value) {
                    return true;
                }
                Thread.onSpinWait();
            }
            try (MemoryStack stack = MemoryStack.stackPush()) {
                int rc = vkWaitSemaphores(device, VkSemaphoreWaitInfo.calloc(stack).sType$Default().semaphoreCount(1)
                        .pSemaphores(stack.longs(semaphore)).pValues(stack.longs(value)), timeoutNs);
                if (rc == VK_TIMEOUT) {
                    return false;
                }
                check(rc, "vkWaitSemaphores");
                return true;
            }
        }

        /** Timeline: the current value. */
        long value() {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                LongBuffer v = stack.mallocLong(1);
                check(vkGetSemaphoreCounterValue(device, semaphore, v), "vkGetSemaphoreCounterValue");
                return v.get(0);
            }
        }

        /** Binary: a queue submission that signals it. */
        void queueSignal() {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                VkSubmitInfo si = VkSubmitInfo.calloc(stack).sType$Default().pSignalSemaphores(stack.longs(semaphore));
                check(vkQueueSubmit(queue, si, VK_NULL_HANDLE), "vkQueueSubmit");
            }
        }

        /** Binary: a queue submission that waits for it; true when it completed within the timeout. */
        boolean queueWait(long timeoutNs) {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                LongBuffer fence = stack.mallocLong(1);
                check(vkCreateFence(device, VkFenceCreateInfo.calloc(stack).sType$Default(), null, fence), "vkCreateFence");
                try {
                    VkSubmitInfo si = VkSubmitInfo.calloc(stack).sType$Default().waitSemaphoreCount(1)
                            .pWaitSemaphores(stack.longs(semaphore))
                            .pWaitDstStageMask(stack.ints(VK_PIPELINE_STAGE_ALL_COMMANDS_BIT));
                    check(vkQueueSubmit(queue, si, fence.get(0)), "vkQueueSubmit");
                    int rc = vkWaitForFences(device, fence, true, timeoutNs);
                    if (rc == VK_TIMEOUT) {
                        return false;
                    }
                    check(rc, "vkWaitForFences");
                    return true;
                } finally {
                    vkQueueWaitIdle(queue);
                    vkDestroyFence(device, fence.get(0), null);
                }
            }
        }

        @Override
        public void close() {
            vkDestroySemaphore(device, semaphore, null);
        }
    }

    Semaphore createSemaphore(boolean timeline) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkSemaphoreTypeCreateInfo type = VkSemaphoreTypeCreateInfo.calloc(stack).sType$Default()
                    .semaphoreType(VK_SEMAPHORE_TYPE_TIMELINE).initialValue(0);
            VkExportSemaphoreCreateInfo export = VkExportSemaphoreCreateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT).pNext(timeline ? type.address() : 0);
            VkSemaphoreCreateInfo sci = VkSemaphoreCreateInfo.calloc(stack).sType$Default().pNext(export.address());
            LongBuffer lp = stack.mallocLong(1);
            check(vkCreateSemaphore(device, sci, null, lp), "vkCreateSemaphore");
            return new Semaphore(lp.get(0), timeline);
        }
    }

    // ---- plumbing -------------------------------------------------------------------------------------

    /** {@return a new fd for {@code memory} ({@code vkGetMemoryFdKHR}); the caller (or HIP) owns it} */
    int memoryFd(long memory) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkMemoryGetFdInfoKHR info = VkMemoryGetFdInfoKHR.calloc(stack).sType$Default().memory(memory)
                    .handleType(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            IntBuffer fd = stack.mallocInt(1);
            check(vkGetMemoryFdKHR(device, info, fd), "vkGetMemoryFdKHR");
            return fd.get(0);
        }
    }

    private long allocate(VkMemoryRequirements req, int properties, long pNext) {
        int type = memoryType(req.memoryTypeBits(), properties);
        if (type < 0) {
            throw new IllegalStateException("no Vulkan memory type with properties 0x" + Integer.toHexString(properties));
        }
        return allocate(req.size(), type, pNext);
    }

    /** {@code FindMemoryType}: the first type in {@code bits} with all of {@code properties}, or -1. */
    int memoryType(int bits, int properties) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkPhysicalDeviceMemoryProperties mp = VkPhysicalDeviceMemoryProperties.calloc(stack);
            vkGetPhysicalDeviceMemoryProperties(physical, mp);
            for (int i = 0; i < mp.memoryTypeCount(); i++) {
                if ((bits & (1 << i)) != 0 && (mp.memoryTypes(i).propertyFlags() & properties) == properties) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** {@return new memory of {@code size} bytes and memory type {@code type} ({@code vkAllocateMemory}), the caller's} */
    long allocate(long size, int type, long pNext) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkMemoryAllocateInfo ai = VkMemoryAllocateInfo.calloc(stack).sType$Default().pNext(pNext)
                    .allocationSize(size).memoryTypeIndex(type);
            LongBuffer lp = stack.mallocLong(1);
            check(vkAllocateMemory(device, ai, null, lp), "vkAllocateMemory");
            return lp.get(0);
        }
    }

    /** A host-visible, coherent buffer mapped into this process. */
    private final class Staging implements AutoCloseable {
        final long buffer;
        final long memory;
        final long size;
        final long address;

        Staging(long size) {
            this.size = size;
            try (MemoryStack stack = MemoryStack.stackPush()) {
                VkBufferCreateInfo bci = VkBufferCreateInfo.calloc(stack).sType$Default().size(size)
                        .usage(VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT)
                        .sharingMode(VK_SHARING_MODE_EXCLUSIVE);
                LongBuffer lp = stack.mallocLong(1);
                check(vkCreateBuffer(device, bci, null, lp), "vkCreateBuffer");
                buffer = lp.get(0);
                VkMemoryRequirements req = VkMemoryRequirements.calloc(stack);
                vkGetBufferMemoryRequirements(device, buffer, req);
                memory = allocate(req, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
                check(vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory");
                PointerBuffer p = stack.mallocPointer(1);
                check(vkMapMemory(device, memory, 0, size, 0, p), "vkMapMemory");
                address = p.get(0);
            }
        }

        MemorySegment segment() {
            return MemorySegment.ofAddress(address).reinterpret(size);
        }

        @Override
        public void close() {
            vkUnmapMemory(device, memory);
            vkDestroyBuffer(device, buffer, null);
            vkFreeMemory(device, memory, null);
        }
    }

    private void copy(long src, long srcOffset, long dst, long dstOffset, long size) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkBufferCopy.Buffer region = VkBufferCopy.calloc(1, stack).srcOffset(srcOffset).dstOffset(dstOffset).size(size);
            submit(cmd -> vkCmdCopyBuffer(cmd, src, dst, region));
        }
    }

    /** Records commands into a one-time command buffer, submits it and waits for the queue to go idle. */
    void submit(java.util.function.Consumer<VkCommandBuffer> record) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkCommandBuffer cmd = allocateCommandBuffer(stack);
            try {
                check(vkBeginCommandBuffer(cmd, VkCommandBufferBeginInfo.calloc(stack).sType$Default()
                        .flags(VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT)), "vkBeginCommandBuffer");
                record.accept(cmd);
                check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
                check(vkQueueSubmit(queue, VkSubmitInfo.calloc(stack).sType$Default()
                        .pCommandBuffers(stack.pointers(cmd.address())), VK_NULL_HANDLE), "vkQueueSubmit");
                check(vkQueueWaitIdle(queue), "vkQueueWaitIdle");
            } finally {
                vkFreeCommandBuffers(device, commandPool, cmd);
            }
        }
    }

    /** {@return a new primary command buffer of the pool ({@code vkAllocateCommandBuffers}), the caller's to free} */
    VkCommandBuffer allocateCommandBuffer(MemoryStack stack) {
        PointerBuffer pp = stack.mallocPointer(1);
        check(vkAllocateCommandBuffers(device, VkCommandBufferAllocateInfo.calloc(stack).sType$Default()
                .commandPool(commandPool).level(VK_COMMAND_BUFFER_LEVEL_PRIMARY).commandBufferCount(1), pp),
                "vkAllocateCommandBuffers");
        return new VkCommandBuffer(pp.get(0), device);
    }

    static long timeoutNs() {
        return TIMEOUT_NS;
    }

    static void check(int rc, String call) {
        if (rc != VK_SUCCESS) {
            throw new IllegalStateException(call + " failed: VkResult " + rc);
        }
    }

    @Override
    public void close() {
        closeAfter(() -> { });
    }

    /** Closes this device, running {@code releaseResources} once the device is idle, before the pool goes. */
    void closeAfter(Runnable releaseResources) {
        vkDeviceWaitIdle(device);
        releaseResources.run();
        vkDestroyCommandPool(device, commandPool, null);
        vkDestroyDevice(device, null);
        vkDestroyInstance(instance, null);
    }
}
