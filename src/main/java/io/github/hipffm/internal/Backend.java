package io.github.hipffm.internal;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.ExternalMemoryHandleType;
import io.github.hipffm.ExternalSemaphoreHandleType;
import io.github.hipffm.GraphicsResource;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Platform;
import io.github.hipffm.RuntimeCompiler;
import io.github.hipffm.internal.Codes.Constant;
import io.github.hipffm.internal.Codes.NativeFlag;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * One platform's runtime behind the calls the idiomatic layer needs, written once for both platforms: each
 * method marshals Java values into the platform's values and structs ({@link Codes}, layouts by field name),
 * makes the native call through the platform's {@link PlatformCalls}, checks the return code and throws
 * {@link HipException} under the HIP name of the call and error (CUDA codes translated, their names kept).
 * Arguments are validated by the callers before they get here.
 *
 * <p>Pointers and handles travel as {@link MemorySegment}s so that FFM's liveness check refuses a closed one
 * before any native call. Returned pointers and handles are zero-length segments unless said otherwise.
 */
public final class Backend {
    private final PlatformCalls calls;
    private final Platform platform;
    private final Path library;
    private final Struct memoryHandleDesc;
    private final Struct bufferDesc;
    private final Struct mipmappedArrayDesc;
    private final Struct semaphoreHandleDesc;
    private final SemaphoreParams signal;
    private final SemaphoreParams wait;
    private final Memcpy3DParams memcpy3D;
    private final Struct channelFormatDesc;
    private final Struct extent;
    private final int memcpyDefault;
    private final int notReady;

    Backend(PlatformCalls calls, Path library) {
        this.calls = calls;
        this.platform = calls.platform();
        this.library = library;
        PlatformCalls.Layouts l = calls.layouts();
        memoryHandleDesc = new Struct(l.memoryHandleDesc());
        bufferDesc = new Struct(l.bufferDesc());
        mipmappedArrayDesc = new Struct(l.mipmappedArrayDesc());
        semaphoreHandleDesc = new Struct(l.semaphoreHandleDesc());
        signal = SemaphoreParams.signal(l.signalParams());
        wait = SemaphoreParams.wait(l.waitParams());
        memcpy3D = new Memcpy3DParams(new Struct(l.memcpy3DParms()));
        channelFormatDesc = new Struct(l.channelFormatDesc());
        extent = new Struct(l.extent());
        memcpyDefault = Codes.of(platform, Constant.MEMCPY_DEFAULT);
        notReady = Codes.of(platform, Constant.ERROR_NOT_READY);
    }

    /** {@return the platform} */
    public Platform platform() {
        return platform;
    }

    /** {@return the library file that was loaded} */
    public Path library() {
        return library;
    }

    // ---- errors ---------------------------------------------------------------------------------------------

    /**
     * Throws when {@code rc} is not success.
     *
     * @param rc the platform's return code
     * @param hipCall the HIP name of the call that returned it
     * @throws HipException when {@code rc != 0}
     */
    public void check(int rc, String hipCall) {
        if (rc != 0) {
            throw error(rc, hipCall);
        }
    }

    private HipException error(int rc, String hipCall) {
        return new HipException(calls.hipCode(rc), hipCall, NativeSupport.cString(calls.getErrorString(rc)),
                calls.nativeErrorName(rc));
    }

    /** {@code success} → true, not ready → false, anything else throws. */
    private boolean ready(int rc, String hipCall) {
        if (rc == notReady) {
            return false;
        }
        check(rc, hipCall);
        return true;
    }

    /** {@return the runtime's name for a HIP error code} @param hipCode a {@code hipError_t} value */
    public String errorName(int hipCode) {
        return calls.errorName(hipCode);
    }

    /** {@return the runtime's description of a HIP error code (the HIP name where the platform has none)} */
    public String errorString(int hipCode) {
        int rc = calls.nativeCode(hipCode);
        return rc < 0 ? errorName(hipCode) : NativeSupport.cString(calls.getErrorString(rc));
    }

    // ---- out-parameters -------------------------------------------------------------------------------------

    int intOut(String hipCall, ToIntFunction<MemorySegment> call) {
        MemorySegment out = Scratch.get().out;
        check(call.applyAsInt(out), hipCall);
        return out.get(ValueLayout.JAVA_INT, 0);
    }

