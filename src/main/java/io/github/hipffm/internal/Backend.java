package io.github.hipffm.internal;

import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.HipException;
import io.github.hipffm.Platform;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One platform's runtime, behind the calls the idiomatic layer needs. Each method makes the native call(s),
 * checks every return code and throws {@link HipException} under the HIP name of the call and error; the NVIDIA
 * implementation translates CUDA codes first. Arguments are validated by the callers before they get here.
 */
public sealed interface Backend permits AmdBackend, NvidiaBackend {

    /** {@return the platform} */
    Platform platform();

    /** {@return the library file that was loaded} */
    Path library();

    /**
     * Throws when {@code rc} is not success.
     *
     * @param rc the platform's return code
     * @param hipCall the HIP name of the call that returned it
     * @throws HipException when {@code rc != 0}
     */
    void check(int rc, String hipCall);

    /** {@return the runtime's name for a HIP error code} @param hipCode a {@code hipError_t} value */
    String errorName(int hipCode);

    /** {@return the runtime's description of a HIP error code} @param hipCode a {@code hipError_t} value */
    String errorString(int hipCode);

    /** {@return the raw runtime version} */
    int runtimeVersion();

    /** {@return the raw driver version (0 when no driver is installed)} */
    int driverVersion();

    /** {@return the number of devices} @throws HipException e.g. {@code hipErrorNoDevice} */
    int deviceCount();

    /** {@return the current device of the calling thread} */
    int getDevice();

    /** Makes a device current for the calling thread. @param device the ordinal */
    void setDevice(int device);

    /** {@return the device name} @param device the ordinal */
    String deviceName(int device);

    /** {@return the 16-byte device UUID (the one Vulkan reports as {@code deviceUUID})} @param device ordinal */
    byte[] deviceUuid(int device);

    /** {@return the PCI bus id string, {@code domain:bus:device.function}} @param device the ordinal */
    String pciBusId(int device);

    /**
     * {@return an attribute's value}
     * @param device the ordinal
     * @param attribute which one
     */
    int attribute(int device, DeviceAttribute attribute);

    /** {@return total device memory in bytes} @param device the ordinal */
    long totalMemory(int device);

    /**
     * {@return free and total memory of a device, bytes, as {@code {free, total}}} Makes the device current
     * for the duration of the call.
     * @param device the ordinal
     */
    long[] memoryInfo(int device);

    /** {@return the architecture name ({@code gcnArchName} on AMD, e.g. {@code gfx942}), where known} */
    Optional<String> archName(int device);

    // ---- memory -------------------------------------------------------------------------------------------
    // Pointers and handles travel as MemorySegments so that FFM's liveness check refuses a closed one before
    // any native call. Returned pointers and handles are zero-length segments; callers give them a size/scope.

    /** {@return a device allocation ({@code hipMalloc})} @param bytes size, &gt; 0 */
    MemorySegment malloc(long bytes);

    /** Frees device memory, including a mapped external buffer ({@code hipFree}). @param pointer it */
    void free(MemorySegment pointer);

    /** {@return pinned host memory ({@code hipHostMalloc}, default flags)} @param bytes size, &gt; 0 */
    MemorySegment hostMalloc(long bytes);

    /** Frees pinned host memory ({@code hipHostFree}). @param pointer it */
    void hostFree(MemorySegment pointer);

    /**
     * Copies bytes, direction inferred from the pointers ({@code hipMemcpy} with {@code hipMemcpyDefault}).
     *
     * @param dst destination
     * @param src source
     * @param bytes how many
     */
    void memcpy(MemorySegment dst, MemorySegment src, long bytes);

    /**
     * Enqueues a copy on a stream ({@code hipMemcpyAsync}, {@code hipMemcpyDefault}).
     *
     * @param dst destination
     * @param src source
     * @param bytes how many
     * @param stream the stream, {@code NULL} for the default stream
     */
    void memcpyAsync(MemorySegment dst, MemorySegment src, long bytes, MemorySegment stream);

    /**
     * Sets bytes of device memory ({@code hipMemset}).
     *
     * @param dst destination
     * @param value the byte value
     * @param bytes how many
     */
    void memset(MemorySegment dst, int value, long bytes);

    /**
     * Enqueues {@code hipMemsetAsync}.
     *
     * @param dst destination
     * @param value the byte value
     * @param bytes how many
     * @param stream the stream, {@code NULL} for the default stream
     */
    void memsetAsync(MemorySegment dst, int value, long bytes, MemorySegment stream);

