/*
 * hipffm_cudart.c - a TEST DOUBLE of the CUDA runtime (libcudart 13) for hip-ffm's tests: the NVIDIA platform's
 * view of the HIP test double (hipffm_testrt.c), so that CI runs the Java NVIDIA backend end to end too.
 *
 * THIS IS NOT A CUDA RUNTIME AND TALKS TO NO GPU. build.sh links this file and hipffm_testrt.c into one library,
 * target/native/cudart/libcudart.so.13, which exports only the cuda* functions below and the hipffmTest_ hooks
 * (cudart.map): a Java NVIDIA backend that called a hip* function would fail to link against it.
 *
 * Each cuda* function here is a thin translation: CUDA enums, flags and structs into HIP's, one call of the HIP
 * test runtime's function, the hipError_t back into the cudaError_t that CUDA has for it (the inverse of the Java
 * mapping in io.github.hipffm.internal.CudaErrors; HIPFFM_CUDA_ERRORS below lists the same pairs). So fault
 * injection, call counts, live-object counts and the memfd/shm model are the test runtime's, under HIP names:
 * hipffmTest_failNext("hipMalloc", ...) fails the next cudaMalloc. Which HIP function each cuda* function calls is
 * listed in README.md.
 *
 * ABI: every cuda* function is defined with exactly the prototype of the CUDA 13 headers (<cuda_runtime_api.h>,
 * <cuda_gl_interop.h>), and every HIP function is called as the pinned ROCm headers declare it; the compiler checks
 * both. The two header sets share a few names, handled where they are included.
 *
 * CUDA's own rules kept on purpose:
 *  - The fd rule. CUDA owns and closes the fd of an imported external memory or semaphore (on success, and on some
 *    refusals). Here: the fd is closed when the import succeeded, and when a memory import was refused with
 *    cudaErrorInvalidValue after the fd had been accepted (an open fd > 0 of type OpaqueFd, size > 0, known flags:
 *    in the HIP double, a size beyond the end of a regular file or a failed mmap). Never on an injected fault (which
 *    has no side effects), never on a refusal of the descriptor itself. hipffmTest_cudaClosedFds counts the fds
 *    closed so.
 *  - cudaGetLastError / cudaPeekAtLastError: every failing cuda* call records its cudaError_t as the calling thread's
 *    last error; these two read it (and the first resets it).
 *  - Values that have no HIP counterpart (an unknown enum value or flag bit, a device attribute the HIP double does
 *    not answer) are refused here with cudaErrorInvalidValue, before any HIP call.
 */
#define _GNU_SOURCE
#include <cuda_runtime_api.h>
#include <cuda_gl_interop.h>
#include <cuda.h> /* the driver API's cuMem* (virtual memory management): the libcuda part of this double */

/* HIP's headers after CUDA's, in the same translation unit. What they share: the attribute macros (CUDA's are
   needed only while its declarations are read), the vector types char1 ... double4 (none is used by the HIP API
   called here, so HIP's are left out through their include guard) and dim3 (HIP's gets another name here; dim3
   below is CUDA's). */
#undef __host__
#undef __device__
#undef __global__
#undef __forceinline__
#undef __shared__
#undef __constant__
#define HIP_INCLUDE_HIP_AMD_DETAIL_HIP_VECTOR_TYPES_H
#define dim3 hipffm_hip_dim3
#include <hip/hip_runtime_api.h>
#include <hip/hip_gl_interop.h>
#undef dim3

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* From hipffm_testrt.c (hidden: not exported): whether this thread's latest HIP call failed by an injected fault. */
int hipffm_testrt_lastCallInjected(void);

/* Test hooks: the test runtime's and this layer's own three (exported; hipffmTest_cudaErrorOf, hipffmTest_hipErrorOf
   and hipffmTest_cudaClosedFds are defined below). */
#include "hipffm_test_hooks.h"

/* ------------------------------------------------------------------------------------------------ */
/* Errors                                                                                             */

/* {cudaError_t, hipError_t}: the pairs of io.github.hipffm.internal.CudaErrors (HIP's own NVIDIA mapping, plus the
   CUDA codes HIP later gained under the same name), in the same order. Keep the two lists the same: the Java test
   RuntimeBoundaryTest compares them through hipffmTest_cudaErrorOf and hipffmTest_hipErrorOf. */
#define HIPFFM_CUDA_ERRORS(X)                                                                        \
    X(cudaSuccess, hipSuccess)                                                                       \
    X(cudaErrorProfilerDisabled, hipErrorProfilerDisabled)                                           \
    X(cudaErrorProfilerNotInitialized, hipErrorProfilerNotInitialized)                               \
    X(cudaErrorProfilerAlreadyStarted, hipErrorProfilerAlreadyStarted)                               \
    X(cudaErrorProfilerAlreadyStopped, hipErrorProfilerAlreadyStopped)                               \
    X(cudaErrorInsufficientDriver, hipErrorInsufficientDriver)                                       \
    X(cudaErrorUnsupportedLimit, hipErrorUnsupportedLimit)                                           \
    X(cudaErrorPeerAccessUnsupported, hipErrorPeerAccessUnsupported)                                 \
    X(cudaErrorInvalidGraphicsContext, hipErrorInvalidGraphicsContext)                               \
    X(cudaErrorSharedObjectSymbolNotFound, hipErrorSharedObjectSymbolNotFound)                       \
    X(cudaErrorSharedObjectInitFailed, hipErrorSharedObjectInitFailed)                               \
    X(cudaErrorOperatingSystem, hipErrorOperatingSystem)                                             \
    X(cudaErrorSetOnActiveProcess, hipErrorSetOnActiveProcess)                                       \
    X(cudaErrorIllegalAddress, hipErrorIllegalAddress)                                               \
    X(cudaErrorInvalidSymbol, hipErrorInvalidSymbol)                                                 \
    X(cudaErrorMissingConfiguration, hipErrorMissingConfiguration)                                   \
    X(cudaErrorMemoryAllocation, hipErrorOutOfMemory)                                                \
    X(cudaErrorInitializationError, hipErrorNotInitialized)                                          \
    X(cudaErrorLaunchFailure, hipErrorLaunchFailure)                                                 \
    X(cudaErrorPriorLaunchFailure, hipErrorPriorLaunchFailure)                                       \
    X(cudaErrorLaunchOutOfResources, hipErrorLaunchOutOfResources)                                   \
    X(cudaErrorInvalidDeviceFunction, hipErrorInvalidDeviceFunction)                                 \
    X(cudaErrorInvalidConfiguration, hipErrorInvalidConfiguration)                                   \
    X(cudaErrorInvalidDevice, hipErrorInvalidDevice)                                                 \
    X(cudaErrorInvalidValue, hipErrorInvalidValue)                                                   \
    X(cudaErrorInvalidDevicePointer, hipErrorInvalidDevicePointer)                                   \
    X(cudaErrorInvalidMemcpyDirection, hipErrorInvalidMemcpyDirection)                               \
    X(cudaErrorInvalidResourceHandle, hipErrorInvalidHandle)                                         \
    X(cudaErrorNotReady, hipErrorNotReady)                                                           \
    X(cudaErrorNoDevice, hipErrorNoDevice)                                                           \
    X(cudaErrorPeerAccessAlreadyEnabled, hipErrorPeerAccessAlreadyEnabled)                           \
    X(cudaErrorPeerAccessNotEnabled, hipErrorPeerAccessNotEnabled)                                   \
    X(cudaErrorHostMemoryAlreadyRegistered, hipErrorHostMemoryAlreadyRegistered)                     \
    X(cudaErrorHostMemoryNotRegistered, hipErrorHostMemoryNotRegistered)                             \
    X(cudaErrorMapBufferObjectFailed, hipErrorMapFailed)                                             \
    X(cudaErrorAssert, hipErrorAssert)                                                               \
    X(cudaErrorNotSupported, hipErrorNotSupported)                                                   \
    X(cudaErrorCudartUnloading, hipErrorDeinitialized)                                               \
    X(cudaErrorInvalidKernelImage, hipErrorInvalidImage)                                             \
    X(cudaErrorUnmapBufferObjectFailed, hipErrorUnmapFailed)                                         \
    X(cudaErrorNoKernelImageForDevice, hipErrorNoBinaryForGpu)                                       \
    X(cudaErrorECCUncorrectable, hipErrorECCNotCorrectable)                                          \
    X(cudaErrorDeviceAlreadyInUse, hipErrorContextAlreadyInUse)                                      \
    X(cudaErrorInvalidPtx, hipErrorInvalidKernelFile)                                                \
    X(cudaErrorLaunchTimeout, hipErrorLaunchTimeOut)                                                 \
    X(cudaErrorInvalidSource, hipErrorInvalidSource)                                                 \
    X(cudaErrorFileNotFound, hipErrorFileNotFound)                                                   \
    X(cudaErrorSymbolNotFound, hipErrorNotFound)                                                     \
    X(cudaErrorArrayIsMapped, hipErrorArrayIsMapped)                                                 \
    X(cudaErrorNotMappedAsPointer, hipErrorNotMappedAsPointer)                                       \
    X(cudaErrorNotMappedAsArray, hipErrorNotMappedAsArray)                                           \
    X(cudaErrorNotMapped, hipErrorNotMapped)                                                         \
    X(cudaErrorAlreadyAcquired, hipErrorAlreadyAcquired)                                             \
    X(cudaErrorAlreadyMapped, hipErrorAlreadyMapped)                                                 \
    X(cudaErrorDeviceUninitialized, hipErrorInvalidContext)                                          \
    X(cudaErrorUnknown, hipErrorUnknown)                                                             \
    X(cudaErrorCapturedEvent, hipErrorCapturedEvent)                                                 \
    X(cudaErrorContextIsDestroyed, hipErrorContextIsDestroyed)                                       \
    X(cudaErrorCooperativeLaunchTooLarge, hipErrorCooperativeLaunchTooLarge)                         \
    X(cudaErrorGraphExecUpdateFailure, hipErrorGraphExecUpdateFailure)                               \
    X(cudaErrorIllegalState, hipErrorIllegalState)                                                   \
    X(cudaErrorInvalidChannelDescriptor, hipErrorInvalidChannelDescriptor)                           \
    X(cudaErrorInvalidPitchValue, hipErrorInvalidPitchValue)                                         \
    X(cudaErrorInvalidTexture, hipErrorInvalidTexture)                                               \
    X(cudaErrorStreamCaptureImplicit, hipErrorStreamCaptureImplicit)                                 \
    X(cudaErrorStreamCaptureInvalidated, hipErrorStreamCaptureInvalidated)                           \
    X(cudaErrorStreamCaptureIsolation, hipErrorStreamCaptureIsolation)                               \
    X(cudaErrorStreamCaptureMerge, hipErrorStreamCaptureMerge)                                       \
    X(cudaErrorStreamCaptureUnjoined, hipErrorStreamCaptureUnjoined)                                 \
    X(cudaErrorStreamCaptureUnmatched, hipErrorStreamCaptureUnmatched)                               \
    X(cudaErrorStreamCaptureUnsupported, hipErrorStreamCaptureUnsupported)                           \
    X(cudaErrorStreamCaptureWrongThread, hipErrorStreamCaptureWrongThread)

/* The HIP error of a CUDA error; hipErrorUnknown for the CUDA codes the table does not list. */
static hipError_t hip_of(cudaError_t c) {
    switch (c) {
#define HIP_OF_CASE(cuda, hip) case cuda: return hip;
        HIPFFM_CUDA_ERRORS(HIP_OF_CASE)
#undef HIP_OF_CASE
    default:
        return hipErrorUnknown;
    }
}

