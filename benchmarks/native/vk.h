// The C twin of the benchmarks' Vulkan side (hip-ffm-vulkan's VulkanDevice, through Gpu.java): a Vulkan 1.2 device on the CUDA device (matched by UUID) that
// makes device-local buffers and timeline semaphores and exports them as opaque fds.
#ifndef HIPFFM_VK_H
#define HIPFFM_VK_H
#include <vulkan/vulkan.h>
#include "bench.h"

#define VK(x) do { VkResult r_ = (x); if (r_ != VK_SUCCESS) { \
    fprintf(stderr, "C-ERROR %s:%d: %s -> VkResult %d\n", __FILE__, __LINE__, #x, r_); exit(1); } } while (0)

typedef struct {
    VkInstance instance;
    VkPhysicalDevice physical;
    VkDevice device;
    PFN_vkGetMemoryFdKHR getMemoryFd;
    PFN_vkGetSemaphoreFdKHR getSemaphoreFd;
} Vk;

typedef struct {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize allocation_size;
} VkExportedBuffer;

static inline Vk vk_open(void) {
    Vk v;
    memset(&v, 0, sizeof v);
    struct cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "hip-ffm C twins",
                             .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VK(vkCreateInstance(&ici, NULL, &v.instance));
    uint32_t n = 0;
    VK(vkEnumeratePhysicalDevices(v.instance, &n, NULL));
    VkPhysicalDevice pds[16];
    if (n > 16) n = 16;
    VK(vkEnumeratePhysicalDevices(v.instance, &n, pds));
    for (uint32_t i = 0; i < n && !v.physical; i++) {
        VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
        VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &id};
        vkGetPhysicalDeviceProperties2(pds[i], &p2);
        if (memcmp(id.deviceUUID, prop.uuid.bytes, 16) == 0) v.physical = pds[i];
    }
    if (!v.physical) {
        fprintf(stderr, "C-ERROR no Vulkan device has the CUDA device's UUID (%u Vulkan devices)\n", n);
        exit(1);
    }
    uint32_t nf = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(v.physical, &nf, NULL);
    VkQueueFamilyProperties fams[32];
    if (nf > 32) nf = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(v.physical, &nf, fams);
    uint32_t family = 0;
    for (uint32_t i = 0; i < nf; i++) {
        if (fams[i].queueFlags & (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT)) { family = i; break; }
    }
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = family,
                                   .queueCount = 1, .pQueuePriorities = &prio};
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .timelineSemaphore = VK_TRUE};
    const char *ext[] = {"VK_KHR_external_memory_fd", "VK_KHR_external_semaphore_fd"};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f12, .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci, .enabledExtensionCount = 2, .ppEnabledExtensionNames = ext};
    VK(vkCreateDevice(v.physical, &dci, NULL, &v.device));
    v.getMemoryFd = (PFN_vkGetMemoryFdKHR) vkGetDeviceProcAddr(v.device, "vkGetMemoryFdKHR");
    v.getSemaphoreFd = (PFN_vkGetSemaphoreFdKHR) vkGetDeviceProcAddr(v.device, "vkGetSemaphoreFdKHR");
    if (!v.getMemoryFd || !v.getSemaphoreFd) {
        fprintf(stderr, "C-ERROR vkGetMemoryFdKHR/vkGetSemaphoreFdKHR missing\n");
        exit(1);
    }
    return v;
}

static inline VkExportedBuffer vk_buffer(Vk *v, VkDeviceSize size) {
    VkExportedBuffer b;
    VkExternalMemoryBufferCreateInfo ext = {.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
                                            .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .pNext = &ext, .size = size,
                              .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                              .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VK(vkCreateBuffer(v->device, &bci, NULL, &b.buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(v->device, b.buffer, &req);
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(v->physical, &mp);
    int type = -1;
    for (uint32_t i = 0; i < mp.memoryTypeCount && type < 0; i++) {
        if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT))
            type = (int) i;
    }
    if (type < 0) { fprintf(stderr, "C-ERROR no device-local Vulkan memory type\n"); exit(1); }
    VkExportMemoryAllocateInfo export = {.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
                                         .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .pNext = &export,
                               .allocationSize = req.size, .memoryTypeIndex = (uint32_t) type};
    VK(vkAllocateMemory(v->device, &ai, NULL, &b.memory));
    VK(vkBindBufferMemory(v->device, b.buffer, b.memory, 0));
    b.allocation_size = req.size;
    return b;
}

static inline int vk_buffer_fd(Vk *v, VkExportedBuffer *b) {
    VkMemoryGetFdInfoKHR info = {.sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR, .memory = b->memory,
                                 .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
    int fd = -1;
    VK(v->getMemoryFd(v->device, &info, &fd));
    return fd;
}

static inline void vk_buffer_free(Vk *v, VkExportedBuffer *b) {
    vkDestroyBuffer(v->device, b->buffer, NULL);
    vkFreeMemory(v->device, b->memory, NULL);
}

static inline VkSemaphore vk_timeline(Vk *v) {
    VkSemaphoreTypeCreateInfo type = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                      .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE, .initialValue = 0};
    VkExportSemaphoreCreateInfo export = {.sType = VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO, .pNext = &type,
                                          .handleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT};
    VkSemaphoreCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &export};
    VkSemaphore s;
    VK(vkCreateSemaphore(v->device, &sci, NULL, &s));
    return s;
}

static inline int vk_semaphore_fd(Vk *v, VkSemaphore s) {
    VkSemaphoreGetFdInfoKHR info = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_GET_FD_INFO_KHR, .semaphore = s,
                                    .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT};
    int fd = -1;
    VK(v->getSemaphoreFd(v->device, &info, &fd));
    return fd;
}

// Imports a Vulkan timeline semaphore fd into CUDA (CUDA takes the fd).
static inline cudaExternalSemaphore_t cuda_import_timeline(int fd) {
    struct cudaExternalSemaphoreHandleDesc d;
    memset(&d, 0, sizeof d);
    d.type = cudaExternalSemaphoreHandleTypeTimelineSemaphoreFd;
    d.handle.fd = fd;
    cudaExternalSemaphore_t s;
    CK(cudaImportExternalSemaphore(&s, &d));
    return s;
}

// Imports Vulkan memory (an opaque fd of `size` bytes, not dedicated) into CUDA (CUDA takes the fd).
static inline cudaExternalMemory_t cuda_import_memory(int fd, unsigned long long size) {
    struct cudaExternalMemoryHandleDesc d;
    memset(&d, 0, sizeof d);
    d.type = cudaExternalMemoryHandleTypeOpaqueFd;
    d.handle.fd = fd;
    d.size = size;
    cudaExternalMemory_t m;
    CK(cudaImportExternalMemory(&m, &d));
    return m;
}

static inline void *cuda_map(cudaExternalMemory_t m, unsigned long long offset, unsigned long long size) {
    struct cudaExternalMemoryBufferDesc d;
    memset(&d, 0, sizeof d);
    d.offset = offset;
    d.size = size;
    void *p;
    CK(cudaExternalMemoryGetMappedBuffer(&p, m, &d));
    return p;
}

static inline void vk_close(Vk *v) {
    vkDeviceWaitIdle(v->device);
    vkDestroyDevice(v->device, NULL);
    vkDestroyInstance(v->instance, NULL);
}
#endif