    private MemorySegment pointerOut(String hipCall, ToIntFunction<MemorySegment> call) {
        MemorySegment out = Scratch.get().out;
        check(call.applyAsInt(out), hipCall);
        return out.get(ValueLayout.ADDRESS, 0);
    }

    // ---- versions and devices -------------------------------------------------------------------------------

    /** {@return the raw runtime version} */
    public int runtimeVersion() {
        return intOut("hipRuntimeGetVersion", calls::runtimeGetVersion);
    }

    /** {@return the raw driver version (0 when no driver is installed)} */
    public int driverVersion() {
        return intOut("hipDriverGetVersion", calls::driverGetVersion);
    }

    /** {@return the number of devices} @throws HipException e.g. {@code hipErrorNoDevice} */
    public int deviceCount() {
        MemorySegment n = Scratch.get().out;
        check(calls.getDeviceCount(n), "hipGetDeviceCount");
        return n.get(ValueLayout.JAVA_INT, 0);
    }

    /** {@return the current device of the calling thread} */
    public int getDevice() {
        MemorySegment d = Scratch.get().out;
        check(calls.getDevice(d), "hipGetDevice");
        return d.get(ValueLayout.JAVA_INT, 0);
    }

    /** Makes a device current for the calling thread. @param device the ordinal */
    public void setDevice(int device) {
        check(calls.setDevice(device), "hipSetDevice");
    }

    /** {@return the device name} @param device the ordinal */
    public String deviceName(int device) {
        return calls.deviceName(this, device);
    }

    /** {@return the 16-byte device UUID (the one Vulkan reports as {@code deviceUUID})} @param device ordinal */
    public byte[] deviceUuid(int device) {
        return calls.deviceUuid(this, device);
    }