/* The CUDA error a HIP error comes from: the lowest CUDA code that maps to it (as CudaErrors.toCuda), else
   cudaErrorUnknown. */
static cudaError_t cuda_of(hipError_t h) {
    cudaError_t best = cudaErrorUnknown;
    int found = 0;
#define CUDA_OF_MIN(cuda, hip)                                                                       \
    if ((hip) == h && (!found || (cuda) < best)) {                                                   \
        best = (cuda);                                                                               \
        found = 1;                                                                                   \
    }
    HIPFFM_CUDA_ERRORS(CUDA_OF_MIN)
#undef CUDA_OF_MIN
    return best;
}

int hipffmTest_cudaErrorOf(int hipError) {
    return (int)cuda_of((hipError_t)hipError);
}

int hipffmTest_hipErrorOf(int cudaError) {
    return (int)hip_of((cudaError_t)cudaError);
}

static __thread cudaError_t t_last_error = cudaSuccess;

/* Every cuda* function returns through this: a failing call records its code as the last error. */
static cudaError_t fail(cudaError_t e) {
    if (e != cudaSuccess) t_last_error = e;
    return e;
}

/* The result of a HIP call, as CUDA reports it. */
static cudaError_t tr(hipError_t h) {
    return fail(cuda_of(h));
}

/* The name of a cudaError enumerator, or NULL for a value that is none. The names are every enumerator of the
   CUDA header, as X(name) lines generated by build.sh. */
static const char* error_name(cudaError_t error) {
    switch (error) {
#define X(name) case name: return #name;
#include "hipffm_cuda_error_names.inc"
#undef X
    default:
        return NULL;
    }
}

const char* cudaGetErrorName(cudaError_t error) {
    const char* name = error_name(error);
    return name != NULL ? name : "unrecognized error code";
}

/* The test runtime's text for the HIP code a CUDA code maps to (HIP's texts follow CUDA's; counted as
   hipGetErrorString, the call the NVIDIA backend makes this one for); the CUDA name for codes with no HIP
   counterpart; "unrecognized error code" for values that are no cudaError. */
const char* cudaGetErrorString(cudaError_t error) {
    switch (error) {
#define MAPPED_CASE(cuda, hip) case cuda:
        HIPFFM_CUDA_ERRORS(MAPPED_CASE)
#undef MAPPED_CASE
        return hipGetErrorString(hip_of(error));
    default:
        return cudaGetErrorName(error);
    }
}

cudaError_t cudaGetLastError(void) {
    cudaError_t e = t_last_error;
    t_last_error = cudaSuccess;
    return e;
}

cudaError_t cudaPeekAtLastError(void) {
    return t_last_error;
}

/* ------------------------------------------------------------------------------------------------ */
/* Translation helpers                                                                                */

