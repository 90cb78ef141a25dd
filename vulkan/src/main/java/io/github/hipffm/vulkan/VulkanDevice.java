package io.github.hipffm.vulkan;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Device;
import io.github.hipffm.Extent;
import io.github.hipffm.MipmappedArray;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

import static org.lwjgl.vulkan.VK10.*;
import static org.lwjgl.vulkan.VK11.*;
import static org.lwjgl.vulkan.VK12.*;

/**
 * A Vulkan device that makes resources HIP can import: {@linkplain #createBuffer exportable buffers},
 * {@linkplain #createImage optimal-tiling images} and {@linkplain #createSemaphore semaphores}, each exporting its
 * memory or payload as an opaque fd; {@link VulkanInterop} takes them to HIP in one call.
 *
 * <p>Either this class creates a minimal headless device ({@link #create(Device)}, {@link #create(DeviceSelector)}):
 * a Vulkan 1.2 instance, the physical device selected by UUID, one queue of the first graphics or compute family,
 * {@code VK_KHR_external_memory_fd}, {@code VK_KHR_external_semaphore_fd} where the driver has it, timeline
 * semaphores; {@link #close()} destroys it all. Or it works on the application's device ({@link #wrap}): the device
 * must have {@code VK_KHR_external_memory_fd} enabled (and {@code VK_KHR_external_semaphore_fd} and the
 * {@code timelineSemaphore} feature for semaphores); {@link #close()} then destroys only the command pool this class
 * made, never the device.
 *
 * <p>Helpers that run work ({@link #fill}, {@link #write}, {@link #read}, {@link #submit}) submit to the queue and
 * wait for it to be idle: plain and slow, for setup, tools and tests. A {@link #submission()} waits on and signals
 * semaphores and returns a {@link Fence} instead of waiting. For frames, record the
 * {@linkplain #releaseToExternal(VkCommandBuffer, ExportableBuffer) ownership transfers} into your own command
 * buffers and synchronise with a timeline semaphore. One thread at a time (Vulkan's queue rule).
 *
 * {@snippet :
 * Device hip = Hip.device(0);
 * try (VulkanDevice vk = VulkanDevice.create(hip);            // the Vulkan device with HIP's UUID
 *      ExportableBuffer buffer = vk.createBuffer(1 << 20);    // device-local, exportable, dedicated
 *      Arena arena = Arena.ofConfined()) {
 *     vk.fill(buffer, 0, buffer.size(), 0x01010101);           // Vulkan writes
 *     SharedBuffer shared = VulkanInterop.importBuffer(arena, buffer);
 *     Memory.fill(shared.segment(), (byte) 2);                 // HIP writes the same memory
 *     byte[] back = vk.read(buffer, 0, 16);                    // Vulkan reads: 2, 2, 2, ...
 * }                                                             // HIP side released first, then the buffer, then the device
 * }
 */
public final class VulkanDevice implements AutoCloseable {
    /**
     * The usage of {@link #createBuffer(long)} and {@link #createBuffer(long, boolean)}: transfer source and
     * destination, storage buffer.
     */
    public static final int DEFAULT_BUFFER_USAGE = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
            | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;

    private static final String MEMORY_FD = "VK_KHR_external_memory_fd";
    private static final String SEMAPHORE_FD = "VK_KHR_external_semaphore_fd";

    private final VkInstance instance;
    private final VkPhysicalDevice physical;
    private final VkDevice device;
    private final VkQueue queue;
    private final int queueFamily;
    private final long commandPool;
    private final boolean owned;
    private final String name;
    private final byte[] uuid;
    private boolean closed;

