package io.github.hipffm;

import io.github.hipffm.internal.Runtimes;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Every {@code hipError_t} of the pinned HIP headers (ROCm 6.4.3), with its HIP name and code.
 *
 * <p>On the NVIDIA platform CUDA error codes are translated to these values the way HIP's own NVIDIA mapping
 * ({@code hipCUDAErrorTohipError}) does, and the {@link HipException} keeps the CUDA name in its message.
 * Four deprecated HIP names share a code with a current one ({@code hipErrorMemoryAllocation} is
 * {@code hipErrorOutOfMemory}, for example): they are listed by {@link #aliases()}.
 *
 * <p>A test compares this enum with every {@code hipError*} constant of the generated bindings, so a header
 * upgrade that adds a code fails the build until the code is added here.
 */
public enum HipError {
    SUCCESS("hipSuccess", 0),
    INVALID_VALUE("hipErrorInvalidValue", 1),
    OUT_OF_MEMORY("hipErrorOutOfMemory", 2, "hipErrorMemoryAllocation"),
    NOT_INITIALIZED("hipErrorNotInitialized", 3, "hipErrorInitializationError"),
    DEINITIALIZED("hipErrorDeinitialized", 4),
    PROFILER_DISABLED("hipErrorProfilerDisabled", 5),
    PROFILER_NOT_INITIALIZED("hipErrorProfilerNotInitialized", 6),
    PROFILER_ALREADY_STARTED("hipErrorProfilerAlreadyStarted", 7),
    PROFILER_ALREADY_STOPPED("hipErrorProfilerAlreadyStopped", 8),
    INVALID_CONFIGURATION("hipErrorInvalidConfiguration", 9),
    INVALID_PITCH_VALUE("hipErrorInvalidPitchValue", 12),
    INVALID_SYMBOL("hipErrorInvalidSymbol", 13),
    INVALID_DEVICE_POINTER("hipErrorInvalidDevicePointer", 17),
    INVALID_MEMCPY_DIRECTION("hipErrorInvalidMemcpyDirection", 21),
    INSUFFICIENT_DRIVER("hipErrorInsufficientDriver", 35),
    MISSING_CONFIGURATION("hipErrorMissingConfiguration", 52),
    PRIOR_LAUNCH_FAILURE("hipErrorPriorLaunchFailure", 53),
    INVALID_DEVICE_FUNCTION("hipErrorInvalidDeviceFunction", 98),
    NO_DEVICE("hipErrorNoDevice", 100),
    INVALID_DEVICE("hipErrorInvalidDevice", 101),
    INVALID_IMAGE("hipErrorInvalidImage", 200),
    INVALID_CONTEXT("hipErrorInvalidContext", 201),
    CONTEXT_ALREADY_CURRENT("hipErrorContextAlreadyCurrent", 202),
    MAP_FAILED("hipErrorMapFailed", 205, "hipErrorMapBufferObjectFailed"),
    UNMAP_FAILED("hipErrorUnmapFailed", 206),
    ARRAY_IS_MAPPED("hipErrorArrayIsMapped", 207),
    ALREADY_MAPPED("hipErrorAlreadyMapped", 208),
    NO_BINARY_FOR_GPU("hipErrorNoBinaryForGpu", 209),
    ALREADY_ACQUIRED("hipErrorAlreadyAcquired", 210),
    NOT_MAPPED("hipErrorNotMapped", 211),
    NOT_MAPPED_AS_ARRAY("hipErrorNotMappedAsArray", 212),
    NOT_MAPPED_AS_POINTER("hipErrorNotMappedAsPointer", 213),
    ECC_NOT_CORRECTABLE("hipErrorECCNotCorrectable", 214),
    UNSUPPORTED_LIMIT("hipErrorUnsupportedLimit", 215),
    CONTEXT_ALREADY_IN_USE("hipErrorContextAlreadyInUse", 216),
    PEER_ACCESS_UNSUPPORTED("hipErrorPeerAccessUnsupported", 217),
    INVALID_KERNEL_FILE("hipErrorInvalidKernelFile", 218),
    INVALID_GRAPHICS_CONTEXT("hipErrorInvalidGraphicsContext", 219),
    INVALID_SOURCE("hipErrorInvalidSource", 300),
    FILE_NOT_FOUND("hipErrorFileNotFound", 301),
    SHARED_OBJECT_SYMBOL_NOT_FOUND("hipErrorSharedObjectSymbolNotFound", 302),
    SHARED_OBJECT_INIT_FAILED("hipErrorSharedObjectInitFailed", 303),
    OPERATING_SYSTEM("hipErrorOperatingSystem", 304),
    INVALID_HANDLE("hipErrorInvalidHandle", 400, "hipErrorInvalidResourceHandle"),
    ILLEGAL_STATE("hipErrorIllegalState", 401),
    NOT_FOUND("hipErrorNotFound", 500),
    NOT_READY("hipErrorNotReady", 600),
    ILLEGAL_ADDRESS("hipErrorIllegalAddress", 700),
    LAUNCH_OUT_OF_RESOURCES("hipErrorLaunchOutOfResources", 701),
    LAUNCH_TIME_OUT("hipErrorLaunchTimeOut", 702),
    PEER_ACCESS_ALREADY_ENABLED("hipErrorPeerAccessAlreadyEnabled", 704),
    PEER_ACCESS_NOT_ENABLED("hipErrorPeerAccessNotEnabled", 705),
    SET_ON_ACTIVE_PROCESS("hipErrorSetOnActiveProcess", 708),
    CONTEXT_IS_DESTROYED("hipErrorContextIsDestroyed", 709),
    ASSERT("hipErrorAssert", 710),
    HOST_MEMORY_ALREADY_REGISTERED("hipErrorHostMemoryAlreadyRegistered", 712),
    HOST_MEMORY_NOT_REGISTERED("hipErrorHostMemoryNotRegistered", 713),
    LAUNCH_FAILURE("hipErrorLaunchFailure", 719),
    COOPERATIVE_LAUNCH_TOO_LARGE("hipErrorCooperativeLaunchTooLarge", 720),
    NOT_SUPPORTED("hipErrorNotSupported", 801),
    STREAM_CAPTURE_UNSUPPORTED("hipErrorStreamCaptureUnsupported", 900),
    STREAM_CAPTURE_INVALIDATED("hipErrorStreamCaptureInvalidated", 901),
    STREAM_CAPTURE_MERGE("hipErrorStreamCaptureMerge", 902),
    STREAM_CAPTURE_UNMATCHED("hipErrorStreamCaptureUnmatched", 903),
    STREAM_CAPTURE_UNJOINED("hipErrorStreamCaptureUnjoined", 904),
    STREAM_CAPTURE_ISOLATION("hipErrorStreamCaptureIsolation", 905),
    STREAM_CAPTURE_IMPLICIT("hipErrorStreamCaptureImplicit", 906),
    CAPTURED_EVENT("hipErrorCapturedEvent", 907),
    STREAM_CAPTURE_WRONG_THREAD("hipErrorStreamCaptureWrongThread", 908),
    GRAPH_EXEC_UPDATE_FAILURE("hipErrorGraphExecUpdateFailure", 910),
    INVALID_CHANNEL_DESCRIPTOR("hipErrorInvalidChannelDescriptor", 911),
    INVALID_TEXTURE("hipErrorInvalidTexture", 912),
    UNKNOWN("hipErrorUnknown", 999),
    RUNTIME_MEMORY("hipErrorRuntimeMemory", 1052),
    RUNTIME_OTHER("hipErrorRuntimeOther", 1053),
    TBD("hipErrorTbd", 1054);

    private static final Map<Integer, HipError> BY_CODE =
            Stream.of(values()).collect(Collectors.toUnmodifiableMap(HipError::code, Function.identity()));
    private static final Map<String, HipError> BY_NAME = Stream.of(values())
            .flatMap(e -> Stream.concat(Stream.of(e.hipName), e.aliases.stream()).map(n -> Map.entry(n, e)))
            .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, Map.Entry::getValue));

    private final String hipName;
    private final int code;
    private final List<String> aliases;

    HipError(String hipName, int code, String... aliases) {
        this.hipName = hipName;
        this.code = code;
        this.aliases = List.of(aliases);
    }

    /** {@return the C name, e.g. {@code hipErrorNoDevice}} */
    public String hipName() {
        return hipName;
    }

    /** {@return the numeric {@code hipError_t} value} */
    public int code() {
        return code;
    }

    /** {@return deprecated C names with the same code, usually empty} */
    public List<String> aliases() {
        return aliases;
    }

    /**
     * {@return the runtime's description of this error ({@code hipGetErrorString}, or on NVIDIA
     * {@code cudaGetErrorString} of the matching CUDA code)} When no runtime has been loaded yet, this does
     * not load one and returns the HIP name.
     */
    public String description() {
        var backend = Runtimes.loadedOrNull();
        if (backend == null) {
            return hipName;
        }
        Description d = description;            // racy but safe: a record of final fields, recomputed if lost
        if (d == null || d.backend != backend) {
            d = new Description(backend, backend.errorString(code));
            description = d;
        }
        return d.text;
    }

    /** The runtime's text for this error, kept with the runtime it came from. */
    private record Description(io.github.hipffm.internal.Backend backend, String text) {
    }

    private Description description;

    /**
     * {@return the error with this {@code hipError_t} code, if it is one of the pinned headers' codes}
     * @param code a {@code hipError_t} value
     */
    public static Optional<HipError> ofCode(int code) {
        return Optional.ofNullable(BY_CODE.get(code));
    }

    /**
     * {@return the error with this C name (current or deprecated alias)}
     * @param hipName e.g. {@code "hipErrorInvalidValue"}
     */
    public static Optional<HipError> ofName(String hipName) {
        return Optional.ofNullable(BY_NAME.get(hipName));
    }

    @Override
    public String toString() {
        return hipName + " (" + code + ")";
    }
}
