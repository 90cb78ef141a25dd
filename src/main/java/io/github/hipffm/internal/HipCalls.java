package io.github.hipffm.internal;

import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Platform;
import io.github.hipffm.bindings.hip.hipKernelNodeParams;
import io.github.hipffm.bindings.hip.hipMemsetParams;
import io.github.hipffm.bindings.hip.hipMemAccessDesc;
import io.github.hipffm.bindings.hip.hipMemAllocationProp;
import io.github.hipffm.bindings.hip.hipExternalSemaphoreSignalNodeParams;
import io.github.hipffm.bindings.hip.hipExternalSemaphoreWaitNodeParams;
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
import io.github.hipffm.bindings.hip.hipResourceDesc;
import io.github.hipffm.bindings.hip.hipTextureDesc;
import io.github.hipffm.bindings.hip.hipUUID_t;
import io.github.hipffm.bindings.hiprtc.Hiprtc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * The AMD platform: the HIP runtime ({@code libamdhip64}) through the generated {@link Hip} bindings. Return
 * codes are {@code hipError_t} already; ROCm never closes an imported fd, and its Linux semaphore import aborts
 * the process, so it is refused (only the CI test runtime, which implements it, is let through).
 */
final class HipCalls implements PlatformCalls {
    /** The device count and current device as critical calls, made once the library is loaded. */
    private static final Critical.DeviceCalls FAST = Critical.deviceCalls("hip");
    /** The two handles in plain static finals, which the JIT treats as constants. */
    private static final MethodHandle COUNT = FAST.count();
    private static final MethodHandle CURRENT = FAST.current();

    private final Path library;

    HipCalls(Path library) {
        this.library = library;
    }

    @Override
    public Platform platform() {
        return Platform.AMD;
    }

    @Override
    public Layouts layouts() {
        return new Layouts(hipExternalMemoryHandleDesc_st.layout(), hipExternalMemoryBufferDesc_st.layout(),
                hipExternalMemoryMipmappedArrayDesc_st.layout(), hipExternalSemaphoreHandleDesc_st.layout(),
                hipExternalSemaphoreSignalParams_st.layout(), hipExternalSemaphoreWaitParams_st.layout(),
                hipMemcpy3DParms.layout(), hipChannelFormatDesc.layout(), hipExtent.layout(),
                hipExternalSemaphoreSignalNodeParams.layout(), hipExternalSemaphoreWaitNodeParams.layout(),
                hipKernelNodeParams.layout(), hipMemsetParams.layout(), hipResourceDesc.layout(),
                hipTextureDesc.layout(), hipMemAllocationProp.layout(), hipMemAccessDesc.layout());
    }

    @Override
    public int hipCode(int rc) {
        return rc;
    }

    @Override
    public int nativeCode(int hipCode) {
        return hipCode;
    }

    @Override
    public String nativeErrorName(int rc) {
        return null;
    }

    @Override
    public String errorName(int hipCode) {
        return NativeSupport.cString(Hip.hipGetErrorName(hipCode));
    }

    /** ROCm's {@code hipImportExternalMemory} never closes the fd (ROCm/clr {@code hip_memory.cpp}). */
    @Override
    public boolean importConsumesFd() {
        return false;
    }

    /**
     * AMD GPU exports (Vulkan's {@code OPAQUE_FD} memory on RADV and AMDVLK) are dma-bufs, and ROCm imports memory
     * through {@code hsa_amd_interop_map_buffer}, which takes dma-bufs: a dma-buf smaller than the size to import
     * is refused (its size is {@code st_size}, kernels since 5.3). Nothing else is: no AMD GPU was at hand to
     * measure what else ROCm accepts, so other kinds are left to the runtime (from the kernel's and ROCm's source).
     */
    private static final FdRule FD_RULE = new FdRule("on AMD a GPU export is a dma-buf", Set.of(), true);

    @Override
    public FdRule fdRule() {
        return FD_RULE;
    }

    /**
     * ROCm's {@code hipImportExternalSemaphore} on Linux ends in {@code ShouldNotReachHere()}, which aborts the
     * process (ROCm/clr {@code device/rocm/rocdevice.cpp}, {@code importExtSemaphore}); only the CI test runtime,
     * which implements it, says yes.
     */
    @Override
    public boolean supportsExternalSemaphores() {
        return NativeSupport.hasSymbol("hipffmTest_isTestRuntime");
    }

