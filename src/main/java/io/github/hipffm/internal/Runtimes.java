package io.github.hipffm.internal;

import io.github.hipffm.HipUnavailableException;
import io.github.hipffm.Platform;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Finds, loads and keeps the runtime of each platform, and the one this JVM uses.
 *
 * <p>Selection: the system property {@code hipffm.platform} or the environment variable {@code HIP_PLATFORM}
 * names the platform; otherwise the first runtime that loads and reports a device is used, trying AMD first,
 * then NVIDIA; when none reports a device, the first that loads. The system property {@code hipffm.library} (or
 * {@code HIPFFM_LIBRARY}) names one library file to load instead of searching; it is how the tests load the
 * test runtime. A library is loaded with {@link System#load}, so the generated bindings, which look symbols up
 * in their class loader, find it.
 *
 * <p>Nothing here throws {@link UnsatisfiedLinkError} or fails in a static initialiser: every failure becomes
 * a {@link HipUnavailableException} listing what was tried.
 */
public final class Runtimes {
    private static final Map<Platform, Backend> LOADED = new EnumMap<>(Platform.class);
    private static volatile Backend current;

    private Runtimes() {
    }

    /**
     * {@return the runtime this JVM uses, loading it on first use}
     * @throws HipUnavailableException when no runtime can be loaded
     * @throws IllegalArgumentException when {@code HIP_PLATFORM} names no platform
     */
    public static Backend current() {
        Backend b = current;
        if (b != null) {
            return b;
        }
        synchronized (Runtimes.class) {
            if (current == null) {
                Map<String, String> env = System.getenv();
                current = select(System.getProperty("hipffm.platform", env.get("HIP_PLATFORM")),
                        System.getProperty("hipffm.library", env.get("HIPFFM_LIBRARY")), env);
            }
            return current;
        }
    }

    /** {@return the runtime this JVM uses if it is loaded already, else {@code null}; never loads} */
    public static Backend loadedOrNull() {
        return current;
    }

    /**
     * {@return the runtime of one platform, loading it if needed} Tests use it to reach both platforms in one
     * JVM; applications should use {@link #current()}.
     * @param platform the platform
     * @throws HipUnavailableException when it cannot be loaded
     */
    public static synchronized Backend load(Platform platform) {
        Backend b = LOADED.get(platform);
        if (b == null) {
            List<String> attempts = new ArrayList<>();
            b = tryLoad(platform, System.getenv(), attempts);
            if (b == null) {
                throw unavailable("no " + describe(platform) + " could be loaded", attempts);
            }
        }
        return b;
    }

    /**
     * Chooses and loads a runtime.
     *
     * @param named the platform asked for ({@code HIP_PLATFORM}), or null/blank for auto-detection
     * @param explicit a library file to load instead of searching, or null/blank
     * @param env the environment, for the search directories
     */
    static Backend select(String named, String explicit, Map<String, String> env) {
        if (explicit != null && !explicit.isBlank()) {
            Platform p = named == null || named.isBlank() ? Platform.AMD : Platform.ofId(named);
            return loadExplicit(p, Path.of(explicit));
        }
        List<Platform> order = named == null || named.isBlank()
                ? List.of(Platform.AMD, Platform.NVIDIA)
                : List.of(Platform.ofId(named));
        List<String> attempts = new ArrayList<>();
        Backend firstLoaded = null;
        for (Platform p : order) {
            Backend b = tryLoad(p, env, attempts);
            if (b == null) {
                continue;
            }
            if (order.size() == 1 || hasDevice(b)) {
                return b;
            }
            // Auto-detection: a runtime without a device (ROCm installed on an NVIDIA machine, say) yields
            // to a later one that has a device; if none has, the first that loaded is used.
            attempts.add(b.library() + ": loaded, but reports no device");
            if (firstLoaded == null) {
                firstLoaded = b;
            }
        }
        if (firstLoaded != null) {
            return firstLoaded;
        }
        String what = order.size() == 1
                ? describe(order.get(0)) + " (HIP_PLATFORM=" + named + ")"
                : "HIP runtime: neither " + describe(Platform.AMD) + " nor " + describe(Platform.NVIDIA);
        throw unavailable("no " + what + " could be loaded", attempts);
    }

    private static boolean hasDevice(Backend b) {
        try {
            return b.deviceCount() > 0;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static synchronized Backend loadExplicit(Platform platform, Path library) {
        List<String> attempts = new ArrayList<>();
        if (!Files.isRegularFile(library)) {
            attempts.add(library + ": no such file (from hipffm.library / HIPFFM_LIBRARY)");
        } else {
            String error = systemLoad(library);
            if (error == null) {
                Backend b = create(platform, library.toAbsolutePath());
                LOADED.put(platform, b);
                return b;
            }
            attempts.add(library + ": " + error);
        }
        throw unavailable("the library named by hipffm.library / HIPFFM_LIBRARY could not be loaded", attempts);
    }

    private static synchronized Backend tryLoad(Platform platform, Map<String, String> env, List<String> attempts) {
        Backend loaded = LOADED.get(platform);
        if (loaded != null) {
            return loaded;
        }
        Path lib = loadFirst(LibraryLocator.searchDirs(platform, env), LibraryLocator.fileNames(platform), attempts);
        if (lib == null) {
            return null;
        }
        Backend b = create(platform, lib);
        LOADED.put(platform, b);
        return b;
    }

    /**
     * Loads the first of {@code names} that exists in {@code dirs} (in that order, names within a directory in
     * order) and that the dynamic linker accepts.
     *
     * @param dirs where to look
     * @param names file names, preferred first
     * @param attempts receives one line for each directory or file that did not work, and why
     * @return the library loaded, or null
     */
    static Path loadFirst(List<Path> dirs, List<String> names, List<String> attempts) {
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                attempts.add(dir + ": no such directory");
                continue;
            }
            boolean any = false;
            for (String name : names) {
                Path lib = dir.resolve(name);
                if (!Files.exists(lib)) {
                    continue;
                }
                any = true;
                String error = systemLoad(lib);
                if (error == null) {
                    return lib;
                }
                attempts.add(lib + ": " + error);
            }
            if (!any) {
                attempts.add(dir + ": none of " + String.join(", ", names));
            }
        }
        return null;
    }

    private static Backend create(Platform platform, Path library) {
        return switch (platform) {
            case AMD -> new Backend(new HipCalls(library), library);
            case NVIDIA -> new Backend(new CudaCalls(library), library);
        };
    }


    /** {@return null when loaded, else the dynamic linker's reason} */
    private static String systemLoad(Path lib) {
        try {
            System.load(lib.toAbsolutePath().toString());
            return null;
        } catch (UnsatisfiedLinkError | SecurityException e) {
            return e.getMessage();
        }
    }

    private static String describe(Platform p) {
        return switch (p) {
            case AMD -> "AMD HIP runtime (libamdhip64)";
            case NVIDIA -> "NVIDIA CUDA runtime (libcudart 13 or 12)";
        };
    }

    private static HipUnavailableException unavailable(String summary, List<String> attempts) {
        return new HipUnavailableException(summary
                + ". Install ROCm (AMD) or the CUDA 13 toolkit/runtime (NVIDIA), or set HIP_PATH / CUDA_PATH;"
                + " HIP_PLATFORM=amd|nvidia picks one.", attempts);
    }
}