    /** {@return the PCI bus id string, {@code domain:bus:device.function}} @param device the ordinal */
    public String pciBusId(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment id = a.allocate(64);
            check(calls.deviceGetPCIBusId(id, 64, device), "hipDeviceGetPCIBusId");
            return id.getString(0);
        }
    }

    /** {@return an attribute's value} @param device the ordinal @param attribute which one */
    public int attribute(int device, DeviceAttribute attribute) {
        int value = Codes.of(platform, attribute);
        return intOut("hipDeviceGetAttribute", v -> calls.deviceGetAttribute(v, value, device));
    }

    /** {@return total device memory in bytes} @param device the ordinal */
    public long totalMemory(int device) {
        return calls.totalMemory(this, device);
    }

    /** {@return free and total memory of a device; makes it current for the call} @param device the ordinal */
    public io.github.hipffm.Device.MemoryInfo memoryInfo(int device) {
        int previous = getDevice();
        try (Arena a = Arena.ofConfined()) {
            setDevice(device);
            MemorySegment free = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = a.allocate(ValueLayout.JAVA_LONG);
            check(calls.memGetInfo(free, total), "hipMemGetInfo");
            return new io.github.hipffm.Device.MemoryInfo(free.get(ValueLayout.JAVA_LONG, 0),
                    total.get(ValueLayout.JAVA_LONG, 0));
        } finally {
            setDevice(previous);
        }
    }

    /** {@return the architecture name ({@code gcnArchName} on AMD, {@code sm_XY} on NVIDIA), where known} */
    public Optional<String> archName(int device) {
        return calls.archName(this, device);
    }

    // ---- memory ---------------------------------------------------------------------------------------------

    /** {@return a device allocation ({@code hipMalloc})} @param bytes size, &gt; 0 */
    public MemorySegment malloc(long bytes) {
        return pointerOut("hipMalloc", p -> calls.malloc(p, bytes));
    }

    /** Frees device memory, including a mapped external buffer ({@code hipFree}). @param pointer it */
    public void free(MemorySegment pointer) {
        check(calls.free(pointer), "hipFree");
    }

    /** {@return pinned host memory ({@code hipHostMalloc}, default flags)} @param bytes size, &gt; 0 */
    public MemorySegment hostMalloc(long bytes) {
        return pointerOut("hipHostMalloc", p -> calls.hostMalloc(p, bytes));
    }

    /** Frees pinned host memory ({@code hipHostFree}). @param pointer it */
    public void hostFree(MemorySegment pointer) {
        check(calls.hostFree(pointer), "hipHostFree");
    }

    /** Copies bytes, direction from the pointers ({@code hipMemcpy}, {@code hipMemcpyDefault}). */
    public void memcpy(MemorySegment dst, MemorySegment src, long bytes) {
        check(calls.memcpy(dst, src, bytes, memcpyDefault), "hipMemcpy");
    }

    /** Enqueues a copy on a stream ({@code hipMemcpyAsync}, {@code hipMemcpyDefault}; NULL: default stream). */
    public void memcpyAsync(MemorySegment dst, MemorySegment src, long bytes, MemorySegment stream) {
        check(calls.memcpyAsync(dst, src, bytes, memcpyDefault, stream), "hipMemcpyAsync");
    }

    /** Sets bytes of device memory ({@code hipMemset}). */
    public void memset(MemorySegment dst, int value, long bytes) {
        check(calls.memset(dst, value, bytes), "hipMemset");
    }

    /** Enqueues {@code hipMemsetAsync}. */
    public void memsetAsync(MemorySegment dst, int value, long bytes, MemorySegment stream) {
        check(calls.memsetAsync(dst, value, bytes, stream), "hipMemsetAsync");
    }

    /** Copies tightly packed rows into a 1D or 2D array at its origin ({@code hipMemcpy2DToArray}). */
    public void memcpy2DToArray(MemorySegment array, MemorySegment src, long rowBytes, long rows) {
        check(calls.memcpy2DToArray(array, 0, 0, src, rowBytes, rowBytes, rows, memcpyDefault), "hipMemcpy2DToArray");
    }

    /** Copies a 1D or 2D array from its origin into tightly packed rows ({@code hipMemcpy2DFromArray}). */
    public void memcpy2DFromArray(MemorySegment dst, MemorySegment array, long rowBytes, long rows) {
        check(calls.memcpy2DFromArray(dst, rowBytes, array, 0, 0, rowBytes, rows, memcpyDefault),
                "hipMemcpy2DFromArray");
    }

    /**
     * Copies between a whole 1D, 2D or 3D (or layered) array and tightly packed linear memory
     * ({@code hipMemcpy3D}, positions 0).
     *
     * @param array the array
     * @param linear {@code width * elementBytes * height * depth} bytes of host, pinned or device memory
     * @param toArray {@code true}: linear to array
     * @param extent width, height (rows per slice, at least 1) and depth (slices, at least 1)
     * @param elementBytes bytes per element
     */
    public void memcpy3D(MemorySegment array, MemorySegment linear, boolean toArray, Extent extent, int elementBytes) {
        try (Arena a = Arena.ofConfined()) {
            check(calls.memcpy3D(memcpy3D.fill(a, array, linear, toArray, extent, elementBytes, memcpyDefault)),
                    "hipMemcpy3D");
        }
    }

    // ---- streams and events ---------------------------------------------------------------------------------

    /** {@return a new stream} @param nonBlocking whether it does not synchronise with the null stream */
    public MemorySegment streamCreate(boolean nonBlocking) {
        int flags = nonBlocking ? Codes.of(platform, NativeFlag.STREAM_NON_BLOCKING) : 0;
        return pointerOut("hipStreamCreateWithFlags", p -> calls.streamCreateWithFlags(p, flags));
    }

    /** Destroys a stream. */
    public void streamDestroy(MemorySegment stream) {
        check(calls.streamDestroy(stream), "hipStreamDestroy");
    }

    /** Waits for a stream's work (NULL: the default stream). */
    public void streamSynchronize(MemorySegment stream) {
        check(calls.streamSynchronize(stream), "hipStreamSynchronize");
    }

    /** {@return true when all of the stream's work is done ({@code hipStreamQuery})} */
    public boolean streamQuery(MemorySegment stream) {
        return ready(calls.streamQuery(stream), "hipStreamQuery");
    }

    /** Makes a stream wait for an event ({@code hipStreamWaitEvent}, flags 0). */
    public void streamWaitEvent(MemorySegment stream, MemorySegment event) {
        check(calls.streamWaitEvent(stream, event, 0), "hipStreamWaitEvent");
    }

    /** {@return a new event} @param timing false for {@code hipEventDisableTiming} */
    public MemorySegment eventCreate(boolean timing) {
        int flags = timing ? 0 : Codes.of(platform, NativeFlag.EVENT_DISABLE_TIMING);
        return pointerOut("hipEventCreateWithFlags", p -> calls.eventCreateWithFlags(p, flags));
    }

    /** Destroys an event. */
    public void eventDestroy(MemorySegment event) {
        check(calls.eventDestroy(event), "hipEventDestroy");
    }

    /** Records an event on a stream (NULL: the default stream). */
    public void eventRecord(MemorySegment event, MemorySegment stream) {
        check(calls.eventRecord(event, stream), "hipEventRecord");
    }

    /** Waits for an event. */
    public void eventSynchronize(MemorySegment event) {
        check(calls.eventSynchronize(event), "hipEventSynchronize");
    }

    /** {@return true when the event has completed ({@code hipEventQuery})} */
    public boolean eventQuery(MemorySegment event) {
        return ready(calls.eventQuery(event), "hipEventQuery");
    }

    /** {@return milliseconds between two recorded events} */
    public float eventElapsedTime(MemorySegment start, MemorySegment end) {
        MemorySegment ms = Scratch.get().out;
        check(calls.eventElapsedTime(ms, start, end), "hipEventElapsedTime");
        return ms.get(ValueLayout.JAVA_FLOAT, 0);
    }

    // ---- external memory ------------------------------------------------------------------------------------

    /**
     * {@return whether a successful import closes the fd it was given} The CUDA runtime does (for memory and
     * semaphores); ROCm never does. hip-ffm evens this out: on success the imported object owns the fd.
     */
    public boolean importConsumesFd() {
        return calls.importConsumesFd();
    }

    /**
     * {@return the {@code hipExternalMemory_t} of an import ({@code hipImportExternalMemory})} Ownership of the
     * fd follows the platform ({@link #importConsumesFd()}); the caller evens that out.
     *
     * @param d what to import
     * @param fd the fd to hand the runtime (the descriptor's, or a duplicate)
     */
    public MemorySegment importExternalMemory(ExternalMemoryDescriptor d, int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(memoryHandleDesc.layout());
            memoryHandleDesc.setInt(desc, Codes.of(platform, d.type()), "type");
            if (d.type().isFd()) {
                memoryHandleDesc.setInt(desc, fd, "handle", "fd");
            } else if (d.type() == ExternalMemoryHandleType.NVSCIBUF) {
                memoryHandleDesc.setAddress(desc, d.nvSciBufObject(), "handle", "nvSciBufObject");
            } else {
                setWin32(memoryHandleDesc, desc, a, d.win32Handle(), d.win32Name());
            }
            memoryHandleDesc.setLong(desc, d.size(), "size");
            memoryHandleDesc.setInt(desc, d.dedicated() ? Codes.of(platform, NativeFlag.EXTERNAL_MEMORY_DEDICATED) : 0,
                    "flags");
            return pointerOut("hipImportExternalMemory", p -> calls.importExternalMemory(p, desc));
        }
    }

    /** Windows names are wide strings; Windows types are refused on Linux before this is reached. */
    private static void setWin32(Struct s, MemorySegment desc, Arena a, MemorySegment handle, String name) {
        s.setAddress(desc, handle, "handle", "win32", "handle");
        s.setAddress(desc, name == null ? MemorySegment.NULL : a.allocateFrom(name, StandardCharsets.UTF_16LE),
                "handle", "win32", "name");
    }

    /** {@return a device pointer to part of external memory ({@code hipExternalMemoryGetMappedBuffer}, flags 0)} */
    public MemorySegment externalMemoryMappedBuffer(MemorySegment memory, long offset, long size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(bufferDesc.layout());
            bufferDesc.setLong(desc, offset, "offset");
            bufferDesc.setLong(desc, size, "size");
            return pointerOut("hipExternalMemoryGetMappedBuffer",
                    p -> calls.externalMemoryGetMappedBuffer(p, memory, desc));
        }
    }

    /**
     * {@return a mipmapped array over external memory ({@code hipExternalMemoryGetMappedMipmappedArray})}
     *
     * @param memory the external memory
     * @param offset offset in bytes
     * @param format the element format
     * @param size the extent of level 0
     * @param hipFlags {@code hipArray*} flag bits (checked by the caller)
     * @param levels number of mip levels
     */
    public MemorySegment externalMemoryMappedMipmappedArray(MemorySegment memory, long offset, ChannelFormat format,
            Extent size, int hipFlags, int levels) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(mipmappedArrayDesc.layout());
            mipmappedArrayDesc.setLong(desc, offset, "offset");
            mipmappedArrayDesc.setInt(desc, format.x(), "formatDesc", "x");
            mipmappedArrayDesc.setInt(desc, format.y(), "formatDesc", "y");
            mipmappedArrayDesc.setInt(desc, format.z(), "formatDesc", "z");
            mipmappedArrayDesc.setInt(desc, format.w(), "formatDesc", "w");
            mipmappedArrayDesc.setInt(desc, Codes.of(platform, format.kind()), "formatDesc", "f");
            mipmappedArrayDesc.setLong(desc, size.width(), "extent", "width");
            mipmappedArrayDesc.setLong(desc, size.height(), "extent", "height");
            mipmappedArrayDesc.setLong(desc, size.depth(), "extent", "depth");
            mipmappedArrayDesc.setInt(desc, Codes.arrayFlags(platform, hipFlags), "flags");
            mipmappedArrayDesc.setInt(desc, levels, "numLevels");
            return pointerOut("hipExternalMemoryGetMappedMipmappedArray",
                    p -> calls.externalMemoryGetMappedMipmappedArray(p, memory, desc));
        }
    }

    /** {@return one level of a mipmapped array ({@code hipGetMipmappedArrayLevel})} */
    public MemorySegment mipmappedArrayLevel(MemorySegment mipmappedArray, int level) {
        return pointerOut("hipGetMipmappedArrayLevel", p -> calls.getMipmappedArrayLevel(p, mipmappedArray, level));
    }

    /** Frees a mipmapped array ({@code hipFreeMipmappedArray}). */
    public void freeMipmappedArray(MemorySegment mipmappedArray) {
        check(calls.freeMipmappedArray(mipmappedArray), "hipFreeMipmappedArray");
    }

    /** Destroys external memory ({@code hipDestroyExternalMemory}). */
    public void destroyExternalMemory(MemorySegment memory) {
        check(calls.destroyExternalMemory(memory), "hipDestroyExternalMemory");
    }

    // ---- external semaphores --------------------------------------------------------------------------------

    /**
     * {@return whether this runtime can import external semaphores at all} ROCm on Linux cannot: its
     * {@code importExtSemaphore} reaches {@code ShouldNotReachHere()} and aborts the process, so it is never
     * called there.
     */
    public boolean supportsExternalSemaphores() {
        return calls.supportsExternalSemaphores();
    }

    /**
     * {@return the {@code hipExternalSemaphore_t} of an import ({@code hipImportExternalSemaphore}, flags 0)}
     * @param d what to import
     * @param fd the fd to hand the runtime
     * @throws HipException {@link HipError#NOT_SUPPORTED} where {@link #supportsExternalSemaphores()} is false
     */
    public MemorySegment importExternalSemaphore(ExternalSemaphoreDescriptor d, int fd) {
        if (!supportsExternalSemaphores()) {
            throw new HipException(HipError.NOT_SUPPORTED, "hipImportExternalSemaphore", "the AMD HIP runtime does"
                    + " not support external semaphores on Linux (ROCm's importExtSemaphore aborts the process there),"
                    + " so hip-ffm does not call it");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(semaphoreHandleDesc.layout());
            semaphoreHandleDesc.setInt(desc, Codes.of(platform, d.type()), "type");
            if (d.type().isFd()) {
                semaphoreHandleDesc.setInt(desc, fd, "handle", "fd");
            } else if (d.type() == ExternalSemaphoreHandleType.NVSCISYNC) {
                semaphoreHandleDesc.setAddress(desc, d.nvSciSyncObject(), "handle", "nvSciSyncObj");
            } else {
                setWin32(semaphoreHandleDesc, desc, a, d.win32Handle(), d.win32Name());
            }
            return pointerOut("hipImportExternalSemaphore", p -> calls.importExternalSemaphore(p, desc));
        }
    }

    /**
     * Signals semaphores in one native call ({@code hipSignalExternalSemaphoresAsync}, params flags 0).
     *
     * @param n how many: the first {@code n} entries of each array (which may be longer, for reuse)
     * @param semaphores the handles
     * @param values fence value per semaphore
     * @param keyedMutexKeys key per semaphore (keyed-mutex types only)
     * @param stream the stream, {@code NULL} for the default stream
     */
    public void signalExternalSemaphores(int n, MemorySegment[] semaphores, long[] values, long[] keyedMutexKeys,
            MemorySegment stream) {
        Scratch s = Scratch.get();
        signal.fill(s, n, semaphores, values, keyedMutexKeys, null);
        check(calls.signalExternalSemaphoresAsync(s.batchHandles(), s.batchParams(), n, stream),
                "hipSignalExternalSemaphoresAsync");
    }

    /** Waits on semaphores in one native call, as {@link #signalExternalSemaphores}, with keyed-mutex timeouts. */
    public void waitExternalSemaphores(int n, MemorySegment[] semaphores, long[] values, long[] keyedMutexKeys,
            int[] keyedMutexTimeoutsMs, MemorySegment stream) {
        Scratch s = Scratch.get();
        wait.fill(s, n, semaphores, values, keyedMutexKeys, keyedMutexTimeoutsMs);
        check(calls.waitExternalSemaphoresAsync(s.batchHandles(), s.batchParams(), n, stream),
                "hipWaitExternalSemaphoresAsync");
    }

    /** Signals one semaphore (a batch of one, without allocating). */
    public void signalExternalSemaphore(MemorySegment semaphore, long value, MemorySegment stream) {
        Scratch s = Scratch.get();
        signal.fillOne(s, semaphore, value);
        check(calls.signalExternalSemaphoresAsync(s.handle, s.params, 1, stream), "hipSignalExternalSemaphoresAsync");
    }

    /** Waits on one semaphore (a batch of one, without allocating). */
    public void waitExternalSemaphore(MemorySegment semaphore, long value, MemorySegment stream) {
        Scratch s = Scratch.get();
        wait.fillOne(s, semaphore, value);
        check(calls.waitExternalSemaphoresAsync(s.handle, s.params, 1, stream), "hipWaitExternalSemaphoresAsync");
    }

    /** Destroys an external semaphore ({@code hipDestroyExternalSemaphore}). */
    public void destroyExternalSemaphore(MemorySegment semaphore) {
        check(calls.destroyExternalSemaphore(semaphore), "hipDestroyExternalSemaphore");
    }

    // ---- modules, launch, runtime compilation ---------------------------------------------------------------

    /**
     * {@return a loaded module ({@code hipModuleLoadData}; on NVIDIA {@code cudaLibraryLoadData})}
     * @param image a code object / fat binary (AMD) or PTX (NUL-terminated), cubin or fatbin (NVIDIA)
     */
    public MemorySegment moduleLoad(MemorySegment image) {
        return pointerOut("hipModuleLoadData", p -> calls.moduleLoad(p, image));
    }

    /** Unloads a module. */
    public void moduleUnload(MemorySegment module) {
        check(calls.moduleUnload(module), "hipModuleUnload");
    }

    /** {@return a kernel of a module by its (lowered) name ({@code hipModuleGetFunction})} */
    public MemorySegment moduleFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocateFrom(name);
            return pointerOut("hipModuleGetFunction", p -> calls.moduleGetFunction(p, module, n));
        }
    }

    /**
     * Launches a kernel ({@code hipModuleLaunchKernel}; on NVIDIA {@code cudaLaunchKernel}).
     *
     * @param kernelParams the {@code void*[]} of pointers to each argument
     * @param gridDim 12 bytes this call may use for the grid {@code dim3}; both made once per {@code KernelArgs},
     *     so that a launch makes no segment
     * @param blockDim 12 bytes for the block {@code dim3}
     */
    public void launch(MemorySegment function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
            int sharedBytes, MemorySegment stream, MemorySegment kernelParams, MemorySegment gridDim,
            MemorySegment blockDim) {
        check(calls.launch(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, stream, kernelParams,
                gridDim, blockDim), "hipModuleLaunchKernel");
    }

    /**
     * Compiles a source at run time (hiprtc on AMD, NVRTC on NVIDIA).
     *
     * @return the code and the lowered names
     * @throws io.github.hipffm.CompilationException when compilation fails (with the full log)
     */
    public RuntimeCompiler.Program compile(String source, String name, List<String> options,
            List<String> nameExpressions) {
        return RuntimeCompilers.compile(calls.compiler(), source, name, options, nameExpressions);
    }

    // ---- OpenGL interop -------------------------------------------------------------------------------------

    /** {@return the devices of the current GL context ({@code hipGLGetDevices}, all frames)} @param max at most */
    public int[] glDevices(int max) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment devices = a.allocate(ValueLayout.JAVA_INT, Math.max(1, max));
            check(calls.glGetDevices(count, devices, max, Codes.of(platform, Constant.GL_DEVICE_LIST_ALL)),
                    "hipGLGetDevices");
            int n = Math.min(max, count.get(ValueLayout.JAVA_INT, 0));
            return devices.asSlice(0, 4L * n).toArray(ValueLayout.JAVA_INT);
        }
    }

    /** {@return a registered GL buffer object ({@code hipGraphicsGLRegisterBuffer})} */
    public MemorySegment glRegisterBuffer(int glBuffer, Set<GraphicsResource.Flag> flags) {
        int f = Codes.bits(platform, flags);
        return pointerOut("hipGraphicsGLRegisterBuffer", p -> calls.graphicsGLRegisterBuffer(p, glBuffer, f));
    }

    /** {@return a registered GL texture or renderbuffer ({@code hipGraphicsGLRegisterImage})} */
    public MemorySegment glRegisterImage(int glImage, int glTarget, Set<GraphicsResource.Flag> flags) {
        int f = Codes.bits(platform, flags);
        return pointerOut("hipGraphicsGLRegisterImage", p -> calls.graphicsGLRegisterImage(p, glImage, glTarget, f));
    }

    /** Maps registered resources in one call ({@code hipGraphicsMapResources}). */
    public void graphicsMap(MemorySegment[] resources, MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            check(calls.graphicsMapResources(resources.length, NativeSupport.addressArray(a, resources), stream),
                    "hipGraphicsMapResources");
        }
    }

    /** Unmaps resources in one call ({@code hipGraphicsUnmapResources}). */
    public void graphicsUnmap(MemorySegment[] resources, MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            check(calls.graphicsUnmapResources(resources.length, NativeSupport.addressArray(a, resources), stream),
                    "hipGraphicsUnmapResources");
        }
    }

    /** {@return a mapped buffer resource's memory, sized as the runtime reports, unscoped} */
    public MemorySegment graphicsMappedBuffer(MemorySegment resource) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment p = pointerOut("hipGraphicsResourceGetMappedPointer",
                    out -> calls.graphicsResourceGetMappedPointer(out, size, resource));
            return p.reinterpret(size.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /** {@return the array of a mapped image resource ({@code hipGraphicsSubResourceGetMappedArray})} */
    public MemorySegment graphicsMappedArray(MemorySegment resource, int arrayIndex, int mipLevel) {
        return pointerOut("hipGraphicsSubResourceGetMappedArray",
                p -> calls.graphicsSubResourceGetMappedArray(p, resource, arrayIndex, mipLevel));
    }

    /** Unregisters a resource ({@code hipGraphicsUnregisterResource}). */
    public void graphicsUnregister(MemorySegment resource) {
        check(calls.graphicsUnregisterResource(resource), "hipGraphicsUnregisterResource");
    }

    /** {@return an array's channel bits and extent ({@code hipArrayGetInfo})} */
    public ArrayInfo arrayInfo(MemorySegment array) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(channelFormatDesc.layout());
            MemorySegment ext = a.allocate(extent.layout());
            MemorySegment flags = a.allocate(ValueLayout.JAVA_INT);
            check(calls.arrayGetInfo(desc, ext, flags, array), "hipArrayGetInfo");
            return new ArrayInfo(channelFormatDesc.getInt(desc, "x"), channelFormatDesc.getInt(desc, "y"),
                    channelFormatDesc.getInt(desc, "z"), channelFormatDesc.getInt(desc, "w"),
                    new Extent(extent.getLong(ext, "width"), extent.getLong(ext, "height"),
                            extent.getLong(ext, "depth")));
        }
    }

    /**
     * What {@code hipArrayGetInfo} says of an array: the bits of its channels and its extent.
     *
     * @param x bits of the first channel
     * @param y bits of the second channel
     * @param z bits of the third channel
     * @param w bits of the fourth channel
     * @param extent the extent in elements
     */
    public record ArrayInfo(int x, int y, int z, int w, Extent extent) {
        /** {@return bytes per element} */
        public int bytesPerElement() {
            return (x + y + z + w) / 8;
        }
    }
}