    private VulkanDevice(VkInstance instance, VkDevice device, VkQueue queue, int queueFamily, long commandPool,
            boolean owned) {
        this.instance = instance;
        this.physical = device.getPhysicalDevice();
        this.device = device;
        this.queue = queue;
        this.queueFamily = queueFamily;
        this.commandPool = commandPool;
        this.owned = owned;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkPhysicalDeviceIDProperties id = VkPhysicalDeviceIDProperties.calloc(stack).sType$Default();
            VkPhysicalDeviceProperties2 p2 = VkPhysicalDeviceProperties2.calloc(stack).sType$Default().pNext(id.address());
            vkGetPhysicalDeviceProperties2(physical, p2);
            this.name = p2.properties().deviceNameString();
            this.uuid = new byte[16];
            id.deviceUUID().get(uuid);
        }
    }

    /**
     * {@return a new headless device on the GPU of {@code hipDevice}: {@code create(DeviceSelector.of(hipDevice))}}
     * @param hipDevice the HIP device
     * @throws NoMatchingDeviceException when no Vulkan device has its UUID (the message lists both sides)
     * @throws VulkanException when Vulkan fails (no loader, no driver, no queue)
     */
    public static VulkanDevice create(Device hipDevice) {
        return create(DeviceSelector.of(hipDevice));
    }

    /**
     * {@return a new headless device: the physical device {@code selector} picks, one queue of its first graphics or
     * compute family, the external memory (and, where supported, semaphore) fd extensions, timeline semaphores}
     * @param selector which physical device
     * @throws NoMatchingDeviceException when none matches (the instance is destroyed again)
     * @throws VulkanException when Vulkan fails; nothing is left behind
     * @throws UnsupportedOperationException when the device lacks {@code VK_KHR_external_memory_fd}
     */
    public static VulkanDevice create(DeviceSelector selector) {
        if (selector == null) {
            throw new IllegalArgumentException("selector must not be null");
        }
        VkInstance instance;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkApplicationInfo app = VkApplicationInfo.calloc(stack).sType$Default()
                    .pApplicationName(stack.UTF8("hip-ffm-vulkan")).apiVersion(VK_API_VERSION_1_2);
            VkInstanceCreateInfo ici = VkInstanceCreateInfo.calloc(stack).sType$Default().pApplicationInfo(app);
            PointerBuffer pp = stack.mallocPointer(1);
            VulkanException.check(vkCreateInstance(ici, null, pp), "vkCreateInstance");
            instance = new VkInstance(pp.get(0), ici);
        }
        try {
            return open(instance, physicalDevice(instance, selector));
        } catch (RuntimeException | Error e) {
            vkDestroyInstance(instance, null);
            throw e;
        }
    }

    /**
     * {@return the physical device of {@code instance} that {@code selector} picks}
     * @param instance a Vulkan 1.1+ instance (the application's, or any)
     * @param selector which device
     * @throws NoMatchingDeviceException when none matches: the message lists the UUID wanted and every device seen
     */
    public static VkPhysicalDevice physicalDevice(VkInstance instance, DeviceSelector selector) {
        if (instance == null || selector == null) {
            throw new IllegalArgumentException("instance and selector must not be null");
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer count = stack.mallocInt(1);
            VulkanException.check(vkEnumeratePhysicalDevices(instance, count, null), "vkEnumeratePhysicalDevices");
            PointerBuffer devices = stack.mallocPointer(count.get(0));
            VulkanException.check(vkEnumeratePhysicalDevices(instance, count, devices), "vkEnumeratePhysicalDevices");
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < count.get(0); i++) {
                VkPhysicalDevice pd = new VkPhysicalDevice(devices.get(i), instance);
                VkPhysicalDeviceIDProperties id = VkPhysicalDeviceIDProperties.calloc(stack).sType$Default();
                VkPhysicalDeviceProperties2 p2 = VkPhysicalDeviceProperties2.calloc(stack).sType$Default()
                        .pNext(id.address());
                vkGetPhysicalDeviceProperties2(pd, p2);
                byte[] u = new byte[16];
                id.deviceUUID().get(u);
                seen.add(p2.properties().deviceNameString() + " " + HexFormat.of().formatHex(u));
                boolean match = switch (selector) {
                    case DeviceSelector.First f -> true;
                    case DeviceSelector.ByUuid b -> Arrays.equals(b.uuid(), u);
                };
                if (match) {
                    return pd;
                }
            }
            throw new NoMatchingDeviceException(selector, seen);
        }
    }

    /**
     * {@return this library's view of the application's device: nothing is created but a command pool for the
     * helpers, and {@link #close()} leaves the device alone}
     * @param device the application's device, with {@code VK_KHR_external_memory_fd} enabled
     * @param queue a queue of {@code queueFamilyIndex}, used by the helpers
     * @param queueFamilyIndex its family, the one ownership transfers release from and acquire to
     * @throws IllegalArgumentException when the device lacks {@code VK_KHR_external_memory_fd} (checked here)
     */
    public static VulkanDevice wrap(VkDevice device, VkQueue queue, int queueFamilyIndex) {
        if (device == null || queue == null) {
            throw new IllegalArgumentException("device and queue must not be null");
        }
        if (!device.getCapabilities().VK_KHR_external_memory_fd) {
            throw new IllegalArgumentException("the VkDevice was created without " + MEMORY_FD
                    + ": enable it (and " + SEMAPHORE_FD + " for semaphores) to share memory with HIP");
        }
        return new VulkanDevice(null, device, queue, queueFamilyIndex, createPool(device, queueFamilyIndex), false);
    }

    private static VulkanDevice open(VkInstance instance, VkPhysicalDevice pd) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer n = stack.mallocInt(1);
            vkGetPhysicalDeviceQueueFamilyProperties(pd, n, null);
            VkQueueFamilyProperties.Buffer families = VkQueueFamilyProperties.calloc(n.get(0), stack);
            vkGetPhysicalDeviceQueueFamilyProperties(pd, n, families);
            int family = -1;
            for (int i = 0; i < families.capacity() && family < 0; i++) {
                if (families.get(i).queueCount() > 0
                        && (families.get(i).queueFlags() & (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT)) != 0) {
                    family = i;
                }
            }
            if (family < 0) {
                throw new UnsupportedOperationException("the Vulkan device has no graphics or compute queue");
            }
            List<String> extensions = extensions(pd);
            if (!extensions.contains(MEMORY_FD)) {
                throw new UnsupportedOperationException("the Vulkan device lacks " + MEMORY_FD + ": it cannot export memory");
            }
            boolean semaphoreFd = extensions.contains(SEMAPHORE_FD);
            VkDeviceQueueCreateInfo.Buffer qci = VkDeviceQueueCreateInfo.calloc(1, stack).sType$Default()
                    .queueFamilyIndex(family).pQueuePriorities(stack.floats(1f));
            VkPhysicalDeviceVulkan12Features f12 = VkPhysicalDeviceVulkan12Features.calloc(stack).sType$Default()
                    .timelineSemaphore(true);
            PointerBuffer names = semaphoreFd ? stack.pointers(stack.UTF8(MEMORY_FD), stack.UTF8(SEMAPHORE_FD))
                    : stack.pointers(stack.UTF8(MEMORY_FD));
            VkDeviceCreateInfo dci = VkDeviceCreateInfo.calloc(stack).sType$Default().pNext(f12.address())
                    .pQueueCreateInfos(qci).ppEnabledExtensionNames(names);
            PointerBuffer pp = stack.mallocPointer(1);
            VulkanException.check(vkCreateDevice(pd, dci, null, pp), "vkCreateDevice");
            VkDevice device = new VkDevice(pp.get(0), pd, dci, VK_API_VERSION_1_2);
            try {
                vkGetDeviceQueue(device, family, 0, pp);
                VkQueue queue = new VkQueue(pp.get(0), device);
                return new VulkanDevice(instance, device, queue, family, createPool(device, family), true);
            } catch (RuntimeException | Error e) {
                vkDestroyDevice(device, null);
                throw e;
            }
        }
    }

    private static List<String> extensions(VkPhysicalDevice pd) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer n = stack.mallocInt(1);
            VulkanException.check(vkEnumerateDeviceExtensionProperties(pd, (String) null, n, null),
                    "vkEnumerateDeviceExtensionProperties");
            VkExtensionProperties.Buffer props = VkExtensionProperties.calloc(n.get(0), stack);
            VulkanException.check(vkEnumerateDeviceExtensionProperties(pd, (String) null, n, props),
                    "vkEnumerateDeviceExtensionProperties");
            List<String> names = new ArrayList<>();
            for (int i = 0; i < props.capacity(); i++) {
                names.add(props.get(i).extensionNameString());
            }
            return names;
        }
    }

    private static long createPool(VkDevice device, int family) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkCommandPoolCreateInfo cpci = VkCommandPoolCreateInfo.calloc(stack).sType$Default()
                    .flags(VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT).queueFamilyIndex(family);
            LongBuffer lp = stack.mallocLong(1);
            VulkanException.check(vkCreateCommandPool(device, cpci, null, lp), "vkCreateCommandPool");
            return lp.get(0);
        }
    }

    // ---- what it is -----------------------------------------------------------------------------------

    /** {@return the instance this class created, or null for a {@linkplain #wrap wrapped} device} */
    public VkInstance instance() {
        return instance;
    }

    /** {@return the physical device} */
    public VkPhysicalDevice physicalDevice() {
        return physical;
    }

    /** {@return the logical device} */
    public VkDevice device() {
        return device;
    }

    /** {@return the queue the helpers submit to} */
    public VkQueue queue() {
        return queue;
    }

    /** {@return the queue's family: ownership transfers release from it and acquire to it} */
    public int queueFamilyIndex() {
        return queueFamily;
    }

    /** {@return the physical device's name} */
    public String name() {
        return name;
    }

    /** {@return the physical device's UUID ({@code deviceUUID}), as HIP's {@link Device#uuidBytes()} has it} */
    public byte[] uuid() {
        return uuid.clone();
    }

    /** {@return whether {@link #close()} destroys the device (it was {@linkplain #create(DeviceSelector) created} here)} */
    public boolean ownsDevice() {
        return owned;
    }

    /** {@return whether semaphores can be exported as fds: {@code VK_KHR_external_semaphore_fd} is enabled} */
    public boolean canExportSemaphores() {
        return device.getCapabilities().VK_KHR_external_semaphore_fd;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the VulkanDevice is closed");
        }
    }

    // ---- buffers --------------------------------------------------------------------------------------

    /**
     * {@return {@code createBuffer(size, true)}: a dedicated, device-local, exportable buffer}
     * @param size bytes, &gt; 0
     */
    public ExportableBuffer createBuffer(long size) {
        return createBuffer(size, true);
    }

    /**
     * {@return {@code createBuffer(size, dedicated, DEFAULT_BUFFER_USAGE)}: a buffer of {@code size} bytes (usage
     * transfer source and destination, storage) bound at offset 0 to memory of its own, allocated exportable as an
     * opaque fd; device-local memory where the device has it}
     * HIP is told the allocation's size ({@link ExportableBuffer#allocationSize()}, at least {@code size}) and
     * whether it is dedicated.
     *
     * @param size bytes, &gt; 0
     * @param dedicated whether the memory is a dedicated allocation ({@code VkMemoryDedicatedAllocateInfo})
     * @throws IllegalArgumentException for a size &lt;= 0, or {@code dedicated} false where the driver exports
     *     buffers only as dedicated allocations
     * @throws UnsupportedOperationException when the driver cannot export such buffers as opaque fds
     * @throws VulkanException when Vulkan fails; nothing is left behind
     */
    public ExportableBuffer createBuffer(long size, boolean dedicated) {
        return createBuffer(size, dedicated, DEFAULT_BUFFER_USAGE);
    }

    /**
     * {@return a buffer of {@code size} bytes and the given usage, bound at offset 0 to memory of its own,
     * allocated exportable as an opaque fd; device-local memory where the device has it}
     * The usage can change the memory requirements (size, alignment, memory types), so an application that shares
     * a buffer of its own usage should make it with that usage.
     *
     * @param size bytes, &gt; 0
     * @param dedicated whether the memory is a dedicated allocation ({@code VkMemoryDedicatedAllocateInfo})
     * @param usage the {@code VkBufferUsageFlags}, not 0 ({@link #DEFAULT_BUFFER_USAGE} for the other overloads)
     * @throws IllegalArgumentException for a size &lt;= 0, a usage of 0, or {@code dedicated} false where the driver
     *     exports such buffers only as dedicated allocations
     * @throws UnsupportedOperationException when the driver cannot export such buffers as opaque fds
     * @throws VulkanException when Vulkan fails; nothing is left behind
     */
    public ExportableBuffer createBuffer(long size, boolean dedicated, int usage) {
        checkOpen();
        if (size <= 0) {
            throw new IllegalArgumentException("buffer size must be > 0, got " + size);
        }
        if (usage == 0) {
            throw new IllegalArgumentException("buffer usage must not be 0");
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            checkExportable(usage, dedicated, "buffers");
            VkExternalMemoryBufferCreateInfo ext = VkExternalMemoryBufferCreateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            VkBufferCreateInfo bci = VkBufferCreateInfo.calloc(stack).sType$Default().pNext(ext.address()).size(size)
                    .usage(usage).sharingMode(VK_SHARING_MODE_EXCLUSIVE);
            LongBuffer lp = stack.mallocLong(1);
            VulkanException.check(vkCreateBuffer(device, bci, null, lp), "vkCreateBuffer");
            long buffer = lp.get(0);
            try {
                VkMemoryRequirements req = VkMemoryRequirements.calloc(stack);
                vkGetBufferMemoryRequirements(device, buffer, req);
                VkMemoryDedicatedAllocateInfo ded = VkMemoryDedicatedAllocateInfo.calloc(stack).sType$Default().buffer(buffer);
                VkExportMemoryAllocateInfo export = VkExportMemoryAllocateInfo.calloc(stack).sType$Default()
                        .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT).pNext(dedicated ? ded.address() : 0);
                int type = memoryType(req.memoryTypeBits(), VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
                long memory = allocate(req.size(), type, export.address());
                try {
                    VulkanException.check(vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory");
                } catch (RuntimeException e) {
                    vkFreeMemory(device, memory, null);
                    throw e;
                }
                return new ExportableBuffer(this, buffer, size, memory, 0, req.size(), req.alignment(), dedicated,
                        VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT, true);
            } catch (RuntimeException | Error e) {
                vkDestroyBuffer(device, buffer, null);
                throw e;
            }
        }
    }

    /**
     * Refuses, before anything is created, buffers of {@code usage} that the driver cannot export as opaque fds, and
     * non-dedicated ones where it exports them only as dedicated allocations.
     */
    private void checkExportable(int usage, boolean dedicated, String what) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkPhysicalDeviceExternalBufferInfo info = VkPhysicalDeviceExternalBufferInfo.calloc(stack).sType$Default()
                    .usage(usage).handleType(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            VkExternalBufferProperties props = VkExternalBufferProperties.calloc(stack).sType$Default();
            vkGetPhysicalDeviceExternalBufferProperties(physical, info, props);
            int features = props.externalMemoryProperties().externalMemoryFeatures();
            if ((features & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT) == 0) {
                throw new UnsupportedOperationException(name + " cannot export " + what + " of usage 0x"
                        + Integer.toHexString(usage) + " as OPAQUE_FD (externalMemoryFeatures 0x"
                        + Integer.toHexString(features) + ")");
            }
            if (!dedicated && (features & VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT) != 0) {
                throw new IllegalArgumentException(name + " exports " + what + " only as dedicated allocations: use dedicated = true");
            }
        }
    }

    /**
     * {@return a buffer of {@code size} bytes in host-visible, coherent memory of its own (not a dedicated
     * allocation), bound at offset 0 and mapped into this process: {@link HostBuffer#segment()}; exportable as an
     * opaque fd when {@code exportable}}
     * What HIP imports of it is the whole allocation ({@link HostBuffer#allocationSize()}). For staging, for
     * buffers the host reads and writes while HIP uses them, and for the copies of a test.
     *
     * @param size bytes, &gt; 0
     * @param usage the {@code VkBufferUsageFlags}, not 0
     * @param exportable whether the buffer and its memory are made exportable ({@code VkExternalMemoryBufferCreateInfo},
     *     {@code VkExportMemoryAllocateInfo})
     * @throws IllegalArgumentException for a size &lt;= 0 or a usage of 0
     * @throws UnsupportedOperationException when the device has no host-visible coherent memory for the buffer, or
     *     cannot export such buffers (checked before anything is created)
     * @throws VulkanException when Vulkan fails; nothing is left behind
     */
    public HostBuffer createHostBuffer(long size, int usage, boolean exportable) {
        checkOpen();
        if (size <= 0) {
            throw new IllegalArgumentException("buffer size must be > 0, got " + size);
        }
        if (usage == 0) {
            throw new IllegalArgumentException("buffer usage must not be 0");
        }
        if (exportable) {
            checkExportable(usage, false, "host-visible buffers");
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkExternalMemoryBufferCreateInfo ext = VkExternalMemoryBufferCreateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            VkBufferCreateInfo bci = VkBufferCreateInfo.calloc(stack).sType$Default()
                    .pNext(exportable ? ext.address() : 0).size(size).usage(usage).sharingMode(VK_SHARING_MODE_EXCLUSIVE);
            LongBuffer lp = stack.mallocLong(1);
            VulkanException.check(vkCreateBuffer(device, bci, null, lp), "vkCreateBuffer");
            long buffer = lp.get(0);
            long memory = VK_NULL_HANDLE;
            try {
                VkMemoryRequirements req = VkMemoryRequirements.calloc(stack);
                vkGetBufferMemoryRequirements(device, buffer, req);
                int type = memoryTypeRequired(req.memoryTypeBits(),
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
                VkExportMemoryAllocateInfo export = VkExportMemoryAllocateInfo.calloc(stack).sType$Default()
                        .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
                memory = allocate(req.size(), type, exportable ? export.address() : 0);
                VulkanException.check(vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory");
                PointerBuffer p = stack.mallocPointer(1);
                VulkanException.check(vkMapMemory(device, memory, 0, req.size(), 0, p), "vkMapMemory");
                MemorySegment host = MemorySegment.ofAddress(p.get(0)).reinterpret(req.size());
                return new HostBuffer(this, buffer, size, memory, req.size(), host, exportable);
            } catch (RuntimeException | Error e) {
                if (memory != VK_NULL_HANDLE) {
                    vkFreeMemory(device, memory, null);
                }
                vkDestroyBuffer(device, buffer, null);
                throw e;
            }
        }
    }

    // ---- images ---------------------------------------------------------------------------------------

    /**
     * {@return an optimal-tiling image with memory of its own (dedicated), exportable as an opaque fd, whose shape is
     * the one HIP maps with {@code ExternalMemory.mapMipmappedArray(0, format, extent, levels, flags)}}
     *
     * <p>The shape follows hip-ffm's {@link Extent} and {@link MipmappedArray} flags: depth 0 and height 0 is a 1D
     * image, depth 0 a 2D image, depth &gt; 0 a 3D image; with {@link MipmappedArray#LAYERED} the depth is the number
     * of layers of a 1D or 2D array image; with {@link MipmappedArray#CUBEMAP} the image is cube compatible, square,
     * with 6 layers (6 &times; n with {@code LAYERED}). The format is the unnormalised integer or float format of the
     * {@link ChannelFormat} ({@code 8,8,8,8 UNSIGNED} is {@code VK_FORMAT_R8G8B8A8_UINT}, {@code 32,0,0,0 FLOAT}
     * {@code VK_FORMAT_R32_SFLOAT}). Usage: transfer source and destination, sampled, and storage with
     * {@link MipmappedArray#SURFACE_LOAD_STORE}. The image starts in {@code VK_IMAGE_LAYOUT_UNDEFINED}.
     *
     * @param format the element format
     * @param extent level 0's size (see above)
     * @param levels mip levels, 1 to what the extent allows
     * @param flags 0 or {@link MipmappedArray} flags
     * @throws IllegalArgumentException for a shape Vulkan cannot have, checked before any Vulkan call
     * @throws UnsupportedOperationException when the driver cannot make or export such an image
     * @throws VulkanException when Vulkan fails; nothing is left behind
     */
    public ExportableImage createImage(ChannelFormat format, Extent extent, int levels, int flags) {
        return createImage(format, extent, levels, flags, VK_IMAGE_TILING_OPTIMAL, true);
    }

    /**
     * {@return {@link #createImage(ChannelFormat, Extent, int, int)} with the given tiling, in a dedicated allocation
     * or not}
     * HIP's arrays are tiled on NVIDIA: a {@code LINEAR} image cannot be read as a CUDA array there (its texels come
     * out scrambled), while AMD maps linear images. A non-dedicated image is imported without
     * {@code hipExternalMemoryDedicated}.
     *
     * @param format the element format
     * @param extent level 0's size
     * @param levels mip levels
     * @param flags 0 or {@link MipmappedArray} flags
     * @param tiling {@code VK_IMAGE_TILING_OPTIMAL} or {@code VK_IMAGE_TILING_LINEAR}
     * @param dedicated whether the memory is a dedicated allocation ({@code VkMemoryDedicatedAllocateInfo})
     * @throws IllegalArgumentException for a shape Vulkan cannot have or another tiling, checked before any Vulkan call
     * @throws UnsupportedOperationException when the driver cannot make or export such an image
     * @throws VulkanException when Vulkan fails; nothing is left behind
     */
    public ExportableImage createImage(ChannelFormat format, Extent extent, int levels, int flags, int tiling,
            boolean dedicated) {
        checkOpen();
        ImageShape shape = ImageShape.of(format, extent, levels, flags);
        if (tiling != VK_IMAGE_TILING_OPTIMAL && tiling != VK_IMAGE_TILING_LINEAR) {
            throw new IllegalArgumentException("tiling must be VK_IMAGE_TILING_OPTIMAL or VK_IMAGE_TILING_LINEAR, got "
                    + tiling);
        }
        String tilingName = tiling == VK_IMAGE_TILING_OPTIMAL ? "optimal" : "linear";
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkPhysicalDeviceExternalImageFormatInfo extInfo = VkPhysicalDeviceExternalImageFormatInfo.calloc(stack)
                    .sType$Default().handleType(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            VkPhysicalDeviceImageFormatInfo2 fi = VkPhysicalDeviceImageFormatInfo2.calloc(stack).sType$Default()
                    .pNext(extInfo.address()).format(shape.vkFormat()).type(shape.imageType())
                    .tiling(tiling).usage(shape.usage()).flags(shape.createFlags());
            VkExternalImageFormatProperties extProps = VkExternalImageFormatProperties.calloc(stack).sType$Default();
            VkImageFormatProperties2 fp = VkImageFormatProperties2.calloc(stack).sType$Default().pNext(extProps.address());
            int rc = vkGetPhysicalDeviceImageFormatProperties2(physical, fi, fp);
            if (rc != VK_SUCCESS) {
                throw new UnsupportedOperationException(name + " cannot make an exportable " + tilingName + "-tiling " + shape
                        + ": vkGetPhysicalDeviceImageFormatProperties2 returned " + VulkanException.resultName(rc));
            }
            int features = extProps.externalMemoryProperties().externalMemoryFeatures();
            if ((features & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT) == 0) {
                throw new UnsupportedOperationException(name + " cannot export " + shape + " as OPAQUE_FD");
            }
            VkImageFormatProperties limits = fp.imageFormatProperties();
            if (levels > limits.maxMipLevels() || shape.layers() > limits.maxArrayLayers()) {
                throw new UnsupportedOperationException(name + " allows at most " + limits.maxMipLevels() + " levels and "
                        + limits.maxArrayLayers() + " layers for " + shape);
            }
            VkExternalMemoryImageCreateInfo ext = VkExternalMemoryImageCreateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT);
            VkImageCreateInfo ici = VkImageCreateInfo.calloc(stack).sType$Default().pNext(ext.address())
                    .flags(shape.createFlags()).imageType(shape.imageType()).format(shape.vkFormat()).mipLevels(levels)
                    .arrayLayers(shape.layers()).samples(VK_SAMPLE_COUNT_1_BIT).tiling(tiling)
                    .usage(shape.usage()).sharingMode(VK_SHARING_MODE_EXCLUSIVE).initialLayout(VK_IMAGE_LAYOUT_UNDEFINED);
            ici.extent().set(shape.width(), shape.height(), shape.depth());
            LongBuffer lp = stack.mallocLong(1);
            VulkanException.check(vkCreateImage(device, ici, null, lp), "vkCreateImage");
            long image = lp.get(0);
            try {
                VkMemoryRequirements req = VkMemoryRequirements.calloc(stack);
                vkGetImageMemoryRequirements(device, image, req);
                VkMemoryDedicatedAllocateInfo ded = VkMemoryDedicatedAllocateInfo.calloc(stack).sType$Default().image(image);
                VkExportMemoryAllocateInfo export = VkExportMemoryAllocateInfo.calloc(stack).sType$Default()
                        .handleTypes(VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT).pNext(dedicated ? ded.address() : 0);
                long memory = allocate(req.size(), memoryType(req.memoryTypeBits(), VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT),
                        export.address());
                try {
                    VulkanException.check(vkBindImageMemory(device, image, memory, 0), "vkBindImageMemory");
                } catch (RuntimeException e) {
                    vkFreeMemory(device, memory, null);
                    throw e;
                }
                return new ExportableImage(this, image, memory, req.size(), shape, tiling, dedicated);
            } catch (RuntimeException | Error e) {
                vkDestroyImage(device, image, null);
                throw e;
            }
        }
    }

    // ---- semaphores -----------------------------------------------------------------------------------

    /**
     * {@return a new semaphore of {@code type} (a timeline starts at 0), exportable as an opaque fd}
     * @param type binary or timeline
     * @throws UnsupportedOperationException when the device cannot export such semaphores (no
     *     {@code VK_KHR_external_semaphore_fd}, or the driver reports no OPAQUE_FD export: lavapipe), checked before
     *     anything is created
     * @throws VulkanException when Vulkan fails
     */
    public ExportableSemaphore createSemaphore(SemaphoreType type) {
        checkOpen();
        if (type == null) {
            throw new IllegalArgumentException("type must not be null");
        }
        if (!canExportSemaphores()) {
            throw new UnsupportedOperationException(name + ": " + SEMAPHORE_FD
                    + " is not enabled on this device (not offered by the driver, or not enabled by the application)");
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkSemaphoreTypeCreateInfo typeInfo = VkSemaphoreTypeCreateInfo.calloc(stack).sType$Default()
                    .semaphoreType(type == SemaphoreType.TIMELINE ? VK_SEMAPHORE_TYPE_TIMELINE : VK_SEMAPHORE_TYPE_BINARY)
                    .initialValue(0);
            VkPhysicalDeviceExternalSemaphoreInfo info = VkPhysicalDeviceExternalSemaphoreInfo.calloc(stack).sType$Default()
                    .pNext(typeInfo.address()).handleType(VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT);
            VkExternalSemaphoreProperties props = VkExternalSemaphoreProperties.calloc(stack).sType$Default();
            vkGetPhysicalDeviceExternalSemaphoreProperties(physical, info, props);
            if ((props.externalSemaphoreFeatures() & VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT) == 0) {
                throw new UnsupportedOperationException(name + " cannot export " + type.name().toLowerCase()
                        + " semaphores as OPAQUE_FD (externalSemaphoreFeatures 0x"
                        + Integer.toHexString(props.externalSemaphoreFeatures()) + ")");
            }
            VkExportSemaphoreCreateInfo export = VkExportSemaphoreCreateInfo.calloc(stack).sType$Default()
                    .handleTypes(VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT).pNext(typeInfo.address());
            VkSemaphoreCreateInfo sci = VkSemaphoreCreateInfo.calloc(stack).sType$Default().pNext(export.address());
            LongBuffer lp = stack.mallocLong(1);
            VulkanException.check(vkCreateSemaphore(device, sci, null, lp), "vkCreateSemaphore");
            return new ExportableSemaphore(this, lp.get(0), type, VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT, true);
        }
    }

    // ---- ownership transfers --------------------------------------------------------------------------

    /**
     * Records the release of {@code buffer} from this device's queue family to {@code VK_QUEUE_FAMILY_EXTERNAL}
     * (after Vulkan's last write, before HIP uses it); HIP's side is the semaphore wait that follows.
     *
     * @param cmd a command buffer in the recording state, of this device's queue family
     * @param buffer the buffer
     */
    public void releaseToExternal(VkCommandBuffer cmd, ExportableBuffer buffer) {
        bufferTransfer(cmd, buffer, queueFamily, VK_QUEUE_FAMILY_EXTERNAL, VK_ACCESS_MEMORY_WRITE_BIT, 0);
    }

    /**
     * Records the acquisition of {@code buffer} from {@code VK_QUEUE_FAMILY_EXTERNAL} to this device's queue family
     * (after HIP's last use, which the submission waits for, before Vulkan uses it again).
     *
     * @param cmd a command buffer in the recording state, of this device's queue family
     * @param buffer the buffer
     */
    public void acquireFromExternal(VkCommandBuffer cmd, ExportableBuffer buffer) {
        bufferTransfer(cmd, buffer, VK_QUEUE_FAMILY_EXTERNAL, queueFamily, 0,
                VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
    }

    /**
     * Records the release of {@code image} (all levels and layers) to {@code VK_QUEUE_FAMILY_EXTERNAL}, keeping
     * its layout ({@code VK_IMAGE_LAYOUT_GENERAL} is what HIP expects).
     *
     * @param cmd a command buffer in the recording state, of this device's queue family
     * @param image the image
     * @param layout its current layout, kept across the transfer
     */
    public void releaseToExternal(VkCommandBuffer cmd, ExportableImage image, int layout) {
        imageTransfer(cmd, image, layout, layout, queueFamily, VK_QUEUE_FAMILY_EXTERNAL, VK_ACCESS_MEMORY_WRITE_BIT, 0);
    }

    /**
     * Records the acquisition of {@code image} from {@code VK_QUEUE_FAMILY_EXTERNAL}.
     *
     * @param cmd a command buffer in the recording state, of this device's queue family
     * @param image the image
     * @param layout the layout it was released in, kept
     */
    public void acquireFromExternal(VkCommandBuffer cmd, ExportableImage image, int layout) {
        imageTransfer(cmd, image, layout, layout, VK_QUEUE_FAMILY_EXTERNAL, queueFamily, 0,
                VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
    }

    /**
     * Records a layout transition of all of {@code image} (for example {@code UNDEFINED} to {@code GENERAL} before
     * its first use by HIP).
     *
     * @param cmd a command buffer in the recording state
     * @param image the image
     * @param from the old layout
     * @param to the new layout
     */
    public void transition(VkCommandBuffer cmd, ExportableImage image, int from, int to) {
        imageTransfer(cmd, image, from, to, VK_QUEUE_FAMILY_IGNORED, VK_QUEUE_FAMILY_IGNORED, VK_ACCESS_MEMORY_WRITE_BIT,
                VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
    }

    private void bufferTransfer(VkCommandBuffer cmd, ExportableBuffer buffer, int src, int dst, int srcAccess, int dstAccess) {
        checkOpen();
        buffer.checkOwner(this);
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkBufferMemoryBarrier.Buffer b = VkBufferMemoryBarrier.calloc(1, stack).sType$Default()
                    .srcAccessMask(srcAccess).dstAccessMask(dstAccess).srcQueueFamilyIndex(src).dstQueueFamilyIndex(dst)
                    .buffer(buffer.buffer()).offset(0).size(VK_WHOLE_SIZE);
            vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, null, b, null);
        }
    }

    private void imageTransfer(VkCommandBuffer cmd, ExportableImage image, int from, int to, int src, int dst,
            int srcAccess, int dstAccess) {
        checkOpen();
        image.checkOwner(this);
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkImageMemoryBarrier.Buffer b = VkImageMemoryBarrier.calloc(1, stack).sType$Default()
                    .srcAccessMask(srcAccess).dstAccessMask(dstAccess).oldLayout(from).newLayout(to)
                    .srcQueueFamilyIndex(src).dstQueueFamilyIndex(dst).image(image.image())
                    .subresourceRange(r -> r.aspectMask(VK_IMAGE_ASPECT_COLOR_BIT).baseMipLevel(0)
                            .levelCount(image.levels()).baseArrayLayer(0).layerCount(image.layers()));
            vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, null, null, b);
        }
    }

    // ---- helpers that run work ------------------------------------------------------------------------

    /**
     * Records commands into a one-time command buffer of this device's pool, submits it and waits until the queue
     * is idle.
     *
     * @param record what to record
     * @throws VulkanException when a Vulkan call fails
     */
    public void submit(Consumer<VkCommandBuffer> record) {
        checkOpen();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer pp = stack.mallocPointer(1);
            VulkanException.check(vkAllocateCommandBuffers(device, VkCommandBufferAllocateInfo.calloc(stack).sType$Default()
                    .commandPool(commandPool).level(VK_COMMAND_BUFFER_LEVEL_PRIMARY).commandBufferCount(1), pp),
                    "vkAllocateCommandBuffers");
            VkCommandBuffer cmd = new VkCommandBuffer(pp.get(0), device);
            try {
                VulkanException.check(vkBeginCommandBuffer(cmd, VkCommandBufferBeginInfo.calloc(stack).sType$Default()
                        .flags(VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT)), "vkBeginCommandBuffer");
                record.accept(cmd);
                VulkanException.check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
                VulkanException.check(vkQueueSubmit(queue, VkSubmitInfo.calloc(stack).sType$Default()
                        .pCommandBuffers(stack.pointers(cmd.address())), VK_NULL_HANDLE), "vkQueueSubmit");
                VulkanException.check(vkQueueWaitIdle(queue), "vkQueueWaitIdle");
            } finally {
                vkFreeCommandBuffers(device, commandPool, cmd);
            }
        }
    }

    /**
     * Fills {@code size} bytes of {@code buffer} at {@code offset} with the 32-bit {@code data}
     * ({@code vkCmdFillBuffer}) and waits.
     *
     * @param buffer the buffer
     * @param offset bytes, a multiple of 4
     * @param size bytes, a multiple of 4, within the buffer
     * @param data the value of every 32-bit word (little-endian bytes in memory)
     */
    public void fill(ExportableBuffer buffer, long offset, long size, int data) {
        buffer.checkOwner(this);
        checkRange(buffer, offset, size);
        if ((offset | size) % 4 != 0) {
            throw new IllegalArgumentException("vkCmdFillBuffer needs an offset and size that are multiples of 4, got "
                    + offset + " and " + size);
        }
        submit(cmd -> vkCmdFillBuffer(cmd, buffer.buffer(), offset, size, data));
    }

    /**
     * Writes {@code data} into {@code buffer} at {@code offset} through a host-visible staging buffer and a
     * transfer, and waits.
     *
     * @param buffer the buffer
     * @param offset bytes
     * @param data the bytes (any segment)
     */
    public void write(ExportableBuffer buffer, long offset, MemorySegment data) {
        buffer.checkOwner(this);
        checkRange(buffer, offset, data.byteSize());
        try (Staging s = new Staging(data.byteSize())) {
            s.segment().copyFrom(data);
            copy(s.buffer, 0, buffer.buffer(), offset, data.byteSize());
        }
    }

    /**
     * {@return {@code length} bytes of {@code buffer} at {@code offset}, read through a transfer into a staging buffer}
     * @param buffer the buffer
     * @param offset bytes
     * @param length bytes, &gt; 0
     */
    public byte[] read(ExportableBuffer buffer, long offset, int length) {
        buffer.checkOwner(this);
        checkRange(buffer, offset, length);
        try (Staging s = new Staging(length)) {
            copy(buffer.buffer(), offset, s.buffer, 0, length);
            return s.segment().toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * Reads {@code destination.byteSize()} bytes of {@code buffer} at {@code offset} into {@code destination}
     * through a transfer into a staging buffer, and waits: {@link #read(ExportableBuffer, long, int)} without the
     * array (for large reads, or into pinned memory).
     *
     * @param buffer the buffer
     * @param offset bytes
     * @param destination where the bytes go (any writable segment), &gt; 0 bytes
     */
    public void read(ExportableBuffer buffer, long offset, MemorySegment destination) {
        buffer.checkOwner(this);
        checkRange(buffer, offset, destination.byteSize());
        try (Staging s = new Staging(destination.byteSize())) {
            copy(buffer.buffer(), offset, s.buffer, 0, destination.byteSize());
            destination.copyFrom(s.segment());
        }
    }

    /**
     * Writes every level of {@code image} from host memory through a staging buffer, and waits: the image goes from
     * {@code UNDEFINED} to {@code TRANSFER_DST_OPTIMAL}, each level is copied ({@code vkCmdCopyBufferToImage}),
     * and the image is left in {@code VK_IMAGE_LAYOUT_GENERAL} (what HIP expects); the barriers are
     * {@link #transition}'s. What the image held before is discarded.
     *
     * @param image the image
     * @param levels one segment per mip level, each the level's texels tightly packed (rows, then slices or layers):
     *     {@code width * height * depth-or-layers} texels of the image's format at that level
     * @throws IllegalArgumentException when the number of levels or a level's size does not match the image
     */
    public void write(ExportableImage image, MemorySegment... levels) {
        image.checkOwner(this);
        if (levels == null || levels.length != image.levels()) {
            throw new IllegalArgumentException("the image has " + image.levels() + " level(s), got "
                    + (levels == null ? "null" : levels.length + " segment(s)"));
        }
        ChannelFormat f = image.format();
        long texel = (f.x() + f.y() + f.z() + f.w()) / 8;
        boolean is3d = image.layers() == 1 && image.extent().depth() > 0;
        long total = 0;
        for (int l = 0; l < levels.length; l++) {
            long expected = texel * levelWidth(image, l) * levelHeight(image, l) * (is3d ? levelDepth(image, l) : image.layers());
            if (levels[l] == null || levels[l].byteSize() != expected) {
                throw new IllegalArgumentException("level " + l + " of " + image + " has " + expected + " bytes, got "
                        + (levels[l] == null ? "null" : levels[l].byteSize()));
            }
            total += expected;
        }
        try (Staging s = new Staging(total); MemoryStack stack = MemoryStack.stackPush()) {
            VkBufferImageCopy.Buffer regions = VkBufferImageCopy.calloc(levels.length, stack);
            long offset = 0;
            for (int l = 0; l < levels.length; l++) {
                s.segment().asSlice(offset, levels[l].byteSize()).copyFrom(levels[l]);
                int level = l;
                regions.get(l).bufferOffset(offset).imageSubresource(r -> r.aspectMask(VK_IMAGE_ASPECT_COLOR_BIT)
                        .mipLevel(level).baseArrayLayer(0).layerCount(image.layers()));
                regions.get(l).imageExtent().set(levelWidth(image, l), levelHeight(image, l), is3d ? levelDepth(image, l) : 1);
                offset += levels[l].byteSize();
            }
            submit(cmd -> {
                transition(cmd, image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
                vkCmdCopyBufferToImage(cmd, s.buffer, image.image(), VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, regions);
                transition(cmd, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_GENERAL);
            });
        }
    }

    private static int levelWidth(ExportableImage image, int level) {
        return (int) Math.max(1, image.extent().width() >> level);
    }

    private static int levelHeight(ExportableImage image, int level) {
        return (int) Math.max(1, Math.max(1, image.extent().height()) >> level);
    }

    private static int levelDepth(ExportableImage image, int level) {
        return (int) Math.max(1, image.extent().depth() >> level);
    }

    /**
     * {@return a new {@link Submission} to this device's queue: commands, semaphore waits and signals, a fence}
     * @throws IllegalStateException when the device is closed
     */
    public Submission submission() {
        checkOpen();
        return new Submission(this);
    }

    /**
     * Waits on the host until the helpers' queue is idle ({@code vkQueueWaitIdle}).
     *
     * @throws VulkanException when Vulkan fails
     */
    public void waitIdle() {
        checkOpen();
        VulkanException.check(vkQueueWaitIdle(queue), "vkQueueWaitIdle");
    }

    /** {@return the helpers' command pool, which {@link Submission}s allocate from} */
    long commandPool() {
        return commandPool;
    }

    private static void checkRange(ExportableBuffer buffer, long offset, long size) {
        if (offset < 0 || size <= 0 || offset > buffer.size() - size) {
            throw new IllegalArgumentException("range " + offset + "+" + size + " outside the " + buffer.size()
                    + "-byte buffer");
        }
    }

    private void copy(long src, long srcOffset, long dst, long dstOffset, long size) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkBufferCopy.Buffer region = VkBufferCopy.calloc(1, stack).srcOffset(srcOffset).dstOffset(dstOffset).size(size);
            submit(cmd -> vkCmdCopyBuffer(cmd, src, dst, region));
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
                VulkanException.check(vkCreateBuffer(device, bci, null, lp), "vkCreateBuffer");
                buffer = lp.get(0);
                VkMemoryRequirements req = VkMemoryRequirements.calloc(stack);
                vkGetBufferMemoryRequirements(device, buffer, req);
                int props = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
                int type = memoryTypeRequired(req.memoryTypeBits(), props);
                memory = allocate(req.size(), type, 0);
                VulkanException.check(vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory");
                PointerBuffer p = stack.mallocPointer(1);
                VulkanException.check(vkMapMemory(device, memory, 0, size, 0, p), "vkMapMemory");
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

    // ---- memory ---------------------------------------------------------------------------------------

    /** {@return the first memory type in {@code bits} with {@code preferred}, else the first in {@code bits}} */
    private int memoryType(int bits, int preferred) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkPhysicalDeviceMemoryProperties mp = VkPhysicalDeviceMemoryProperties.calloc(stack);
            vkGetPhysicalDeviceMemoryProperties(physical, mp);
            int any = -1;
            for (int i = 0; i < mp.memoryTypeCount(); i++) {
                if ((bits & (1 << i)) != 0) {
                    if ((mp.memoryTypes(i).propertyFlags() & preferred) == preferred) {
                        return i;
                    }
                    any = any < 0 ? i : any;
                }
            }
            if (any < 0) {
                throw new UnsupportedOperationException(name + " has no memory type in 0x" + Integer.toHexString(bits));
            }
            return any;
        }
    }

    private int memoryTypeRequired(int bits, int required) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkPhysicalDeviceMemoryProperties mp = VkPhysicalDeviceMemoryProperties.calloc(stack);
            vkGetPhysicalDeviceMemoryProperties(physical, mp);
            for (int i = 0; i < mp.memoryTypeCount(); i++) {
                if ((bits & (1 << i)) != 0 && (mp.memoryTypes(i).propertyFlags() & required) == required) {
                    return i;
                }
            }
            throw new UnsupportedOperationException(name + " has no memory type with properties 0x"
                    + Integer.toHexString(required) + " in 0x" + Integer.toHexString(bits));
        }
    }

    private long allocate(long size, int type, long pNext) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkMemoryAllocateInfo ai = VkMemoryAllocateInfo.calloc(stack).sType$Default().pNext(pNext)
                    .allocationSize(size).memoryTypeIndex(type);
            LongBuffer lp = stack.mallocLong(1);
            VulkanException.check(vkAllocateMemory(device, ai, null, lp), "vkAllocateMemory");
            return lp.get(0);
        }
    }

    /**
     * Waits until the device is idle, then destroys the helpers' command pool and, for a device created here, the
     * device and the instance. Resources made by this device must be closed first. Closing twice is harmless.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        vkDeviceWaitIdle(device);
        vkDestroyCommandPool(device, commandPool, null);
        if (owned) {
            vkDestroyDevice(device, null);
            vkDestroyInstance(instance, null);
        }
    }

    /** {@return a duration in nanoseconds, saturated} */
    static long nanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public String toString() {
        return "VulkanDevice[" + name + ", uuid " + HexFormat.of().formatHex(uuid) + (owned ? "" : ", wrapped") + "]";
    }
}
