package io.github.hipffm;

import java.util.List;

/**
 * No HIP runtime could be loaded: neither the AMD runtime ({@code libamdhip64}) nor, for the NVIDIA platform,
 * the CUDA runtime ({@code libcudart}).
 *
 * <p>The message lists every place that was tried and why it did not work (not there, wrong version, a dynamic
 * linker error such as a missing dependency), so the fix is usually visible at a glance. {@link #attempts()}
 * gives the same list.
 */
public final class HipUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient List<String> attempts;

    /**
     * Creates the exception.
     *
     * @param summary one line saying what was looked for
     * @param attempts one line for each place tried, saying why it did not work
     */
    public HipUnavailableException(String summary, List<String> attempts) {
        super(summary + (attempts.isEmpty() ? "" : "\n  tried:\n    " + String.join("\n    ", attempts)));
        this.attempts = List.copyOf(attempts);
    }

    /** {@return each place tried, with why it did not work} */
    public List<String> attempts() {
        return attempts;
    }
}
