package io.github.hipffm.internal;

import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Platform;
import io.github.hipffm.bindings.cuda.cudaGraphExecUpdateResultInfo_st;
import io.github.hipffm.bindings.cuda.cudaKernelNodeParams;
import io.github.hipffm.bindings.cuda.cudaMemsetParams;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreSignalNodeParams;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreWaitNodeParams;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.bindings.cuda.cudaChannelFormatDesc;
import io.github.hipffm.bindings.cuda.cudaDeviceProp;
import io.github.hipffm.bindings.cuda.cudaExtent;
import io.github.hipffm.bindings.cuda.cudaFuncAttributes;
import io.github.hipffm.bindings.cuda.cudaExternalMemoryBufferDesc;
import io.github.hipffm.bindings.cuda.cudaExternalMemoryHandleDesc;
import io.github.hipffm.bindings.cuda.cudaExternalMemoryMipmappedArrayDesc;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreHandleDesc;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreSignalParams;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreWaitParams;
import io.github.hipffm.bindings.cuda.cudaMemcpy3DParms;
import io.github.hipffm.bindings.cuda.cudaResourceDesc;
import io.github.hipffm.bindings.cuda.cudaTextureDesc;
import io.github.hipffm.bindings.cudadrv.CUmemAccessDesc;
import io.github.hipffm.bindings.cudadrv.CUmemAllocationProp;
import io.github.hipffm.bindings.cudadrv.CudaDriver;
import io.github.hipffm.bindings.nvrtc.Nvrtc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The NVIDIA platform: the CUDA runtime ({@code libcudart}) through the generated {@link CudaRuntime} bindings.
 * CUDA codes become HIP codes through {@link CudaErrors}; CUDA closes the fd it imports; device properties come
 * from {@code cudaDeviceProp}; modules are CUDA libraries ({@code cudaLibraryLoadData}) and launches take the
 * {@code dim3}s by value.
 */
final class CudaCalls implements PlatformCalls {
    /** The device count and current device as critical calls, made once the library is loaded. */
    private static final Critical.DeviceCalls FAST = Critical.deviceCalls("cuda");
    /** The two handles in plain static finals, which the JIT treats as constants. */
    private static final MethodHandle COUNT = FAST.count();
    private static final MethodHandle CURRENT = FAST.current();

    private final Path library;

    CudaCalls(Path library) {
        this.library = library;
    }

    @Override
    public Platform platform() {
        return Platform.NVIDIA;
    }

    @Override
    public Layouts layouts() {
        return new Layouts(cudaExternalMemoryHandleDesc.layout(), cudaExternalMemoryBufferDesc.layout(),
                cudaExternalMemoryMipmappedArrayDesc.layout(), cudaExternalSemaphoreHandleDesc.layout(),
                cudaExternalSemaphoreSignalParams.layout(), cudaExternalSemaphoreWaitParams.layout(),
                cudaMemcpy3DParms.layout(), cudaChannelFormatDesc.layout(), cudaExtent.layout(),
                cudaExternalSemaphoreSignalNodeParams.layout(), cudaExternalSemaphoreWaitNodeParams.layout(),
                cudaKernelNodeParams.layout(), cudaMemsetParams.layout(), cudaResourceDesc.layout(),
                cudaTextureDesc.layout(), CUmemAllocationProp.layout(), CUmemAccessDesc.layout());
    }

    @Override
    public int hipCode(int rc) {
        return CudaErrors.toHip(rc).code();
    }

    @Override
    public int nativeCode(int hipCode) {
        return CudaErrors.toCuda(hipCode);
    }

    @Override
    public String nativeErrorName(int rc) {
        return NativeSupport.cString(CudaRuntime.cudaGetErrorName(rc));
    }

    @Override
    public String errorName(int hipCode) {
        return HipError.ofCode(hipCode).map(HipError::hipName).orElse("hipErrorUnknown");
    }

