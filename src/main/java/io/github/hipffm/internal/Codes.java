package io.github.hipffm.internal;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.ExternalMemoryHandleType;
import io.github.hipffm.ExternalSemaphoreHandleType;
import io.github.hipffm.GraphicsResource;
import io.github.hipffm.Platform;
import io.github.hipffm.TextureDescriptor;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.bindings.cudadrv.CudaDriver;
import io.github.hipffm.bindings.hip.Hip;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Every C enum and flag value hip-ffm passes to a runtime, for both platforms side by side: one row per Java
 * constant, with its HIP value and its CUDA value, both read from the generated bindings. This table is the
 * whole of the platforms' numbering difference; the public enums take their {@code hipValue()} from it, and the
 * backend translates through it. A test checks every row against both bindings by name.
 */
public final class Codes {
    /** Flags the API expresses as booleans or bit sets; each is one bit (or value) in either runtime. */
    public enum NativeFlag {
        /** {@code hipStreamNonBlocking}. */
        STREAM_NON_BLOCKING,
        /** {@code hipEventDisableTiming}. */
        EVENT_DISABLE_TIMING,
        /** {@code hipEventInterprocess}. */
        EVENT_INTERPROCESS,
        /** {@code hipExternalMemoryDedicated}. */
        EXTERNAL_MEMORY_DEDICATED,
        /** {@code hipArrayLayered}. */
        ARRAY_LAYERED,
        /** {@code hipArraySurfaceLoadStore}. */
        ARRAY_SURFACE_LOAD_STORE,
        /** {@code hipArrayCubemap}. */
        ARRAY_CUBEMAP,
        /** {@code hipArrayTextureGather}. */
        ARRAY_TEXTURE_GATHER;

        static final NativeFlag[] ARRAY = {ARRAY_LAYERED, ARRAY_SURFACE_LOAD_STORE, ARRAY_CUBEMAP, ARRAY_TEXTURE_GATHER};
    }

    /** Scalar constants of the runtimes that are not a Java constant's value. */
    enum Constant {
        MEMCPY_DEFAULT, ERROR_NOT_READY, GL_DEVICE_LIST_ALL, STREAM_CAPTURE_MODE_GLOBAL,
        /** {@code hipResourceType*}: what a texture or surface object views. */
        RESOURCE_TYPE_ARRAY, RESOURCE_TYPE_MIPMAPPED_ARRAY, RESOURCE_TYPE_LINEAR, RESOURCE_TYPE_PITCH2D
    }

    /**
     * The values of virtual memory management (HIP's {@code hipMem*}, CUDA's driver API {@code CU_MEM_*}, whose
     * values are read from the generated driver bindings).
     */
    enum VmmConstant {
        /** {@code hipMemAllocationTypePinned}. */
        ALLOCATION_TYPE_PINNED,
        /** {@code hipMemHandleTypePosixFileDescriptor}. */
        HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
        /** {@code hipMemLocationTypeDevice}. */
        LOCATION_TYPE_DEVICE,
        /** {@code hipMemAccessFlagsProtReadWrite}. */
        ACCESS_FLAGS_PROT_READ_WRITE,
        /** {@code hipMemAllocationGranularityMinimum}. */
        GRANULARITY_MINIMUM
    }

    private static final Map<Enum<?>, int[]> TABLE = new HashMap<>();

    private static void row(Enum<?> key, int hip, int cuda) {
        TABLE.put(key, new int[] {hip, cuda});
    }

