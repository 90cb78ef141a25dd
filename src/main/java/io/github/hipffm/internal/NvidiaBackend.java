package io.github.hipffm.internal;

import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Platform;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.bindings.cuda.cudaDeviceProp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The NVIDIA platform: the CUDA runtime ({@code libcudart}) through the generated {@link CudaRuntime} bindings,
 * each call reported under its HIP name and each CUDA error under its HIP name and code.
 */
final class NvidiaBackend implements Backend {
    private final Path library;

    NvidiaBackend(Path library) {
        this.library = library;
    }

    @Override
    public Platform platform() {
        return Platform.NVIDIA;
    }

    @Override
    public Path library() {
        return library;
    }

    @Override
    public void check(int rc, String hipCall) {
        if (rc != 0) {
            HipError hip = CudaErrors.toHip(rc);
            String cudaName = NativeSupport.cString(CudaRuntime.cudaGetErrorName(rc));
            String text = NativeSupport.cString(CudaRuntime.cudaGetErrorString(rc));
            throw new HipException(hip.code(), hipCall, text, cudaName);
        }
    }

    @Override
    public String errorName(int hipCode) {
        return HipError.ofCode(hipCode).map(HipError::hipName).orElse("hipErrorUnknown");
    }

    @Override
    public String errorString(int hipCode) {
        int cuda = CudaErrors.toCuda(hipCode);
        return cuda < 0 ? errorName(hipCode) : NativeSupport.cString(CudaRuntime.cudaGetErrorString(cuda));
    }

    @Override
    public int runtimeVersion() {
        return intOut("hipRuntimeGetVersion", v -> CudaRuntime.cudaRuntimeGetVersion(v));
    }

    @Override
    public int driverVersion() {
        return intOut("hipDriverGetVersion", v -> CudaRuntime.cudaDriverGetVersion(v));
    }

    @Override
    public int deviceCount() {
        return intOut("hipGetDeviceCount", n -> CudaRuntime.cudaGetDeviceCount(n));
    }

    @Override
    public int getDevice() {
        return intOut("hipGetDevice", d -> CudaRuntime.cudaGetDevice(d));
    }

    @Override
    public void setDevice(int device) {
        check(CudaRuntime.cudaSetDevice(device), "hipSetDevice");
    }

    @Override
    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            return cudaDeviceProp.name(properties(a, device, "hipDeviceGetName")).getString(0);
        }
    }

    @Override
    public byte[] deviceUuid(int device) {
        try (Arena a = Arena.ofConfined()) {
            return cudaDeviceProp.uuid(properties(a, device, "hipDeviceGetUuid")).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Override
    public String pciBusId(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment id = a.allocate(64);
            check(CudaRuntime.cudaDeviceGetPCIBusId(id, 64, device), "hipDeviceGetPCIBusId");
            return id.getString(0);
        }
    }

    @Override
    public int attribute(int device, DeviceAttribute attribute) {
        return intOut("hipDeviceGetAttribute", v -> CudaRuntime.cudaDeviceGetAttribute(v, attribute.cudaValue(), device));
    }

    @Override
    public long totalMemory(int device) {
        try (Arena a = Arena.ofConfined()) {
            return cudaDeviceProp.totalGlobalMem(properties(a, device, "hipDeviceTotalMem"));
        }
    }

    @Override
    public long[] memoryInfo(int device) {
        int previous = getDevice();
        try (Arena a = Arena.ofConfined()) {
            setDevice(device);
            MemorySegment free = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = a.allocate(ValueLayout.JAVA_LONG);
            check(CudaRuntime.cudaMemGetInfo(free, total), "hipMemGetInfo");
            return new long[] {free.get(ValueLayout.JAVA_LONG, 0), total.get(ValueLayout.JAVA_LONG, 0)};
        } finally {
            setDevice(previous);
        }
    }

    @Override
    public Optional<String> archName(int device) {
        int major = attribute(device, DeviceAttribute.COMPUTE_CAPABILITY_MAJOR);
        int minor = attribute(device, DeviceAttribute.COMPUTE_CAPABILITY_MINOR);
        return Optional.of("sm_" + major + minor);
    }

    /** {@code cudaDeviceProp} has the CUDA 13 layout; libcudart 12 would fill an older one, so refuse it. */
    private MemorySegment properties(Arena arena, int device, String hipCall) {
        int version = runtimeVersion();
        if (version < 13000) {
            throw new HipException(HipError.NOT_SUPPORTED, hipCall, "device properties need libcudart 13 (the"
                    + " bindings use CUDA 13's cudaDeviceProp layout); the loaded runtime is " + library.getFileName()
                    + ", version " + version);
        }
        MemorySegment props = arena.allocate(cudaDeviceProp.layout());
        check(CudaRuntime.cudaGetDeviceProperties(props, device), hipCall);
        return props;
    }

    private interface IntOut {
        int call(MemorySegment out);
    }

    private int intOut(String hipCall, IntOut call) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            check(call.call(v), hipCall);
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }
}