    /** The CUDA runtime closes the fd of a successful memory or semaphore import (and of some refused ones). */
    @Override
    public boolean importConsumesFd() {
        return true;
    }

    /**
     * Vulkan's memory and semaphore exports on NVIDIA are fds of {@code /dev/nvidiactl} (measured on an H200: a
     * character device of mode 020666 and size 0, the same st_dev, st_rdev, st_ino and fdinfo for a memory and a
     * timeline semaphore fd; the driver's nodes have major 195, {@code NV_MAJOR_DEVICE_NUMBER}), so fds of regular
     * files, memfds, shm objects, directories, pipes and other devices are refused. Sockets, anonymous inodes and
     * dma-bufs are left to CUDA (not measured).
     */
    private static final FdRule FD_RULE = new FdRule("on NVIDIA a GPU export's fd refers to an NVIDIA device node,"
            + " /dev/nvidiactl, character major " + FdKind.NVIDIA_MAJOR, EnumSet.of(FdKind.REGULAR_FILE,
            FdKind.MEMFD, FdKind.SHM, FdKind.DIRECTORY, FdKind.PIPE, FdKind.CHAR_DEVICE, FdKind.BLOCK_DEVICE,
            FdKind.SYMLINK), false);

    @Override
    public FdRule fdRule() {
        return FD_RULE;
    }

    @Override
    public boolean supportsExternalSemaphores() {
        return true;
    }

    @Override
    public String deviceName(RuntimeCore b, int device) {
        return property(b, device, "hipDeviceGetName", p -> cudaDeviceProp.name(p).getString(0));
    }

    @Override
    public byte[] deviceUuid(RuntimeCore b, int device) {
        return property(b, device, "hipDeviceGetUuid", p -> cudaDeviceProp.uuid(p).toArray(ValueLayout.JAVA_BYTE));
    }

    @Override
    public long totalMemory(RuntimeCore b, int device) {
        return property(b, device, "hipDeviceTotalMem", cudaDeviceProp::totalGlobalMem);
    }

    @Override
    public Optional<String> archName(RuntimeCore b, int device) {
        return Optional.of("sm_" + b.attribute(device, DeviceAttribute.COMPUTE_CAPABILITY_MAJOR)
                + b.attribute(device, DeviceAttribute.COMPUTE_CAPABILITY_MINOR));
    }

    /** {@code cudaDeviceProp} has the CUDA 13 layout; libcudart 12 would fill an older one, so refuse it. */
    private <T> T property(RuntimeCore b, int device, String hipCall, Function<MemorySegment, T> read) {
        int version = b.runtimeVersion();
        if (version < 13000) {
            throw new HipException(HipError.NOT_SUPPORTED, hipCall, "device properties need libcudart 13 (the"
                    + " bindings use CUDA 13's cudaDeviceProp layout); the loaded runtime is " + library.getFileName()
                    + ", version " + version);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment props = a.allocate(cudaDeviceProp.layout());
            b.check(CudaRuntime.cudaGetDeviceProperties(props, device), hipCall);
            return read.apply(props);
        }
    }

    @Override
    public int moduleLoad(MemorySegment out, MemorySegment image) {
        return CudaRuntime.cudaLibraryLoadData(out, image, MemorySegment.NULL, MemorySegment.NULL, 0,
                MemorySegment.NULL, MemorySegment.NULL, 0);
    }

    @Override
    public int moduleUnload(MemorySegment module) {
        return CudaRuntime.cudaLibraryUnload(module);
    }

