package io.github.hipffm;

import java.util.Optional;

/**
 * A HIP runtime call returned an error.
 *
 * <p>Carries the {@link HipError} (name and code), the runtime's description, and the name of the HIP call that
 * failed. On the NVIDIA platform the error is reported under its HIP name and code, and {@link #platformName()}
 * keeps the CUDA name ({@code cudaErrorNoDevice}, ...).
 *
 * {@snippet :
 * try {
 *     Hip.deviceCount();
 * } catch (HipException e) {
 *     if (e.error() == HipError.NO_DEVICE) System.out.println("no GPU: " + e.getMessage());
 * }
 * }
 */
public class HipException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final HipError error;
    private final int code;
    private final String call;
    private final String platformName;

    /**
     * Creates an exception for a failed call.
     *
     * @param code the {@code hipError_t} value the call returned (after translation from CUDA on NVIDIA)
     * @param call the HIP function that failed, e.g. {@code "hipImportExternalMemory"}
     * @param description the runtime's description of the error
     * @param platformName the platform's own name for the error when it differs from the HIP one (the CUDA
     *     name on NVIDIA), or {@code null}
     */
    public HipException(int code, String call, String description, String platformName) {
        super(message(code, call, description, platformName));
        this.code = code;
        this.error = HipError.ofCode(code).orElse(HipError.UNKNOWN);
        this.call = call;
        this.platformName = platformName;
    }

    /**
     * Creates an exception for an error detected before or instead of a native call, with a message of its own.
     *
     * @param error the error to report
     * @param call the HIP function that was (or would have been) called
     * @param message what went wrong
     */
    public HipException(HipError error, String call, String message) {
        super(call + " failed: " + error.hipName() + " (" + error.code() + "): " + message);
        this.code = error.code();
        this.error = error;
        this.call = call;
        this.platformName = null;
    }

    /**
     * The same failure with a hint appended to the message (what the caller most likely has to change).
     *
     * @param failure the exception from the runtime
     * @param hint one sentence
     */
    HipException(HipException failure, String hint) {
        super(failure.getMessage() + " (" + hint + ")", failure);
        this.code = failure.code;
        this.error = failure.error;
        this.call = failure.call;
        this.platformName = failure.platformName;
    }

    /** Fills in the stack trace without hip-ffm's internal frames at the top (see {@link #trimInternalFrames}). */
    @Override
    public synchronized Throwable fillInStackTrace() {
        super.fillInStackTrace();
        trimInternalFrames(this);
        return this;
    }

    /**
     * Drops the frames of hip-ffm's internal and generated classes from the top of the stack trace, so that
     * the trace (and what jshell prints) starts at the API call the user made. {@code -Dhipffm.fullStackTraces=true}
     * keeps every frame.
     */
    static void trimInternalFrames(Throwable t) {
        if (Boolean.getBoolean("hipffm.fullStackTraces")) {
            return;
        }
        StackTraceElement[] frames = t.getStackTrace();
        int first = 0;
        while (first < frames.length - 1 && (frames[first].getClassName().startsWith("io.github.hipffm.internal.")
                || frames[first].getClassName().startsWith("io.github.hipffm.bindings."))) {
            first++;
        }
        if (first > 0) {
            t.setStackTrace(java.util.Arrays.copyOfRange(frames, first, frames.length));
        }
    }

    private static String message(int code, String call, String description, String platformName) {
        String name = HipError.ofCode(code).map(HipError::hipName).orElse("unknown hipError_t");
        String platform = platformName == null || platformName.equals(name) ? "" : " [" + platformName + "]";
        return call + " failed: " + name + " (" + code + ")" + platform + ": " + description;
    }

    /** {@return the error; {@link HipError#UNKNOWN} when the code is none of the pinned headers' codes} */
    public HipError error() {
        return error;
    }

    /** {@return the raw {@code hipError_t} value, which may be a code newer than the pinned headers} */
    public int code() {
        return code;
    }

    /** {@return the HIP function that failed} */
    public String call() {
        return call;
    }

    /** {@return the platform's own name of the error (the CUDA name on NVIDIA), when it differs} */
    public Optional<String> platformName() {
        return Optional.ofNullable(platformName);
    }
}
