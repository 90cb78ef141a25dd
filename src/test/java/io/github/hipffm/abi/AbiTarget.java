package io.github.hipffm.abi;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One generated binding set ({@code hip}, {@code hiprtc}, {@code cuda} or {@code cudadrv}) and the C inputs it was generated from:
 * the configuration under {@code jextract-config/<name>/} and the pinned headers.
 *
 * @param name        the target, which is also the name of its {@code jextract-config} directory
 * @param header      the header jextract was run on ({@code header.h})
 * @param includeDir  the directory the header's {@code #include}s resolve against
 * @param macros      the {@code --define-macro} values of {@code args}, as gcc {@code -D} flags
 * @param packageName the package of the generated classes ({@code --target-package})
 * @param headerClass the simple name of the generated header class ({@code --header-class-name})
 * @param includes    the curated include list ({@code includes.txt})
 */
record AbiTarget(String name, Path header, Path includeDir, List<String> macros, String packageName,
                 String headerClass, IncludeList includes) {

    /** The project directory: Surefire sets {@code hipffm.projectDir}; an IDE run falls back to the working directory. */
    static Path projectDir() {
        return Path.of(System.getProperty("hipffm.projectDir", System.getProperty("user.dir")));
    }

    /** Maven's build directory, where the C probes are written. */
    static Path buildDir() {
        return projectDir().resolve(System.getProperty("hipffm.buildDir", "target"));
    }

    /**
     * Loads the target {@code name} against the pinned headers it was generated from (HIP: {@link HipPin#BINDINGS});
     * fails if those are not in place.
     */
    static AbiTarget load(String name) throws IOException {
        Path includeDir = name.equals("cuda") || name.equals("cudadrv") ? PinnedHeaders.cudaIncludeDir()
                : PinnedHeaders.hip(HipPin.BINDINGS).includeDir();
        return load(name, includeDir);
    }

    /** Loads the target {@code name} against the headers in {@code includeDir}. */
    static AbiTarget load(String name, Path includeDir) throws IOException {
        Path config = projectDir().resolve("jextract-config").resolve(name);
        List<String> macros = new ArrayList<>();
        String packageName = null;
        String headerClass = null;
        List<String> words = List.of(Files.readString(config.resolve("args")).strip().split("\\s+"));
        for (int i = 0; i + 1 < words.size(); i += 2) {
            String value = words.get(i + 1);
            switch (words.get(i)) {
                case "--define-macro", "-D" -> macros.add("-D" + value);
                case "--target-package", "-t" -> packageName = value;
                case "--header-class-name" -> headerClass = value;
                default -> throw new IllegalArgumentException(config.resolve("args") + ": unsupported option '"
                        + words.get(i) + "'");
            }
        }
        if (packageName == null || headerClass == null) {
            throw new IllegalArgumentException(config.resolve("args")
                    + " must name --target-package and --header-class-name");
        }
        return new AbiTarget(name, config.resolve("header.h"), includeDir, List.copyOf(macros), packageName,
                headerClass, IncludeList.read(config.resolve("includes.txt")));
    }

    AbiTarget withIncludeDir(Path dir) {
        return new AbiTarget(name, header, dir, macros, packageName, headerClass, includes);
    }

    /**
     * One pinned set of HIP headers of {@code jextract-config/versions.env}: the keys {@code ROCM<infix>_VERSION} and
     * {@code HIP<infix>_DEV_*}, unpacked by {@code scripts/fetch-headers} into {@code .cache/headers/rocm-<version>/}.
     *
     * @param infix          the infix of its keys: {@code ""} for {@link #BINDINGS}, {@code "7"} for {@link #ROCM7}
     * @param rocmVersion    the ROCm release, e.g. {@code 7.2.4}
     * @param packageVersion the Debian package and version, e.g. {@code libamdhip64-dev 7.2.4-1~exp2}
     * @param includeDir     where its headers are
     */
    record HipPin(String infix, String rocmVersion, String packageVersion, Path includeDir) {

        /** The infix of the pin the bindings were generated from (ROCm 6.4.3). */
        static final String BINDINGS = "";
        /** The infix of the second pin, a ROCm 7 release the same bindings are checked against. */
        static final String ROCM7 = "7";

        /** For test names and messages, e.g. {@code ROCm 7.2.4 headers (libamdhip64-dev 7.2.4-1~exp2)}. */
        String label() {
            return "ROCm " + rocmVersion + " headers (" + packageVersion + ")";
        }
    }

    /** Locates the pinned headers of {@code jextract-config/versions.env}, failing with a remedy when they are absent. */
    static final class PinnedHeaders {

        private PinnedHeaders() {
        }

        /**
         * The HIP headers of the pin with the key infix {@code infix} ({@link HipPin#BINDINGS} or
         * {@link HipPin#ROCM7}), which {@code scripts/fetch-headers} unpacks into
         * {@code .cache/headers/rocm-<version>/}; the SHA-256 stamp it writes must name the pinned package.
         */
        static HipPin hip(String infix) throws IOException {
            Map<String, String> pins = versions();
            String key = "HIP" + infix + "_DEV";
            String rocmVersion = pins.get("ROCM" + infix + "_VERSION");
            String sha256 = pins.get(key + "_SHA256");
            if (rocmVersion == null || sha256 == null) {
                fail("jextract-config/versions.env has no ROCM" + infix + "_VERSION or " + key + "_SHA256");
            }
            String packageVersion = pins.get(key + "_PACKAGE") + " " + pins.get(key + "_VERSION");
            Path root = projectDir().resolve(".cache/headers/rocm-" + rocmVersion);
            Path includeDir = root.resolve("usr/include");
            Path stamp = root.resolve(".sha256");
            boolean present = Files.isRegularFile(includeDir.resolve("hip/hip_runtime_api.h"))
                    && Files.isRegularFile(stamp)
                    && Files.readString(stamp).strip().equals(sha256);
            if (!present) {
                fail("pinned HIP headers (" + packageVersion + ") not found at " + includeDir
                        + ": run scripts/fetch-headers");
            }
            return new HipPin(infix, rocmVersion, packageVersion, includeDir);
        }

        /** The CUDA runtime headers at {@code $CUDA_HOME} (default {@code /usr/local/cuda}), of the pinned version. */
        static Path cudaIncludeDir() throws IOException {
            String pinned = versions().get("CUDART_VERSION");
            String cudaHome = Optional.ofNullable(System.getenv("CUDA_HOME")).orElse("/usr/local/cuda");
            Path includeDir = Path.of(cudaHome, "include");
            Path api = includeDir.resolve("cuda_runtime_api.h");
            if (!Files.isRegularFile(api)) {
                fail("CUDA runtime headers not found at " + api + ": set CUDA_HOME to a CUDA toolkit with CUDART_VERSION "
                        + pinned);
            }
            Matcher version = Pattern.compile("#define\\s+CUDART_VERSION\\s+(\\d+)").matcher(Files.readString(api));
            String found = version.find() ? version.group(1) : "unknown";
            if (!found.equals(pinned)) {
                fail(api + " is CUDART_VERSION " + found + ", the bindings are pinned to " + pinned
                        + ": set CUDA_HOME to the pinned toolkit");
            }
            return includeDir;
        }

        /** The {@code KEY=VALUE} lines of {@code jextract-config/versions.env}. */
        private static Map<String, String> versions() throws IOException {
            Map<String, String> pins = new HashMap<>();
            for (String line : Files.readAllLines(projectDir().resolve("jextract-config/versions.env"))) {
                int eq = line.indexOf('=');
                if (!line.startsWith("#") && eq > 0) {
                    pins.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip().replace("\"", ""));
                }
            }
            return pins;
        }
    }
}
