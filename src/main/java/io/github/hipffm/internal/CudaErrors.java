package io.github.hipffm.internal;

import io.github.hipffm.HipError;
import io.github.hipffm.bindings.cuda.CudaRuntime;

import java.util.HashMap;
import java.util.Map;

/**
 * CUDA runtime error codes under their HIP names, as HIP's own NVIDIA platform reports them
 * ({@code hipCUDAErrorTohipError} in HIP's {@code nvidia_detail/nvidia_hip_runtime_api.h}), plus the CUDA codes
 * that HIP later gained under the same name (stream capture, graph update, ...). Anything else is
 * {@code hipErrorUnknown}, with the CUDA name kept in the exception message.
 */
final class CudaErrors {
    private static final Map<Integer, HipError> CUDA_TO_HIP = Map.ofEntries(
            Map.entry(CudaRuntime.cudaSuccess(), HipError.SUCCESS),
            Map.entry(CudaRuntime.cudaErrorProfilerDisabled(), HipError.PROFILER_DISABLED),
            Map.entry(CudaRuntime.cudaErrorProfilerNotInitialized(), HipError.PROFILER_NOT_INITIALIZED),
            Map.entry(CudaRuntime.cudaErrorProfilerAlreadyStarted(), HipError.PROFILER_ALREADY_STARTED),
            Map.entry(CudaRuntime.cudaErrorProfilerAlreadyStopped(), HipError.PROFILER_ALREADY_STOPPED),
            Map.entry(CudaRuntime.cudaErrorInsufficientDriver(), HipError.INSUFFICIENT_DRIVER),
            Map.entry(CudaRuntime.cudaErrorUnsupportedLimit(), HipError.UNSUPPORTED_LIMIT),
            Map.entry(CudaRuntime.cudaErrorPeerAccessUnsupported(), HipError.PEER_ACCESS_UNSUPPORTED),
            Map.entry(CudaRuntime.cudaErrorInvalidGraphicsContext(), HipError.INVALID_GRAPHICS_CONTEXT),
            Map.entry(CudaRuntime.cudaErrorSharedObjectSymbolNotFound(), HipError.SHARED_OBJECT_SYMBOL_NOT_FOUND),
            Map.entry(CudaRuntime.cudaErrorSharedObjectInitFailed(), HipError.SHARED_OBJECT_INIT_FAILED),
            Map.entry(CudaRuntime.cudaErrorOperatingSystem(), HipError.OPERATING_SYSTEM),
            Map.entry(CudaRuntime.cudaErrorSetOnActiveProcess(), HipError.SET_ON_ACTIVE_PROCESS),
            Map.entry(CudaRuntime.cudaErrorIllegalAddress(), HipError.ILLEGAL_ADDRESS),
            Map.entry(CudaRuntime.cudaErrorInvalidSymbol(), HipError.INVALID_SYMBOL),
            Map.entry(CudaRuntime.cudaErrorMissingConfiguration(), HipError.MISSING_CONFIGURATION),
            Map.entry(CudaRuntime.cudaErrorMemoryAllocation(), HipError.OUT_OF_MEMORY),
            Map.entry(CudaRuntime.cudaErrorInitializationError(), HipError.NOT_INITIALIZED),
            Map.entry(CudaRuntime.cudaErrorLaunchFailure(), HipError.LAUNCH_FAILURE),
            Map.entry(CudaRuntime.cudaErrorPriorLaunchFailure(), HipError.PRIOR_LAUNCH_FAILURE),
            Map.entry(CudaRuntime.cudaErrorLaunchOutOfResources(), HipError.LAUNCH_OUT_OF_RESOURCES),
            Map.entry(CudaRuntime.cudaErrorInvalidDeviceFunction(), HipError.INVALID_DEVICE_FUNCTION),
            Map.entry(CudaRuntime.cudaErrorInvalidConfiguration(), HipError.INVALID_CONFIGURATION),
            Map.entry(CudaRuntime.cudaErrorInvalidDevice(), HipError.INVALID_DEVICE),
            Map.entry(CudaRuntime.cudaErrorInvalidValue(), HipError.INVALID_VALUE),
            Map.entry(CudaRuntime.cudaErrorInvalidDevicePointer(), HipError.INVALID_DEVICE_POINTER),
            Map.entry(CudaRuntime.cudaErrorInvalidMemcpyDirection(), HipError.INVALID_MEMCPY_DIRECTION),
            Map.entry(CudaRuntime.cudaErrorInvalidResourceHandle(), HipError.INVALID_HANDLE),
            Map.entry(CudaRuntime.cudaErrorNotReady(), HipError.NOT_READY),
            Map.entry(CudaRuntime.cudaErrorNoDevice(), HipError.NO_DEVICE),
            Map.entry(CudaRuntime.cudaErrorPeerAccessAlreadyEnabled(), HipError.PEER_ACCESS_ALREADY_ENABLED),
            Map.entry(CudaRuntime.cudaErrorPeerAccessNotEnabled(), HipError.PEER_ACCESS_NOT_ENABLED),
            Map.entry(CudaRuntime.cudaErrorHostMemoryAlreadyRegistered(), HipError.HOST_MEMORY_ALREADY_REGISTERED),
            Map.entry(CudaRuntime.cudaErrorHostMemoryNotRegistered(), HipError.HOST_MEMORY_NOT_REGISTERED),
            Map.entry(CudaRuntime.cudaErrorMapBufferObjectFailed(), HipError.MAP_FAILED),
            Map.entry(CudaRuntime.cudaErrorAssert(), HipError.ASSERT),
            Map.entry(CudaRuntime.cudaErrorNotSupported(), HipError.NOT_SUPPORTED),
            Map.entry(CudaRuntime.cudaErrorCudartUnloading(), HipError.DEINITIALIZED),
            Map.entry(CudaRuntime.cudaErrorInvalidKernelImage(), HipError.INVALID_IMAGE),
            Map.entry(CudaRuntime.cudaErrorUnmapBufferObjectFailed(), HipError.UNMAP_FAILED),
            Map.entry(CudaRuntime.cudaErrorNoKernelImageForDevice(), HipError.NO_BINARY_FOR_GPU),
            Map.entry(CudaRuntime.cudaErrorECCUncorrectable(), HipError.ECC_NOT_CORRECTABLE),
            Map.entry(CudaRuntime.cudaErrorDeviceAlreadyInUse(), HipError.CONTEXT_ALREADY_IN_USE),
            Map.entry(CudaRuntime.cudaErrorInvalidPtx(), HipError.INVALID_KERNEL_FILE),
            Map.entry(CudaRuntime.cudaErrorLaunchTimeout(), HipError.LAUNCH_TIME_OUT),
            Map.entry(CudaRuntime.cudaErrorInvalidSource(), HipError.INVALID_SOURCE),
            Map.entry(CudaRuntime.cudaErrorFileNotFound(), HipError.FILE_NOT_FOUND),
            Map.entry(CudaRuntime.cudaErrorSymbolNotFound(), HipError.NOT_FOUND),
            Map.entry(CudaRuntime.cudaErrorArrayIsMapped(), HipError.ARRAY_IS_MAPPED),
            Map.entry(CudaRuntime.cudaErrorNotMappedAsPointer(), HipError.NOT_MAPPED_AS_POINTER),
            Map.entry(CudaRuntime.cudaErrorNotMappedAsArray(), HipError.NOT_MAPPED_AS_ARRAY),
            Map.entry(CudaRuntime.cudaErrorNotMapped(), HipError.NOT_MAPPED),
            Map.entry(CudaRuntime.cudaErrorAlreadyAcquired(), HipError.ALREADY_ACQUIRED),
            Map.entry(CudaRuntime.cudaErrorAlreadyMapped(), HipError.ALREADY_MAPPED),
            Map.entry(CudaRuntime.cudaErrorDeviceUninitialized(), HipError.INVALID_CONTEXT),
            Map.entry(CudaRuntime.cudaErrorUnknown(), HipError.UNKNOWN),
            Map.entry(CudaRuntime.cudaErrorCapturedEvent(), HipError.CAPTURED_EVENT),
            Map.entry(CudaRuntime.cudaErrorContextIsDestroyed(), HipError.CONTEXT_IS_DESTROYED),
            Map.entry(CudaRuntime.cudaErrorCooperativeLaunchTooLarge(), HipError.COOPERATIVE_LAUNCH_TOO_LARGE),
            Map.entry(CudaRuntime.cudaErrorGraphExecUpdateFailure(), HipError.GRAPH_EXEC_UPDATE_FAILURE),
            Map.entry(CudaRuntime.cudaErrorIllegalState(), HipError.ILLEGAL_STATE),
            Map.entry(CudaRuntime.cudaErrorInvalidChannelDescriptor(), HipError.INVALID_CHANNEL_DESCRIPTOR),
            Map.entry(CudaRuntime.cudaErrorInvalidPitchValue(), HipError.INVALID_PITCH_VALUE),
            Map.entry(CudaRuntime.cudaErrorInvalidTexture(), HipError.INVALID_TEXTURE),
            Map.entry(CudaRuntime.cudaErrorStreamCaptureImplicit(), HipError.STREAM_CAPTURE_IMPLICIT),
            Map.entry(CudaRuntime.cudaErrorStreamCaptureInvalidated(), HipError.STREAM_CAPTURE_INVALIDATED),
            Map.entry(CudaRuntime.cudaErrorStreamCaptureIsolation(), HipError.STREAM_CAPTURE_ISOLATION),
            Map.entry(CudaRuntime.cudaErrorStreamCaptureMerge(), HipError.STREAM_CAPTURE_MERGE),
            Map.entry(CudaRuntime.cudaErrorStreamCaptureUnjoined(), HipError.STREAM_CAPTURE_UNJOINED),
            Map.entry(CudaRuntime.cudaErrorStreamCaptureUnmatched(), HipError.STREAM_CAPTURE_UNMATCHED),
            Map.entry(CudaRuntime.cudaErrorStreamCaptureUnsupported(), HipError.STREAM_CAPTURE_UNSUPPORTED),
            Map.entry(CudaRuntime.cudaErrorStreamCaptureWrongThread(), HipError.STREAM_CAPTURE_WRONG_THREAD));

    /** HIP code to the CUDA code it came from, for {@code cudaGetErrorString}; first mapping wins. */
    private static final Map<Integer, Integer> HIP_TO_CUDA = new HashMap<>();

    static {
        CUDA_TO_HIP.forEach((cuda, hip) -> HIP_TO_CUDA.merge(hip.code(), cuda, Math::min));
    }

    private CudaErrors() {
    }

    /** {@return the HIP error for a {@code cudaError_t}} */
    static HipError toHip(int cudaCode) {
        return CUDA_TO_HIP.getOrDefault(cudaCode, HipError.UNKNOWN);
    }

    /** {@return the {@code cudaError_t} a HIP code stands for, or -1 when none does} */
    static int toCuda(int hipCode) {
        return HIP_TO_CUDA.getOrDefault(hipCode, -1);
    }
}