/* {cuda, hip} pairs; a flag table lists bits. */
struct pair {
    int cuda;
    int hip;
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The HIP value of a CUDA value through a table; 0 and *hip set when found. */
static int value_of(int cuda, const struct pair* table, size_t n, int* hip) {
    for (size_t i = 0; i < n; i++) {
        if (table[i].cuda == cuda) {
            *hip = table[i].hip;
            return 0;
        }
    }
    return -1;
}

/* The CUDA value of a HIP value through a table, or fallback. */
static int cuda_value_of(int hip, const struct pair* table, size_t n, int fallback) {
    for (size_t i = 0; i < n; i++) {
        if (table[i].hip == hip) return table[i].cuda;
    }
    return fallback;
}

/* HIP flag bits for CUDA flag bits through a bit table; 0 and *hip set, -1 when a bit has no counterpart. */
static int bits_of(unsigned cuda, const struct pair* table, size_t n, unsigned* hip) {
    unsigned out = 0, left = cuda;
    for (size_t i = 0; i < n; i++) {
        if (left & (unsigned)table[i].cuda) {
            out |= (unsigned)table[i].hip;
            left &= ~(unsigned)table[i].cuda;
        }
    }
    if (left != 0) return -1;
    *hip = out;
    return 0;
}

/* CUDA flag bits for HIP flag bits (bits with no counterpart are dropped). */
static unsigned cuda_bits_of(unsigned hip, const struct pair* table, size_t n) {
    unsigned out = 0;
    for (size_t i = 0; i < n; i++) {
        if (hip & (unsigned)table[i].hip) out |= (unsigned)table[i].cuda;
    }
    return out;
}

static const struct pair k_memcpy_kinds[] = {
    {cudaMemcpyHostToHost, hipMemcpyHostToHost},       {cudaMemcpyHostToDevice, hipMemcpyHostToDevice},
    {cudaMemcpyDeviceToHost, hipMemcpyDeviceToHost},   {cudaMemcpyDeviceToDevice, hipMemcpyDeviceToDevice},
    {cudaMemcpyDefault, hipMemcpyDefault},
};

static const struct pair k_stream_flags[] = {{cudaStreamNonBlocking, hipStreamNonBlocking}};

static const struct pair k_event_flags[] = {
    {cudaEventBlockingSync, hipEventBlockingSync},
    {cudaEventDisableTiming, hipEventDisableTiming},
    {cudaEventInterprocess, hipEventInterprocess},
};

static const struct pair k_event_wait_flags[] = {{cudaEventWaitExternal, hipEventWaitExternal}};

static const struct pair k_memory_types[] = {
    {cudaExternalMemoryHandleTypeOpaqueFd, hipExternalMemoryHandleTypeOpaqueFd},
    {cudaExternalMemoryHandleTypeOpaqueWin32, hipExternalMemoryHandleTypeOpaqueWin32},
    {cudaExternalMemoryHandleTypeOpaqueWin32Kmt, hipExternalMemoryHandleTypeOpaqueWin32Kmt},
    {cudaExternalMemoryHandleTypeD3D12Heap, hipExternalMemoryHandleTypeD3D12Heap},
    {cudaExternalMemoryHandleTypeD3D12Resource, hipExternalMemoryHandleTypeD3D12Resource},
    {cudaExternalMemoryHandleTypeD3D11Resource, hipExternalMemoryHandleTypeD3D11Resource},
    {cudaExternalMemoryHandleTypeD3D11ResourceKmt, hipExternalMemoryHandleTypeD3D11ResourceKmt},
    {cudaExternalMemoryHandleTypeNvSciBuf, hipExternalMemoryHandleTypeNvSciBuf},
};

static const struct pair k_memory_flags[] = {{cudaExternalMemoryDedicated, hipExternalMemoryDedicated}};

static const struct pair k_semaphore_types[] = {
    {cudaExternalSemaphoreHandleTypeOpaqueFd, hipExternalSemaphoreHandleTypeOpaqueFd},
    {cudaExternalSemaphoreHandleTypeOpaqueWin32, hipExternalSemaphoreHandleTypeOpaqueWin32},
    {cudaExternalSemaphoreHandleTypeOpaqueWin32Kmt, hipExternalSemaphoreHandleTypeOpaqueWin32Kmt},
    {cudaExternalSemaphoreHandleTypeD3D12Fence, hipExternalSemaphoreHandleTypeD3D12Fence},
    {cudaExternalSemaphoreHandleTypeD3D11Fence, hipExternalSemaphoreHandleTypeD3D11Fence},
    {cudaExternalSemaphoreHandleTypeNvSciSync, hipExternalSemaphoreHandleTypeNvSciSync},
    {cudaExternalSemaphoreHandleTypeKeyedMutex, hipExternalSemaphoreHandleTypeKeyedMutex},
    {cudaExternalSemaphoreHandleTypeKeyedMutexKmt, hipExternalSemaphoreHandleTypeKeyedMutexKmt},
    {cudaExternalSemaphoreHandleTypeTimelineSemaphoreFd, hipExternalSemaphoreHandleTypeTimelineSemaphoreFd},
    {cudaExternalSemaphoreHandleTypeTimelineSemaphoreWin32, hipExternalSemaphoreHandleTypeTimelineSemaphoreWin32},
};

static const struct pair k_channel_kinds[] = {
    {cudaChannelFormatKindSigned, hipChannelFormatKindSigned},
    {cudaChannelFormatKindUnsigned, hipChannelFormatKindUnsigned},
    {cudaChannelFormatKindFloat, hipChannelFormatKindFloat},
    {cudaChannelFormatKindNone, hipChannelFormatKindNone},
};

static const struct pair k_array_flags[] = {
    {cudaArrayLayered, hipArrayLayered},
    {cudaArraySurfaceLoadStore, hipArraySurfaceLoadStore},
    {cudaArrayCubemap, hipArrayCubemap},
    {cudaArrayTextureGather, hipArrayTextureGather},
};

static const struct pair k_graphics_register_flags[] = {
    {cudaGraphicsRegisterFlagsReadOnly, hipGraphicsRegisterFlagsReadOnly},
    {cudaGraphicsRegisterFlagsWriteDiscard, hipGraphicsRegisterFlagsWriteDiscard},
    {cudaGraphicsRegisterFlagsSurfaceLoadStore, hipGraphicsRegisterFlagsSurfaceLoadStore},
    {cudaGraphicsRegisterFlagsTextureGather, hipGraphicsRegisterFlagsTextureGather},
};

static const struct pair k_gl_device_lists[] = {
    {cudaGLDeviceListAll, hipGLDeviceListAll},
    {cudaGLDeviceListCurrentFrame, hipGLDeviceListCurrentFrame},
    {cudaGLDeviceListNextFrame, hipGLDeviceListNextFrame},
};

/* The attributes of io.github.hipffm.DeviceAttribute, the ones the HIP double answers. */
static const struct pair k_device_attributes[] = {
    {cudaDevAttrComputeCapabilityMajor, hipDeviceAttributeComputeCapabilityMajor},
    {cudaDevAttrComputeCapabilityMinor, hipDeviceAttributeComputeCapabilityMinor},
    {cudaDevAttrMultiProcessorCount, hipDeviceAttributeMultiprocessorCount},
    {cudaDevAttrWarpSize, hipDeviceAttributeWarpSize},
    {cudaDevAttrMaxThreadsPerBlock, hipDeviceAttributeMaxThreadsPerBlock},
    {cudaDevAttrMaxSharedMemoryPerBlock, hipDeviceAttributeMaxSharedMemoryPerBlock},
    {cudaDevAttrL2CacheSize, hipDeviceAttributeL2CacheSize},
    {cudaDevAttrGlobalMemoryBusWidth, hipDeviceAttributeMemoryBusWidth},
    {cudaDevAttrPciDomainId, hipDeviceAttributePciDomainID},
    {cudaDevAttrPciBusId, hipDeviceAttributePciBusId},
    {cudaDevAttrPciDeviceId, hipDeviceAttributePciDeviceId},
    {cudaDevAttrIntegrated, hipDeviceAttributeIntegrated},
    {cudaDevAttrCanMapHostMemory, hipDeviceAttributeCanMapHostMemory},
    {cudaDevAttrUnifiedAddressing, hipDeviceAttributeUnifiedAddressing},
    {cudaDevAttrManagedMemory, hipDeviceAttributeManagedMemory},
    {cudaDevAttrConcurrentManagedAccess, hipDeviceAttributeConcurrentManagedAccess},
    {cudaDevAttrHostRegisterSupported, hipDeviceAttributeHostRegisterSupported},
    {cudaDevAttrMemoryPoolsSupported, hipDeviceAttributeMemoryPoolsSupported},
    {cudaDevAttrConcurrentKernels, hipDeviceAttributeConcurrentKernels},
    {cudaDevAttrAsyncEngineCount, hipDeviceAttributeAsyncEngineCount},
    {cudaDevAttrComputeMode, hipDeviceAttributeComputeMode},
    {cudaDevAttrEccEnabled, hipDeviceAttributeEccEnabled},
    {cudaDevAttrCooperativeLaunch, hipDeviceAttributeCooperativeLaunch},
    {cudaDevAttrTextureAlignment, hipDeviceAttributeTextureAlignment},
    {cudaDevAttrTexturePitchAlignment, hipDeviceAttributeTexturePitchAlignment},
};

static const struct pair k_resource_types[] = {
    {cudaResourceTypeArray, hipResourceTypeArray},
    {cudaResourceTypeMipmappedArray, hipResourceTypeMipmappedArray},
    {cudaResourceTypeLinear, hipResourceTypeLinear},
    {cudaResourceTypePitch2D, hipResourceTypePitch2D},
};

static const struct pair k_address_modes[] = {
    {cudaAddressModeWrap, hipAddressModeWrap},
    {cudaAddressModeClamp, hipAddressModeClamp},
    {cudaAddressModeMirror, hipAddressModeMirror},
    {cudaAddressModeBorder, hipAddressModeBorder},
};

static const struct pair k_filter_modes[] = {
    {cudaFilterModePoint, hipFilterModePoint},
    {cudaFilterModeLinear, hipFilterModeLinear},
};

static const struct pair k_read_modes[] = {
    {cudaReadModeElementType, hipReadModeElementType},
    {cudaReadModeNormalizedFloat, hipReadModeNormalizedFloat},
};

#define VALUE_OF(cuda, table, hip_out) value_of((int)(cuda), (table), N_OF(table), (hip_out))
#define BITS_OF(cuda, table, hip_out) bits_of((cuda), (table), N_OF(table), (hip_out))

/* CUDA's special stream handles are HIP's (same values, named here for clarity); other streams are the HIP
   double's handles. */
static hipStream_t hs(cudaStream_t s) {
    if (s == cudaStreamLegacy) return hipStreamLegacy;
    if (s == cudaStreamPerThread) return hipStreamPerThread;
    return (hipStream_t)(void*)s;
}

static hipMemcpyKind memcpy_kind(enum cudaMemcpyKind kind, int* ok) {
    int k = 0;
    *ok = VALUE_OF(kind, k_memcpy_kinds, &k) == 0;
    return (hipMemcpyKind)k;
}

/* ------------------------------------------------------------------------------------------------ */
/* Versions and devices                                                                               */

/* Both report the CUDA version of the headers (13.0): the HIP double's version is HIP's. */
cudaError_t cudaRuntimeGetVersion(int* runtimeVersion) {
    int hip = 0;
    hipError_t e = hipRuntimeGetVersion(runtimeVersion == NULL ? NULL : &hip);
    if (e != hipSuccess) return tr(e);
    *runtimeVersion = CUDART_VERSION;
    return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* driverVersion) {
    int hip = 0;
    hipError_t e = hipDriverGetVersion(driverVersion == NULL ? NULL : &hip);
    if (e != hipSuccess) return tr(e);
    *driverVersion = CUDART_VERSION;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
    return tr(hipGetDeviceCount(count));
}

cudaError_t cudaGetDevice(int* device) {
    return tr(hipGetDevice(device));
}

cudaError_t cudaSetDevice(int device) {
    return tr(hipSetDevice(device));
}

cudaError_t cudaDeviceCanAccessPeer(int* canAccessPeer, int device, int peerDevice) {
    return tr(hipDeviceCanAccessPeer(canAccessPeer, device, peerDevice));
}

cudaError_t cudaDeviceEnablePeerAccess(int peerDevice, unsigned int flags) {
    return tr(hipDeviceEnablePeerAccess(peerDevice, flags));
}

cudaError_t cudaDeviceDisablePeerAccess(int peerDevice) {
    return tr(hipDeviceDisablePeerAccess(peerDevice));
}

/* Every field that both structs have, by name; the others stay zero. */
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp* prop, int device) {
    hipDeviceProp_t h;
    hipError_t e = hipGetDeviceProperties(prop == NULL ? NULL : &h, device);
    if (e != hipSuccess) return tr(e);
    memset(prop, 0, sizeof *prop);
#define SAME(f) prop->f = h.f;
#define SAME_ARRAY(f)                                                                                \
    _Static_assert(sizeof prop->f == sizeof h.f, #f);                                                \
    memcpy(prop->f, h.f, sizeof prop->f);
    SAME_ARRAY(name)
    _Static_assert(sizeof prop->uuid.bytes == sizeof h.uuid.bytes, "uuid");
    memcpy(prop->uuid.bytes, h.uuid.bytes, sizeof prop->uuid.bytes);
    SAME_ARRAY(luid)
    SAME(luidDeviceNodeMask) SAME(totalGlobalMem) SAME(sharedMemPerBlock) SAME(regsPerBlock) SAME(warpSize)
    SAME(memPitch) SAME(maxThreadsPerBlock) SAME_ARRAY(maxThreadsDim) SAME_ARRAY(maxGridSize) SAME(totalConstMem)
    SAME(major) SAME(minor) SAME(textureAlignment) SAME(texturePitchAlignment) SAME(multiProcessorCount)
    SAME(integrated) SAME(canMapHostMemory) SAME(maxTexture1D) SAME(maxTexture1DMipmap) SAME_ARRAY(maxTexture2D)
    SAME_ARRAY(maxTexture2DMipmap) SAME_ARRAY(maxTexture2DLinear) SAME_ARRAY(maxTexture2DGather)
    SAME_ARRAY(maxTexture3D) SAME_ARRAY(maxTexture3DAlt) SAME(maxTextureCubemap) SAME_ARRAY(maxTexture1DLayered)
    SAME_ARRAY(maxTexture2DLayered) SAME_ARRAY(maxTextureCubemapLayered) SAME(maxSurface1D)
    SAME_ARRAY(maxSurface2D) SAME_ARRAY(maxSurface3D) SAME_ARRAY(maxSurface1DLayered)
    SAME_ARRAY(maxSurface2DLayered) SAME(maxSurfaceCubemap) SAME_ARRAY(maxSurfaceCubemapLayered)
    SAME(surfaceAlignment) SAME(concurrentKernels) SAME(ECCEnabled) SAME(pciBusID) SAME(pciDeviceID)
    SAME(pciDomainID) SAME(tccDriver) SAME(asyncEngineCount) SAME(unifiedAddressing) SAME(memoryBusWidth)
    SAME(l2CacheSize) SAME(persistingL2CacheMaxSize) SAME(maxThreadsPerMultiProcessor)
    SAME(streamPrioritiesSupported) SAME(globalL1CacheSupported) SAME(localL1CacheSupported)
    SAME(sharedMemPerMultiprocessor) SAME(regsPerMultiprocessor) SAME(managedMemory) SAME(isMultiGpuBoard)
    SAME(multiGpuBoardGroupID) SAME(hostNativeAtomicSupported) SAME(pageableMemoryAccess)
    SAME(concurrentManagedAccess) SAME(computePreemptionSupported) SAME(canUseHostPointerForRegisteredMem)
    SAME(cooperativeLaunch) SAME(pageableMemoryAccessUsesHostPageTables) SAME(directManagedMemAccessFromHost)
    SAME(maxBlocksPerMultiProcessor) SAME(accessPolicyMaxWindowSize) SAME(reservedSharedMemPerBlock)
    SAME(hostRegisterSupported) SAME(hostRegisterReadOnlySupported) SAME(timelineSemaphoreInteropSupported)
    SAME(memoryPoolsSupported) SAME(gpuDirectRDMASupported) SAME(gpuDirectRDMAFlushWritesOptions)
    SAME(gpuDirectRDMAWritesOrdering) SAME(ipcEventSupported) SAME(clusterLaunch) SAME(unifiedFunctionPointers)
#undef SAME
#undef SAME_ARRAY
    return cudaSuccess;
}

cudaError_t cudaDeviceGetPCIBusId(char* pciBusId, int len, int device) {
    return tr(hipDeviceGetPCIBusId(pciBusId, len, device));
}

cudaError_t cudaDeviceGetAttribute(int* value, enum cudaDeviceAttr attr, int device) {
    int hip;
    if (VALUE_OF(attr, k_device_attributes, &hip) != 0) return fail(cudaErrorInvalidValue);
    return tr(hipDeviceGetAttribute(value, (hipDeviceAttribute_t)hip, device));
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
    return tr(hipMemGetInfo(free, total));
}

/* ------------------------------------------------------------------------------------------------ */
/* Memory                                                                                             */

cudaError_t cudaMalloc(void** devPtr, size_t size) {
    return tr(hipMalloc(devPtr, size));
}

cudaError_t cudaFree(void* devPtr) {
    return tr(hipFree(devPtr));
}

cudaError_t cudaMallocHost(void** ptr, size_t size) {
    return tr(hipHostMalloc(ptr, size, hipHostMallocDefault));
}

cudaError_t cudaFreeHost(void* ptr) {
    return tr(hipHostFree(ptr));
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, enum cudaMemcpyKind kind) {
    int ok;
    hipMemcpyKind k = memcpy_kind(kind, &ok);
    if (!ok) return fail(cudaErrorInvalidMemcpyDirection);
    return tr(hipMemcpy(dst, src, count, k));
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int dstDevice, const void* src, int srcDevice, size_t count,
                                cudaStream_t stream) {
    return tr(hipMemcpyPeerAsync(dst, dstDevice, src, srcDevice, count, hs(stream)));
}

cudaError_t cudaMemcpyPeer(void* dst, int dstDevice, const void* src, int srcDevice, size_t count) {
    return tr(hipMemcpyPeer(dst, dstDevice, src, srcDevice, count));
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, enum cudaMemcpyKind kind, cudaStream_t stream) {
    int ok;
    hipMemcpyKind k = memcpy_kind(kind, &ok);
    if (!ok) return fail(cudaErrorInvalidMemcpyDirection);
    return tr(hipMemcpyAsync(dst, src, count, k, hs(stream)));
}

cudaError_t cudaMemset(void* devPtr, int value, size_t count) {
    return tr(hipMemset(devPtr, value, count));
}

cudaError_t cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t stream) {
    return tr(hipMemsetAsync(devPtr, value, count, hs(stream)));
}

/* cudaArray_t handles are the HIP double's hipArray_t handles. */
cudaError_t cudaMemcpy2DToArray(cudaArray_t dst, size_t wOffset, size_t hOffset, const void* src, size_t spitch,
                                size_t width, size_t height, enum cudaMemcpyKind kind) {
    int ok;
    hipMemcpyKind k = memcpy_kind(kind, &ok);
    if (!ok) return fail(cudaErrorInvalidMemcpyDirection);
    return tr(hipMemcpy2DToArray((hipArray_t)(void*)dst, wOffset, hOffset, src, spitch, width, height, k));
}

cudaError_t cudaMemcpy2DFromArray(void* dst, size_t dpitch, cudaArray_const_t src, size_t wOffset, size_t hOffset,
                                  size_t width, size_t height, enum cudaMemcpyKind kind) {
    int ok;
    hipMemcpyKind k = memcpy_kind(kind, &ok);
    if (!ok) return fail(cudaErrorInvalidMemcpyDirection);
    return tr(hipMemcpy2DFromArray(dst, dpitch, (hipArray_const_t)(const void*)src, wOffset, hOffset, width, height,
                                   k));
}

