package io.github.hipffm.internal;

import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Platform;
import io.github.hipffm.bindings.hip.Hip;
import io.github.hipffm.bindings.hip.hipChannelFormatDesc;
import io.github.hipffm.bindings.hip.hipDeviceProp_tR0600;
import io.github.hipffm.bindings.hip.hipExtent;
import io.github.hipffm.bindings.hip.hipExternalMemoryBufferDesc_st;
import io.github.hipffm.bindings.hip.hipExternalMemoryHandleDesc_st;
import io.github.hipffm.bindings.hip.hipExternalMemoryMipmappedArrayDesc_st;
import io.github.hipffm.bindings.hip.hipExternalSemaphoreHandleDesc_st;
import io.github.hipffm.bindings.hip.hipExternalSemaphoreSignalParams_st;
import io.github.hipffm.bindings.hip.hipExternalSemaphoreWaitParams_st;
import io.github.hipffm.bindings.hip.hipMemcpy3DParms;
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
        Fast.init();        // the runtime's first call here, not inside a later (critical) call or a test's count
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
        MemorySegment n = Scratch.get().out;
        check(Critical.call(Fast.GET_DEVICE_COUNT, n), "hipGetDeviceCount");
        return n.get(ValueLayout.JAVA_INT, 0);
    }

    @Override
    public int getDevice() {
        MemorySegment d = Scratch.get().out;
        check(Critical.call(Fast.GET_DEVICE, d), "hipGetDevice");
        return d.get(ValueLayout.JAVA_INT, 0);
    }

    /**
     * {@link Critical} handles, made when the backend is (the library is loaded by then), after the first
     * {@code hipGetDeviceCount} (which may initialise the runtime) has gone through the ordinary binding.
     */
    private static final class Fast {
        static {
            Hip.hipGetDeviceCount(Scratch.get().out);         // the result does not matter here
        }

        static final java.lang.invoke.MethodHandle GET_DEVICE_COUNT = Critical.intOut("hipGetDeviceCount");
        static final java.lang.invoke.MethodHandle GET_DEVICE = Critical.intOut("hipGetDevice");

        /** Initialises this class: the first device count and the two handles. */
        static void init() {
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

    // ---- memory ---------------------------------------------------------------------------------------

    /** A call with one pointer out-parameter: makes it, checks it, returns the pointer. */
    private interface PointerOut {
        int call(MemorySegment out);
    }

    private MemorySegment pointerOut(String hipCall, PointerOut call) {
        MemorySegment out = Scratch.get().out;
        check(call.call(out), hipCall);
        return out.get(ValueLayout.ADDRESS, 0);
    }

    @Override
    public MemorySegment malloc(long bytes) {
        return pointerOut("hipMalloc", p -> Hip.hipMalloc(p, bytes));
    }

    @Override
    public void free(MemorySegment pointer) {
        check(Hip.hipFree(pointer), "hipFree");
    }

    @Override
    public MemorySegment hostMalloc(long bytes) {
        return pointerOut("hipHostMalloc", p -> Hip.hipHostMalloc(p, bytes, Hip.hipHostMallocDefault()));
    }

    @Override
    public void hostFree(MemorySegment pointer) {
        check(Hip.hipHostFree(pointer), "hipHostFree");
    }

    @Override
    public void memcpy(MemorySegment dst, MemorySegment src, long bytes) {
        check(Hip.hipMemcpy(dst, src, bytes, Hip.hipMemcpyDefault()), "hipMemcpy");
    }

    @Override
    public void memcpyAsync(MemorySegment dst, MemorySegment src, long bytes, MemorySegment stream) {
        check(Hip.hipMemcpyAsync(dst, src, bytes, Hip.hipMemcpyDefault(), stream), "hipMemcpyAsync");
    }

    @Override
    public void memset(MemorySegment dst, int value, long bytes) {
        check(Hip.hipMemset(dst, value, bytes), "hipMemset");
    }

    @Override
    public void memsetAsync(MemorySegment dst, int value, long bytes, MemorySegment stream) {
        check(Hip.hipMemsetAsync(dst, value, bytes, stream), "hipMemsetAsync");
    }

    @Override
    public void memcpy2DToArray(MemorySegment array, long xOffsetBytes, long yOffset, MemorySegment src,
            long srcPitch, long widthBytes, long height) {
        check(Hip.hipMemcpy2DToArray(array, xOffsetBytes, yOffset, src, srcPitch, widthBytes, height,
                Hip.hipMemcpyDefault()), "hipMemcpy2DToArray");
    }

    @Override
    public void memcpy2DFromArray(MemorySegment dst, long dstPitch, MemorySegment array, long xOffsetBytes,
            long yOffset, long widthBytes, long height) {
        check(Hip.hipMemcpy2DFromArray(dst, dstPitch, array, xOffsetBytes, yOffset, widthBytes, height,
                Hip.hipMemcpyDefault()), "hipMemcpy2DFromArray");
    }

    @Override
    public void memcpy3D(MemorySegment array, MemorySegment linear, boolean toArray, long width, long elementBytes,
            long height, long depth) {
        try (Arena a = Arena.ofConfined()) {
            check(Hip.hipMemcpy3D(MEMCPY_3D.fill(a, array, linear, toArray, width, elementBytes, height, depth,
                    Hip.hipMemcpyDefault())), "hipMemcpy3D");
        }
    }

    private static final Memcpy3DParams MEMCPY_3D = new Memcpy3DParams(hipMemcpy3DParms.layout());

    // ---- streams and events -----------------------------------------------------------------------------

    @Override
    public MemorySegment streamCreate(int flags) {
        return pointerOut("hipStreamCreateWithFlags", p -> Hip.hipStreamCreateWithFlags(p, flags));
    }

    @Override
    public void streamDestroy(MemorySegment stream) {
        check(Hip.hipStreamDestroy(stream), "hipStreamDestroy");
    }

    @Override
    public void streamSynchronize(MemorySegment stream) {
        check(Hip.hipStreamSynchronize(stream), "hipStreamSynchronize");
    }

    @Override
    public boolean streamQuery(MemorySegment stream) {
        return ready(Hip.hipStreamQuery(stream), "hipStreamQuery");
    }

    @Override
    public void streamWaitEvent(MemorySegment stream, MemorySegment event) {
        check(Hip.hipStreamWaitEvent(stream, event, 0), "hipStreamWaitEvent");
    }

    @Override
    public MemorySegment eventCreate(int flags) {
        return pointerOut("hipEventCreateWithFlags", p -> Hip.hipEventCreateWithFlags(p, flags));
    }

    @Override
    public void eventDestroy(MemorySegment event) {
        check(Hip.hipEventDestroy(event), "hipEventDestroy");
    }

    @Override
    public void eventRecord(MemorySegment event, MemorySegment stream) {
        check(Hip.hipEventRecord(event, stream), "hipEventRecord");
    }

    @Override
    public void eventSynchronize(MemorySegment event) {
        check(Hip.hipEventSynchronize(event), "hipEventSynchronize");
    }

    @Override
    public boolean eventQuery(MemorySegment event) {
        return ready(Hip.hipEventQuery(event), "hipEventQuery");
    }

    @Override
    public float eventElapsedTime(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ms = a.allocate(ValueLayout.JAVA_FLOAT);
            check(Hip.hipEventElapsedTime(ms, start, end), "hipEventElapsedTime");
            return ms.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    /** {@code hipSuccess} → true, {@code hipErrorNotReady} → false, anything else throws. */
    private boolean ready(int rc, String hipCall) {
        if (rc == Hip.hipErrorNotReady()) {
            return false;
        }
        check(rc, hipCall);
        return true;
    }

    /** ROCm's {@code hipImportExternalMemory} never closes the fd (ROCm/clr {@code hip_memory.cpp}). */
    @Override
    public boolean importConsumesFd() {
        return false;
    }

    // ---- external memory --------------------------------------------------------------------------------

    @Override
    public MemorySegment importExternalMemory(int handleType, int fd, MemorySegment win32Handle,
            MemorySegment win32Name, MemorySegment nvSciBufObject, long size, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(hipExternalMemoryHandleDesc_st.layout());
            hipExternalMemoryHandleDesc_st.type(desc, handleType);
            MemorySegment handle = hipExternalMemoryHandleDesc_st.handle(desc);
            if (!nvSciBufObject.equals(MemorySegment.NULL)) {
                hipExternalMemoryHandleDesc_st.handle.nvSciBufObject(handle, nvSciBufObject);
            } else if (!win32Handle.equals(MemorySegment.NULL) || !win32Name.equals(MemorySegment.NULL)) {
                MemorySegment win32 = hipExternalMemoryHandleDesc_st.handle.win32(handle);
                hipExternalMemoryHandleDesc_st.handle.win32.handle(win32, win32Handle);
                hipExternalMemoryHandleDesc_st.handle.win32.name(win32, win32Name);
            } else {
                hipExternalMemoryHandleDesc_st.handle.fd(handle, fd);
            }
            hipExternalMemoryHandleDesc_st.size(desc, size);
            hipExternalMemoryHandleDesc_st.flags(desc, flags);
            return pointerOut("hipImportExternalMemory", p -> Hip.hipImportExternalMemory(p, desc));
        }
    }

    @Override
    public MemorySegment externalMemoryMappedBuffer(MemorySegment memory, long offset, long size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(hipExternalMemoryBufferDesc_st.layout());
            hipExternalMemoryBufferDesc_st.offset(desc, offset);
            hipExternalMemoryBufferDesc_st.size(desc, size);
            hipExternalMemoryBufferDesc_st.flags(desc, 0);
            return pointerOut("hipExternalMemoryGetMappedBuffer",
                    p -> Hip.hipExternalMemoryGetMappedBuffer(p, memory, desc));
        }
    }

    @Override
    public MemorySegment externalMemoryMappedMipmappedArray(MemorySegment memory, long offset, int[] channelBits,
            int channelKind, long width, long height, long depth, int flags, int levels) {
        require("hipExternalMemoryGetMappedMipmappedArray");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(hipExternalMemoryMipmappedArrayDesc_st.layout());
            hipExternalMemoryMipmappedArrayDesc_st.offset(desc, offset);
            MemorySegment format = hipExternalMemoryMipmappedArrayDesc_st.formatDesc(desc);
            hipChannelFormatDesc.x(format, channelBits[0]);
            hipChannelFormatDesc.y(format, channelBits[1]);
            hipChannelFormatDesc.z(format, channelBits[2]);
            hipChannelFormatDesc.w(format, channelBits[3]);
            hipChannelFormatDesc.f(format, channelKind);
            MemorySegment extent = hipExternalMemoryMipmappedArrayDesc_st.extent(desc);
            hipExtent.width(extent, width);
            hipExtent.height(extent, height);
            hipExtent.depth(extent, depth);
            hipExternalMemoryMipmappedArrayDesc_st.flags(desc, flags);
            hipExternalMemoryMipmappedArrayDesc_st.numLevels(desc, levels);
            return pointerOut("hipExternalMemoryGetMappedMipmappedArray",
                    p -> Hip.hipExternalMemoryGetMappedMipmappedArray(p, memory, desc));
        }
    }

    @Override
    public MemorySegment mipmappedArrayLevel(MemorySegment mipmappedArray, int level) {
        return pointerOut("hipGetMipmappedArrayLevel", p -> Hip.hipGetMipmappedArrayLevel(p, mipmappedArray, level));
    }

    @Override
    public void freeMipmappedArray(MemorySegment mipmappedArray) {
        check(Hip.hipFreeMipmappedArray(mipmappedArray), "hipFreeMipmappedArray");
    }

    @Override
    public void destroyExternalMemory(MemorySegment memory) {
        check(Hip.hipDestroyExternalMemory(memory), "hipDestroyExternalMemory");
    }

    // ---- external semaphores ------------------------------------------------------------------------------

    /**
     * ROCm's {@code hipImportExternalSemaphore} on Linux ends in {@code ShouldNotReachHere()}, which aborts the
     * process (ROCm/clr {@code hipamd/src/hip_device_runtime.cpp} / {@code device/rocm/rocdevice.cpp},
     * {@code importExtSemaphore}); only the CI test runtime, which implements it, says yes.
     */
    @Override
    public boolean supportsExternalSemaphores() {
        return NativeSupport.hasSymbol("hipffmTest_isTestRuntime");
    }

    @Override
    public MemorySegment importExternalSemaphore(int handleType, int fd, MemorySegment win32Handle,
            MemorySegment win32Name, MemorySegment nvSciSyncObject, int flags) {
        if (!supportsExternalSemaphores()) {
            throw new HipException(HipError.NOT_SUPPORTED, "hipImportExternalSemaphore", "the AMD HIP runtime does"
                    + " not support external semaphores on Linux (ROCm's importExtSemaphore aborts the process there),"
                    + " so hip-ffm does not call it");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(hipExternalSemaphoreHandleDesc_st.layout());
            hipExternalSemaphoreHandleDesc_st.type(desc, handleType);
            MemorySegment handle = hipExternalSemaphoreHandleDesc_st.handle(desc);
            if (!nvSciSyncObject.equals(MemorySegment.NULL)) {
                hipExternalSemaphoreHandleDesc_st.handle.NvSciSyncObj(handle, nvSciSyncObject);
            } else if (!win32Handle.equals(MemorySegment.NULL) || !win32Name.equals(MemorySegment.NULL)) {
                MemorySegment win32 = hipExternalSemaphoreHandleDesc_st.handle.win32(handle);
                hipExternalSemaphoreHandleDesc_st.handle.win32.handle(win32, win32Handle);
                hipExternalSemaphoreHandleDesc_st.handle.win32.name(win32, win32Name);
            } else {
                hipExternalSemaphoreHandleDesc_st.handle.fd(handle, fd);
            }
            hipExternalSemaphoreHandleDesc_st.flags(desc, flags);
            return pointerOut("hipImportExternalSemaphore", p -> Hip.hipImportExternalSemaphore(p, desc));
        }
    }

    @Override
    public void signalExternalSemaphores(int n, MemorySegment[] semaphores, long[] values, long[] keyedMutexKeys,
            MemorySegment stream) {
        Scratch s = Scratch.get();
        SIGNAL.fill(s, n, semaphores, values, keyedMutexKeys, null);
        check(Hip.hipSignalExternalSemaphoresAsync(s.batchHandles(), s.batchParams(), n, stream), "hipSignalExternalSemaphoresAsync");
    }

    @Override
    public void waitExternalSemaphores(int n, MemorySegment[] semaphores, long[] values, long[] keyedMutexKeys,
            int[] keyedMutexTimeoutsMs, MemorySegment stream) {
        Scratch s = Scratch.get();
        WAIT.fill(s, n, semaphores, values, keyedMutexKeys, keyedMutexTimeoutsMs);
        check(Hip.hipWaitExternalSemaphoresAsync(s.batchHandles(), s.batchParams(), n, stream), "hipWaitExternalSemaphoresAsync");
    }

    private static final SemaphoreParams SIGNAL = SemaphoreParams.signal(hipExternalSemaphoreSignalParams_st.layout());
    private static final SemaphoreParams WAIT = SemaphoreParams.wait(hipExternalSemaphoreWaitParams_st.layout());

    @Override
    public void signalExternalSemaphore(MemorySegment semaphore, long value, MemorySegment stream) {
        Scratch s = Scratch.get();
        s.params.fill((byte) 0);
        s.params.set(ValueLayout.JAVA_LONG, SIGNAL.value(), value);
        s.handle.set(ValueLayout.ADDRESS, 0, semaphore);
        check(Hip.hipSignalExternalSemaphoresAsync(s.handle, s.params, 1, stream), "hipSignalExternalSemaphoresAsync");
    }

    @Override
    public void waitExternalSemaphore(MemorySegment semaphore, long value, MemorySegment stream) {
        Scratch s = Scratch.get();
        s.params.fill((byte) 0);
        s.params.set(ValueLayout.JAVA_LONG, WAIT.value(), value);
        s.handle.set(ValueLayout.ADDRESS, 0, semaphore);
        check(Hip.hipWaitExternalSemaphoresAsync(s.handle, s.params, 1, stream), "hipWaitExternalSemaphoresAsync");
    }

    @Override
    public void destroyExternalSemaphore(MemorySegment semaphore) {
        check(Hip.hipDestroyExternalSemaphore(semaphore), "hipDestroyExternalSemaphore");
    }

    // ---- modules, launch, runtime compilation ---------------------------------------------------------

    @Override
    public MemorySegment moduleLoad(MemorySegment image) {
        return pointerOut("hipModuleLoadData", p -> Hip.hipModuleLoadData(p, image));
    }

    @Override
    public void moduleUnload(MemorySegment module) {
        check(Hip.hipModuleUnload(module), "hipModuleUnload");
    }

    @Override
    public MemorySegment moduleFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocateFrom(name);
            return pointerOut("hipModuleGetFunction", p -> Hip.hipModuleGetFunction(p, module, n));
        }
    }

    @Override
    public void launch(MemorySegment function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
            int sharedBytes, MemorySegment stream, MemorySegment kernelParams, MemorySegment gridDim,
            MemorySegment blockDim) {
        check(Hip.hipModuleLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, stream,
                kernelParams, MemorySegment.NULL), "hipModuleLaunchKernel");
    }

    @Override
    public io.github.hipffm.RuntimeCompiler.Program compile(String source, String name,
            java.util.List<String> options, java.util.List<String> nameExpressions) {
        HiprtcCompiler.load(library);
        return HiprtcCompiler.compile(source, name, options, nameExpressions);
    }

    // ---- OpenGL interop -------------------------------------------------------------------------------

    @Override
    public int[] glDevices(int max) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment devices = a.allocate(ValueLayout.JAVA_INT, Math.max(1, max));
            check(Hip.hipGLGetDevices(count, devices, max, Hip.hipGLDeviceListAll()), "hipGLGetDevices");
            int n = Math.min(max, count.get(ValueLayout.JAVA_INT, 0));
            return devices.asSlice(0, 4L * n).toArray(ValueLayout.JAVA_INT);
        }
    }

    @Override
    public MemorySegment glRegisterBuffer(int glBuffer, int flags) {
        return pointerOut("hipGraphicsGLRegisterBuffer", p -> Hip.hipGraphicsGLRegisterBuffer(p, glBuffer, flags));
    }

    @Override
    public MemorySegment glRegisterImage(int glImage, int glTarget, int flags) {
        return pointerOut("hipGraphicsGLRegisterImage", p -> Hip.hipGraphicsGLRegisterImage(p, glImage, glTarget, flags));
    }

    @Override
    public void graphicsMap(MemorySegment[] resources, MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            check(Hip.hipGraphicsMapResources(resources.length, NativeSupport.addressArray(a, resources), stream),
                    "hipGraphicsMapResources");
        }
    }

    @Override
    public void graphicsUnmap(MemorySegment[] resources, MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            check(Hip.hipGraphicsUnmapResources(resources.length, NativeSupport.addressArray(a, resources), stream),
                    "hipGraphicsUnmapResources");
        }
    }

    @Override
    public MemorySegment graphicsMappedPointer(MemorySegment resource, long[] size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment p = pointerOut("hipGraphicsResourceGetMappedPointer",
                    out -> Hip.hipGraphicsResourceGetMappedPointer(out, n, resource));
            size[0] = n.get(ValueLayout.JAVA_LONG, 0);
            return p;
        }
    }

    @Override
    public MemorySegment graphicsMappedArray(MemorySegment resource, int arrayIndex, int mipLevel) {
        return pointerOut("hipGraphicsSubResourceGetMappedArray",
                p -> Hip.hipGraphicsSubResourceGetMappedArray(p, resource, arrayIndex, mipLevel));
    }

    @Override
    public void graphicsUnregister(MemorySegment resource) {
        check(Hip.hipGraphicsUnregisterResource(resource), "hipGraphicsUnregisterResource");
    }

    @Override
    public long[] arrayInfo(MemorySegment array) {
        require("hipArrayGetInfo");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(hipChannelFormatDesc.layout());
            MemorySegment extent = a.allocate(hipExtent.layout());
            MemorySegment flags = a.allocate(ValueLayout.JAVA_INT);
            check(Hip.hipArrayGetInfo(desc, extent, flags, array), "hipArrayGetInfo");
            return new long[] {hipChannelFormatDesc.x(desc), hipChannelFormatDesc.y(desc), hipChannelFormatDesc.z(desc),
                    hipChannelFormatDesc.w(desc), hipChannelFormatDesc.f(desc), hipExtent.width(extent),
                    hipExtent.height(extent), hipExtent.depth(extent)};
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
