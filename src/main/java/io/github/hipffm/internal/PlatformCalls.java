package io.github.hipffm.internal;

import io.github.hipffm.Platform;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * What one platform supplies to the {@link Backend}: its generated calls, each a one-line delegation taking the
 * platform's own values (translated by the backend through {@link Codes}); its struct layouts, which the backend
 * fills by field name; its error numbering; and overrides for the few things that really differ (device
 * properties, module loading, launch, runtime compilation, the fd and semaphore rules). Return values of the
 * {@code int} methods are the platform's return codes, checked by the backend.
 */
sealed interface PlatformCalls permits HipCalls, CudaCalls {

    /** The generated struct layouts the backend fills by field name. */
    record Layouts(GroupLayout memoryHandleDesc, GroupLayout bufferDesc, GroupLayout mipmappedArrayDesc,
            GroupLayout semaphoreHandleDesc, GroupLayout signalParams, GroupLayout waitParams,
            GroupLayout memcpy3DParms, GroupLayout channelFormatDesc, GroupLayout extent,
            GroupLayout signalNodeParams, GroupLayout waitNodeParams, GroupLayout kernelNodeParams,
            GroupLayout memsetParams, GroupLayout resourceDesc, GroupLayout textureDesc,
            GroupLayout memAllocationProp, GroupLayout memAccessDesc) {
    }

    Platform platform();

    Layouts layouts();

    // ---- errors: the platform's code, its HIP code, its name and text ------------------------------------

    /** {@return the {@code hipError_t} a platform return code stands for} */
    int hipCode(int rc);

    /** {@return the platform code for a HIP code, or -1 when it has none} */
    int nativeCode(int hipCode);

    /** {@return the platform's own name of a return code where it differs from HIP's (CUDA), else null} */
    String nativeErrorName(int rc);

    /** {@return the runtime's name for a HIP code} */
    String errorName(int hipCode);

    MemorySegment getErrorString(int rc);

    // ---- overrides: what really differs -------------------------------------------------------------------

    /** {@return whether a successful import closes the fd it was given (CUDA yes, ROCm never)} */
    boolean importConsumesFd();

    /** {@return what the fd of a GPU export can be on this platform: the kinds refused before an import} */
    FdRule fdRule();

    /** {@return whether external semaphores may be imported (ROCm on Linux aborts the process)} */
    boolean supportsExternalSemaphores();

    String deviceName(RuntimeCore b, int device);

    byte[] deviceUuid(RuntimeCore b, int device);

    long totalMemory(RuntimeCore b, int device);

    Optional<String> archName(RuntimeCore b, int device);

    /** {@return the rc of loading a code object (AMD) or PTX/cubin/fatbin (NVIDIA), handle through {@code out}} */
    int moduleLoad(MemorySegment out, MemorySegment image);

    int moduleUnload(MemorySegment module);

    /** {@return the rc of looking up a kernel and loading it into the current device's context, through {@code out}} */
    int moduleGetFunction(MemorySegment out, MemorySegment module, MemorySegment name);

    /** Launches; {@code gridDim}/{@code blockDim} are 12-byte scratch {@code dim3}s for platforms that pass them by value. */
    int launch(MemorySegment function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
            int sharedBytes, MemorySegment stream, MemorySegment kernelParams, MemorySegment gridDim,
            MemorySegment blockDim);

    /**
     * {@return the rc of instantiating a graph, the exec through {@code out}} HIP's {@code hipGraphInstantiate}
     * takes an error node and a log buffer (passed NULL, 0), CUDA's {@code cudaGraphInstantiate} flags (0).
     */
    int graphInstantiate(MemorySegment out, MemorySegment graph);

    /**
     * {@return the rc of a whole-graph update of an exec, the update result (the platform's
     * {@code hip/cudaGraphExecUpdateResult}, an {@code int}) through {@code result}} HIP's {@code hipGraphExecUpdate}
     * returns it (and an error node) through two out-parameters, CUDA's {@code cudaGraphExecUpdate} in a
     * {@code cudaGraphExecUpdateResultInfo}.
     */
    int graphExecUpdate(MemorySegment exec, MemorySegment graph, MemorySegment result);

