package io.github.hipffm;

/**
 * A runtime or driver version, as the platform reports it.
 *
 * <p>HIP encodes {@code major * 10_000_000 + minor * 100_000 + patch}; CUDA encodes
 * {@code major * 1000 + minor * 10}.
 *
 * @param platform the platform that reported it
 * @param raw the integer the runtime returned
 * @param major major version
 * @param minor minor version
 * @param patch patch level (0 for CUDA)
 */
public record Version(Platform platform, int raw, int major, int minor, int patch) {

    /**
     * {@return the version decoded from a platform's raw integer}
     * @param platform which encoding {@code raw} uses
     * @param raw what {@code hipRuntimeGetVersion}/{@code cudaRuntimeGetVersion} (or the driver call) returned
     */
    public static Version decode(Platform platform, int raw) {
        return switch (platform) {
            case AMD -> new Version(platform, raw, raw / 10_000_000, raw / 100_000 % 100, raw % 100_000);
            case NVIDIA -> new Version(platform, raw, raw / 1000, raw % 1000 / 10, 0);
        };
    }

    @Override
    public String toString() {
        return platform == Platform.AMD ? major + "." + minor + "." + patch : major + "." + minor;
    }
}
