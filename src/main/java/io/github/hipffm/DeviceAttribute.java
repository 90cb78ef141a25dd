package io.github.hipffm;

import io.github.hipffm.internal.Codes;

/**
 * Device attributes for {@link Device#attribute(DeviceAttribute)}: the ones that matter for interop and for
 * sizing work, each with its {@code hipDeviceAttribute_t} value (the NVIDIA platform translates it to the
 * {@code cudaDeviceAttr} numbering, which differs).
 */
public enum DeviceAttribute {
    /** Major compute capability (on AMD: the GFX major version HIP reports). */
    COMPUTE_CAPABILITY_MAJOR("hipDeviceAttributeComputeCapabilityMajor"),
    /** Minor compute capability. */
    COMPUTE_CAPABILITY_MINOR("hipDeviceAttributeComputeCapabilityMinor"),
    /** Number of multiprocessors (compute units on AMD). */
    MULTIPROCESSOR_COUNT("hipDeviceAttributeMultiprocessorCount"),
    /** Warp (wavefront) size in threads. */
    WARP_SIZE("hipDeviceAttributeWarpSize"),
    /** Maximum threads per block. */
    MAX_THREADS_PER_BLOCK("hipDeviceAttributeMaxThreadsPerBlock"),
    /** Shared memory per block, bytes. */
    MAX_SHARED_MEMORY_PER_BLOCK("hipDeviceAttributeMaxSharedMemoryPerBlock"),
    /** L2 cache size, bytes. */
    L2_CACHE_SIZE("hipDeviceAttributeL2CacheSize"),
    /** Global memory bus width, bits. */
    MEMORY_BUS_WIDTH("hipDeviceAttributeMemoryBusWidth"),
    /** PCI domain of the device. */
    PCI_DOMAIN_ID("hipDeviceAttributePciDomainID"),
    /** PCI bus of the device. */
    PCI_BUS_ID("hipDeviceAttributePciBusId"),
    /** PCI device (slot) of the device. */
    PCI_DEVICE_ID("hipDeviceAttributePciDeviceId"),
    /** 1 if the device is integrated with the host memory system. */
    INTEGRATED("hipDeviceAttributeIntegrated"),
    /** 1 if host memory can be mapped into the device address space. */
    CAN_MAP_HOST_MEMORY("hipDeviceAttributeCanMapHostMemory"),
    /** 1 if the device shares a unified address space with the host. */
    UNIFIED_ADDRESSING("hipDeviceAttributeUnifiedAddressing"),
    /** 1 if managed memory is supported. */
    MANAGED_MEMORY("hipDeviceAttributeManagedMemory"),
    /** 1 if the device can access managed memory concurrently with the host. */
    CONCURRENT_MANAGED_ACCESS("hipDeviceAttributeConcurrentManagedAccess"),
    /** 1 if host memory can be registered (pinned) in place. */
    HOST_REGISTER_SUPPORTED("hipDeviceAttributeHostRegisterSupported"),
    /** 1 if stream-ordered memory pools are supported. */
    MEMORY_POOLS_SUPPORTED("hipDeviceAttributeMemoryPoolsSupported"),
    /** 1 if kernels of several streams can run at once. */
    CONCURRENT_KERNELS("hipDeviceAttributeConcurrentKernels"),
    /** Number of asynchronous copy engines. */
    ASYNC_ENGINE_COUNT("hipDeviceAttributeAsyncEngineCount"),
    /** Compute mode (0 default, 2 prohibited, 3 exclusive process). */
    COMPUTE_MODE("hipDeviceAttributeComputeMode"),
    /** 1 if ECC is enabled. */
    ECC_ENABLED("hipDeviceAttributeEccEnabled"),
    /** 1 if cooperative launches are supported. */
    COOPERATIVE_LAUNCH("hipDeviceAttributeCooperativeLaunch"),
    /** Alignment, bytes, that the start of linear or pitched memory viewed by a {@link TextureObject} needs. */
    TEXTURE_ALIGNMENT("hipDeviceAttributeTextureAlignment"),
    /** Alignment, bytes, of the row pitch of pitched memory viewed by a {@link TextureObject}. */
    TEXTURE_PITCH_ALIGNMENT("hipDeviceAttributeTexturePitchAlignment");

    private final String hipName;

    DeviceAttribute(String hipName) {
        this.hipName = hipName;
    }

    /** {@return the C name, e.g. {@code hipDeviceAttributePciBusId}} */
    public String hipName() {
        return hipName;
    }

    /** {@return the {@code hipDeviceAttribute_t} value of the pinned headers} */
    public int hipValue() {
        return Codes.hip(this);
    }
}
