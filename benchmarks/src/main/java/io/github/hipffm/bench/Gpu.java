package io.github.hipffm.bench;

import io.github.hipffm.Device;
import io.github.hipffm.Hip;
import io.github.hipffm.HipException;
import io.github.hipffm.HipUnavailableException;
import io.github.hipffm.Platform;
import io.github.hipffm.vulkan.DeviceSelector;
import io.github.hipffm.vulkan.ExportableBuffer;
import io.github.hipffm.vulkan.VulkanDevice;
import org.lwjgl.system.Configuration;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the GPU benchmarks need before they start: a device (else they fail at once, in {@code @Setup}, with the
 * reason, so JMH reports the benchmark as failed and goes on to the next one instead of hanging), the NVIDIA
 * platform where Vulkan and PTX are involved, and the test kernels.
 */
final class Gpu {
    /** The usage of the benchmarks' buffers (those of the C twins, {@code native/vk.h}): transfer source and destination. */
    private static final int BUFFER_USAGE = org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_SRC_BIT
            | org.lwjgl.vulkan.VK10.VK_BUFFER_USAGE_TRANSFER_DST_BIT;

    private Gpu() {
    }

    /**
     * {@return the Vulkan device of {@code d} (hip-ffm-vulkan, matched by UUID)} LWJGL extracts its JNI library
     * first; the default place (~/.lwjgl) may be read-only on the GPU machine, so it goes under java.io.tmpdir
     * unless {@code org.lwjgl.system.SharedLibraryExtractPath} says otherwise.
     */
    static VulkanDevice vulkan(Device d) {
        if (System.getProperty("org.lwjgl.system.SharedLibraryExtractPath") == null) {
            Configuration.SHARED_LIBRARY_EXTRACT_PATH.set(
                    Path.of(System.getProperty("java.io.tmpdir"), "hipffm-bench-lwjgl").toString());
        }
        return VulkanDevice.create(DeviceSelector.uuid(d.uuidBytes()));
    }

    /** {@return an exportable device-local buffer of {@code size} bytes, not a dedicated allocation} */
    static ExportableBuffer buffer(VulkanDevice vk, long size) {
        return vk.createBuffer(size, false, BUFFER_USAGE);
    }

    /** {@return device 0, made current} @throws IllegalStateException "no GPU: ..." when there is none */
    static Device require() {
        try {
            int n = Hip.deviceCount();
            if (n < 1) {
                throw new IllegalStateException("no GPU: the " + Hip.platform().id() + " runtime reports 0 devices");
            }
            Device d = Hip.device(0);
            d.makeCurrent();
            return d;
        } catch (HipUnavailableException e) {
            throw new IllegalStateException("no GPU: no HIP runtime loads here: "
                    + e.getMessage().lines().findFirst().orElse(""), e);
        } catch (HipException e) {
            throw new IllegalStateException("no GPU: " + e.getMessage(), e);
        }
    }

    /**
     * {@return devices 0 and 1 on the NVIDIA platform (the raw benchmarks call CUDA's bindings), device 0 made current}
     * @throws IllegalStateException "no GPU: ..." when there is none, "needs 2 GPUs: ..." when there is one
     */
    static Device[] requireTwo() {
        Device d0 = requireNvidia();
        int n = Hip.deviceCount();
        if (n < 2) {
            throw new IllegalStateException("needs 2 GPUs (nvidia-h200-x2); this machine has " + n);
        }
        return new Device[] {d0, Hip.device(1)};
    }

    /**
     * {@return device 0 on the NVIDIA platform} Vulkan-exported timeline semaphores and the PTX kernel need it
     * (ROCm cannot import semaphores on Linux).
     * @throws IllegalStateException when there is no GPU or it is not NVIDIA's
     */
    static Device requireNvidia() {
        Device d = require();
        if (Hip.platform() != Platform.NVIDIA) {
            throw new IllegalStateException("this benchmark needs the NVIDIA platform (Vulkan timeline semaphores,"
                    + " PTX kernels); this JVM uses " + Hip.platform().id() + " (" + Hip.library() + ")");
        }
        return d;
    }

    /**
     * {@return the test kernels as PTX: the file named by {@code -Dhipffm.bench.ptx}, else the jar's
     * {@code kernels.ptx} (built from {@code src/test/cuda/kernels.cu} by nvcc at package time)}
     */
    static byte[] kernelsPtx() {
        String file = System.getProperty("hipffm.bench.ptx");
        try {
            if (file != null) {
                return Files.readAllBytes(Path.of(file));
            }
            try (InputStream in = Gpu.class.getResourceAsStream("kernels.ptx")) {
                if (in == null) {
                    throw new IllegalStateException("kernels.ptx is not in the benchmarks jar; pass -Dhipffm.bench.ptx=FILE");
                }
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final MethodHandle CLOSE = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    /** Closes a file descriptor the benchmark owns (POSIX {@code close}). */
    static void closeFd(int fd) {
        try {
            int rc = (int) CLOSE.invokeExact(fd);
            if (rc != 0) {
                throw new IllegalStateException("close(" + fd + ") failed");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