    /**
     * Copies a 2D region into an array ({@code hipMemcpy2DToArray}, {@code hipMemcpyDefault}).
     *
     * @param array destination array
     * @param xOffsetBytes destination x offset, bytes
     * @param yOffset destination row
     * @param src source
     * @param srcPitch source row pitch, bytes
     * @param widthBytes row width, bytes
     * @param height rows
     */
    void memcpy2DToArray(MemorySegment array, long xOffsetBytes, long yOffset, MemorySegment src, long srcPitch,
            long widthBytes, long height);

    /**
     * Copies a 2D region out of an array ({@code hipMemcpy2DFromArray}, {@code hipMemcpyDefault}).
     *
     * @param dst destination
     * @param dstPitch destination row pitch, bytes
     * @param array source array
     * @param xOffsetBytes source x offset, bytes
     * @param yOffset source row
     * @param widthBytes row width, bytes
     * @param height rows
     */
    void memcpy2DFromArray(MemorySegment dst, long dstPitch, MemorySegment array, long xOffsetBytes, long yOffset,
            long widthBytes, long height);

    /**
     * Copies between a whole 1D, 2D or 3D (or layered) array and tightly packed linear memory
     * ({@code hipMemcpy3D}, {@code hipMemcpyDefault}, positions 0).
     *
     * @param array the array
     * @param linear host, pinned or device memory: {@code width * elementBytes * height * depth} bytes
     * @param toArray {@code true}: linear to array; {@code false}: array to linear
     * @param width width in elements
     * @param elementBytes bytes per element
     * @param height rows per slice, at least 1
     * @param depth slices (or layers), at least 1
     */
    void memcpy3D(MemorySegment array, MemorySegment linear, boolean toArray, long width, long elementBytes,
            long height, long depth);

    // ---- streams and events -------------------------------------------------------------------------------

    /** {@return a new stream ({@code hipStreamCreateWithFlags})} @param flags 0 or {@code hipStreamNonBlocking} */
    MemorySegment streamCreate(int flags);

    /** Destroys a stream. @param stream it */
    void streamDestroy(MemorySegment stream);

    /** Waits for a stream's work. @param stream it, {@code NULL} for the default stream */
    void streamSynchronize(MemorySegment stream);

    /** {@return true when all of the stream's work is done ({@code hipStreamQuery})} @param stream it */
    boolean streamQuery(MemorySegment stream);

    /**
     * Makes a stream wait for an event ({@code hipStreamWaitEvent}, flags 0).
     *
     * @param stream the stream that waits
     * @param event the event
     */
    void streamWaitEvent(MemorySegment stream, MemorySegment event);

    /** {@return a new event ({@code hipEventCreateWithFlags})} @param flags {@code hipEventDefault}, ... */
    MemorySegment eventCreate(int flags);

    /** Destroys an event. @param event it */
    void eventDestroy(MemorySegment event);

    /**
     * Records an event on a stream.
     *
     * @param event the event
     * @param stream the stream, {@code NULL} for the default stream
     */
    void eventRecord(MemorySegment event, MemorySegment stream);

    /** Waits for an event. @param event it */
    void eventSynchronize(MemorySegment event);

    /** {@return true when the event has completed ({@code hipEventQuery})} @param event it */
    boolean eventQuery(MemorySegment event);

    /**
     * {@return milliseconds between two recorded events}
     * @param start the earlier event
     * @param end the later event
     */
    float eventElapsedTime(MemorySegment start, MemorySegment end);

    /**
     * {@return whether a successful import closes the fd it was given} The CUDA runtime does (for memory and
     * semaphores); ROCm never does. hip-ffm evens this out: on success the imported object owns the fd.
     */
    boolean importConsumesFd();

    // ---- external memory ------------------------------------------------------------------------------------

    /**
     * Imports external memory ({@code hipImportExternalMemory}). Ownership of an fd follows the platform
     * (CUDA closes it on success, ROCm never does); the caller evens that out.
     *
     * @param handleType the {@code hipExternalMemoryHandleType} value
     * @param fd the fd, for fd types
     * @param win32Handle the NT handle, or {@code NULL}
     * @param win32Name the name (wide string), or {@code NULL}
     * @param nvSciBufObject the NvSciBuf object, or {@code NULL}
     * @param size the size in bytes
     * @param flags {@code hipExternalMemoryDedicated} or 0
     * @return the {@code hipExternalMemory_t}
     */
    MemorySegment importExternalMemory(int handleType, int fd, MemorySegment win32Handle, MemorySegment win32Name,
            MemorySegment nvSciBufObject, long size, int flags);

    /**
     * {@return a device pointer to part of external memory ({@code hipExternalMemoryGetMappedBuffer}, flags 0)},
     * to be freed with {@link #free}
     * @param memory the external memory
     * @param offset offset in bytes
     * @param size size in bytes
     */
    MemorySegment externalMemoryMappedBuffer(MemorySegment memory, long offset, long size);