static hipPitchedPtr pitched(struct cudaPitchedPtr p) {
    hipPitchedPtr h = {p.ptr, p.pitch, p.xsize, p.ysize};
    return h;
}

static hipPos pos(struct cudaPos p) {
    hipPos h = {p.x, p.y, p.z};
    return h;
}

cudaError_t cudaMemcpy3D(const struct cudaMemcpy3DParms* p) {
    if (p == NULL) return tr(hipMemcpy3D(NULL));
    int ok;
    struct hipMemcpy3DParms h;
    memset(&h, 0, sizeof h);
    h.kind = memcpy_kind(p->kind, &ok);
    if (!ok) return fail(cudaErrorInvalidMemcpyDirection);
    h.srcArray = (hipArray_t)(void*)p->srcArray;
    h.srcPos = pos(p->srcPos);
    h.srcPtr = pitched(p->srcPtr);
    h.dstArray = (hipArray_t)(void*)p->dstArray;
    h.dstPos = pos(p->dstPos);
    h.dstPtr = pitched(p->dstPtr);
    h.extent.width = p->extent.width;
    h.extent.height = p->extent.height;
    h.extent.depth = p->extent.depth;
    return tr(hipMemcpy3D(&h));
}

/* ------------------------------------------------------------------------------------------------ */
/* Streams and events                                                                                 */

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* pStream, unsigned int flags) {
    unsigned hip;
    if (BITS_OF(flags, k_stream_flags, &hip) != 0) return fail(cudaErrorInvalidValue);
    return tr(hipStreamCreateWithFlags((hipStream_t*)(void*)pStream, hip));
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    return tr(hipStreamDestroy(hs(stream)));
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
    return tr(hipStreamSynchronize(hs(stream)));
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
    return tr(hipStreamQuery(hs(stream)));
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags) {
    unsigned hip;
    if (BITS_OF(flags, k_event_wait_flags, &hip) != 0) return fail(cudaErrorInvalidValue);
    return tr(hipStreamWaitEvent(hs(stream), (hipEvent_t)(void*)event, hip));
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
    unsigned hip;
    if (BITS_OF(flags, k_event_flags, &hip) != 0) return fail(cudaErrorInvalidValue);
    return tr(hipEventCreateWithFlags((hipEvent_t*)(void*)event, hip));
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
    return tr(hipEventDestroy((hipEvent_t)(void*)event));
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
    return tr(hipEventRecord((hipEvent_t)(void*)event, hs(stream)));
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
    return tr(hipEventSynchronize((hipEvent_t)(void*)event));
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
    return tr(hipEventQuery((hipEvent_t)(void*)event));
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
    return tr(hipEventElapsedTime(ms, (hipEvent_t)(void*)start, (hipEvent_t)(void*)end));
}

/* ------------------------------------------------------------------------------------------------ */
/* External memory and semaphores: CUDA's fd rule                                                     */

static long g_closed_fds; /* fds closed under CUDA's rule (atomic) */

long hipffmTest_cudaClosedFds(void) {
    return __atomic_load_n(&g_closed_fds, __ATOMIC_SEQ_CST);
}

/* The runtime owns the fd now: it closes it, as CUDA does. */
static void consume_fd(int fd) {
    if (close(fd) == 0) __atomic_add_fetch(&g_closed_fds, 1, __ATOMIC_SEQ_CST);
}

static int fd_open(int fd) {
    return fd > 0 && fcntl(fd, F_GETFD) != -1;
}

/* The handle of an external memory or semaphore descriptor, CUDA's d as HIP's h: the fd when is_fd, else the NvSci
   object when is_nvsci (the field hip_nvsci of HIP's union, cuda_nvsci of CUDA's), else the win32 handle and name. */
#define IMPORT_HANDLE(h, d, is_fd, is_nvsci, hip_nvsci, cuda_nvsci)                                  \
    do {                                                                                             \
        if (is_fd) {                                                                                 \
            (h).handle.fd = (d)->handle.fd;                                                          \
        } else if (is_nvsci) {                                                                       \
            (h).handle.hip_nvsci = (d)->handle.cuda_nvsci;                                           \
        } else {                                                                                     \
            (h).handle.win32.handle = (d)->handle.win32.handle;                                      \
            (h).handle.win32.name = (d)->handle.win32.name;                                          \
        }                                                                                            \
    } while (0)

cudaError_t cudaImportExternalMemory(cudaExternalMemory_t* extMem_out,
                                     const struct cudaExternalMemoryHandleDesc* memHandleDesc) {
    if (memHandleDesc == NULL) return tr(hipImportExternalMemory((hipExternalMemory_t*)(void*)extMem_out, NULL));
    const struct cudaExternalMemoryHandleDesc* d = memHandleDesc;
    hipExternalMemoryHandleDesc h;
    memset(&h, 0, sizeof h);
    int type;
    unsigned flags;
    if (VALUE_OF(d->type, k_memory_types, &type) != 0 || BITS_OF(d->flags, k_memory_flags, &flags) != 0)
        return fail(cudaErrorInvalidValue);
    h.type = (hipExternalMemoryHandleType)type;
    int is_fd = d->type == cudaExternalMemoryHandleTypeOpaqueFd;
    IMPORT_HANDLE(h, d, is_fd, d->type == cudaExternalMemoryHandleTypeNvSciBuf, nvSciBufObject, nvSciBufObject);
    h.size = d->size;
    h.flags = flags;
    /* Accepted: the descriptor is right and the fd is open; a refusal from here on happens after the runtime took
       the fd. */
    int accepted = is_fd && d->size != 0 && fd_open(d->handle.fd);
    hipExternalMemory_t m = NULL;
    hipError_t e = hipImportExternalMemory(extMem_out == NULL ? NULL : &m, &h);
    if (e == hipSuccess) {
        *extMem_out = (cudaExternalMemory_t)m;
        if (is_fd) consume_fd(d->handle.fd);
        return cudaSuccess;
    }
    if (accepted && e == hipErrorInvalidValue && !hipffm_testrt_lastCallInjected()) consume_fd(d->handle.fd);
    return tr(e);
}

cudaError_t cudaExternalMemoryGetMappedBuffer(void** devPtr, cudaExternalMemory_t extMem,
                                              const struct cudaExternalMemoryBufferDesc* bufferDesc) {
    hipExternalMemoryBufferDesc h;
    memset(&h, 0, sizeof h);
    if (bufferDesc != NULL) {
        h.offset = bufferDesc->offset;
        h.size = bufferDesc->size;
        h.flags = bufferDesc->flags; /* CUDA defines no buffer flag: must be 0, as in HIP */
    }
    return tr(hipExternalMemoryGetMappedBuffer(devPtr, (hipExternalMemory_t)extMem, bufferDesc == NULL ? NULL : &h));
}

cudaError_t cudaExternalMemoryGetMappedMipmappedArray(cudaMipmappedArray_t* mipmap, cudaExternalMemory_t extMem,
                                                      const struct cudaExternalMemoryMipmappedArrayDesc* mipmapDesc) {
    hipExternalMemoryMipmappedArrayDesc h;
    memset(&h, 0, sizeof h);
    if (mipmapDesc != NULL) {
        int kind;
        unsigned flags;
        if (VALUE_OF(mipmapDesc->formatDesc.f, k_channel_kinds, &kind) != 0
            || BITS_OF(mipmapDesc->flags, k_array_flags, &flags) != 0)
            return fail(cudaErrorInvalidValue);
        h.offset = mipmapDesc->offset;
        h.formatDesc.x = mipmapDesc->formatDesc.x;
        h.formatDesc.y = mipmapDesc->formatDesc.y;
        h.formatDesc.z = mipmapDesc->formatDesc.z;
        h.formatDesc.w = mipmapDesc->formatDesc.w;
        h.formatDesc.f = (enum hipChannelFormatKind)kind;
        h.extent.width = mipmapDesc->extent.width;
        h.extent.height = mipmapDesc->extent.height;
        h.extent.depth = mipmapDesc->extent.depth;
        h.flags = flags;
        h.numLevels = mipmapDesc->numLevels;
    }
    hipMipmappedArray_t m = NULL;
    hipError_t e = hipExternalMemoryGetMappedMipmappedArray(mipmap == NULL ? NULL : &m, (hipExternalMemory_t)extMem,
                                                            mipmapDesc == NULL ? NULL : &h);
    if (e == hipSuccess) *mipmap = (cudaMipmappedArray_t)(void*)m;
    return tr(e);
}

cudaError_t cudaGetMipmappedArrayLevel(cudaArray_t* levelArray, cudaMipmappedArray_const_t mipmappedArray,
                                       unsigned int level) {
    hipArray_t a = NULL;
    hipError_t e = hipGetMipmappedArrayLevel(levelArray == NULL ? NULL : &a,
                                             (hipMipmappedArray_const_t)(const void*)mipmappedArray, level);
    if (e == hipSuccess) *levelArray = (cudaArray_t)(void*)a;
    return tr(e);
}

cudaError_t cudaFreeMipmappedArray(cudaMipmappedArray_t mipmappedArray) {
    return tr(hipFreeMipmappedArray((hipMipmappedArray_t)(void*)mipmappedArray));
}

cudaError_t cudaDestroyExternalMemory(cudaExternalMemory_t extMem) {
    return tr(hipDestroyExternalMemory((hipExternalMemory_t)extMem));
}

cudaError_t cudaArrayGetInfo(struct cudaChannelFormatDesc* desc, struct cudaExtent* extent, unsigned int* flags,
                             cudaArray_t array) {
    hipChannelFormatDesc d;
    hipExtent x;
    unsigned f = 0;
    hipError_t e = hipArrayGetInfo(desc == NULL ? NULL : &d, extent == NULL ? NULL : &x, flags == NULL ? NULL : &f,
                                   (hipArray_t)(void*)array);
    if (e != hipSuccess) return tr(e);
    if (desc != NULL) {
        desc->x = d.x;
        desc->y = d.y;
        desc->z = d.z;
        desc->w = d.w;
        desc->f = (enum cudaChannelFormatKind)cuda_value_of(d.f, k_channel_kinds, N_OF(k_channel_kinds),
                                                            cudaChannelFormatKindNone);
    }
    if (extent != NULL) {
        extent->width = x.width;
        extent->height = x.height;
        extent->depth = x.depth;
    }
    if (flags != NULL) *flags = cuda_bits_of(f, k_array_flags, N_OF(k_array_flags));
    return cudaSuccess;
}

cudaError_t cudaImportExternalSemaphore(cudaExternalSemaphore_t* extSem_out,
                                        const struct cudaExternalSemaphoreHandleDesc* semHandleDesc) {
    if (semHandleDesc == NULL)
        return tr(hipImportExternalSemaphore((hipExternalSemaphore_t*)(void*)extSem_out, NULL));
    const struct cudaExternalSemaphoreHandleDesc* d = semHandleDesc;
    hipExternalSemaphoreHandleDesc h;
    memset(&h, 0, sizeof h);
    int type;
    if (VALUE_OF(d->type, k_semaphore_types, &type) != 0) return fail(cudaErrorInvalidValue);
    h.type = (hipExternalSemaphoreHandleType)type;
    int is_fd = d->type == cudaExternalSemaphoreHandleTypeOpaqueFd
                || d->type == cudaExternalSemaphoreHandleTypeTimelineSemaphoreFd;
    IMPORT_HANDLE(h, d, is_fd, d->type == cudaExternalSemaphoreHandleTypeNvSciSync, NvSciSyncObj, nvSciSyncObj);
    h.flags = d->flags;
    hipExternalSemaphore_t s = NULL;
    hipError_t e = hipImportExternalSemaphore(extSem_out == NULL ? NULL : &s, &h);
    if (e == hipSuccess) {
        *extSem_out = (cudaExternalSemaphore_t)s;
        if (is_fd) consume_fd(d->handle.fd);
        return cudaSuccess;
    }
    return tr(e); /* every refusal of the HIP double comes before it takes the fd: the fd stays the caller's */
}

