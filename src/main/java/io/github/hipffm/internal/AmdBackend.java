package io.github.hipffm.internal;

import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Platform;
import io.github.hipffm.bindings.hip.Hip;
import io.github.hipffm.bindings.hip.hipDeviceProp_tR0600;
import io.github.hipffm.bindings.hip.hipUUID_t;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Optional;

/** The AMD platform: the HIP runtime ({@code libamdhip64}) through the generated {@link Hip} bindings. */
final class AmdBackend implements Backend {
    private final Path library;

    AmdBackend(Path library) {
        this.library = library;
    }

    @Override
    public Platform platform() {
        return Platform.AMD;
    }

    @Override
    public Path library() {
        return library;
    }

    @Override
    public void check(int rc, String hipCall) {
        if (rc != 0) {
            throw new HipException(rc, hipCall, errorString(rc), null);
        }
    }

    @Override
    public String errorName(int hipCode) {
        return NativeSupport.cString(Hip.hipGetErrorName(hipCode));
    }

    @Override
    public String errorString(int hipCode) {
        return NativeSupport.cString(Hip.hipGetErrorString(hipCode));
    }

    @Override
    public int runtimeVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            check(Hip.hipRuntimeGetVersion(v), "hipRuntimeGetVersion");
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    @Override
    public int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            check(Hip.hipDriverGetVersion(v), "hipDriverGetVersion");
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    @Override
    public int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(ValueLayout.JAVA_INT);
            check(Hip.hipGetDeviceCount(n), "hipGetDeviceCount");
            return n.get(ValueLayout.JAVA_INT, 0);
        }
    }

    @Override
    public int getDevice() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(ValueLayout.JAVA_INT);
            check(Hip.hipGetDevice(d), "hipGetDevice");
            return d.get(ValueLayout.JAVA_INT, 0);
        }
    }

    @Override
    public void setDevice(int device) {
        check(Hip.hipSetDevice(device), "hipSetDevice");
    }

    @Override
    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(256);
            check(Hip.hipDeviceGetName(name, 256, device), "hipDeviceGetName");
            return name.getString(0);
        }
    }

    @Override
    public byte[] deviceUuid(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment uuid = a.allocate(hipUUID_t.layout());
            check(Hip.hipDeviceGetUuid(uuid, device), "hipDeviceGetUuid");
            return hipUUID_t.bytes(uuid).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Override
    public String pciBusId(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment id = a.allocate(64);
            check(Hip.hipDeviceGetPCIBusId(id, 64, device), "hipDeviceGetPCIBusId");
            return id.getString(0);
        }
    }

    @Override
    public int attribute(int device, DeviceAttribute attribute) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            check(Hip.hipDeviceGetAttribute(v, attribute.hipValue(), device), "hipDeviceGetAttribute");
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    @Override
    public long totalMemory(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_LONG);
            check(Hip.hipDeviceTotalMem(v, device), "hipDeviceTotalMem");
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    @Override
    public long[] memoryInfo(int device) {
        int previous = getDevice();
        try (Arena a = Arena.ofConfined()) {
            setDevice(device);
            MemorySegment free = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = a.allocate(ValueLayout.JAVA_LONG);
            check(Hip.hipMemGetInfo(free, total), "hipMemGetInfo");
            return new long[] {free.get(ValueLayout.JAVA_LONG, 0), total.get(ValueLayout.JAVA_LONG, 0)};
        } finally {
            setDevice(previous);
        }
    }

    @Override
    public Optional<String> archName(int device) {
        // hipGetDeviceProperties is a macro for hipGetDevicePropertiesR0600 since ROCm 6; ROCm 5 lacks the symbol.
        if (!NativeSupport.hasSymbol("hipGetDevicePropertiesR0600")) {
            return Optional.empty();
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment props = a.allocate(hipDeviceProp_tR0600.layout());
            check(Hip.hipGetDevicePropertiesR0600(props, device), "hipGetDeviceProperties");
            return Optional.of(hipDeviceProp_tR0600.gcnArchName(props).getString(0));
        }
    }

    /** Throws {@code hipErrorNotSupported} when the loaded runtime lacks a function (older ROCm). */
    void require(String symbol) {
        if (!NativeSupport.hasSymbol(symbol)) {
            throw new HipException(HipError.NOT_SUPPORTED, symbol,
                    "the loaded runtime " + library.getFileName() + " does not export " + symbol
                            + " (it is older than the ROCm 6.4 headers hip-ffm is built against)");
        }
    }
}