    /**
     * {@return a mipmapped array over external memory ({@code hipExternalMemoryGetMappedMipmappedArray})}
     * @param memory the external memory
     * @param offset offset in bytes
     * @param channelBits bits of the x, y, z, w channels
     * @param channelKind the {@code hipChannelFormatKind} value
     * @param width width in elements
     * @param height height in elements (0 for 1D)
     * @param depth depth in elements (0 for 1D/2D)
     * @param flags array flags ({@code hipArrayDefault}, ...)
     * @param levels number of mip levels
     */
    MemorySegment externalMemoryMappedMipmappedArray(MemorySegment memory, long offset, int[] channelBits,
            int channelKind, long width, long height, long depth, int flags, int levels);

    /**
     * {@return one level of a mipmapped array ({@code hipGetMipmappedArrayLevel})}
     * @param mipmappedArray the array
     * @param level the level
     */
    MemorySegment mipmappedArrayLevel(MemorySegment mipmappedArray, int level);

    /** Frees a mipmapped array ({@code hipFreeMipmappedArray}). @param mipmappedArray it */
    void freeMipmappedArray(MemorySegment mipmappedArray);

    /** Destroys external memory ({@code hipDestroyExternalMemory}). @param memory it */
    void destroyExternalMemory(MemorySegment memory);

    // ---- external semaphores ----------------------------------------------------------------------------

    /**
     * {@return whether this runtime can import external semaphores at all} ROCm on Linux cannot: its
     * {@code importExtSemaphore} reaches {@code ShouldNotReachHere()} and aborts the process, so it is never
     * called there.
     */
    boolean supportsExternalSemaphores();

    /**
     * Imports an external semaphore ({@code hipImportExternalSemaphore}).
     *
     * @param handleType the {@code hipExternalSemaphoreHandleType} value
     * @param fd the fd, for fd types
     * @param win32Handle the NT handle, or {@code NULL}
     * @param win32Name the name, or {@code NULL}
     * @param nvSciSyncObject the NvSciSync object, or {@code NULL}
     * @param flags 0
     * @return the {@code hipExternalSemaphore_t}
     */
    MemorySegment importExternalSemaphore(int handleType, int fd, MemorySegment win32Handle, MemorySegment win32Name,
            MemorySegment nvSciSyncObject, int flags);

    /**
     * Signals semaphores in one native call ({@code hipSignalExternalSemaphoresAsync}, params flags 0,
     * {@code fence.value} set; keyed-mutex keys where given).
     *
     * @param n how many semaphores: the first {@code n} entries of each array (which may be longer, so that a
     *          caller can reuse them)
     * @param semaphores the {@code hipExternalSemaphore_t}s
     * @param values fence value per semaphore
     * @param keyedMutexKeys key per semaphore (used by keyed-mutex types only)
     * @param stream the stream, {@code NULL} for the default stream
     */
    void signalExternalSemaphores(int n, MemorySegment[] semaphores, long[] values, long[] keyedMutexKeys,
            MemorySegment stream);

    /**
     * Waits on semaphores in one native call ({@code hipWaitExternalSemaphoresAsync}, params flags 0,
     * {@code fence.value} set; keyed-mutex key and timeout where given).
     *
     * @param n how many semaphores: the first {@code n} entries of each array
     * @param semaphores the {@code hipExternalSemaphore_t}s
     * @param values fence value per semaphore
     * @param keyedMutexKeys key per semaphore (used by keyed-mutex types only)
     * @param keyedMutexTimeoutsMs timeout per semaphore (keyed-mutex types only)
     * @param stream the stream, {@code NULL} for the default stream
     */
    void waitExternalSemaphores(int n, MemorySegment[] semaphores, long[] values, long[] keyedMutexKeys,
            int[] keyedMutexTimeoutsMs, MemorySegment stream);

    /**
     * Signals one semaphore (a batch of one, without allocating).
     *
     * @param semaphore the {@code hipExternalSemaphore_t}
     * @param value the fence value
     * @param stream the stream
     */
    void signalExternalSemaphore(MemorySegment semaphore, long value, MemorySegment stream);

    /**
     * Waits on one semaphore (a batch of one, without allocating).
     *
     * @param semaphore the {@code hipExternalSemaphore_t}
     * @param value the fence value
     * @param stream the stream
     */
    void waitExternalSemaphore(MemorySegment semaphore, long value, MemorySegment stream);

    /** Destroys an external semaphore ({@code hipDestroyExternalSemaphore}). @param semaphore it */
    void destroyExternalSemaphore(MemorySegment semaphore);

    // ---- modules, launch, runtime compilation --------------------------------------------------------