    /**
     * {@code cudaLibraryGetKernel}, then {@code cudaFuncGetAttributes} on the kernel, which loads it into the
     * current device's context now. Under CUDA's lazy loading (the default since CUDA 12.2) a kernel is otherwise
     * loaded at its first launch, and that load may wait for the device to go idle: a first launch queued behind a
     * wait that the host signals only after the launch returns (an external semaphore's wait, say) then never
     * returns.
     */
    @Override
    public int moduleGetFunction(MemorySegment out, MemorySegment module, MemorySegment name) {
        int rc = CudaRuntime.cudaLibraryGetKernel(out, module, name);
        if (rc != 0) {
            return rc;
        }
        try (Arena a = Arena.ofConfined()) {
            return CudaRuntime.cudaFuncGetAttributes(a.allocate(cudaFuncAttributes.layout()),
                    out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** {@code cudaLaunchKernel} takes a {@code cudaKernel_t} as its function and the two {@code dim3}s by value. */
    @Override
    public int launch(MemorySegment function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
            int sharedBytes, MemorySegment stream, MemorySegment kernelParams, MemorySegment gridDim,
            MemorySegment blockDim) {
        gridDim.set(ValueLayout.JAVA_INT, 0, gridX);
        gridDim.set(ValueLayout.JAVA_INT, 4, gridY);
        gridDim.set(ValueLayout.JAVA_INT, 8, gridZ);
        blockDim.set(ValueLayout.JAVA_INT, 0, blockX);
        blockDim.set(ValueLayout.JAVA_INT, 4, blockY);
        blockDim.set(ValueLayout.JAVA_INT, 8, blockZ);
        return CudaRuntime.cudaLaunchKernel(function, gridDim, blockDim, kernelParams, sharedBytes, stream);
    }

    @Override
    public int graphInstantiate(MemorySegment out, MemorySegment graph) {
        return CudaRuntime.cudaGraphInstantiate(out, graph, 0L);
    }

    @Override
    public int graphExecUpdate(MemorySegment exec, MemorySegment graph, MemorySegment result) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = a.allocate(cudaGraphExecUpdateResultInfo_st.layout());
            int rc = CudaRuntime.cudaGraphExecUpdate(exec, graph, info);
            result.set(ValueLayout.JAVA_INT, 0, cudaGraphExecUpdateResultInfo_st.result(info));
            return rc;
        }
    }

    /** NVRTC is part of the CUDA toolkit, not of the driver: found next to the CUDA runtime or in the CUDA dirs. */
    @Override
    public RuntimeCompilers.Api compiler() {
        RuntimeCompilers.load("nvrtcCreateProgram", library, Platform.NVIDIA,
                List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"),
                "NVRTC (the NVIDIA runtime compiler, libnvrtc) could not be loaded; it is part of the CUDA toolkit, not of"
                        + " the driver");
        return Rtc.INSTANCE;
    }

    // ---- generated calls ------------------------------------------------------------------------------------

    @Override public MemorySegment getErrorString(int rc) { return CudaRuntime.cudaGetErrorString(rc); }
    @Override public int runtimeGetVersion(MemorySegment out) { return CudaRuntime.cudaRuntimeGetVersion(out); }
    @Override public int driverGetVersion(MemorySegment out) { return CudaRuntime.cudaDriverGetVersion(out); }
    @Override public int getDeviceCount(MemorySegment out) { return Critical.call(COUNT, out); }
    @Override public int getDevice(MemorySegment out) { return Critical.call(CURRENT, out); }
    @Override public int setDevice(int device) { return CudaRuntime.cudaSetDevice(device); }
    @Override public int deviceCanAccessPeer(MemorySegment out, int device, int peer) {
        return CudaRuntime.cudaDeviceCanAccessPeer(out, device, peer);
    }
    @Override public int deviceEnablePeerAccess(int peer, int flags) {
        return CudaRuntime.cudaDeviceEnablePeerAccess(peer, flags);
    }
    @Override public int getLastError() { return CudaRuntime.cudaGetLastError(); }
    @Override public int deviceGetPCIBusId(MemorySegment buffer, int length, int device) {
        return CudaRuntime.cudaDeviceGetPCIBusId(buffer, length, device);
    }
    @Override public int deviceGetAttribute(MemorySegment out, int attribute, int device) {
        return CudaRuntime.cudaDeviceGetAttribute(out, attribute, device);
    }
    @Override public int memGetInfo(MemorySegment free, MemorySegment total) {
        return CudaRuntime.cudaMemGetInfo(free, total);
    }
    @Override public int malloc(MemorySegment out, long bytes) { return CudaRuntime.cudaMalloc(out, bytes); }
    @Override public int free(MemorySegment pointer) { return CudaRuntime.cudaFree(pointer); }
    @Override public int hostMalloc(MemorySegment out, long bytes) { return CudaRuntime.cudaMallocHost(out, bytes); }
    @Override public int hostFree(MemorySegment pointer) { return CudaRuntime.cudaFreeHost(pointer); }
    @Override public int memcpyAsync(MemorySegment dst, MemorySegment src, long bytes, int kind, MemorySegment stream) {
        return CudaRuntime.cudaMemcpyAsync(dst, src, bytes, kind, stream);
    }
    @Override public int memsetAsync(MemorySegment dst, int value, long bytes, MemorySegment stream) {
        return CudaRuntime.cudaMemsetAsync(dst, value, bytes, stream);
    }
    @Override public int memcpyPeerAsync(MemorySegment dst, int dstDevice, MemorySegment src, int srcDevice, long bytes,
            MemorySegment stream) {
        return CudaRuntime.cudaMemcpyPeerAsync(dst, dstDevice, src, srcDevice, bytes, stream);
    }
    @Override public int memcpy2DToArray(MemorySegment array, long x, long y, MemorySegment src, long pitch, long width,
            long height, int kind) {
        return CudaRuntime.cudaMemcpy2DToArray(array, x, y, src, pitch, width, height, kind);
    }
    @Override public int memcpy2DFromArray(MemorySegment dst, long pitch, MemorySegment array, long x, long y,
            long width, long height, int kind) {
        return CudaRuntime.cudaMemcpy2DFromArray(dst, pitch, array, x, y, width, height, kind);
    }
    @Override public int memcpy3D(MemorySegment params) { return CudaRuntime.cudaMemcpy3D(params); }
    @Override public int streamCreateWithFlags(MemorySegment out, int flags) {
        return CudaRuntime.cudaStreamCreateWithFlags(out, flags);
    }
    @Override public int streamDestroy(MemorySegment stream) { return CudaRuntime.cudaStreamDestroy(stream); }
    @Override public int streamSynchronize(MemorySegment stream) { return CudaRuntime.cudaStreamSynchronize(stream); }
    @Override public int streamQuery(MemorySegment stream) { return CudaRuntime.cudaStreamQuery(stream); }
    @Override public int streamWaitEvent(MemorySegment stream, MemorySegment event, int flags) {
        return CudaRuntime.cudaStreamWaitEvent(stream, event, flags);
    }
    @Override public int eventCreateWithFlags(MemorySegment out, int flags) {
        return CudaRuntime.cudaEventCreateWithFlags(out, flags);
    }
    @Override public int eventDestroy(MemorySegment event) { return CudaRuntime.cudaEventDestroy(event); }
    @Override public int eventRecord(MemorySegment event, MemorySegment stream) {
        return CudaRuntime.cudaEventRecord(event, stream);
    }
    @Override public int eventSynchronize(MemorySegment event) { return CudaRuntime.cudaEventSynchronize(event); }
    @Override public int eventQuery(MemorySegment event) { return CudaRuntime.cudaEventQuery(event); }
    @Override public int eventElapsedTime(MemorySegment out, MemorySegment start, MemorySegment end) {
        return CudaRuntime.cudaEventElapsedTime(out, start, end);
    }
    @Override public int importExternalMemory(MemorySegment out, MemorySegment desc) {
        return CudaRuntime.cudaImportExternalMemory(out, desc);
    }
    @Override public int externalMemoryGetMappedBuffer(MemorySegment out, MemorySegment memory, MemorySegment desc) {
        return CudaRuntime.cudaExternalMemoryGetMappedBuffer(out, memory, desc);
    }
    @Override public int externalMemoryGetMappedMipmappedArray(MemorySegment out, MemorySegment memory,
            MemorySegment desc) {
        return CudaRuntime.cudaExternalMemoryGetMappedMipmappedArray(out, memory, desc);
    }
    @Override public int getMipmappedArrayLevel(MemorySegment out, MemorySegment mipmappedArray, int level) {
        return CudaRuntime.cudaGetMipmappedArrayLevel(out, mipmappedArray, level);
    }
    @Override public int freeMipmappedArray(MemorySegment mipmappedArray) {
        return CudaRuntime.cudaFreeMipmappedArray(mipmappedArray);
    }
    @Override public int destroyExternalMemory(MemorySegment memory) {
        return CudaRuntime.cudaDestroyExternalMemory(memory);
    }
    @Override public int importExternalSemaphore(MemorySegment out, MemorySegment desc) {
        return CudaRuntime.cudaImportExternalSemaphore(out, desc);
    }
    @Override public int signalExternalSemaphoresAsync(MemorySegment semaphores, MemorySegment params, int n,
            MemorySegment stream) {
        return CudaRuntime.cudaSignalExternalSemaphoresAsync(semaphores, params, n, stream);
    }
    @Override public int waitExternalSemaphoresAsync(MemorySegment semaphores, MemorySegment params, int n,
            MemorySegment stream) {
        return CudaRuntime.cudaWaitExternalSemaphoresAsync(semaphores, params, n, stream);
    }
    @Override public int destroyExternalSemaphore(MemorySegment semaphore) {
        return CudaRuntime.cudaDestroyExternalSemaphore(semaphore);
    }
    @Override public int graphCreate(MemorySegment out, int flags) { return CudaRuntime.cudaGraphCreate(out, flags); }
    @Override public int graphDestroy(MemorySegment graph) { return CudaRuntime.cudaGraphDestroy(graph); }
    @Override public int graphAddExternalSemaphoresSignalNode(MemorySegment out, MemorySegment graph,
            MemorySegment dependencies, long n, MemorySegment nodeParams) {
        return CudaRuntime.cudaGraphAddExternalSemaphoresSignalNode(out, graph, dependencies, n, nodeParams);
    }
    @Override public int graphAddExternalSemaphoresWaitNode(MemorySegment out, MemorySegment graph,
            MemorySegment dependencies, long n, MemorySegment nodeParams) {
        return CudaRuntime.cudaGraphAddExternalSemaphoresWaitNode(out, graph, dependencies, n, nodeParams);
    }
    @Override public int graphAddEmptyNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n) {
        return CudaRuntime.cudaGraphAddEmptyNode(out, graph, dependencies, n);
    }
    @Override public int graphAddKernelNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n,
            MemorySegment nodeParams) {
        return CudaRuntime.cudaGraphAddKernelNode(out, graph, dependencies, n, nodeParams);
    }
    @Override public int graphAddMemcpyNode1D(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n,
            MemorySegment dst, MemorySegment src, long bytes, int kind) {
        return CudaRuntime.cudaGraphAddMemcpyNode1D(out, graph, dependencies, n, dst, src, bytes, kind);
    }
    @Override public int graphAddMemsetNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n,
            MemorySegment params) {
        return CudaRuntime.cudaGraphAddMemsetNode(out, graph, dependencies, n, params);
    }
    @Override public int graphAddChildGraphNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies,
            long n, MemorySegment child) {
        return CudaRuntime.cudaGraphAddChildGraphNode(out, graph, dependencies, n, child);
    }
    @Override public int graphAddEventRecordNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies,
            long n, MemorySegment event) {
        return CudaRuntime.cudaGraphAddEventRecordNode(out, graph, dependencies, n, event);
    }
    @Override public int graphAddEventWaitNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies,
            long n, MemorySegment event) {
        return CudaRuntime.cudaGraphAddEventWaitNode(out, graph, dependencies, n, event);
    }
    @Override public int graphExecExternalSemaphoresSignalNodeSetParams(MemorySegment exec, MemorySegment node,
            MemorySegment nodeParams) {
        return CudaRuntime.cudaGraphExecExternalSemaphoresSignalNodeSetParams(exec, node, nodeParams);
    }
    @Override public int graphExecExternalSemaphoresWaitNodeSetParams(MemorySegment exec, MemorySegment node,
            MemorySegment nodeParams) {
        return CudaRuntime.cudaGraphExecExternalSemaphoresWaitNodeSetParams(exec, node, nodeParams);
    }
    @Override public int graphExternalSemaphoresSignalNodeSetParams(MemorySegment node, MemorySegment nodeParams) {
        return CudaRuntime.cudaGraphExternalSemaphoresSignalNodeSetParams(node, nodeParams);
    }
    @Override public int graphExternalSemaphoresWaitNodeSetParams(MemorySegment node, MemorySegment nodeParams) {
        return CudaRuntime.cudaGraphExternalSemaphoresWaitNodeSetParams(node, nodeParams);
    }
    @Override public int graphExternalSemaphoresSignalNodeGetParams(MemorySegment node, MemorySegment out) {
        return CudaRuntime.cudaGraphExternalSemaphoresSignalNodeGetParams(node, out);
    }
    @Override public int graphExternalSemaphoresWaitNodeGetParams(MemorySegment node, MemorySegment out) {
        return CudaRuntime.cudaGraphExternalSemaphoresWaitNodeGetParams(node, out);
    }
    @Override public int graphLaunch(MemorySegment exec, MemorySegment stream) { return CudaRuntime.cudaGraphLaunch(exec, stream); }
    @Override public int streamBeginCapture(MemorySegment stream, int mode) {
        return CudaRuntime.cudaStreamBeginCapture(stream, mode);
    }
    @Override public int streamEndCapture(MemorySegment stream, MemorySegment out) {
        return CudaRuntime.cudaStreamEndCapture(stream, out);
    }
    @Override public int graphExecDestroy(MemorySegment exec) { return CudaRuntime.cudaGraphExecDestroy(exec); }
    @Override public int glGetDevices(MemorySegment count, MemorySegment devices, int max, int list) {
        return CudaRuntime.cudaGLGetDevices(count, devices, max, list);
    }
    @Override public int graphicsGLRegisterBuffer(MemorySegment out, int buffer, int flags) {
        return CudaRuntime.cudaGraphicsGLRegisterBuffer(out, buffer, flags);
    }
    @Override public int graphicsGLRegisterImage(MemorySegment out, int image, int target, int flags) {
        return CudaRuntime.cudaGraphicsGLRegisterImage(out, image, target, flags);
    }
    @Override public int graphicsMapResources(int n, MemorySegment resources, MemorySegment stream) {
        return CudaRuntime.cudaGraphicsMapResources(n, resources, stream);
    }
    @Override public int graphicsUnmapResources(int n, MemorySegment resources, MemorySegment stream) {
        return CudaRuntime.cudaGraphicsUnmapResources(n, resources, stream);
    }
    @Override public int graphicsResourceGetMappedPointer(MemorySegment out, MemorySegment size, MemorySegment resource) {
        return CudaRuntime.cudaGraphicsResourceGetMappedPointer(out, size, resource);
    }
    @Override public int graphicsSubResourceGetMappedArray(MemorySegment out, MemorySegment resource, int arrayIndex,
            int mipLevel) {
        return CudaRuntime.cudaGraphicsSubResourceGetMappedArray(out, resource, arrayIndex, mipLevel);
    }
    @Override public int graphicsUnregisterResource(MemorySegment resource) {
        return CudaRuntime.cudaGraphicsUnregisterResource(resource);
    }
    @Override public int arrayGetInfo(MemorySegment desc, MemorySegment extent, MemorySegment flags, MemorySegment array) {
        return CudaRuntime.cudaArrayGetInfo(desc, extent, flags, array);
    }
    @Override public int createTextureObject(MemorySegment out, MemorySegment resourceDesc, MemorySegment textureDesc) {
        return CudaRuntime.cudaCreateTextureObject(out, resourceDesc, textureDesc, MemorySegment.NULL);
    }
    @Override public int destroyTextureObject(MemorySegment texture) {
        return CudaRuntime.cudaDestroyTextureObject(texture.address());
    }
    @Override public int createSurfaceObject(MemorySegment out, MemorySegment resourceDesc) {
        return CudaRuntime.cudaCreateSurfaceObject(out, resourceDesc);
    }
    @Override public int destroySurfaceObject(MemorySegment surface) {
        return CudaRuntime.cudaDestroySurfaceObject(surface.address());
    }

    // ---- virtual memory management: CUDA's driver API (libcuda), in the runtime's primary context ------------

    /** Whether the driver API's symbols are known to the bindings (they look symbols up in their class loader). */
    private static volatile boolean driverFound;

    @Override public String requestedHandleTypesField() { return "requestedHandleTypes"; }

    /**
     * {@code cudaFree(NULL)} makes the runtime's primary context current on this thread (and loads libcuda); the
     * driver API is then made known to the bindings: the library that exports {@code cuMemCreate} already (the
     * test double, which is libcudart and libcuda in one), else the {@code libcuda} the runtime mapped into the
     * process ({@code /proc/self/maps}), else {@code libcuda.so.1} from the usual directories.
     */
    @Override
    public int vmmPrepare() {
        int rc = CudaRuntime.cudaFree(MemorySegment.NULL);
        if (rc == 0 && !driverFound) {
            findDriver();
        }
        return rc;
    }

    private synchronized void findDriver() {
        if (driverFound || NativeSupport.hasSymbol("cuMemCreate")) {
            driverFound = true;
            return;
        }
        List<String> tried = new java.util.ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash > 0 && line.contains("/libcuda.so")) {
                    tried.add(line.substring(slash));
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            tried.add("/proc/self/maps: " + e.getMessage());
        }
        for (String dir : List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/nvidia/lib64",
                "/usr/lib/wsl/lib")) {
            tried.add(dir + "/libcuda.so.1");
        }
        for (String candidate : tried) {
            if (candidate.startsWith("/") && Files.isRegularFile(Path.of(candidate))) {
                try {
                    System.load(candidate);
                    if (NativeSupport.hasSymbol("cuMemCreate")) {
                        driverFound = true;
                        return;
                    }
                } catch (UnsatisfiedLinkError e) {
                    // the next one
                }
            }
        }
        throw new HipException(HipError.NOT_SUPPORTED, "hipMemCreate", "virtual memory management on NVIDIA needs"
                + " the CUDA driver API (libcuda.so.1, part of the NVIDIA driver); not found in: " + tried);
    }

    private static long address(MemorySegment s) {
        return s.address();
    }

    /** A driver call's {@code CUresult}: the same numbers as {@code cudaError_t} for the errors these calls return. */
    @Override public int memGetAllocationGranularity(MemorySegment out, MemorySegment prop, int option) {
        return CudaDriver.cuMemGetAllocationGranularity(out, prop, option);
    }
    @Override public int memCreate(MemorySegment out, long size, MemorySegment prop) {
        return CudaDriver.cuMemCreate(out, size, prop, 0L);
    }
    @Override public int memRelease(MemorySegment handle) { return CudaDriver.cuMemRelease(address(handle)); }
    @Override public int memExportToShareableHandle(MemorySegment out, MemorySegment handle, int handleType) {
        return CudaDriver.cuMemExportToShareableHandle(out, address(handle), handleType, 0L);
    }
    @Override public int memImportFromShareableHandle(MemorySegment out, int fd, int handleType) {
        return CudaDriver.cuMemImportFromShareableHandle(out, MemorySegment.ofAddress(fd), handleType);
    }
    @Override public int memAddressReserve(MemorySegment out, long size, long alignment) {
        return CudaDriver.cuMemAddressReserve(out, size, alignment, 0L, 0L);
    }
    @Override public int memAddressFree(MemorySegment address, long size) {
        return CudaDriver.cuMemAddressFree(address(address), size);
    }
    @Override public int memMap(MemorySegment address, long size, MemorySegment handle) {
        return CudaDriver.cuMemMap(address(address), size, 0L, address(handle), 0L);
    }
    @Override public int memUnmap(MemorySegment address, long size) {
        return CudaDriver.cuMemUnmap(address(address), size);
    }
    @Override public int memSetAccess(MemorySegment address, long size, MemorySegment desc) {
        return CudaDriver.cuMemSetAccess(address(address), size, desc, 1L);
    }
    @Override public int ipcGetMemHandle(MemorySegment out, MemorySegment pointer) {
        return CudaRuntime.cudaIpcGetMemHandle(out, pointer);
    }
    @Override public int ipcOpenMemHandle(MemorySegment out, MemorySegment handle) {
        return CudaRuntime.cudaIpcOpenMemHandle(out, handle, CudaRuntime.cudaIpcMemLazyEnablePeerAccess());
    }
    @Override public int ipcCloseMemHandle(MemorySegment pointer) { return CudaRuntime.cudaIpcCloseMemHandle(pointer); }
    @Override public int ipcGetEventHandle(MemorySegment out, MemorySegment event) {
        return CudaRuntime.cudaIpcGetEventHandle(out, event);
    }
    @Override public int ipcOpenEventHandle(MemorySegment out, MemorySegment handle) {
        return CudaRuntime.cudaIpcOpenEventHandle(out, handle);
    }

    /** NVRTC's generated calls. */
    private enum Rtc implements RuntimeCompilers.Api {
        INSTANCE;

        @Override public String prefix() { return "nvrtc"; }
        @Override public String code() { return "PTX"; }
        @Override public boolean codeIsText() { return true; }
        @Override public int createProgram(MemorySegment out, MemorySegment source, MemorySegment name) {
            return Nvrtc.nvrtcCreateProgram(out, source, name, 0, MemorySegment.NULL, MemorySegment.NULL);
        }
        @Override public int addNameExpression(MemorySegment program, MemorySegment expression) {
            return Nvrtc.nvrtcAddNameExpression(program, expression);
        }
        @Override public int compileProgram(MemorySegment program, int n, MemorySegment options) {
            return Nvrtc.nvrtcCompileProgram(program, n, options);
        }
        @Override public int getProgramLogSize(MemorySegment program, MemorySegment out) {
            return Nvrtc.nvrtcGetProgramLogSize(program, out);
        }
        @Override public int getProgramLog(MemorySegment program, MemorySegment log) {
            return Nvrtc.nvrtcGetProgramLog(program, log);
        }
        @Override public int getCodeSize(MemorySegment program, MemorySegment out) {
            return Nvrtc.nvrtcGetPTXSize(program, out);
        }
        @Override public int getCode(MemorySegment program, MemorySegment code) {
            return Nvrtc.nvrtcGetPTX(program, code);
        }
        @Override public int getLoweredName(MemorySegment program, MemorySegment expression, MemorySegment out) {
            return Nvrtc.nvrtcGetLoweredName(program, expression, out);
        }
        @Override public int destroyProgram(MemorySegment programPointer) {
            return Nvrtc.nvrtcDestroyProgram(programPointer);
        }
        @Override public MemorySegment getErrorString(int rc) { return Nvrtc.nvrtcGetErrorString(rc); }
    }
}
