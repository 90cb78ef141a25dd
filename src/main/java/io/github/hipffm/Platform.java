package io.github.hipffm;

/**
 * The two platforms HIP runs on.
 *
 * <p>The platform is chosen once per JVM: the system property {@code hipffm.platform} or the environment
 * variable {@code HIP_PLATFORM} ({@code amd} or {@code nvidia}) if set; else auto-detection: the first runtime
 * that loads and reports a device, trying AMD then NVIDIA (so a ROCm library installed on an NVIDIA machine does
 * not win), or, when none reports a device, the first that loads. The Java API is the same on both.
 */
public enum Platform {
    /** AMD GPUs through the ROCm HIP runtime, {@code libamdhip64}. */
    AMD("amd"),
    /** NVIDIA GPUs through the CUDA runtime, {@code libcudart}; errors are reported under their HIP names. */
    NVIDIA("nvidia");

    private final String id;

    Platform(String id) {
        this.id = id;
    }

    /** {@return the {@code HIP_PLATFORM} spelling: {@code amd} or {@code nvidia}} */
    public String id() {
        return id;
    }

    /**
     * {@return the platform named by a {@code HIP_PLATFORM} value}
     * @param id {@code amd} or {@code nvidia} (case-insensitive; {@code hcc} and {@code nvcc}, HIP's legacy
     *     spellings, are accepted too)
     * @throws IllegalArgumentException for any other value
     */
    public static Platform ofId(String id) {
        return switch (id.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "amd", "hcc" -> AMD;
            case "nvidia", "nvcc" -> NVIDIA;
            default -> throw new IllegalArgumentException(
                    "HIP_PLATFORM='" + id + "' is not a platform: use 'amd' or 'nvidia'");
        };
    }
}