/* The handles as the HIP double's (a copy: the two handle types are distinct pointer types). NULL with *ok = 1 for
   an empty or NULL array (the HIP call refuses NULL with a count); *ok = 0 when out of memory. */
static hipExternalSemaphore_t* semaphores(const cudaExternalSemaphore_t* a, unsigned n, int* ok) {
    *ok = 1;
    if (a == NULL || n == 0) return NULL;
    hipExternalSemaphore_t* h = calloc(n, sizeof *h);
    if (h == NULL) {
        *ok = 0;
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) h[i] = (hipExternalSemaphore_t)a[i];
    return h;
}

/* The body of cudaSignalExternalSemaphoresAsync and cudaWaitExternalSemaphoresAsync (their parameters by name): the
   handles and the params as the HIP double's (copies; the params field by field, as the two structs differ in
   layout, MORE(hip, cuda) copying the fields that only one kind of params has), one call of HIP_CALL, and its code
   as CUDA's. Running out of memory for the copies gives cudaErrorMemoryAllocation, before any HIP call. */
#define SEMAPHORES_ASYNC(hip_params_t, HIP_CALL, MORE)                                               \
    do {                                                                                             \
        int ok;                                                                                      \
        hipExternalSemaphore_t* sems = semaphores(extSemArray, numExtSems, &ok);                     \
        hip_params_t* p = NULL;                                                                      \
        if (ok && paramsArray != NULL && numExtSems > 0) {                                           \
            p = calloc(numExtSems, sizeof *p);                                                       \
            ok = p != NULL;                                                                          \
            for (unsigned i = 0; ok && i < numExtSems; i++) {                                        \
                p[i].params.fence.value = paramsArray[i].params.fence.value;                         \
                p[i].params.nvSciSync.reserved = paramsArray[i].params.nvSciSync.reserved;           \
                p[i].params.keyedMutex.key = paramsArray[i].params.keyedMutex.key;                   \
                MORE(p[i], paramsArray[i]);                                                          \
                p[i].flags = paramsArray[i].flags;                                                   \
            }                                                                                        \
        }                                                                                            \
        cudaError_t r = ok ? tr(HIP_CALL(sems, p, numExtSems, hs(stream)))                           \
                           : fail(cudaErrorMemoryAllocation);                                        \
        free(sems);                                                                                  \
        free(p);                                                                                     \
        return r;                                                                                    \
    } while (0)
#define SIGNAL_ONLY_FIELDS(hip, cuda) ((void)0) /* none */
#define WAIT_ONLY_FIELDS(hip, cuda) ((hip).params.keyedMutex.timeoutMs = (cuda).params.keyedMutex.timeoutMs)

cudaError_t cudaSignalExternalSemaphoresAsync(const cudaExternalSemaphore_t* extSemArray,
                                              const struct cudaExternalSemaphoreSignalParams* paramsArray,
                                              unsigned int numExtSems, cudaStream_t stream) {
    SEMAPHORES_ASYNC(hipExternalSemaphoreSignalParams, hipSignalExternalSemaphoresAsync, SIGNAL_ONLY_FIELDS);
}

cudaError_t cudaWaitExternalSemaphoresAsync(const cudaExternalSemaphore_t* extSemArray,
                                            const struct cudaExternalSemaphoreWaitParams* paramsArray,
                                            unsigned int numExtSems, cudaStream_t stream) {
    SEMAPHORES_ASYNC(hipExternalSemaphoreWaitParams, hipWaitExternalSemaphoresAsync, WAIT_ONLY_FIELDS);
}

#undef SEMAPHORES_ASYNC
#undef SIGNAL_ONLY_FIELDS
#undef WAIT_ONLY_FIELDS

cudaError_t cudaDestroyExternalSemaphore(cudaExternalSemaphore_t extSem) {
    return tr(hipDestroyExternalSemaphore((hipExternalSemaphore_t)extSem));
}

/* ------------------------------------------------------------------------------------------------ */
/* Graphs: a cudaGraph_t is the HIP double's graph, a cudaGraphNode_t its node, a cudaGraphExec_t its */
/* exec. CUDA copies a semaphore node's parameters; the HIP double keeps them by value as ROCm does,   */
/* arrays and all, so the translated arrays are handed to the graph (or, for an exec's parameters, to */
/* the exec) and freed with it.                                                                       */

int hipffm_testrt_graphAdopt(hipGraph_t graph, void* p);
int hipffm_testrt_execAdopt(hipGraphExec_t exec, void* p);
int hipffm_testrt_nodeAdopt(hipGraphNode_t node, void* p);

/* A semaphore node's parameters *src as the other runtime's, in *dst (CUDA's as the HIP double's, or back): the
   arrays malloc'd (the caller frees them or hands them on), the handles cast to dst_sem_t and the params field by
   field, MORE(dst, src) copying the fields that only one kind of params has. 0 when out of memory (then nothing
   is left allocated). */
#define SEM_NODE_PARAMS(dst_sem_t, dst_params_t, MORE)                                               \
    do {                                                                                             \
        int ok = 1;                                                                                  \
        unsigned n = src->numExtSems;                                                                \
        memset(dst, 0, sizeof *dst);                                                                 \
        dst->numExtSems = n;                                                                         \
        dst_sem_t* s = NULL;                                                                         \
        dst_params_t* p = NULL;                                                                      \
        if (src->extSemArray != NULL && n > 0) {                                                     \
            s = calloc(n, sizeof *s);                                                                \
            ok = s != NULL;                                                                          \
            for (unsigned i = 0; ok && i < n; i++) s[i] = (dst_sem_t)src->extSemArray[i];            \
        }                                                                                            \
        if (ok && src->paramsArray != NULL && n > 0) {                                               \
            p = calloc(n, sizeof *p);                                                                \
            ok = p != NULL;                                                                          \
            for (unsigned i = 0; ok && i < n; i++) {                                                 \
                p[i].params.fence.value = src->paramsArray[i].params.fence.value;                    \
                p[i].params.nvSciSync.reserved = src->paramsArray[i].params.nvSciSync.reserved;      \
                p[i].params.keyedMutex.key = src->paramsArray[i].params.keyedMutex.key;              \
                MORE(p[i], src->paramsArray[i]);                                                     \
                p[i].flags = src->paramsArray[i].flags;                                              \
            }                                                                                        \
        }                                                                                            \
        if (!ok) {                                                                                   \
            free(s);                                                                                 \
            free(p);                                                                                 \
            return 0;                                                                                \
        }                                                                                            \
        dst->extSemArray = s;                                                                        \
        dst->paramsArray = p;                                                                        \
        return 1;                                                                                    \
    } while (0)
#define SIGNAL_ONLY_FIELDS(dst, src) ((void)0) /* none */
#define WAIT_ONLY_FIELDS(dst, src) ((dst).params.keyedMutex.timeoutMs = (src).params.keyedMutex.timeoutMs)

static int signal_node_params(const struct cudaExternalSemaphoreSignalNodeParams* src,
                              hipExternalSemaphoreSignalNodeParams* dst) {
    SEM_NODE_PARAMS(hipExternalSemaphore_t, hipExternalSemaphoreSignalParams, SIGNAL_ONLY_FIELDS);
}

static int wait_node_params(const struct cudaExternalSemaphoreWaitNodeParams* src,
                            hipExternalSemaphoreWaitNodeParams* dst) {
    SEM_NODE_PARAMS(hipExternalSemaphore_t, hipExternalSemaphoreWaitParams, WAIT_ONLY_FIELDS);
}

static int cuda_signal_node_params(const hipExternalSemaphoreSignalNodeParams* src,
                                   struct cudaExternalSemaphoreSignalNodeParams* dst) {
    SEM_NODE_PARAMS(cudaExternalSemaphore_t, struct cudaExternalSemaphoreSignalParams, SIGNAL_ONLY_FIELDS);
}

static int cuda_wait_node_params(const hipExternalSemaphoreWaitNodeParams* src,
                                 struct cudaExternalSemaphoreWaitNodeParams* dst) {
    SEM_NODE_PARAMS(cudaExternalSemaphore_t, struct cudaExternalSemaphoreWaitParams, WAIT_ONLY_FIELDS);
}

#undef SEM_NODE_PARAMS
#undef SIGNAL_ONLY_FIELDS
#undef WAIT_ONLY_FIELDS

enum owner_kind { TO_GRAPH, TO_EXEC, TO_NODE_GRAPH };

/* After the HIP call: on success the arrays go to their owner (a graph, an exec, or a node's graph), else they are
   freed. */
static cudaError_t sem_node_done(hipError_t e, void* sems, const void* params, enum owner_kind to, void* owner) {
    if (e == hipSuccess) {
        void* a[2] = {sems, (void*)params};
        for (int i = 0; i < 2; i++) {
            if (a[i] == NULL) continue;
            int ok = to == TO_EXEC    ? hipffm_testrt_execAdopt((hipGraphExec_t)owner, a[i])
                     : to == TO_GRAPH ? hipffm_testrt_graphAdopt((hipGraph_t)owner, a[i])
                                      : hipffm_testrt_nodeAdopt((hipGraphNode_t)owner, a[i]);
            if (!ok) free(a[i]); /* not reached: the owner was just used; the node then reads freed memory */
        }
    } else {
        free(sems);
        free((void*)params);
    }
    return tr(e);
}

cudaError_t cudaGraphCreate(cudaGraph_t* pGraph, unsigned int flags) {
    return tr(hipGraphCreate((hipGraph_t*)(void*)pGraph, flags));
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
    return tr(hipGraphDestroy((hipGraph_t)(void*)graph));
}

cudaError_t cudaGraphAddExternalSemaphoresSignalNode(cudaGraphNode_t* pGraphNode, cudaGraph_t graph,
                                                     const cudaGraphNode_t* pDependencies, size_t numDependencies,
                                                     const struct cudaExternalSemaphoreSignalNodeParams* nodeParams) {
    hipExternalSemaphoreSignalNodeParams h;
    if (nodeParams != NULL && !signal_node_params(nodeParams, &h)) return fail(cudaErrorMemoryAllocation);
    hipError_t e = hipGraphAddExternalSemaphoresSignalNode((hipGraphNode_t*)(void*)pGraphNode, (hipGraph_t)(void*)graph,
                                                           (const hipGraphNode_t*)(const void*)pDependencies,
                                                           numDependencies, nodeParams != NULL ? &h : NULL);
    return nodeParams != NULL ? sem_node_done(e, h.extSemArray, h.paramsArray, TO_GRAPH, (void*)graph) : tr(e);
}