    /**
     * {@return a loaded module ({@code hipModuleLoadData}; on NVIDIA {@code cudaLibraryLoadData})}
     * @param image a code object / fat binary (AMD) or PTX (NUL-terminated), cubin or fatbin (NVIDIA)
     */
    MemorySegment moduleLoad(MemorySegment image);

    /** Unloads a module. @param module it */
    void moduleUnload(MemorySegment module);

    /**
     * {@return a kernel of a module ({@code hipModuleGetFunction}; on NVIDIA {@code cudaLibraryGetKernel})}
     * @param module the module
     * @param name the kernel's (lowered) name
     */
    MemorySegment moduleFunction(MemorySegment module, String name);

    /**
     * Launches a kernel ({@code hipModuleLaunchKernel}; on NVIDIA {@code cudaLaunchKernel}).
     *
     * @param function the kernel
     * @param gridX grid size x
     * @param gridY grid size y
     * @param gridZ grid size z
     * @param blockX block size x
     * @param blockY block size y
     * @param blockZ block size z
     * @param sharedBytes dynamic shared memory
     * @param stream the stream, {@code NULL} for the default stream
     * @param kernelParams the {@code void*[]} of pointers to each argument
     * @param gridDim 12 bytes this call may use for the grid {@code dim3} (the NVIDIA platform passes it by value)
     * @param blockDim 12 bytes for the block {@code dim3}; both made once per {@code KernelArgs}, so that a launch
     *                 makes no segment (no reliance on the JIT to remove a per-call slice)
     */
    void launch(MemorySegment function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
            int sharedBytes, MemorySegment stream, MemorySegment kernelParams, MemorySegment gridDim,
            MemorySegment blockDim);

    /**
     * Compiles a source at run time (hiprtc on AMD, NVRTC on NVIDIA).
     *
     * @param source the source text
     * @param name the program's file name, for messages
     * @param options compiler options
     * @param nameExpressions name expressions whose lowered names are wanted
     * @return the code and the lowered names
     * @throws io.github.hipffm.CompilationException when compilation fails (with the full log)
     */
    io.github.hipffm.RuntimeCompiler.Program compile(String source, String name, java.util.List<String> options,
            java.util.List<String> nameExpressions);

    // ---- OpenGL interop -------------------------------------------------------------------------------

    /** {@return the devices of the current GL context ({@code hipGLGetDevices}, all frames)} @param max at most */
    int[] glDevices(int max);

    /**
     * {@return a registered GL buffer object ({@code hipGraphicsGLRegisterBuffer})}
     * @param glBuffer the buffer name
     * @param flags {@code hipGraphicsRegisterFlags} value
     */
    MemorySegment glRegisterBuffer(int glBuffer, int flags);

    /**
     * {@return a registered GL texture or renderbuffer ({@code hipGraphicsGLRegisterImage})}
     * @param glImage the texture or renderbuffer name
     * @param glTarget {@code GL_TEXTURE_2D}, {@code GL_RENDERBUFFER}, ...
     * @param flags {@code hipGraphicsRegisterFlags} value
     */
    MemorySegment glRegisterImage(int glImage, int glTarget, int flags);

    /**
     * Maps registered resources in one call ({@code hipGraphicsMapResources}).
     *
     * @param resources the resources
     * @param stream the stream, {@code NULL} for the default stream
     */
    void graphicsMap(MemorySegment[] resources, MemorySegment stream);

    /**
     * Unmaps resources in one call ({@code hipGraphicsUnmapResources}).
     *
     * @param resources the resources
     * @param stream the stream, {@code NULL} for the default stream
     */
    void graphicsUnmap(MemorySegment[] resources, MemorySegment stream);

    /**
     * {@return the device pointer of a mapped buffer resource; its size in {@code size[0]}}
     * @param resource the resource
     * @param size one element, receives the size in bytes
     */
    MemorySegment graphicsMappedPointer(MemorySegment resource, long[] size);

    /**
     * {@return the array of a mapped image resource ({@code hipGraphicsSubResourceGetMappedArray})}
     * @param resource the resource
     * @param arrayIndex the layer (cube face) index
     * @param mipLevel the mip level
     */
    MemorySegment graphicsMappedArray(MemorySegment resource, int arrayIndex, int mipLevel);

    /** Unregisters a resource ({@code hipGraphicsUnregisterResource}). @param resource it */
    void graphicsUnregister(MemorySegment resource);

    /**
     * {@return an array's format and extent ({@code hipArrayGetInfo}): x, y, z, w bits, the HIP channel kind,
     * width, height, depth}
     * @param array the array
     */
    long[] arrayInfo(MemorySegment array);
}