    /** {@return the platform's runtime compiler, loading it on first use} */
    RuntimeCompilers.Api compiler();

    // ---- generated calls ------------------------------------------------------------------------------------

    int runtimeGetVersion(MemorySegment out);

    int driverGetVersion(MemorySegment out);

    int getDeviceCount(MemorySegment out);

    int getDevice(MemorySegment out);

    int setDevice(int device);

    int deviceCanAccessPeer(MemorySegment out, int device, int peer);

    int deviceEnablePeerAccess(int peer, int flags);

    int getLastError();

    int deviceGetPCIBusId(MemorySegment buffer, int length, int device);

    int deviceGetAttribute(MemorySegment out, int attribute, int device);

    int memGetInfo(MemorySegment free, MemorySegment total);

    int malloc(MemorySegment out, long bytes);

    int free(MemorySegment pointer);

    int hostMalloc(MemorySegment out, long bytes);

    int hostFree(MemorySegment pointer);

    int memcpyAsync(MemorySegment dst, MemorySegment src, long bytes, int kind, MemorySegment stream);

    int memsetAsync(MemorySegment dst, int value, long bytes, MemorySegment stream);

    int memcpyPeerAsync(MemorySegment dst, int dstDevice, MemorySegment src, int srcDevice, long bytes,
            MemorySegment stream);

    int memcpy2DToArray(MemorySegment array, long x, long y, MemorySegment src, long pitch, long width, long height,
            int kind);

    int memcpy2DFromArray(MemorySegment dst, long pitch, MemorySegment array, long x, long y, long width, long height,
            int kind);

    int memcpy3D(MemorySegment params);

    int streamCreateWithFlags(MemorySegment out, int flags);

    int streamDestroy(MemorySegment stream);

    int streamSynchronize(MemorySegment stream);

    int streamQuery(MemorySegment stream);

    int streamWaitEvent(MemorySegment stream, MemorySegment event, int flags);

    int eventCreateWithFlags(MemorySegment out, int flags);

    int eventDestroy(MemorySegment event);

    int eventRecord(MemorySegment event, MemorySegment stream);

    int eventSynchronize(MemorySegment event);

    int eventQuery(MemorySegment event);

    int eventElapsedTime(MemorySegment out, MemorySegment start, MemorySegment end);

    int importExternalMemory(MemorySegment out, MemorySegment desc);

    int externalMemoryGetMappedBuffer(MemorySegment out, MemorySegment memory, MemorySegment desc);

    int externalMemoryGetMappedMipmappedArray(MemorySegment out, MemorySegment memory, MemorySegment desc);

    int getMipmappedArrayLevel(MemorySegment out, MemorySegment mipmappedArray, int level);

    int freeMipmappedArray(MemorySegment mipmappedArray);

    int destroyExternalMemory(MemorySegment memory);

    int importExternalSemaphore(MemorySegment out, MemorySegment desc);

    int signalExternalSemaphoresAsync(MemorySegment semaphores, MemorySegment params, int n, MemorySegment stream);

    int waitExternalSemaphoresAsync(MemorySegment semaphores, MemorySegment params, int n, MemorySegment stream);

    int destroyExternalSemaphore(MemorySegment semaphore);

    int graphCreate(MemorySegment out, int flags);

    int graphDestroy(MemorySegment graph);

    int graphAddExternalSemaphoresSignalNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies,
            long n, MemorySegment nodeParams);

    int graphAddExternalSemaphoresWaitNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies,
            long n, MemorySegment nodeParams);

    int graphAddEmptyNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n);

    int graphAddKernelNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n,
            MemorySegment nodeParams);

    int graphAddMemcpyNode1D(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n,
            MemorySegment dst, MemorySegment src, long bytes, int kind);

    int graphAddMemsetNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n,
            MemorySegment params);

    int graphAddChildGraphNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n,
            MemorySegment child);

    int graphAddEventRecordNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n,
            MemorySegment event);

    int graphAddEventWaitNode(MemorySegment out, MemorySegment graph, MemorySegment dependencies, long n,
            MemorySegment event);

    int graphExecExternalSemaphoresSignalNodeSetParams(MemorySegment exec, MemorySegment node, MemorySegment nodeParams);

    int graphExecExternalSemaphoresWaitNodeSetParams(MemorySegment exec, MemorySegment node, MemorySegment nodeParams);

    int graphExternalSemaphoresSignalNodeSetParams(MemorySegment node, MemorySegment nodeParams);

    int graphExternalSemaphoresWaitNodeSetParams(MemorySegment node, MemorySegment nodeParams);

    int graphExternalSemaphoresSignalNodeGetParams(MemorySegment node, MemorySegment out);

    int graphExternalSemaphoresWaitNodeGetParams(MemorySegment node, MemorySegment out);

    int graphLaunch(MemorySegment exec, MemorySegment stream);

    int streamBeginCapture(MemorySegment stream, int mode);

    int streamEndCapture(MemorySegment stream, MemorySegment out);

    int graphExecDestroy(MemorySegment exec);

    int glGetDevices(MemorySegment count, MemorySegment devices, int max, int list);

    int graphicsGLRegisterBuffer(MemorySegment out, int buffer, int flags);

    int graphicsGLRegisterImage(MemorySegment out, int image, int target, int flags);

    int graphicsMapResources(int n, MemorySegment resources, MemorySegment stream);

    int graphicsUnmapResources(int n, MemorySegment resources, MemorySegment stream);

    int graphicsResourceGetMappedPointer(MemorySegment out, MemorySegment size, MemorySegment resource);

    int graphicsSubResourceGetMappedArray(MemorySegment out, MemorySegment resource, int arrayIndex, int mipLevel);

    int graphicsUnregisterResource(MemorySegment resource);

    int arrayGetInfo(MemorySegment desc, MemorySegment extent, MemorySegment flags, MemorySegment array);

    /** {@return the rc of creating a texture object (no resource view), its handle through {@code out}} */
    int createTextureObject(MemorySegment out, MemorySegment resourceDesc, MemorySegment textureDesc);

    /**
     * {@return the rc of destroying a texture object} The handle is HIP's {@code hipTextureObject_t}, a pointer, or
     * CUDA's {@code cudaTextureObject_t}, a 64-bit integer: both travel as a segment of that address.
     */
    int destroyTextureObject(MemorySegment texture);

    int createSurfaceObject(MemorySegment out, MemorySegment resourceDesc);

    /** {@return the rc of destroying a surface object, its handle passed as {@link #destroyTextureObject}'s} */
    int destroySurfaceObject(MemorySegment surface);
    // ---- virtual memory management (HIP's hipMem*, CUDA's driver API cuMem*) and IPC handles ------------------
    // Allocation handles and addresses travel as zero-length segments (CUDA's are integers: the adapter converts).

    /** {@return the name of the allocation properties' handle-type field: HIP {@code requestedHandleType}, CUDA {@code requestedHandleTypes}} */
    String requestedHandleTypesField();

    /**
     * Makes the calls below possible on the calling thread: nothing on HIP; on CUDA, the driver API found (libcuda,
     * loaded by the runtime) and the runtime's primary context current ({@code cudaFree(NULL)}). Returns an rc.
     */
    int vmmPrepare();

    int memGetAllocationGranularity(MemorySegment out, MemorySegment prop, int option);

    int memCreate(MemorySegment out, long size, MemorySegment prop);

    int memRelease(MemorySegment handle);

    int memExportToShareableHandle(MemorySegment out, MemorySegment handle, int handleType);

    int memImportFromShareableHandle(MemorySegment out, int fd, int handleType);

    int memAddressReserve(MemorySegment out, long size, long alignment);

    int memAddressFree(MemorySegment address, long size);

    int memMap(MemorySegment address, long size, MemorySegment handle);

    int memUnmap(MemorySegment address, long size);

    int memSetAccess(MemorySegment address, long size, MemorySegment desc);

    int ipcGetMemHandle(MemorySegment out, MemorySegment pointer);

    /** {@code handle}: the 64-byte handle, passed by value. */
    int ipcOpenMemHandle(MemorySegment out, MemorySegment handle);

    int ipcCloseMemHandle(MemorySegment pointer);

    int ipcGetEventHandle(MemorySegment out, MemorySegment event);

    int ipcOpenEventHandle(MemorySegment out, MemorySegment handle);
}
