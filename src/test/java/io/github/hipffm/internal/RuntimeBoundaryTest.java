package io.github.hipffm.internal;

import io.github.hipffm.Device;
import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.Hip;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Memory;
import io.github.hipffm.Platform;
import io.github.hipffm.Version;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What crosses the C boundary, on each platform: the runtime's names, its error codes, its device queries. Run
 * against the HIP test runtime on AMD ({@code test-runtime}) and against the cudart double, CUDA's names over the
 * same runtime, on NVIDIA ({@code test-runtime-nvidia}); the expected values are each platform's.
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class RuntimeBoundaryTest {
    private static final List<String> HIP_NAMES = List.of("hipMalloc", "hipGetDeviceCount", "hipImportExternalMemory",
            "hipModuleLaunchKernel", "hipGetErrorName");
    private static final List<String> CUDA_NAMES = List.of("cudaMalloc", "cudaGetDeviceCount",
            "cudaImportExternalMemory", "cudaLaunchKernel", "cudaGetErrorName");

    /** The platform is the one the Surefire execution names, and the loaded library has its names only. */
    @Test
    void theLibraryHasThePlatformsNamesOnly() {
        assertEquals(Platform.ofId(System.getProperty("hipffm.platform")), Hip.platform());
        SymbolLookup loaded = SymbolLookup.loaderLookup();
        List<String> present = TestRuntime.nvidia() ? CUDA_NAMES : HIP_NAMES;
        List<String> absent = TestRuntime.nvidia() ? HIP_NAMES : CUDA_NAMES;
        for (String name : present) {
            assertTrue(loaded.find(name).isPresent(), name + " is exported");
        }
        for (String name : absent) {
            assertTrue(loaded.find(name).isEmpty(), name + " is not (the backend cannot call it by mistake)");
        }
    }

    /**
     * Every HIP error the runtime returns reaches Java as that error. On NVIDIA it travels as the CUDA code HIP's
     * NVIDIA mapping has for it ({@link CudaErrors}) and comes back under its HIP name, with the CUDA name kept; a
     * HIP code CUDA has no counterpart for is {@code cudaErrorUnknown} there, so {@link HipError#UNKNOWN} here.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = HipError.class, mode = EnumSource.Mode.EXCLUDE, names = "SUCCESS")
    void everyErrorReachesJavaUnderItsHipName(HipError error) {
        HipError expected = !TestRuntime.nvidia() || CudaErrors.toCuda(error.code()) >= 0 ? error : HipError.UNKNOWN;
        TestRuntime.failNext("hipMalloc", error, 0);
        try (Arena arena = Arena.ofConfined()) {
            HipException e = assertThrows(HipException.class, () -> Memory.allocateDevice(arena, 64));
            assertEquals(expected, e.error(), e.getMessage());
            assertEquals(expected.code(), e.code());
            assertEquals("hipMalloc", e.call());
            if (TestRuntime.nvidia()) {
                String cudaName = e.platformName().orElseThrow();
                assertTrue(cudaName.startsWith("cudaError") || cudaName.equals("cudaSuccess"), cudaName);
            } else {
                assertTrue(e.platformName().isEmpty(), "AMD reports HIP's own codes");
            }
        }
        assertEquals(1, TestRuntime.calls("hipMalloc"));
    }

    /**
     * The cudart double's C table and {@link CudaErrors} are one mapping, both ways, for every code: HIP codes
     * (including the ones CUDA lacks) and CUDA codes 0 to 1100 and the API failure base.
     */
    @Test
    void theCudartDoubleTranslatesErrorsAsCudaErrorsDoes() {
        assumeTrue(TestRuntime.nvidia(), "the cudart double's error table: only the NVIDIA run (test-runtime-nvidia)"
                + " loads it; the AMD run passes HIP codes through unchanged (everyErrorReachesJavaUnderItsHipName)");
        int cudaUnknown = CudaRuntime.cudaErrorUnknown();
        for (HipError error : HipError.values()) {
            int cuda = CudaErrors.toCuda(error.code());
            assertEquals(cuda >= 0 ? cuda : cudaUnknown, TestRuntime.cudaErrorOf(error.code()), error.hipName());
        }
        for (int cuda = 0; cuda <= 1100; cuda++) {
            assertEquals(CudaErrors.toHip(cuda).code(), TestRuntime.hipErrorOf(cuda), "cudaError " + cuda);
        }
        int apiFailureBase = CudaRuntime.cudaErrorApiFailureBase();
        assertEquals(CudaErrors.toHip(apiFailureBase).code(), TestRuntime.hipErrorOf(apiFailureBase));
    }

    /** The one fake device, as each platform's backend reads it (CUDA: mostly from {@code cudaDeviceProp}). */
    @Test
    void theDeviceAsEachPlatformReportsIt() {
        boolean nvidia = TestRuntime.nvidia();
        Version runtime = Hip.runtimeVersion();
        // The HIP double reports HIP_VERSION of the pinned ROCm 6.4 headers; the cudart double CUDART_VERSION (13.0).
        assertEquals(nvidia ? List.of(13, 0) : List.of(6, 4), List.of(runtime.major(), runtime.minor()), runtime.toString());
        assertEquals(runtime, Hip.driverVersion());
        assertEquals(1, Hip.deviceCount());
        Device d = Hip.device(0);
        assertEquals("hip-ffm test runtime", d.name());
        byte[] uuid = d.uuidBytes();
        assertEquals(16, uuid.length);
        assertArrayEquals(new byte[] {'h', 'i', 'p', 'f', 'f', 'm', 0}, java.util.Arrays.copyOf(uuid, 7));
        assertEquals(new Device.PciAddress(0, 0, 0, 0), d.pciAddress());
        assertEquals(1L << 30, d.totalMemory());
        assertEquals(new Device.MemoryInfo(1L << 30, 1L << 30), d.memoryInfo());
        assertEquals(new Device.ComputeCapability(9, 4), d.computeCapability());
        assertEquals(64, d.attribute(DeviceAttribute.WARP_SIZE));
        assertEquals(1024, d.attribute(DeviceAttribute.MAX_THREADS_PER_BLOCK));
        assertEquals(64, d.attribute(DeviceAttribute.MEMORY_BUS_WIDTH));
        // AMD: the gcnArchName of hipDeviceProp_t; NVIDIA: sm_ and the compute capability.
        assertEquals(nvidia ? "sm_94" : "gfx942", d.archName().orElseThrow());
        d.makeCurrent();
    }

    /**
     * A device query that fails is reported under the HIP call it serves, on both platforms; the fault is armed on
     * the runtime's function: on AMD that HIP call itself, on NVIDIA {@code cudaGetDeviceProperties} (the double's
     * {@code hipGetDevicePropertiesR0600}), which the CUDA backend reads name, UUID and total memory from.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hipDeviceGetName", "hipDeviceGetUuid", "hipDeviceTotalMem"})
    void aFailingDeviceQueryIsReportedUnderItsHipCall(String hipCall) {
        String runtimeFunction = TestRuntime.nvidia() ? "hipGetDevicePropertiesR0600" : hipCall;
        Device d = Hip.device(0);
        Executable query = switch (hipCall) {
            case "hipDeviceGetName" -> d::name;
            case "hipDeviceGetUuid" -> d::uuidBytes;
            default -> d::totalMemory;
        };
        TestRuntime.failNext(runtimeFunction, HipError.INVALID_DEVICE, 0);
        HipException e = assertThrows(HipException.class, query);
        assertEquals(HipError.INVALID_DEVICE, e.error());
        assertEquals(hipCall, e.call());
        assertEquals(1, TestRuntime.calls(runtimeFunction));
    }
}
