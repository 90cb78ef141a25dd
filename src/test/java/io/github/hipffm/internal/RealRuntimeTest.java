package io.github.hipffm.internal;

import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Platform;
import io.github.hipffm.Version;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real runtimes, loaded without a GPU: Debian's libamdhip64 (ROCm 5.2 in CI) and CUDA 13's libcudart.
 *
 * <p>A runtime that is not installed skips its tests with the reason, unless {@code HIPFFM_REQUIRE_RUNTIMES=1}
 * (set by {@code .ci/run}), which turns that into a failure. On a machine with a GPU the device-count tests
 * check the count instead of the no-device error.
 */
class RealRuntimeTest {
    /** HIP codes newer than ROCm 5.2, which names them hipErrorUnknown. */
    private static final Set<HipError> NEWER_THAN_ROCM_5 =
            EnumSet.of(HipError.INVALID_CHANNEL_DESCRIPTOR, HipError.INVALID_TEXTURE);

    static Backend runtime(Platform platform) {
        try {
            return Runtimes.load(platform);
        } catch (io.github.hipffm.HipUnavailableException e) {
            if ("1".equals(System.getenv("HIPFFM_REQUIRE_RUNTIMES"))) {
                throw new AssertionError("HIPFFM_REQUIRE_RUNTIMES=1 but " + e.getMessage(), e);
            }
            assumeTrue(false, platform + " runtime not installed here, so its real-runtime tests cannot run: "
                    + e.getMessage().lines().findFirst().orElse(""));
            throw e;
        }
    }

    static boolean gpuPresent(Platform platform) {
        return switch (platform) {
            case AMD -> Files.exists(Path.of("/dev/kfd"));
            case NVIDIA -> Files.exists(Path.of("/dev/nvidia0")) || Files.exists(Path.of("/dev/nvidiactl"));
        };
    }

    @Test
    void amdRuntimeLoadsAndReportsItsVersion() {
        Backend amd = runtime(Platform.AMD);
        assertEquals(Platform.AMD, amd.platform());
        assertTrue(amd.library().getFileName().toString().startsWith("libamdhip64.so"), amd.library().toString());
        Version v = Version.decode(Platform.AMD, amd.runtimeVersion());
        assertTrue(v.major() >= 5, "runtime version " + v);
    }

    @Test
    void cudaRuntimeLoadsAndReportsVersion13() {
        Backend cuda = runtime(Platform.NVIDIA);
        assertEquals(Platform.NVIDIA, cuda.platform());
        assertTrue(cuda.library().getFileName().toString().startsWith("libcudart.so."), cuda.library().toString());
        assertEquals(13, Version.decode(Platform.NVIDIA, cuda.runtimeVersion()).major());
    }

    @ParameterizedTest
    @EnumSource(Platform.class)
    void deviceCountIsNoDeviceWithoutGpu(Platform platform) {
        Backend b = runtime(platform);
        if (gpuPresent(platform)) {
            assertTrue(b.deviceCount() > 0, "a GPU device node exists but the runtime counts no device");
            return;
        }
        HipException e = assertThrows(HipException.class, b::deviceCount);
        assertEquals("hipGetDeviceCount", e.call());
        if (platform == Platform.AMD) {
            assertEquals(HipError.NO_DEVICE, e.error(), e.getMessage());
        } else {
            // The CUDA runtime without a driver says cudaErrorInsufficientDriver; with a driver and no GPU,
            // cudaErrorNoDevice. Both come back under their HIP names, with the CUDA name kept.
            assertTrue(e.error() == HipError.INSUFFICIENT_DRIVER || e.error() == HipError.NO_DEVICE, e.getMessage());
            assertEquals("cuda" + e.error().hipName().substring("hip".length()), e.platformName().orElseThrow());
        }
        assertTrue(e.getMessage().startsWith("hipGetDeviceCount failed: " + e.error().hipName()), e.getMessage());
    }

    @Test
    void nvrtcIsFoundOrItsAbsenceExplained() {
        Backend cuda = runtime(Platform.NVIDIA);
        boolean installed = LibraryLocator.searchDirs(Platform.NVIDIA, System.getenv()).stream()
                .anyMatch(d -> java.nio.file.Files.exists(d.resolve("libnvrtc.so.13")));
        if (installed) {
            // NVRTC compiles without a GPU.
            io.github.hipffm.RuntimeCompiler.Program c = cuda.compile("extern \"C\" __global__ void k(int* x) { x[0] = 1; }", "k.cu",
                    java.util.List.of(), java.util.List.of());
            assertTrue(new String(c.code(), java.nio.charset.StandardCharsets.US_ASCII).contains(".entry k"));
        } else {
            var e = assertThrows(io.github.hipffm.HipUnavailableException.class,
                    () -> cuda.compile("", "k.cu", java.util.List.of(), java.util.List.of()));
            assertTrue(e.getMessage().startsWith("NVRTC (the NVIDIA runtime compiler, libnvrtc) could not be loaded"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("libnvrtc.so.13"), e.getMessage());
        }
    }

    @Test
    void stackTracesStartAtTheApiCallNotInsideHipFfm() {
        Backend b = Runtimes.current();
        assumeTrue(!gpuPresent(b.platform()), "needs a runtime without a device, to provoke an error");
        HipException e = assertThrows(HipException.class, io.github.hipffm.Hip::deviceCount);
        assertEquals("io.github.hipffm.Hip", e.getStackTrace()[0].getClassName(), "top frame");
        assertTrue(java.util.Arrays.stream(e.getStackTrace())
                .takeWhile(f -> !f.getClassName().equals(RealRuntimeTest.class.getName()))
                .noneMatch(f -> f.getClassName().startsWith("io.github.hipffm.internal.")), "no internal frames");
    }

    @ParameterizedTest
    @EnumSource(HipError.class)
    void amdRuntimeNamesEveryErrorLikeTheEnum(HipError error) {
        Backend amd = runtime(Platform.AMD);
        String name = amd.errorName(error.code());
        if (Version.decode(Platform.AMD, amd.runtimeVersion()).major() < 6 && NEWER_THAN_ROCM_5.contains(error)) {
            assertEquals("hipErrorUnknown", name);
        } else {
            assertEquals(error.hipName(), name);
        }
        assertNotNull(amd.errorString(error.code()));
    }

    @ParameterizedTest
    @EnumSource(HipError.class)
    void cudaRuntimeDescribesEveryMappedError(HipError error) {
        Backend cuda = runtime(Platform.NVIDIA);
        int cudaCode = CudaErrors.toCuda(error.code());
        String text = cuda.errorString(error.code());
        assertNotNull(text);
        if (cudaCode >= 0) {
            assertEquals(error, CudaErrors.toHip(cudaCode), "CUDA code " + cudaCode + " maps back");
            assertTrue(!text.isBlank() && !text.equals(error.hipName()), "CUDA text for " + error + ": " + text);
        } else {
            assertEquals(error.hipName(), text, "no CUDA twin: the HIP name stands in");
        }
    }

    @Test
    void unmappedCudaCodesBecomeUnknownKeepingTheCudaName() {
        Backend cuda = runtime(Platform.NVIDIA);
        int cudaErrorJitCompilerNotFound = io.github.hipffm.bindings.cuda.CudaRuntime.cudaErrorJitCompilerNotFound();
        HipException e = assertThrows(HipException.class, () -> cuda.check(cudaErrorJitCompilerNotFound, "hipFoo"));
        assertEquals(HipError.UNKNOWN, e.error());
        assertEquals("cudaErrorJitCompilerNotFound", e.platformName().orElseThrow());
    }
}
