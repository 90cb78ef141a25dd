package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.Hip;
import io.github.hipffm.HipException;
import io.github.hipffm.HipUnavailableException;
import io.github.hipffm.Platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assumptions.abort;

/** Whether this JVM has a GPU to test on, and where GPU tests record their figures. */
final class Gpu {
    private Gpu() {
    }

    private static volatile String unavailable;
    private static volatile boolean reported;

    /**
     * {@return device 0, or aborts the calling test with the reason there is none} Aborting marks the test
     * skipped with that reason, so each GPU test shows up as skipped, not silently absent; the reason is also
     * printed once.
     */
    static Device require() {
        String why = unavailableReason();
        if (why != null) {
            if (!reported) {
                reported = true;
                System.out.println("GPU tests skipped: " + why);
            }
            abort(why);
        }
        return Hip.device(0);
    }

    /** {@return why there is no GPU to test on, or null when there is one} */
    static synchronized String unavailableReason() {
        if (unavailable == null) {
            unavailable = probe();
        }
        return unavailable.isEmpty() ? null : unavailable;
    }

    private static String probe() {
        try {
            if (Hip.platform() != Platform.NVIDIA) {
                return "GPU tests need an NVIDIA GPU (the only kind available to this project); this JVM loaded the "
                        + Hip.platform().id() + " runtime " + Hip.library() + " and it has no device";
            }
            return Hip.deviceCount() > 0 ? "" : "no GPU: the CUDA runtime reports 0 devices";
        } catch (HipUnavailableException e) {
            return "no GPU: no HIP runtime loads here: " + e.getMessage().lines().findFirst().orElse("");
        } catch (HipException e) {
            return "no GPU: " + e.getMessage();
        }
    }

    /** Appends a line to the results file named by {@code hipffm.gpuResults}, and prints it. */
    static void record(String line) {
        System.out.println("GPU-RESULT " + line);
        String file = System.getProperty("hipffm.gpuResults");
        if (file != null) {
            try {
                Files.writeString(Path.of(file), line + System.lineSeparator(), StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