    static {
        row(ExternalMemoryHandleType.OPAQUE_FD, Hip.hipExternalMemoryHandleTypeOpaqueFd(),
                CudaRuntime.cudaExternalMemoryHandleTypeOpaqueFd());
        row(ExternalMemoryHandleType.OPAQUE_WIN32, Hip.hipExternalMemoryHandleTypeOpaqueWin32(),
                CudaRuntime.cudaExternalMemoryHandleTypeOpaqueWin32());
        row(ExternalMemoryHandleType.OPAQUE_WIN32_KMT, Hip.hipExternalMemoryHandleTypeOpaqueWin32Kmt(),
                CudaRuntime.cudaExternalMemoryHandleTypeOpaqueWin32Kmt());
        row(ExternalMemoryHandleType.D3D12_HEAP, Hip.hipExternalMemoryHandleTypeD3D12Heap(),
                CudaRuntime.cudaExternalMemoryHandleTypeD3D12Heap());
        row(ExternalMemoryHandleType.D3D12_RESOURCE, Hip.hipExternalMemoryHandleTypeD3D12Resource(),
                CudaRuntime.cudaExternalMemoryHandleTypeD3D12Resource());
        row(ExternalMemoryHandleType.D3D11_RESOURCE, Hip.hipExternalMemoryHandleTypeD3D11Resource(),
                CudaRuntime.cudaExternalMemoryHandleTypeD3D11Resource());
        row(ExternalMemoryHandleType.D3D11_RESOURCE_KMT, Hip.hipExternalMemoryHandleTypeD3D11ResourceKmt(),
                CudaRuntime.cudaExternalMemoryHandleTypeD3D11ResourceKmt());
        row(ExternalMemoryHandleType.NVSCIBUF, Hip.hipExternalMemoryHandleTypeNvSciBuf(),
                CudaRuntime.cudaExternalMemoryHandleTypeNvSciBuf());

        row(ExternalSemaphoreHandleType.OPAQUE_FD, Hip.hipExternalSemaphoreHandleTypeOpaqueFd(),
                CudaRuntime.cudaExternalSemaphoreHandleTypeOpaqueFd());
        row(ExternalSemaphoreHandleType.OPAQUE_WIN32, Hip.hipExternalSemaphoreHandleTypeOpaqueWin32(),
                CudaRuntime.cudaExternalSemaphoreHandleTypeOpaqueWin32());
        row(ExternalSemaphoreHandleType.OPAQUE_WIN32_KMT, Hip.hipExternalSemaphoreHandleTypeOpaqueWin32Kmt(),
                CudaRuntime.cudaExternalSemaphoreHandleTypeOpaqueWin32Kmt());
        row(ExternalSemaphoreHandleType.D3D12_FENCE, Hip.hipExternalSemaphoreHandleTypeD3D12Fence(),
                CudaRuntime.cudaExternalSemaphoreHandleTypeD3D12Fence());
        row(ExternalSemaphoreHandleType.D3D11_FENCE, Hip.hipExternalSemaphoreHandleTypeD3D11Fence(),
                CudaRuntime.cudaExternalSemaphoreHandleTypeD3D11Fence());
        row(ExternalSemaphoreHandleType.NVSCISYNC, Hip.hipExternalSemaphoreHandleTypeNvSciSync(),
                CudaRuntime.cudaExternalSemaphoreHandleTypeNvSciSync());
        row(ExternalSemaphoreHandleType.KEYED_MUTEX, Hip.hipExternalSemaphoreHandleTypeKeyedMutex(),
                CudaRuntime.cudaExternalSemaphoreHandleTypeKeyedMutex());
        row(ExternalSemaphoreHandleType.KEYED_MUTEX_KMT, Hip.hipExternalSemaphoreHandleTypeKeyedMutexKmt(),
                CudaRuntime.cudaExternalSemaphoreHandleTypeKeyedMutexKmt());
        row(ExternalSemaphoreHandleType.TIMELINE_SEMAPHORE_FD, Hip.hipExternalSemaphoreHandleTypeTimelineSemaphoreFd(),
                CudaRuntime.cudaExternalSemaphoreHandleTypeTimelineSemaphoreFd());
        row(ExternalSemaphoreHandleType.TIMELINE_SEMAPHORE_WIN32,
                Hip.hipExternalSemaphoreHandleTypeTimelineSemaphoreWin32(),
                CudaRuntime.cudaExternalSemaphoreHandleTypeTimelineSemaphoreWin32());

        row(ChannelFormat.Kind.SIGNED, Hip.hipChannelFormatKindSigned(), CudaRuntime.cudaChannelFormatKindSigned());
        row(ChannelFormat.Kind.UNSIGNED, Hip.hipChannelFormatKindUnsigned(), CudaRuntime.cudaChannelFormatKindUnsigned());
        row(ChannelFormat.Kind.FLOAT, Hip.hipChannelFormatKindFloat(), CudaRuntime.cudaChannelFormatKindFloat());

        row(GraphicsResource.Flag.READ_ONLY, Hip.hipGraphicsRegisterFlagsReadOnly(),
                CudaRuntime.cudaGraphicsRegisterFlagsReadOnly());
        row(GraphicsResource.Flag.WRITE_DISCARD, Hip.hipGraphicsRegisterFlagsWriteDiscard(),
                CudaRuntime.cudaGraphicsRegisterFlagsWriteDiscard());
        row(GraphicsResource.Flag.SURFACE_LOAD_STORE, Hip.hipGraphicsRegisterFlagsSurfaceLoadStore(),
                CudaRuntime.cudaGraphicsRegisterFlagsSurfaceLoadStore());
        row(GraphicsResource.Flag.TEXTURE_GATHER, Hip.hipGraphicsRegisterFlagsTextureGather(),
                CudaRuntime.cudaGraphicsRegisterFlagsTextureGather());

        row(NativeFlag.STREAM_NON_BLOCKING, Hip.hipStreamNonBlocking(), CudaRuntime.cudaStreamNonBlocking());
        row(NativeFlag.EVENT_DISABLE_TIMING, Hip.hipEventDisableTiming(), CudaRuntime.cudaEventDisableTiming());
        row(NativeFlag.EVENT_INTERPROCESS, Hip.hipEventInterprocess(), CudaRuntime.cudaEventInterprocess());
        row(VmmConstant.ALLOCATION_TYPE_PINNED, Hip.hipMemAllocationTypePinned(),
                CudaDriver.CU_MEM_ALLOCATION_TYPE_PINNED());
        row(VmmConstant.HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, Hip.hipMemHandleTypePosixFileDescriptor(),
                CudaDriver.CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR());
        row(VmmConstant.LOCATION_TYPE_DEVICE, Hip.hipMemLocationTypeDevice(), CudaDriver.CU_MEM_LOCATION_TYPE_DEVICE());
        row(VmmConstant.ACCESS_FLAGS_PROT_READ_WRITE, Hip.hipMemAccessFlagsProtReadWrite(),
                CudaDriver.CU_MEM_ACCESS_FLAGS_PROT_READWRITE());
        row(VmmConstant.GRANULARITY_MINIMUM, Hip.hipMemAllocationGranularityMinimum(),
                CudaDriver.CU_MEM_ALLOC_GRANULARITY_MINIMUM());
        row(NativeFlag.EXTERNAL_MEMORY_DEDICATED, Hip.hipExternalMemoryDedicated(),
                CudaRuntime.cudaExternalMemoryDedicated());
        row(NativeFlag.ARRAY_LAYERED, Hip.hipArrayLayered(), CudaRuntime.cudaArrayLayered());
        row(NativeFlag.ARRAY_SURFACE_LOAD_STORE, Hip.hipArraySurfaceLoadStore(), CudaRuntime.cudaArraySurfaceLoadStore());
        row(NativeFlag.ARRAY_CUBEMAP, Hip.hipArrayCubemap(), CudaRuntime.cudaArrayCubemap());
        row(NativeFlag.ARRAY_TEXTURE_GATHER, Hip.hipArrayTextureGather(), CudaRuntime.cudaArrayTextureGather());

        row(Constant.MEMCPY_DEFAULT, Hip.hipMemcpyDefault(), CudaRuntime.cudaMemcpyDefault());
        row(Constant.ERROR_NOT_READY, Hip.hipErrorNotReady(), CudaRuntime.cudaErrorNotReady());
        row(Constant.GL_DEVICE_LIST_ALL, Hip.hipGLDeviceListAll(), CudaRuntime.cudaGLDeviceListAll());
        row(Constant.STREAM_CAPTURE_MODE_GLOBAL, Hip.hipStreamCaptureModeGlobal(),
                CudaRuntime.cudaStreamCaptureModeGlobal());

        row(Constant.RESOURCE_TYPE_ARRAY, Hip.hipResourceTypeArray(), CudaRuntime.cudaResourceTypeArray());
        row(Constant.RESOURCE_TYPE_MIPMAPPED_ARRAY, Hip.hipResourceTypeMipmappedArray(),
                CudaRuntime.cudaResourceTypeMipmappedArray());
        row(Constant.RESOURCE_TYPE_LINEAR, Hip.hipResourceTypeLinear(), CudaRuntime.cudaResourceTypeLinear());
        row(Constant.RESOURCE_TYPE_PITCH2D, Hip.hipResourceTypePitch2D(), CudaRuntime.cudaResourceTypePitch2D());

        row(TextureDescriptor.AddressMode.WRAP, Hip.hipAddressModeWrap(), CudaRuntime.cudaAddressModeWrap());
        row(TextureDescriptor.AddressMode.CLAMP, Hip.hipAddressModeClamp(), CudaRuntime.cudaAddressModeClamp());
        row(TextureDescriptor.AddressMode.MIRROR, Hip.hipAddressModeMirror(), CudaRuntime.cudaAddressModeMirror());
        row(TextureDescriptor.AddressMode.BORDER, Hip.hipAddressModeBorder(), CudaRuntime.cudaAddressModeBorder());
        row(TextureDescriptor.FilterMode.POINT, Hip.hipFilterModePoint(), CudaRuntime.cudaFilterModePoint());
        row(TextureDescriptor.FilterMode.LINEAR, Hip.hipFilterModeLinear(), CudaRuntime.cudaFilterModeLinear());
        row(TextureDescriptor.ReadMode.ELEMENT_TYPE, Hip.hipReadModeElementType(), CudaRuntime.cudaReadModeElementType());
        row(TextureDescriptor.ReadMode.NORMALIZED_FLOAT, Hip.hipReadModeNormalizedFloat(),
                CudaRuntime.cudaReadModeNormalizedFloat());

        row(DeviceAttribute.COMPUTE_CAPABILITY_MAJOR, Hip.hipDeviceAttributeComputeCapabilityMajor(),
                CudaRuntime.cudaDevAttrComputeCapabilityMajor());
        row(DeviceAttribute.COMPUTE_CAPABILITY_MINOR, Hip.hipDeviceAttributeComputeCapabilityMinor(),
                CudaRuntime.cudaDevAttrComputeCapabilityMinor());
        row(DeviceAttribute.MULTIPROCESSOR_COUNT, Hip.hipDeviceAttributeMultiprocessorCount(),
                CudaRuntime.cudaDevAttrMultiProcessorCount());
        row(DeviceAttribute.WARP_SIZE, Hip.hipDeviceAttributeWarpSize(), CudaRuntime.cudaDevAttrWarpSize());
        row(DeviceAttribute.MAX_THREADS_PER_BLOCK, Hip.hipDeviceAttributeMaxThreadsPerBlock(),
                CudaRuntime.cudaDevAttrMaxThreadsPerBlock());
        row(DeviceAttribute.MAX_SHARED_MEMORY_PER_BLOCK, Hip.hipDeviceAttributeMaxSharedMemoryPerBlock(),
                CudaRuntime.cudaDevAttrMaxSharedMemoryPerBlock());
        row(DeviceAttribute.L2_CACHE_SIZE, Hip.hipDeviceAttributeL2CacheSize(), CudaRuntime.cudaDevAttrL2CacheSize());
        row(DeviceAttribute.MEMORY_BUS_WIDTH, Hip.hipDeviceAttributeMemoryBusWidth(),
                CudaRuntime.cudaDevAttrGlobalMemoryBusWidth());
        row(DeviceAttribute.PCI_DOMAIN_ID, Hip.hipDeviceAttributePciDomainID(), CudaRuntime.cudaDevAttrPciDomainId());
        row(DeviceAttribute.PCI_BUS_ID, Hip.hipDeviceAttributePciBusId(), CudaRuntime.cudaDevAttrPciBusId());
        row(DeviceAttribute.PCI_DEVICE_ID, Hip.hipDeviceAttributePciDeviceId(), CudaRuntime.cudaDevAttrPciDeviceId());
        row(DeviceAttribute.INTEGRATED, Hip.hipDeviceAttributeIntegrated(), CudaRuntime.cudaDevAttrIntegrated());
        row(DeviceAttribute.CAN_MAP_HOST_MEMORY, Hip.hipDeviceAttributeCanMapHostMemory(),
                CudaRuntime.cudaDevAttrCanMapHostMemory());
        row(DeviceAttribute.UNIFIED_ADDRESSING, Hip.hipDeviceAttributeUnifiedAddressing(),
                CudaRuntime.cudaDevAttrUnifiedAddressing());
        row(DeviceAttribute.MANAGED_MEMORY, Hip.hipDeviceAttributeManagedMemory(), CudaRuntime.cudaDevAttrManagedMemory());
        row(DeviceAttribute.CONCURRENT_MANAGED_ACCESS, Hip.hipDeviceAttributeConcurrentManagedAccess(),
                CudaRuntime.cudaDevAttrConcurrentManagedAccess());
        row(DeviceAttribute.HOST_REGISTER_SUPPORTED, Hip.hipDeviceAttributeHostRegisterSupported(),
                CudaRuntime.cudaDevAttrHostRegisterSupported());
        row(DeviceAttribute.MEMORY_POOLS_SUPPORTED, Hip.hipDeviceAttributeMemoryPoolsSupported(),
                CudaRuntime.cudaDevAttrMemoryPoolsSupported());
        row(DeviceAttribute.CONCURRENT_KERNELS, Hip.hipDeviceAttributeConcurrentKernels(),
                CudaRuntime.cudaDevAttrConcurrentKernels());
        row(DeviceAttribute.ASYNC_ENGINE_COUNT, Hip.hipDeviceAttributeAsyncEngineCount(),
                CudaRuntime.cudaDevAttrAsyncEngineCount());
        row(DeviceAttribute.COMPUTE_MODE, Hip.hipDeviceAttributeComputeMode(), CudaRuntime.cudaDevAttrComputeMode());
        row(DeviceAttribute.ECC_ENABLED, Hip.hipDeviceAttributeEccEnabled(), CudaRuntime.cudaDevAttrEccEnabled());
        row(DeviceAttribute.COOPERATIVE_LAUNCH, Hip.hipDeviceAttributeCooperativeLaunch(),
                CudaRuntime.cudaDevAttrCooperativeLaunch());
        row(DeviceAttribute.TEXTURE_ALIGNMENT, Hip.hipDeviceAttributeTextureAlignment(),
                CudaRuntime.cudaDevAttrTextureAlignment());
        row(DeviceAttribute.TEXTURE_PITCH_ALIGNMENT, Hip.hipDeviceAttributeTexturePitchAlignment(),
                CudaRuntime.cudaDevAttrTexturePitchAlignment());
    }