cudaError_t cudaGraphAddExternalSemaphoresWaitNode(cudaGraphNode_t* pGraphNode, cudaGraph_t graph,
                                                   const cudaGraphNode_t* pDependencies, size_t numDependencies,
                                                   const struct cudaExternalSemaphoreWaitNodeParams* nodeParams) {
    hipExternalSemaphoreWaitNodeParams h;
    if (nodeParams != NULL && !wait_node_params(nodeParams, &h)) return fail(cudaErrorMemoryAllocation);
    hipError_t e = hipGraphAddExternalSemaphoresWaitNode((hipGraphNode_t*)(void*)pGraphNode, (hipGraph_t)(void*)graph,
                                                         (const hipGraphNode_t*)(const void*)pDependencies,
                                                         numDependencies, nodeParams != NULL ? &h : NULL);
    return nodeParams != NULL ? sem_node_done(e, h.extSemArray, h.paramsArray, TO_GRAPH, (void*)graph) : tr(e);
}

/* Flags: none supported (cudaGraphInstantiateFlag* have no counterpart in the HIP double). */
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* pGraphExec, cudaGraph_t graph, unsigned long long flags) {
    if (flags != 0) return fail(cudaErrorInvalidValue);
    return tr(hipGraphInstantiate((hipGraphExec_t*)(void*)pGraphExec, (hipGraph_t)(void*)graph, NULL, NULL, 0));
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t graphExec) {
    return tr(hipGraphExecDestroy((hipGraphExec_t)(void*)graphExec));
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t graphExec, cudaStream_t stream) {
    return tr(hipGraphLaunch((hipGraphExec_t)(void*)graphExec, hs(stream)));
}

cudaError_t cudaGraphExecExternalSemaphoresSignalNodeSetParams(
    cudaGraphExec_t hGraphExec, cudaGraphNode_t hNode, const struct cudaExternalSemaphoreSignalNodeParams* nodeParams) {
    hipExternalSemaphoreSignalNodeParams h;
    if (nodeParams != NULL && !signal_node_params(nodeParams, &h)) return fail(cudaErrorMemoryAllocation);
    hipError_t e = hipGraphExecExternalSemaphoresSignalNodeSetParams((hipGraphExec_t)(void*)hGraphExec,
                                                                     (hipGraphNode_t)(void*)hNode,
                                                                     nodeParams != NULL ? &h : NULL);
    return nodeParams != NULL ? sem_node_done(e, h.extSemArray, h.paramsArray, TO_EXEC, (void*)hGraphExec) : tr(e);
}

cudaError_t cudaGraphExecExternalSemaphoresWaitNodeSetParams(
    cudaGraphExec_t hGraphExec, cudaGraphNode_t hNode, const struct cudaExternalSemaphoreWaitNodeParams* nodeParams) {
    hipExternalSemaphoreWaitNodeParams h;
    if (nodeParams != NULL && !wait_node_params(nodeParams, &h)) return fail(cudaErrorMemoryAllocation);
    hipError_t e = hipGraphExecExternalSemaphoresWaitNodeSetParams((hipGraphExec_t)(void*)hGraphExec,
                                                                   (hipGraphNode_t)(void*)hNode,
                                                                   nodeParams != NULL ? &h : NULL);
    return nodeParams != NULL ? sem_node_done(e, h.extSemArray, h.paramsArray, TO_EXEC, (void*)hGraphExec) : tr(e);
}

/* CUDA copies the parameters: the translated arrays go to the node's graph, freed with it. */
cudaError_t cudaGraphExternalSemaphoresSignalNodeSetParams(
    cudaGraphNode_t hNode, const struct cudaExternalSemaphoreSignalNodeParams* nodeParams) {
    hipExternalSemaphoreSignalNodeParams h;
    if (nodeParams != NULL && !signal_node_params(nodeParams, &h)) return fail(cudaErrorMemoryAllocation);
    hipError_t e = hipGraphExternalSemaphoresSignalNodeSetParams((hipGraphNode_t)(void*)hNode,
                                                                 nodeParams != NULL ? &h : NULL);
    return nodeParams != NULL ? sem_node_done(e, h.extSemArray, h.paramsArray, TO_NODE_GRAPH, (void*)hNode) : tr(e);
}

cudaError_t cudaGraphExternalSemaphoresWaitNodeSetParams(cudaGraphNode_t hNode,
                                                         const struct cudaExternalSemaphoreWaitNodeParams* nodeParams) {
    hipExternalSemaphoreWaitNodeParams h;
    if (nodeParams != NULL && !wait_node_params(nodeParams, &h)) return fail(cudaErrorMemoryAllocation);
    hipError_t e = hipGraphExternalSemaphoresWaitNodeSetParams((hipGraphNode_t)(void*)hNode,
                                                               nodeParams != NULL ? &h : NULL);
    return nodeParams != NULL ? sem_node_done(e, h.extSemArray, h.paramsArray, TO_NODE_GRAPH, (void*)hNode) : tr(e);
}

/* The node's parameters as CUDA's: the arrays, translated, are "owned by the node" as CUDA says; here they go to the
   node's graph, freed with it (so they stay valid longer than CUDA promises). */
cudaError_t cudaGraphExternalSemaphoresSignalNodeGetParams(cudaGraphNode_t hNode,
                                                           struct cudaExternalSemaphoreSignalNodeParams* params_out) {
    hipExternalSemaphoreSignalNodeParams h;
    hipError_t e = hipGraphExternalSemaphoresSignalNodeGetParams((hipGraphNode_t)(void*)hNode,
                                                                 params_out != NULL ? &h : NULL);
    if (e != hipSuccess) return tr(e);
    struct cudaExternalSemaphoreSignalNodeParams c;
    if (!cuda_signal_node_params(&h, &c)) return fail(cudaErrorMemoryAllocation);
    *params_out = c;
    return sem_node_done(e, c.extSemArray, c.paramsArray, TO_NODE_GRAPH, (void*)hNode);
}

cudaError_t cudaGraphExternalSemaphoresWaitNodeGetParams(cudaGraphNode_t hNode,
                                                         struct cudaExternalSemaphoreWaitNodeParams* params_out) {
    hipExternalSemaphoreWaitNodeParams h;
    hipError_t e = hipGraphExternalSemaphoresWaitNodeGetParams((hipGraphNode_t)(void*)hNode,
                                                               params_out != NULL ? &h : NULL);
    if (e != hipSuccess) return tr(e);
    struct cudaExternalSemaphoreWaitNodeParams c;
    if (!cuda_wait_node_params(&h, &c)) return fail(cudaErrorMemoryAllocation);
    *params_out = c;
    return sem_node_done(e, c.extSemArray, c.paramsArray, TO_NODE_GRAPH, (void*)hNode);
}

#define NODES(p) (hipGraphNode_t*)(void*)(p)
#define DEPS(p) (const hipGraphNode_t*)(const void*)(p)

cudaError_t cudaGraphAddEmptyNode(cudaGraphNode_t* pGraphNode, cudaGraph_t graph, const cudaGraphNode_t* pDependencies,
                                  size_t numDependencies) {
    return tr(hipGraphAddEmptyNode(NODES(pGraphNode), (hipGraph_t)(void*)graph, DEPS(pDependencies), numDependencies));
}

cudaError_t cudaGraphAddEventRecordNode(cudaGraphNode_t* pGraphNode, cudaGraph_t graph,
                                        const cudaGraphNode_t* pDependencies, size_t numDependencies,
                                        cudaEvent_t event) {
    return tr(hipGraphAddEventRecordNode(NODES(pGraphNode), (hipGraph_t)(void*)graph, DEPS(pDependencies),
                                         numDependencies, (hipEvent_t)(void*)event));
}

cudaError_t cudaGraphAddEventWaitNode(cudaGraphNode_t* pGraphNode, cudaGraph_t graph,
                                      const cudaGraphNode_t* pDependencies, size_t numDependencies, cudaEvent_t event) {
    return tr(hipGraphAddEventWaitNode(NODES(pGraphNode), (hipGraph_t)(void*)graph, DEPS(pDependencies),
                                       numDependencies, (hipEvent_t)(void*)event));
}

cudaError_t cudaGraphAddMemcpyNode1D(cudaGraphNode_t* pGraphNode, cudaGraph_t graph,
                                     const cudaGraphNode_t* pDependencies, size_t numDependencies, void* dst,
                                     const void* src, size_t count, enum cudaMemcpyKind kind) {
    int ok;
    hipMemcpyKind k = memcpy_kind(kind, &ok);
    if (!ok) return fail(cudaErrorInvalidMemcpyDirection);
    return tr(hipGraphAddMemcpyNode1D(NODES(pGraphNode), (hipGraph_t)(void*)graph, DEPS(pDependencies),
                                      numDependencies, dst, src, count, k));
}

cudaError_t cudaGraphAddMemsetNode(cudaGraphNode_t* pGraphNode, cudaGraph_t graph,
                                   const cudaGraphNode_t* pDependencies, size_t numDependencies,
                                   const struct cudaMemsetParams* pMemsetParams) {
    hipMemsetParams h;
    if (pMemsetParams != NULL) {
        h.dst = pMemsetParams->dst;
        h.elementSize = pMemsetParams->elementSize;
        h.height = pMemsetParams->height;
        h.pitch = pMemsetParams->pitch;
        h.value = pMemsetParams->value;
        h.width = pMemsetParams->width;
    }
    return tr(hipGraphAddMemsetNode(NODES(pGraphNode), (hipGraph_t)(void*)graph, DEPS(pDependencies),
                                    numDependencies, pMemsetParams != NULL ? &h : NULL));
}

/* func is a cudaKernel_t of cudaLibraryGetKernel, as for cudaLaunchKernel. */
cudaError_t cudaGraphAddKernelNode(cudaGraphNode_t* pGraphNode, cudaGraph_t graph, const cudaGraphNode_t* pDependencies,
                                   size_t numDependencies, const struct cudaKernelNodeParams* pNodeParams) {
    hipKernelNodeParams h;
    if (pNodeParams != NULL) {
        h.func = pNodeParams->func;
        h.gridDim.x = pNodeParams->gridDim.x;
        h.gridDim.y = pNodeParams->gridDim.y;
        h.gridDim.z = pNodeParams->gridDim.z;
        h.blockDim.x = pNodeParams->blockDim.x;
        h.blockDim.y = pNodeParams->blockDim.y;
        h.blockDim.z = pNodeParams->blockDim.z;
        h.sharedMemBytes = pNodeParams->sharedMemBytes;
        h.kernelParams = pNodeParams->kernelParams;
        h.extra = pNodeParams->extra;
    }
    return tr(hipGraphAddKernelNode(NODES(pGraphNode), (hipGraph_t)(void*)graph, DEPS(pDependencies),
                                    numDependencies, pNodeParams != NULL ? &h : NULL));
}

cudaError_t cudaGraphAddChildGraphNode(cudaGraphNode_t* pGraphNode, cudaGraph_t graph,
                                       const cudaGraphNode_t* pDependencies, size_t numDependencies,
                                       cudaGraph_t childGraph) {
    return tr(hipGraphAddChildGraphNode(NODES(pGraphNode), (hipGraph_t)(void*)graph, DEPS(pDependencies),
                                        numDependencies, (hipGraph_t)(void*)childGraph));
}

cudaError_t cudaGraphExecUpdate(cudaGraphExec_t hGraphExec, cudaGraph_t hGraph,
                                cudaGraphExecUpdateResultInfo* resultInfo) {
    if (resultInfo == NULL) return fail(cudaErrorInvalidValue);
    hipGraphNode_t errorNode = NULL;
    hipGraphExecUpdateResult result = hipGraphExecUpdateSuccess;
    hipError_t e = hipGraphExecUpdate((hipGraphExec_t)(void*)hGraphExec, (hipGraph_t)(void*)hGraph, &errorNode, &result);
    resultInfo->result = (enum cudaGraphExecUpdateResult)result; /* the same values */
    resultInfo->errorNode = (cudaGraphNode_t)(void*)errorNode;
    resultInfo->errorFromNode = NULL;
    return tr(e);
}