    @Override
    public String deviceName(RuntimeCore b, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(256);
            b.check(Hip.hipDeviceGetName(name, 256, device), "hipDeviceGetName");
            return name.getString(0);
        }
    }

    @Override
    public byte[] deviceUuid(RuntimeCore b, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment uuid = a.allocate(hipUUID_t.layout());
            b.check(Hip.hipDeviceGetUuid(uuid, device), "hipDeviceGetUuid");
            return hipUUID_t.bytes(uuid).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Override
    public long totalMemory(RuntimeCore b, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_LONG);
            b.check(Hip.hipDeviceTotalMem(v, device), "hipDeviceTotalMem");
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    @Override
    public Optional<String> archName(RuntimeCore b, int device) {
        return gcnArchName(device, rc -> {
            b.check(rc, "hipGetDeviceProperties");
            return false;
        });
    }

    @Override
    public int moduleLoad(MemorySegment out, MemorySegment image) {
        return Hip.hipModuleLoadData(out, image);
    }

    @Override
    public int moduleUnload(MemorySegment module) {
        return Hip.hipModuleUnload(module);
    }

    @Override
    public int moduleGetFunction(MemorySegment out, MemorySegment module, MemorySegment name) {
        return Hip.hipModuleGetFunction(out, module, name);
    }

    @Override
    public int launch(MemorySegment function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
            int sharedBytes, MemorySegment stream, MemorySegment kernelParams, MemorySegment gridDim,
            MemorySegment blockDim) {
        return Hip.hipModuleLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, stream,
                kernelParams, MemorySegment.NULL);
    }

    /**
     * {@return the current device's {@code gcnArchName} (e.g. {@code gfx90a:sramecc+:xnack-}), for hiprtc's
     * {@code --offload-arch}; empty without a device, or with a runtime older than ROCm 6}
     */
    static Optional<String> currentArch() {
        MemorySegment device = Scratch.get().out;
        if (Hip.hipGetDevice(device) != 0) {
            return Optional.empty();
        }
        return gcnArchName(device.get(ValueLayout.JAVA_INT, 0), rc -> rc != 0).filter(arch -> !arch.isBlank());
    }

    /**
     * {@return a device's {@code gcnArchName}; empty with a runtime older than ROCm 6 (hipGetDeviceProperties is a
     * macro for hipGetDevicePropertiesR0600 since ROCm 6, whose layout the bindings have; ROCm 5 lacks the
     * symbol), or when {@code failed} says a non-zero return code means "none" rather than throwing}
     */
    private static Optional<String> gcnArchName(int device, IntPredicate failed) {
        if (!NativeSupport.hasSymbol("hipGetDevicePropertiesR0600")) {
            return Optional.empty();
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment props = a.allocate(hipDeviceProp_tR0600.layout());
            if (failed.test(Hip.hipGetDevicePropertiesR0600(props, device))) {
                return Optional.empty();
            }
            return Optional.of(hipDeviceProp_tR0600.gcnArchName(props).getString(0));
        }
    }

    @Override
    public int graphInstantiate(MemorySegment out, MemorySegment graph) {
        return Hip.hipGraphInstantiate(out, graph, MemorySegment.NULL, MemorySegment.NULL, 0);
    }

    @Override
    public int graphExecUpdate(MemorySegment exec, MemorySegment graph, MemorySegment result) {
        try (Arena a = Arena.ofConfined()) {
            return Hip.hipGraphExecUpdate(exec, graph, a.allocate(ValueLayout.ADDRESS), result);
        }
    }

    /** hiprtc: in {@code libamdhip64} itself up to ROCm 5, in {@code libhiprtc} from ROCm 6 on. */
    @Override
    public RuntimeCompilers.Api compiler() {
        RuntimeCompilers.load("hiprtcCreateProgram", library, Platform.AMD,
                List.of("libhiprtc.so", "libhiprtc.so.7", "libhiprtc.so.6"),
                "hiprtc (the AMD runtime compiler) could not be loaded: " + library.getFileName()
                        + " does not contain it and no libhiprtc was found");
        return Rtc.INSTANCE;
    }

    /** Throws {@code hipErrorNotSupported} when the loaded runtime lacks a function (older ROCm). */
    private void require(String symbol) {
        if (!NativeSupport.hasSymbol(symbol)) {
            throw new HipException(HipError.NOT_SUPPORTED, symbol, "the loaded runtime " + library.getFileName()
                    + " does not export " + symbol + " (it is older than the ROCm 6.4 headers hip-ffm is built against)");
        }
    }

    // ---- generated calls ------------------------------------------------------------------------------------

    @Override public MemorySegment getErrorString(int rc) { return Hip.hipGetErrorString(rc); }
    @Override public int runtimeGetVersion(MemorySegment out) { return Hip.hipRuntimeGetVersion(out); }
    @Override public int driverGetVersion(MemorySegment out) { return Hip.hipDriverGetVersion(out); }
    @Override public int getDeviceCount(MemorySegment out) { return Critical.call(COUNT, out); }
    @Override public int getDevice(MemorySegment out) { return Critical.call(CURRENT, out); }
    @Override public int setDevice(int device) { return Hip.hipSetDevice(device); }
    @Override public int deviceCanAccessPeer(MemorySegment out, int device, int peer) {
        return Hip.hipDeviceCanAccessPeer(out, device, peer);
    }
    @Override public int deviceEnablePeerAccess(int peer, int flags) {
        return Hip.hipDeviceEnablePeerAccess(peer, flags);
    }
    @Override public int getLastError() { return Hip.hipGetLastError(); }
    @Override public int deviceGetPCIBusId(MemorySegment buffer, int length, int device) {
        return Hip.hipDeviceGetPCIBusId(buffer, length, device);
    }
    @Override public int deviceGetAttribute(MemorySegment out, int attribute, int device) {
        return Hip.hipDeviceGetAttribute(out, attribute, device);
    }
    @Override public int memGetInfo(MemorySegment free, MemorySegment total) { return Hip.hipMemGetInfo(free, total); }
    @Override public int malloc(MemorySegment out, long bytes) { return Hip.hipMalloc(out, bytes); }
    @Override public int free(MemorySegment pointer) { return Hip.hipFree(pointer); }
    @Override public int hostMalloc(MemorySegment out, long bytes) {
        return Hip.hipHostMalloc(out, bytes, Hip.hipHostMallocDefault());
    }
    @Override public int hostFree(MemorySegment pointer) { return Hip.hipHostFree(pointer); }
    @Override public int memcpyAsync(MemorySegment dst, MemorySegment src, long bytes, int kind, MemorySegment stream) {
        return Hip.hipMemcpyAsync(dst, src, bytes, kind, stream);
    }
    @Override public int memsetAsync(MemorySegment dst, int value, long bytes, MemorySegment stream) {
        return Hip.hipMemsetAsync(dst, value, bytes, stream);
    }
    @Override public int memcpyPeerAsync(MemorySegment dst, int dstDevice, MemorySegment src, int srcDevice, long bytes,
            MemorySegment stream) {
        return Hip.hipMemcpyPeerAsync(dst, dstDevice, src, srcDevice, bytes, stream);
    }
    @Override public int memcpy2DToArray(MemorySegment array, long x, long y, MemorySegment src, long pitch, long width,
            long height, int kind) {
        return Hip.hipMemcpy2DToArray(array, x, y, src, pitch, width, height, kind);
    }
    @Override public int memcpy2DFromArray(MemorySegment dst, long pitch, MemorySegment array, long x, long y,
            long width, long height, int kind) {
        return Hip.hipMemcpy2DFromArray(dst, pitch, array, x, y, width, height, kind);
    }
    @Override public int memcpy3D(MemorySegment params) { return Hip.hipMemcpy3D(params); }
    @Override public int streamCreateWithFlags(MemorySegment out, int flags) {
        return Hip.hipStreamCreateWithFlags(out, flags);
    }
    @Override public int streamDestroy(MemorySegment stream) { return Hip.hipStreamDestroy(stream); }
    @Override public int streamSynchronize(MemorySegment stream) { return Hip.hipStreamSynchronize(stream); }
    @Override public int streamQuery(MemorySegment stream) { return Hip.hipStreamQuery(stream); }
    @Override public int streamWaitEvent(MemorySegment stream, MemorySegment event, int flags) {
        return Hip.hipStreamWaitEvent(stream, event, flags);
    }
    @Override public int eventCreateWithFlags(MemorySegment out, int flags) {
        return Hip.hipEventCreateWithFlags(out, flags);
    }
    @Override public int eventDestroy(MemorySegment event) { return Hip.hipEventDestroy(event); }
    @Override public int eventRecord(MemorySegment event, MemorySegment stream) { return Hip.hipEventRecord(event, stream); }
    @Override public int eventSynchronize(MemorySegment event) { return Hip.hipEventSynchronize(event); }
    @Override public int eventQuery(MemorySegment event) { return Hip.hipEventQuery(event); }
    @Override public int eventElapsedTime(MemorySegment out, MemorySegment start, MemorySegment end) {
        return Hip.hipEventElapsedTime(out, start, end);
    }
    @Override public int importExternalMemory(MemorySegment out, MemorySegment desc) {
        return Hip.hipImportExternalMemory(out, desc);
    }
    @Override public int externalMemoryGetMappedBuffer(MemorySegment out, MemorySegment memory, MemorySegment desc) {
        return Hip.hipExternalMemoryGetMappedBuffer(out, memory, desc);
    }
    @Override public int externalMemoryGetMappedMipmappedArray(MemorySegment out, MemorySegment memory,
            MemorySegment desc) {
        require("hipExternalMemoryGetMappedMipmappedArray");
        return Hip.hipExternalMemoryGetMappedMipmappedArray(out, memory, desc);
    }
    @Override public int getMipmappedArrayLevel(MemorySegment out, MemorySegment mipmappedArray, int level) {
        return Hip.hipGetMipmappedArrayLevel(out, mipmappedArray, level);
    }
    @Override public int freeMipmappedArray(MemorySegment mipmappedArray) {
        return Hip.hipFreeMipmappedArray(mipmappedArray);
    }
    @Override public int destroyExternalMemory(MemorySegment memory) { return Hip.hipDestroyExternalMemory(memory); }
    @Override public int importExternalSemaphore(MemorySegment out, MemorySegment desc) {
        return Hip.hipImportExternalSemaphore(out, desc);
    }
    @Override public int signalExternalSemaphoresAsync(MemorySegment semaphores, MemorySegment params, int n,
            MemorySegment stream) {
        return Hip.hipSignalExternalSemaphoresAsync(semaphores, params, n, stream);
    }
    @Override public int waitExternalSemaphoresAsync(MemorySegment semaphores, MemorySegment params, int n,
            MemorySegment stream) {
        return Hip.hipWaitExternalSemaphoresAsync(semaphores, params, n, stream);
    }
    @Override public int destroyExternalSemaphore(MemorySegment semaphore) {
        return Hip.hipDestroyExternalSemaphore(semaphore);
    }
    @Override public int graphCreate(MemorySegment out, int flags) { return Hip.hipGraphCreate(out, flags); }
    @Override public int graphDestroy(MemorySegment graph) { return Hip.hipGraphDestroy(graph); }
    @Override public int graphAddExternalSemaphoresSignalNode(MemorySegment out, MemorySegment graph,
            MemorySegment dependencies, long n, MemorySegment nodeParams) {
        return Hip.hipGraphAddExternalSemaphoresSignalNode(out, graph, dependencies, n, nodeParams);
    }
    @Override public int graphAddExternalSemaphoresWaitNode(MemorySegment out, MemorySegment graph,
            MemorySegment dependencies, long n, MemorySegment nodeParams) {
        return Hip.hipGraphAddExternalSemaphoresWaitNode(out, graph, dependencies, n, nodeParams);
    }
    @Override public int graphAddEmptyNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n) {
        return Hip.hipGraphAddEmptyNode(out, graph, dependencies, n);
    }
    @Override public int graphAddKernelNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n,
            MemorySegment nodeParams) {
        return Hip.hipGraphAddKernelNode(out, graph, dependencies, n, nodeParams);
    }
    @Override public int graphAddMemcpyNode1D(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n,
            MemorySegment dst, MemorySegment src, long bytes, int kind) {
        return Hip.hipGraphAddMemcpyNode1D(out, graph, dependencies, n, dst, src, bytes, kind);
    }
    @Override public int graphAddMemsetNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n,
            MemorySegment params) {
        return Hip.hipGraphAddMemsetNode(out, graph, dependencies, n, params);
    }
    @Override public int graphAddChildGraphNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies,
            long n, MemorySegment child) {
        return Hip.hipGraphAddChildGraphNode(out, graph, dependencies, n, child);
    }
    @Override public int graphAddEventRecordNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies,
            long n, MemorySegment event) {
        return Hip.hipGraphAddEventRecordNode(out, graph, dependencies, n, event);
    }
    @Override public int graphAddEventWaitNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies,
            long n, MemorySegment event) {
        return Hip.hipGraphAddEventWaitNode(out, graph, dependencies, n, event);
    }
    @Override public int graphExecExternalSemaphoresSignalNodeSetParams(MemorySegment exec, MemorySegment node,
            MemorySegment nodeParams) {
        return Hip.hipGraphExecExternalSemaphoresSignalNodeSetParams(exec, node, nodeParams);
    }
    @Override public int graphExecExternalSemaphoresWaitNodeSetParams(MemorySegment exec, MemorySegment node,
            MemorySegment nodeParams) {
        return Hip.hipGraphExecExternalSemaphoresWaitNodeSetParams(exec, node, nodeParams);
    }
    @Override public int graphExternalSemaphoresSignalNodeSetParams(MemorySegment node, MemorySegment nodeParams) {
        return Hip.hipGraphExternalSemaphoresSignalNodeSetParams(node, nodeParams);
    }
    @Override public int graphExternalSemaphoresWaitNodeSetParams(MemorySegment node, MemorySegment nodeParams) {
        return Hip.hipGraphExternalSemaphoresWaitNodeSetParams(node, nodeParams);
    }
    @Override public int graphExternalSemaphoresSignalNodeGetParams(MemorySegment node, MemorySegment out) {
        return Hip.hipGraphExternalSemaphoresSignalNodeGetParams(node, out);
    }
    @Override public int graphExternalSemaphoresWaitNodeGetParams(MemorySegment node, MemorySegment out) {
        return Hip.hipGraphExternalSemaphoresWaitNodeGetParams(node, out);
    }
    @Override public int graphLaunch(MemorySegment exec, MemorySegment stream) { return Hip.hipGraphLaunch(exec, stream); }
    @Override public int streamBeginCapture(MemorySegment stream, int mode) {
        return Hip.hipStreamBeginCapture(stream, mode);
    }
    @Override public int streamEndCapture(MemorySegment stream, MemorySegment out) {
        return Hip.hipStreamEndCapture(stream, out);
    }
    @Override public int graphExecDestroy(MemorySegment exec) { return Hip.hipGraphExecDestroy(exec); }
    @Override public int glGetDevices(MemorySegment count, MemorySegment devices, int max, int list) {
        return Hip.hipGLGetDevices(count, devices, max, list);
    }
    @Override public int graphicsGLRegisterBuffer(MemorySegment out, int buffer, int flags) {
        return Hip.hipGraphicsGLRegisterBuffer(out, buffer, flags);
    }
    @Override public int graphicsGLRegisterImage(MemorySegment out, int image, int target, int flags) {
        return Hip.hipGraphicsGLRegisterImage(out, image, target, flags);
    }
    @Override public int graphicsMapResources(int n, MemorySegment resources, MemorySegment stream) {
        return Hip.hipGraphicsMapResources(n, resources, stream);
    }
    @Override public int graphicsUnmapResources(int n, MemorySegment resources, MemorySegment stream) {
        return Hip.hipGraphicsUnmapResources(n, resources, stream);
    }
    @Override public int graphicsResourceGetMappedPointer(MemorySegment out, MemorySegment size, MemorySegment resource) {
        return Hip.hipGraphicsResourceGetMappedPointer(out, size, resource);
    }
    @Override public int graphicsSubResourceGetMappedArray(MemorySegment out, MemorySegment resource, int arrayIndex,
            int mipLevel) {
        return Hip.hipGraphicsSubResourceGetMappedArray(out, resource, arrayIndex, mipLevel);
    }
    @Override public int graphicsUnregisterResource(MemorySegment resource) {
        return Hip.hipGraphicsUnregisterResource(resource);
    }
    @Override public int arrayGetInfo(MemorySegment desc, MemorySegment extent, MemorySegment flags, MemorySegment array) {
        require("hipArrayGetInfo");
        return Hip.hipArrayGetInfo(desc, extent, flags, array);
    }
    @Override public int createTextureObject(MemorySegment out, MemorySegment resourceDesc, MemorySegment textureDesc) {
        return Hip.hipCreateTextureObject(out, resourceDesc, textureDesc, MemorySegment.NULL);
    }
    @Override public int destroyTextureObject(MemorySegment texture) { return Hip.hipDestroyTextureObject(texture); }
    @Override public int createSurfaceObject(MemorySegment out, MemorySegment resourceDesc) {
        return Hip.hipCreateSurfaceObject(out, resourceDesc);
    }
    @Override public int destroySurfaceObject(MemorySegment surface) { return Hip.hipDestroySurfaceObject(surface); }

    @Override public String requestedHandleTypesField() { return "requestedHandleType"; }
    @Override public int vmmPrepare() { return 0; }
    @Override public int memGetAllocationGranularity(MemorySegment out, MemorySegment prop, int option) {
        return Hip.hipMemGetAllocationGranularity(out, prop, option);
    }
    @Override public int memCreate(MemorySegment out, long size, MemorySegment prop) {
        return Hip.hipMemCreate(out, size, prop, 0L);
    }
    @Override public int memRelease(MemorySegment handle) { return Hip.hipMemRelease(handle); }
    @Override public int memExportToShareableHandle(MemorySegment out, MemorySegment handle, int handleType) {
        return Hip.hipMemExportToShareableHandle(out, handle, handleType, 0L);
    }
    @Override public int memImportFromShareableHandle(MemorySegment out, int fd, int handleType) {
        return Hip.hipMemImportFromShareableHandle(out, MemorySegment.ofAddress(fd), handleType);
    }
    @Override public int memAddressReserve(MemorySegment out, long size, long alignment) {
        return Hip.hipMemAddressReserve(out, size, alignment, MemorySegment.NULL, 0L);
    }
    @Override public int memAddressFree(MemorySegment address, long size) { return Hip.hipMemAddressFree(address, size); }
    @Override public int memMap(MemorySegment address, long size, MemorySegment handle) {
        return Hip.hipMemMap(address, size, 0L, handle, 0L);
    }
    @Override public int memUnmap(MemorySegment address, long size) { return Hip.hipMemUnmap(address, size); }
    @Override public int memSetAccess(MemorySegment address, long size, MemorySegment desc) {
        return Hip.hipMemSetAccess(address, size, desc, 1L);
    }
    @Override public int ipcGetMemHandle(MemorySegment out, MemorySegment pointer) {
        return Hip.hipIpcGetMemHandle(out, pointer);
    }
    @Override public int ipcOpenMemHandle(MemorySegment out, MemorySegment handle) {
        return Hip.hipIpcOpenMemHandle(out, handle, Hip.hipIpcMemLazyEnablePeerAccess());
    }
    @Override public int ipcCloseMemHandle(MemorySegment pointer) { return Hip.hipIpcCloseMemHandle(pointer); }
    @Override public int ipcGetEventHandle(MemorySegment out, MemorySegment event) {
        return Hip.hipIpcGetEventHandle(out, event);
    }
    @Override public int ipcOpenEventHandle(MemorySegment out, MemorySegment handle) {
        return Hip.hipIpcOpenEventHandle(out, handle);
    }

    /** hiprtc's generated calls. */
    private enum Rtc implements RuntimeCompilers.Api {
        INSTANCE;

        @Override public String prefix() { return "hiprtc"; }
        @Override public String code() { return "Code"; }
        @Override public boolean codeIsText() { return false; }
        @Override public List<String> archOptions() { return List.of("--offload-arch=", "--gpu-architecture="); }
        @Override public Optional<String> deviceArch() { return currentArch(); }
        @Override public int createProgram(MemorySegment out, MemorySegment source, MemorySegment name) {
            return Hiprtc.hiprtcCreateProgram(out, source, name, 0, MemorySegment.NULL, MemorySegment.NULL);
        }
        @Override public int addNameExpression(MemorySegment program, MemorySegment expression) {
            return Hiprtc.hiprtcAddNameExpression(program, expression);
        }
        @Override public int compileProgram(MemorySegment program, int n, MemorySegment options) {
            return Hiprtc.hiprtcCompileProgram(program, n, options);
        }
        @Override public int getProgramLogSize(MemorySegment program, MemorySegment out) {
            return Hiprtc.hiprtcGetProgramLogSize(program, out);
        }
        @Override public int getProgramLog(MemorySegment program, MemorySegment log) {
            return Hiprtc.hiprtcGetProgramLog(program, log);
        }
        @Override public int getCodeSize(MemorySegment program, MemorySegment out) {
            return Hiprtc.hiprtcGetCodeSize(program, out);
        }
        @Override public int getCode(MemorySegment program, MemorySegment code) {
            return Hiprtc.hiprtcGetCode(program, code);
        }
        @Override public int getLoweredName(MemorySegment program, MemorySegment expression, MemorySegment out) {
            return Hiprtc.hiprtcGetLoweredName(program, expression, out);
        }
        @Override public int destroyProgram(MemorySegment programPointer) {
            return Hiprtc.hiprtcDestroyProgram(programPointer);
        }
        @Override public MemorySegment getErrorString(int rc) { return Hiprtc.hiprtcGetErrorString(rc); }
    }
}