    private Codes() {
    }

    /**
     * The rows of each enum by ordinal, made from {@link #TABLE} at the first lookup of one of its constants: a
     * constant's value is then an array read (the values are read per call on hot paths, e.g. a received message's
     * handle type), not a hash lookup.
     */
    private static final ClassValue<int[][]> ROWS = new ClassValue<>() {
        @Override
        protected int[][] computeValue(Class<?> type) {
            int[][] rows = new int[type.getEnumConstants().length][];
            TABLE.forEach((key, row) -> {
                if (key.getDeclaringClass() == type) {
                    rows[key.ordinal()] = row;
                }
            });
            return rows;
        }
    };

    private static int[] row(Enum<?> key) {
        int[] row = ROWS.get(key.getDeclaringClass())[key.ordinal()];
        if (row == null) {
            throw new IllegalStateException("no native value for " + key.getDeclaringClass().getSimpleName() + "." + key);
        }
        return row;
    }

    /**
     * {@return the HIP value of a constant (its {@code hipValue()})}
     * @param key an enum constant of the table
     */
    public static int hip(Enum<?> key) {
        return row(key)[0];
    }

    /**
     * {@return the CUDA value of a constant}
     * @param key an enum constant of the table
     */
    static int cuda(Enum<?> key) {
        return row(key)[1];
    }

    /** {@return the value of a constant on a platform} */
    static int of(Platform platform, Enum<?> key) {
        return row(key)[platform == Platform.AMD ? 0 : 1];
    }

    /** {@return the platform's bits of a set of flags} */
    static int bits(Platform platform, Collection<? extends Enum<?>> flags) {
        int bits = 0;
        for (Enum<?> f : flags) {
            bits |= of(platform, f);
        }
        return bits;
    }

    /** {@return the platform's array flag bits for HIP array flag bits (unknown bits were refused by the caller)} */
    static int arrayFlags(Platform platform, int hipBits) {
        int bits = 0;
        for (NativeFlag f : NativeFlag.ARRAY) {
            if ((hipBits & hip(f)) != 0) {
                bits |= of(platform, f);
            }
        }
        return bits;
    }

    /** {@return every constant of the table, for the test that checks the rows against the bindings} */
    static Map<Enum<?>, int[]> table() {
        return Map.copyOf(TABLE);
    }
}