#undef NODES
#undef DEPS

/* The capture modes and statuses have the same values in both runtimes (0, 1, 2); other modes are refused. */
cudaError_t cudaStreamBeginCapture(cudaStream_t stream, enum cudaStreamCaptureMode mode) {
    if (mode != cudaStreamCaptureModeGlobal && mode != cudaStreamCaptureModeThreadLocal
        && mode != cudaStreamCaptureModeRelaxed)
        return fail(cudaErrorInvalidValue);
    return tr(hipStreamBeginCapture(hs(stream), (hipStreamCaptureMode)mode));
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* pGraph) {
    return tr(hipStreamEndCapture(hs(stream), (hipGraph_t*)(void*)pGraph));
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, enum cudaStreamCaptureStatus* pCaptureStatus) {
    hipStreamCaptureStatus h = hipStreamCaptureStatusNone;
    hipError_t e = hipStreamIsCapturing(hs(stream), pCaptureStatus != NULL ? &h : NULL);
    if (e == hipSuccess) *pCaptureStatus = (enum cudaStreamCaptureStatus)h;
    return tr(e);
}

/* ------------------------------------------------------------------------------------------------ */
/* Libraries and launch: a cudaLibrary_t is the HIP double's module, a cudaKernel_t its function      */

/* The JIT and library options are ignored (the double's images are text; see README.md). */
cudaError_t cudaLibraryLoadData(cudaLibrary_t* library, const void* code, enum cudaJitOption* jitOptions,
                                void** jitOptionsValues, unsigned int numJitOptions,
                                enum cudaLibraryOption* libraryOptions, void** libraryOptionValues,
                                unsigned int numLibraryOptions) {
    (void)jitOptions;
    (void)jitOptionsValues;
    (void)numJitOptions;
    (void)libraryOptions;
    (void)libraryOptionValues;
    (void)numLibraryOptions;
    hipModule_t m = NULL;
    hipError_t e = hipModuleLoadData(library == NULL ? NULL : &m, code);
    if (e == hipSuccess) *library = (cudaLibrary_t)(void*)m;
    return tr(e);
}

cudaError_t cudaLibraryUnload(cudaLibrary_t library) {
    return tr(hipModuleUnload((hipModule_t)(void*)library));
}

cudaError_t cudaLibraryGetKernel(cudaKernel_t* pKernel, cudaLibrary_t library, const char* name) {
    hipFunction_t f = NULL;
    hipError_t e = hipModuleGetFunction(pKernel == NULL ? NULL : &f, (hipModule_t)(void*)library, name);
    if (e == hipSuccess) *pKernel = (cudaKernel_t)(void*)f;
    return tr(e);
}

/* func is a cudaKernel_t of cudaLibraryGetKernel; the attributes the HIP double has, field by field. */
cudaError_t cudaFuncGetAttributes(struct cudaFuncAttributes* attr, const void* func) {
    hipFuncAttributes h;
    hipError_t e = hipFuncGetAttributes(attr == NULL ? NULL : &h, func);
    if (e != hipSuccess) return tr(e);
    memset(attr, 0, sizeof *attr);
    attr->sharedSizeBytes = h.sharedSizeBytes;
    attr->constSizeBytes = h.constSizeBytes;
    attr->localSizeBytes = h.localSizeBytes;
    attr->maxThreadsPerBlock = h.maxThreadsPerBlock;
    attr->numRegs = h.numRegs;
    attr->ptxVersion = h.ptxVersion;
    attr->binaryVersion = h.binaryVersion;
    attr->cacheModeCA = h.cacheModeCA;
    attr->maxDynamicSharedSizeBytes = h.maxDynamicSharedSizeBytes;
    attr->preferredShmemCarveout = h.preferredShmemCarveout;
    return cudaSuccess;
}

/* func is a cudaKernel_t of cudaLibraryGetKernel (the double has no host-side kernel stubs); a shared memory size
   beyond 32 bits is passed on as UINT_MAX, which the HIP double refuses. */
cudaError_t cudaLaunchKernel(const void* func, dim3 gridDim, dim3 blockDim, void** args, size_t sharedMem,
                             cudaStream_t stream) {
    unsigned shared = sharedMem > UINT_MAX ? UINT_MAX : (unsigned)sharedMem;
    return tr(hipModuleLaunchKernel((hipFunction_t)(uintptr_t)func, gridDim.x, gridDim.y, gridDim.z, blockDim.x,
                                    blockDim.y, blockDim.z, shared, hs(stream), args, NULL));
}

/* ------------------------------------------------------------------------------------------------ */
/* OpenGL interop: a cudaGraphicsResource_t is the HIP double's graphics resource                    */

cudaError_t cudaGLGetDevices(unsigned int* pCudaDeviceCount, int* pCudaDevices, unsigned int cudaDeviceCount,
                             enum cudaGLDeviceList deviceList) {
    int list;
    if (VALUE_OF(deviceList, k_gl_device_lists, &list) != 0) return fail(cudaErrorInvalidValue);
    return tr(hipGLGetDevices(pCudaDeviceCount, pCudaDevices, cudaDeviceCount, (hipGLDeviceList)list));
}

cudaError_t cudaGraphicsGLRegisterBuffer(struct cudaGraphicsResource** resource, GLuint buffer, unsigned int flags) {
    unsigned hip;
    if (BITS_OF(flags, k_graphics_register_flags, &hip) != 0) return fail(cudaErrorInvalidValue);
    hipGraphicsResource* r = NULL;
    hipError_t e = hipGraphicsGLRegisterBuffer(resource == NULL ? NULL : &r, buffer, hip);
    if (e == hipSuccess) *resource = (struct cudaGraphicsResource*)(void*)r;
    return tr(e);
}

/* Flags are bits in CUDA; the HIP double takes exactly one of its values, so a combination is refused there. */
cudaError_t cudaGraphicsGLRegisterImage(struct cudaGraphicsResource** resource, GLuint image, GLenum target,
                                        unsigned int flags) {
    unsigned hip;
    if (BITS_OF(flags, k_graphics_register_flags, &hip) != 0) return fail(cudaErrorInvalidValue);
    hipGraphicsResource* r = NULL;
    hipError_t e = hipGraphicsGLRegisterImage(resource == NULL ? NULL : &r, image, target, hip);
    if (e == hipSuccess) *resource = (struct cudaGraphicsResource*)(void*)r;
    return tr(e);
}

/* The resource array as the HIP double's (a copy); see semaphores(). */
static hipGraphicsResource_t* graphics_resources(const cudaGraphicsResource_t* a, int n, int* ok) {
    *ok = 1;
    if (a == NULL || n <= 0) return NULL;
    hipGraphicsResource_t* h = calloc((size_t)n, sizeof *h);
    if (h == NULL) {
        *ok = 0;
        return NULL;
    }
    for (int i = 0; i < n; i++) h[i] = (hipGraphicsResource_t)(void*)a[i];
    return h;
}

/* cudaGraphicsMapResources and cudaGraphicsUnmapResources: hip_call (hipGraphicsMapResources,
   hipGraphicsUnmapResources) on a copy of the resources; running out of memory for it gives
   cudaErrorMemoryAllocation, before any HIP call. */
static cudaError_t map_or_unmap(hipError_t (*hip_call)(int, hipGraphicsResource_t*, hipStream_t), int count,
                                cudaGraphicsResource_t* resources, cudaStream_t stream) {
    int ok;
    hipGraphicsResource_t* h = graphics_resources(resources, count, &ok);
    cudaError_t r = ok ? tr(hip_call(count, h, hs(stream))) : fail(cudaErrorMemoryAllocation);
    free(h);
    return r;
}

cudaError_t cudaGraphicsMapResources(int count, cudaGraphicsResource_t* resources, cudaStream_t stream) {
    return map_or_unmap(hipGraphicsMapResources, count, resources, stream);
}

cudaError_t cudaGraphicsUnmapResources(int count, cudaGraphicsResource_t* resources, cudaStream_t stream) {
    return map_or_unmap(hipGraphicsUnmapResources, count, resources, stream);
}

cudaError_t cudaGraphicsResourceGetMappedPointer(void** devPtr, size_t* size, cudaGraphicsResource_t resource) {
    return tr(hipGraphicsResourceGetMappedPointer(devPtr, size, (hipGraphicsResource_t)(void*)resource));
}

cudaError_t cudaGraphicsSubResourceGetMappedArray(cudaArray_t* array, cudaGraphicsResource_t resource,
                                                  unsigned int arrayIndex, unsigned int mipLevel) {
    hipArray_t a = NULL;
    hipError_t e = hipGraphicsSubResourceGetMappedArray(array == NULL ? NULL : &a,
                                                        (hipGraphicsResource_t)(void*)resource, arrayIndex, mipLevel);
    if (e == hipSuccess) *array = (cudaArray_t)(void*)a;
    return tr(e);
}

cudaError_t cudaGraphicsUnregisterResource(cudaGraphicsResource_t resource) {
    return tr(hipGraphicsUnregisterResource((hipGraphicsResource_t)(void*)resource));
}

/* ------------------------------------------------------------------------------------------------ */
/* Texture and surface objects: CUDA's descriptors into HIP's; the handles are the HIP double's, as   */
/* 64-bit integers (cudaTextureObject_t, cudaSurfaceObject_t). CUDA's resource flags must be 0;        */
/* disableTrilinearOptimization and seamlessCubemap are not modelled (ignored).                        */

static int channel_desc(const struct cudaChannelFormatDesc* c, hipChannelFormatDesc* h) {
    int kind;
    if (VALUE_OF(c->f, k_channel_kinds, &kind) != 0) return -1;
    h->x = c->x;
    h->y = c->y;
    h->z = c->z;
    h->w = c->w;
    h->f = (enum hipChannelFormatKind)kind;
    return 0;
}

static int resource_desc(const struct cudaResourceDesc* c, hipResourceDesc* h) {
    int type;
    memset(h, 0, sizeof *h);
    if (c->flags != 0 || VALUE_OF(c->resType, k_resource_types, &type) != 0) return -1;
    h->resType = (enum hipResourceType)type;
    switch (c->resType) {
    case cudaResourceTypeArray:
        h->res.array.array = (hipArray_t)(void*)c->res.array.array;
        return 0;
    case cudaResourceTypeMipmappedArray:
        h->res.mipmap.mipmap = (hipMipmappedArray_t)(void*)c->res.mipmap.mipmap;
        return 0;
    case cudaResourceTypeLinear:
        h->res.linear.devPtr = c->res.linear.devPtr;
        h->res.linear.sizeInBytes = c->res.linear.sizeInBytes;
        return channel_desc(&c->res.linear.desc, &h->res.linear.desc);
    case cudaResourceTypePitch2D:
        h->res.pitch2D.devPtr = c->res.pitch2D.devPtr;
        h->res.pitch2D.width = c->res.pitch2D.width;
        h->res.pitch2D.height = c->res.pitch2D.height;
        h->res.pitch2D.pitchInBytes = c->res.pitch2D.pitchInBytes;
        return channel_desc(&c->res.pitch2D.desc, &h->res.pitch2D.desc);
    }
    return -1;
}

