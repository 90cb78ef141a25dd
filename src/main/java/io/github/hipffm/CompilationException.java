package io.github.hipffm;

/**
 * Runtime compilation (hiprtc on AMD, NVRTC on NVIDIA) failed. The message starts with what failed and carries
 * the compiler's full log; {@link #log()} gives the log alone.
 */
public final class CompilationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String program;
    private final String result;
    private final String log;

    /**
     * Creates the exception.
     *
     * @param call the compiler call that failed, e.g. {@code hiprtcCompileProgram}
     * @param program the program's name
     * @param result the compiler's result name, e.g. {@code HIPRTC_ERROR_COMPILATION}
     * @param log the compiler's log
     */
    public CompilationException(String call, String program, String result, String log) {
        this(call, program, result, log, null);
    }

    /**
     * Creates the exception with a hint, after the result in the message, about what the caller most likely has
     * to change (e.g. which option to pass).
     *
     * @param call the compiler call that failed, e.g. {@code hiprtcCompileProgram}
     * @param program the program's name
     * @param result the compiler's result name, e.g. {@code HIPRTC_ERROR_COMPILATION}
     * @param log the compiler's log
     * @param hint one sentence, or {@code null} for none
     */
    public CompilationException(String call, String program, String result, String log, String hint) {
        super(call + " failed for " + program + ": " + result + (hint == null ? "" : " (" + hint + ")")
                + (log.isBlank() ? "" : "\n" + log.strip()));
        this.program = program;
        this.result = result;
        this.log = log;
    }

    /** {@return the program's name} */
    public String program() {
        return program;
    }

    /** {@return the compiler's result name} */
    public String result() {
        return result;
    }

    /** {@return the compiler's full log} */
    public String log() {
        return log;
    }
}
