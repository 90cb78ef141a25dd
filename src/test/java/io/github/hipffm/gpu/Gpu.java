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

    /** {@return device 0, or aborts the test with the reason there is none (a visible skip)} */
    static Device require() {
        try {
            if (Hip.platform() != Platform.NVIDIA) {
                abort("GPU tests need an NVIDIA GPU (the only kind available to this project); this JVM loaded the "
                        + Hip.platform().id() + " runtime " + Hip.library() + " and has no GPU");
            }
            if (Hip.deviceCount() == 0) {
                abort("no GPU: the CUDA runtime reports 0 devices");
            }
            return Hip.device(0);
        } catch (HipUnavailableException e) {
            return abort("no GPU: no HIP runtime loads here: " + e.getMessage().lines().findFirst().orElse(""));
        } catch (HipException e) {
            return abort("no GPU: " + e.getMessage());
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