cudaError_t cudaCreateTextureObject(cudaTextureObject_t* pTexObject, const struct cudaResourceDesc* pResDesc,
                                    const struct cudaTextureDesc* pTexDesc,
                                    const struct cudaResourceViewDesc* pResViewDesc) {
    hipResourceDesc r;
    hipTextureDesc t;
    if (pResDesc != NULL && resource_desc(pResDesc, &r) != 0) return fail(cudaErrorInvalidValue);
    memset(&t, 0, sizeof t);
    if (pTexDesc != NULL) {
        int v[6];
        if (VALUE_OF(pTexDesc->addressMode[0], k_address_modes, &v[0]) != 0
            || VALUE_OF(pTexDesc->addressMode[1], k_address_modes, &v[1]) != 0
            || VALUE_OF(pTexDesc->addressMode[2], k_address_modes, &v[2]) != 0
            || VALUE_OF(pTexDesc->filterMode, k_filter_modes, &v[3]) != 0
            || VALUE_OF(pTexDesc->mipmapFilterMode, k_filter_modes, &v[4]) != 0
            || VALUE_OF(pTexDesc->readMode, k_read_modes, &v[5]) != 0)
            return fail(cudaErrorInvalidValue);
        for (int i = 0; i < 3; i++) t.addressMode[i] = (enum hipTextureAddressMode)v[i];
        t.filterMode = (enum hipTextureFilterMode)v[3];
        t.mipmapFilterMode = (enum hipTextureFilterMode)v[4];
        t.readMode = (enum hipTextureReadMode)v[5];
        t.sRGB = pTexDesc->sRGB;
        memcpy(t.borderColor, pTexDesc->borderColor, sizeof t.borderColor);
        t.normalizedCoords = pTexDesc->normalizedCoords;
        t.maxAnisotropy = pTexDesc->maxAnisotropy;
        t.mipmapLevelBias = pTexDesc->mipmapLevelBias;
        t.minMipmapLevelClamp = pTexDesc->minMipmapLevelClamp;
        t.maxMipmapLevelClamp = pTexDesc->maxMipmapLevelClamp;
    }
    if (pResViewDesc != NULL) return fail(cudaErrorNotSupported); /* not modelled, as in the HIP double */
    hipTextureObject_t h = NULL;
    hipError_t e = hipCreateTextureObject(pTexObject == NULL ? NULL : &h, pResDesc == NULL ? NULL : &r,
                                          pTexDesc == NULL ? NULL : &t, NULL);
    if (e == hipSuccess) *pTexObject = (cudaTextureObject_t)(uintptr_t)h;
    return tr(e);
}

cudaError_t cudaDestroyTextureObject(cudaTextureObject_t texObject) {
    return tr(hipDestroyTextureObject((hipTextureObject_t)(uintptr_t)texObject));
}

cudaError_t cudaCreateSurfaceObject(cudaSurfaceObject_t* pSurfObject, const struct cudaResourceDesc* pResDesc) {
    hipResourceDesc r;
    if (pResDesc != NULL && resource_desc(pResDesc, &r) != 0) return fail(cudaErrorInvalidValue);
    hipSurfaceObject_t h = NULL;
    hipError_t e = hipCreateSurfaceObject(pSurfObject == NULL ? NULL : &h, pResDesc == NULL ? NULL : &r);
    if (e == hipSuccess) *pSurfObject = (cudaSurfaceObject_t)(uintptr_t)h;
    return tr(e);
}

cudaError_t cudaDestroySurfaceObject(cudaSurfaceObject_t surfObject) {
    return tr(hipDestroySurfaceObject((hipSurfaceObject_t)(uintptr_t)surfObject));
}

/* IPC handles: CUDA's 64-byte handles carry the HIP double's bytes unchanged.                        */

cudaError_t cudaIpcGetMemHandle(cudaIpcMemHandle_t* handle, void* devPtr) {
    return tr(hipIpcGetMemHandle((hipIpcMemHandle_t*)(void*)handle, devPtr));
}

cudaError_t cudaIpcOpenMemHandle(void** devPtr, cudaIpcMemHandle_t handle, unsigned int flags) {
    if ((flags & ~(unsigned)cudaIpcMemLazyEnablePeerAccess) != 0) return fail(cudaErrorInvalidValue);
    hipIpcMemHandle_t h;
    memcpy(&h, &handle, sizeof h);
    return tr(hipIpcOpenMemHandle(devPtr, h, flags == 0 ? 0 : hipIpcMemLazyEnablePeerAccess));
}

cudaError_t cudaIpcCloseMemHandle(void* devPtr) {
    return tr(hipIpcCloseMemHandle(devPtr));
}

cudaError_t cudaIpcGetEventHandle(cudaIpcEventHandle_t* handle, cudaEvent_t event) {
    return tr(hipIpcGetEventHandle((hipIpcEventHandle_t*)(void*)handle, (hipEvent_t)(void*)event));
}

cudaError_t cudaIpcOpenEventHandle(cudaEvent_t* event, cudaIpcEventHandle_t handle) {
    hipIpcEventHandle_t h;
    memcpy(&h, &handle, sizeof h);
    return tr(hipIpcOpenEventHandle((hipEvent_t*)(void*)event, h));
}

/* ------------------------------------------------------------------------------------------------ */
/* The driver API's virtual memory management (libcuda's cuMem*), exported by this same library: on   */
/* the GPU, hip-ffm finds them in libcuda.so.1; under this double, in the loaded libcudart double.     */
/* CUresult values are cudaError_t values for every error these calls return here (1, 2, 101, 201,    */
/* 400, 801), so the same translation serves. The primary context needs no modelling.                 */

static CUresult cu_tr(hipError_t h) {
    return (CUresult)tr(h);
}

/* CUDA's allocation properties as HIP's; -1 for values HIP's double does not know. */
static int cu_prop(const CUmemAllocationProp* prop, hipMemAllocationProp* out) {
    if (prop == NULL) return -1;
    memset(out, 0, sizeof *out);
    if (prop->type != CU_MEM_ALLOCATION_TYPE_PINNED || prop->location.type != CU_MEM_LOCATION_TYPE_DEVICE) return -1;
    if (prop->requestedHandleTypes == CU_MEM_HANDLE_TYPE_NONE) out->requestedHandleType = hipMemHandleTypeNone;
    else if (prop->requestedHandleTypes == CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
        out->requestedHandleType = hipMemHandleTypePosixFileDescriptor;
    else return -1;
    out->type = hipMemAllocationTypePinned;
    out->location.type = hipMemLocationTypeDevice;
    out->location.id = prop->location.id;
    return 0;
}

CUresult cuGetErrorName(CUresult error, const char** pStr) {
    if (pStr == NULL) return CUDA_ERROR_INVALID_VALUE;
    *pStr = cudaGetErrorName((cudaError_t)error);
    return CUDA_SUCCESS;
}

CUresult cuGetErrorString(CUresult error, const char** pStr) {
    if (pStr == NULL) return CUDA_ERROR_INVALID_VALUE;
    *pStr = cudaGetErrorString((cudaError_t)error);
    return CUDA_SUCCESS;
}

CUresult cuMemGetAllocationGranularity(size_t* granularity, const CUmemAllocationProp* prop,
                                       CUmemAllocationGranularity_flags option) {
    hipMemAllocationProp p;
    if (cu_prop(prop, &p) != 0) return (CUresult)fail(cudaErrorInvalidValue);
    return cu_tr(hipMemGetAllocationGranularity(granularity, &p, option == CU_MEM_ALLOC_GRANULARITY_MINIMUM
                                                    ? hipMemAllocationGranularityMinimum
                                                    : hipMemAllocationGranularityRecommended));
}

CUresult cuMemCreate(CUmemGenericAllocationHandle* handle, size_t size, const CUmemAllocationProp* prop,
                     unsigned long long flags) {
    hipMemAllocationProp p;
    if (handle == NULL || cu_prop(prop, &p) != 0) return (CUresult)fail(cudaErrorInvalidValue);
    hipMemGenericAllocationHandle_t h;
    CUresult r = cu_tr(hipMemCreate(&h, size, &p, flags));
    if (r == CUDA_SUCCESS) *handle = (CUmemGenericAllocationHandle)(uintptr_t)h;
    return r;
}

CUresult cuMemRelease(CUmemGenericAllocationHandle handle) {
    return cu_tr(hipMemRelease((hipMemGenericAllocationHandle_t)(uintptr_t)handle));
}

CUresult cuMemExportToShareableHandle(void* shareableHandle, CUmemGenericAllocationHandle handle,
                                      CUmemAllocationHandleType handleType, unsigned long long flags) {
    if (handleType != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) return (CUresult)fail(cudaErrorInvalidValue);
    return cu_tr(hipMemExportToShareableHandle(shareableHandle, (hipMemGenericAllocationHandle_t)(uintptr_t)handle,
                                               hipMemHandleTypePosixFileDescriptor, flags));
}

CUresult cuMemImportFromShareableHandle(CUmemGenericAllocationHandle* handle, void* osHandle,
                                        CUmemAllocationHandleType shHandleType) {
    if (handle == NULL || shHandleType != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
        return (CUresult)fail(cudaErrorInvalidValue);
    hipMemGenericAllocationHandle_t h;
    CUresult r = cu_tr(hipMemImportFromShareableHandle(&h, osHandle, hipMemHandleTypePosixFileDescriptor));
    if (r == CUDA_SUCCESS) *handle = (CUmemGenericAllocationHandle)(uintptr_t)h;
    return r;
}

CUresult cuMemAddressReserve(CUdeviceptr* ptr, size_t size, size_t alignment, CUdeviceptr addr,
                             unsigned long long flags) {
    if (ptr == NULL) return (CUresult)fail(cudaErrorInvalidValue);
    void* p;
    CUresult r = cu_tr(hipMemAddressReserve(&p, size, alignment, (void*)(uintptr_t)addr, flags));
    if (r == CUDA_SUCCESS) *ptr = (CUdeviceptr)(uintptr_t)p;
    return r;
}

CUresult cuMemAddressFree(CUdeviceptr ptr, size_t size) {
    return cu_tr(hipMemAddressFree((void*)(uintptr_t)ptr, size));
}

CUresult cuMemMap(CUdeviceptr ptr, size_t size, size_t offset, CUmemGenericAllocationHandle handle,
                  unsigned long long flags) {
    return cu_tr(hipMemMap((void*)(uintptr_t)ptr, size, offset, (hipMemGenericAllocationHandle_t)(uintptr_t)handle,
                           flags));
}

CUresult cuMemUnmap(CUdeviceptr ptr, size_t size) {
    return cu_tr(hipMemUnmap((void*)(uintptr_t)ptr, size));
}

CUresult cuMemSetAccess(CUdeviceptr ptr, size_t size, const CUmemAccessDesc* desc, size_t count) {
    if (desc == NULL || count == 0 || count > 16) return (CUresult)fail(cudaErrorInvalidValue);
    hipMemAccessDesc d[16];
    for (size_t i = 0; i < count; i++) {
        if (desc[i].location.type != CU_MEM_LOCATION_TYPE_DEVICE) return (CUresult)fail(cudaErrorInvalidValue);
        d[i].location.type = hipMemLocationTypeDevice;
        d[i].location.id = desc[i].location.id;
        d[i].flags = desc[i].flags == CU_MEM_ACCESS_FLAGS_PROT_READWRITE ? hipMemAccessFlagsProtReadWrite
                     : desc[i].flags == CU_MEM_ACCESS_FLAGS_PROT_READ ? hipMemAccessFlagsProtRead
                                                                      : hipMemAccessFlagsProtNone;
    }
    return cu_tr(hipMemSetAccess((void*)(uintptr_t)ptr, size, d, count));
}
