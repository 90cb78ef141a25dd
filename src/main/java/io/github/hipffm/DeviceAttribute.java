package io.github.hipffm;

import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.bindings.hip.Hip;

/**
 * Device attributes for {@link Device#attribute(DeviceAttribute)}: the ones that matter for interop and for
 * sizing work, each mapped to its {@code hipDeviceAttribute_t} value and to the CUDA {@code cudaDeviceAttr}
 * value used on the NVIDIA platform (the two enums are numbered differently).
 */
public enum DeviceAttribute {
    /** Major compute capability (on AMD: the GFX major version HIP reports). */
    COMPUTE_CAPABILITY_MAJOR("hipDeviceAttributeComputeCapabilityMajor", Hip.hipDeviceAttributeComputeCapabilityMajor(), CudaRuntime.cudaDevAttrComputeCapabilityMajor()),
    /** Minor compute capability. */
    COMPUTE_CAPABILITY_MINOR("hipDeviceAttributeComputeCapabilityMinor", Hip.hipDeviceAttributeComputeCapabilityMinor(), CudaRuntime.cudaDevAttrComputeCapabilityMinor()),
    /** Number of multiprocessors (compute units on AMD). */
    MULTIPROCESSOR_COUNT("hipDeviceAttributeMultiprocessorCount", Hip.hipDeviceAttributeMultiprocessorCount(), CudaRuntime.cudaDevAttrMultiProcessorCount()),
    /** Warp (wavefront) size in threads. */
    WARP_SIZE("hipDeviceAttributeWarpSize", Hip.hipDeviceAttributeWarpSize(), CudaRuntime.cudaDevAttrWarpSize()),
    /** Maximum threads per block. */
    MAX_THREADS_PER_BLOCK("hipDeviceAttributeMaxThreadsPerBlock", Hip.hipDeviceAttributeMaxThreadsPerBlock(), CudaRuntime.cudaDevAttrMaxThreadsPerBlock()),
    /** Shared memory per block, bytes. */
    MAX_SHARED_MEMORY_PER_BLOCK("hipDeviceAttributeMaxSharedMemoryPerBlock", Hip.hipDeviceAttributeMaxSharedMemoryPerBlock(), CudaRuntime.cudaDevAttrMaxSharedMemoryPerBlock()),
    /** L2 cache size, bytes. */
    L2_CACHE_SIZE("hipDeviceAttributeL2CacheSize", Hip.hipDeviceAttributeL2CacheSize(), CudaRuntime.cudaDevAttrL2CacheSize()),
    /** Global memory bus width, bits. */
    MEMORY_BUS_WIDTH("hipDeviceAttributeMemoryBusWidth", Hip.hipDeviceAttributeMemoryBusWidth(), CudaRuntime.cudaDevAttrGlobalMemoryBusWidth()),
    /** PCI domain of the device. */
    PCI_DOMAIN_ID("hipDeviceAttributePciDomainID", Hip.hipDeviceAttributePciDomainID(), CudaRuntime.cudaDevAttrPciDomainId()),
    /** PCI bus of the device. */
    PCI_BUS_ID("hipDeviceAttributePciBusId", Hip.hipDeviceAttributePciBusId(), CudaRuntime.cudaDevAttrPciBusId()),
    /** PCI device (slot) of the device. */
    PCI_DEVICE_ID("hipDeviceAttributePciDeviceId", Hip.hipDeviceAttributePciDeviceId(), CudaRuntime.cudaDevAttrPciDeviceId()),
    /** 1 if the device is integrated with the host memory system. */
    INTEGRATED("hipDeviceAttributeIntegrated", Hip.hipDeviceAttributeIntegrated(), CudaRuntime.cudaDevAttrIntegrated()),
    /** 1 if host memory can be mapped into the device address space. */
    CAN_MAP_HOST_MEMORY("hipDeviceAttributeCanMapHostMemory", Hip.hipDeviceAttributeCanMapHostMemory(), CudaRuntime.cudaDevAttrCanMapHostMemory()),
    /** 1 if the device shares a unified address space with the host. */
    UNIFIED_ADDRESSING("hipDeviceAttributeUnifiedAddressing", Hip.hipDeviceAttributeUnifiedAddressing(), CudaRuntime.cudaDevAttrUnifiedAddressing()),
    /** 1 if managed memory is supported. */
    MANAGED_MEMORY("hipDeviceAttributeManagedMemory", Hip.hipDeviceAttributeManagedMemory(), CudaRuntime.cudaDevAttrManagedMemory()),
    /** 1 if the device can access managed memory concurrently with the host. */
    CONCURRENT_MANAGED_ACCESS("hipDeviceAttributeConcurrentManagedAccess", Hip.hipDeviceAttributeConcurrentManagedAccess(), CudaRuntime.cudaDevAttrConcurrentManagedAccess()),
    /** 1 if host memory can be registered (pinned) in place. */
    HOST_REGISTER_SUPPORTED("hipDeviceAttributeHostRegisterSupported", Hip.hipDeviceAttributeHostRegisterSupported(), CudaRuntime.cudaDevAttrHostRegisterSupported()),
    /** 1 if stream-ordered memory pools are supported. */
    MEMORY_POOLS_SUPPORTED("hipDeviceAttributeMemoryPoolsSupported", Hip.hipDeviceAttributeMemoryPoolsSupported(), CudaRuntime.cudaDevAttrMemoryPoolsSupported()),
    /** 1 if kernels of several streams can run at once. */
    CONCURRENT_KERNELS("hipDeviceAttributeConcurrentKernels", Hip.hipDeviceAttributeConcurrentKernels(), CudaRuntime.cudaDevAttrConcurrentKernels()),
    /** Number of asynchronous copy engines. */
    ASYNC_ENGINE_COUNT("hipDeviceAttributeAsyncEngineCount", Hip.hipDeviceAttributeAsyncEngineCount(), CudaRuntime.cudaDevAttrAsyncEngineCount()),
    /** Compute mode (0 default, 2 prohibited, 3 exclusive process). */
    COMPUTE_MODE("hipDeviceAttributeComputeMode", Hip.hipDeviceAttributeComputeMode(), CudaRuntime.cudaDevAttrComputeMode()),
    /** 1 if ECC is enabled. */
    ECC_ENABLED("hipDeviceAttributeEccEnabled", Hip.hipDeviceAttributeEccEnabled(), CudaRuntime.cudaDevAttrEccEnabled()),
    /** 1 if cooperative launches are supported. */
    COOPERATIVE_LAUNCH("hipDeviceAttributeCooperativeLaunch", Hip.hipDeviceAttributeCooperativeLaunch(), CudaRuntime.cudaDevAttrCooperativeLaunch());

    private final String hipName;
    private final int hipValue;
    private final int cudaValue;

    DeviceAttribute(String hipName, int hipValue, int cudaValue) {
        this.hipName = hipName;
        this.hipValue = hipValue;
        this.cudaValue = cudaValue;
    }

    /** {@return the C name, e.g. {@code hipDeviceAttributePciBusId}} */
    public String hipName() {
        return hipName;
    }

    /** {@return the {@code hipDeviceAttribute_t} value of the pinned headers} */
    public int hipValue() {
        return hipValue;
    }

    /** {@return the {@code cudaDeviceAttr} value of the CUDA 13 headers} */
    public int cudaValue() {
        return cudaValue;
    }
}
