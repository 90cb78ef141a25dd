package io.github.hipffm.internal;

import io.github.hipffm.Platform;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Where each platform's runtime library may live, in search order. Pure: reads only the environment map it is
 * given and the file system, so tests can drive it.
 */
public final class LibraryLocator {
    private static final List<String> SYSTEM_DIRS = List.of(
            "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/usr/local/lib");

    private LibraryLocator() {
    }

    /**
     * {@return the file names of a platform's runtime, preferred first}
     * @param platform the platform
     */
    public static List<String> fileNames(Platform platform) {
        return switch (platform) {
            case AMD -> List.of("libamdhip64.so", "libamdhip64.so.7", "libamdhip64.so.6", "libamdhip64.so.5");
            case NVIDIA -> List.of("libcudart.so.13", "libcudart.so.12");
        };
    }

    /**
     * {@return the directories to search for a platform's runtime, in order, without duplicates}
     * @param platform the platform
     * @param env the environment ({@code HIP_PATH}, {@code ROCM_PATH}, {@code CUDA_PATH}, {@code CUDA_HOME},
     *     {@code LD_LIBRARY_PATH} are read)
     */
    public static List<Path> searchDirs(Platform platform, Map<String, String> env) {
        Set<Path> dirs = new LinkedHashSet<>();
        switch (platform) {
            case AMD -> {
                for (String var : List.of("HIP_PATH", "ROCM_PATH")) {
                    String v = env.get(var);
                    if (v != null && !v.isBlank()) {
                        dirs.add(Path.of(v, "lib"));
                    }
                }
                dirs.add(Path.of("/opt/rocm/lib"));
                dirs.addAll(versionedDirs(Path.of("/opt"), "rocm-", "lib"));
            }
            case NVIDIA -> {
                for (String var : List.of("CUDA_PATH", "CUDA_HOME")) {
                    String v = env.get(var);
                    if (v != null && !v.isBlank()) {
                        dirs.add(Path.of(v, "lib64"));
                        dirs.add(Path.of(v, "targets", "x86_64-linux", "lib"));
                    }
                }
                dirs.add(Path.of("/usr/local/cuda/lib64"));
                dirs.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
                dirs.addAll(versionedDirs(Path.of("/usr/local"), "cuda-", "lib64"));
                dirs.addAll(versionedDirs(Path.of("/usr/local"), "cuda-", "targets/x86_64-linux/lib"));
            }
        }
        String ld = env.get("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String d : ld.split(":")) {
                if (!d.isBlank()) {
                    dirs.add(Path.of(d));
                }
            }
        }
        SYSTEM_DIRS.forEach(d -> dirs.add(Path.of(d)));
        return List.copyOf(dirs);
    }

    /** {@code parent/prefix*}{@code /sub}, newest version first. */
    private static List<Path> versionedDirs(Path parent, String prefix, String sub) {
        if (!Files.isDirectory(parent)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(parent)) {
            List<Path> found = new ArrayList<>();
            s.filter(p -> p.getFileName().toString().startsWith(prefix))
                    .sorted(Comparator.comparing((Path p) -> p.getFileName().toString(), LibraryLocator::compareVersions)
                            .reversed())
                    .forEach(p -> found.add(p.resolve(sub)));
            return found;
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Compares dotted version strings numerically where they are numbers ({@code cuda-13.0 > cuda-12.9}). */
    static int compareVersions(String a, String b) {
        String[] x = a.split("[.-]");
        String[] y = b.split("[.-]");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            int c;
            if (x[i].matches("\\d+") && y[i].matches("\\d+")) {
                c = Long.compare(Long.parseLong(x[i]), Long.parseLong(y[i]));
            } else {
                c = x[i].compareTo(y[i]);
            }
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(x.length, y.length);
    }
}
