package io.github.hipffm.internal;

import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.Extent;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Platform;
import io.github.hipffm.RuntimeCompiler;
import io.github.hipffm.internal.Codes.Constant;
import io.github.hipffm.internal.Codes.NativeFlag;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.ToIntFunction;

/**
 * The runtime calls every program needs, written once for both platforms: errors, versions, devices, memory and
 * copies, streams, events, modules, launch and runtime compilation. {@link Backend} adds the interop calls. Each
 * method marshals Java values into the platform's values ({@link Codes}), makes the native call through the
 * platform's {@link PlatformCalls}, checks the return code and throws {@link HipException} under the HIP name of
 * the call and error (CUDA codes translated, their names kept).
 */
abstract sealed class RuntimeCore permits Backend {
    final PlatformCalls calls;
    final Platform platform;
    private final Path library;
    private final Memcpy3DParams memcpy3D;
    final int memcpyDefault;
    private final int notReady;
    /**
     * Peer access enabled through hip-ffm: bit {@code p} of {@code peers[d]} once device {@code d}'s work may use
     * device {@code p}'s memory. Replaced, never changed in place, under the lock of this object.
     */
    private volatile long[][] peers = new long[0][];

    RuntimeCore(PlatformCalls calls, Path library) {
        this.calls = calls;
        this.platform = calls.platform();
        this.library = library;
        memcpy3D = new Memcpy3DParams(new Struct(calls.layouts().memcpy3DParms()));
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
     * Throws when {@code rc} is not success. Every runtime call ends here, which also lets a release that waited
     * for a call in flight proceed ({@link Releases#callEnded}).
     *
     * @param rc the platform's return code
     * @param hipCall the HIP name of the call that returned it
     * @throws HipException when {@code rc != 0}
     */
    public void check(int rc, String hipCall) {
        Releases.callEnded();
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
            Releases.callEnded();
            return false;
        }
        check(rc, hipCall);
        return true;
    }

    /**
     * {@return the runtime's name for a HIP error code}
     * @param hipCode a {@code hipError_t} value
     */
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

    MemorySegment pointerOut(String hipCall, ToIntFunction<MemorySegment> call) {
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

    /**
     * {@return the number of devices}
     * @throws HipException e.g. {@code hipErrorNoDevice}
     */
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

    // ---- peer access ----------------------------------------------------------------------------------------

    /**
     * {@return whether {@code device} can access {@code peer}'s memory once peer access is enabled
     * ({@code hipDeviceCanAccessPeer})}
     * @param device the ordinal of the device whose work would use the memory
     * @param peer the ordinal of the memory's device
     */
    public boolean canAccessPeer(int device, int peer) {
        return intOut("hipDeviceCanAccessPeer", out -> calls.deviceCanAccessPeer(out, device, peer)) != 0;
    }

    /**
     * Lets the work of {@code device}, which must be the calling thread's current device, use {@code peer}'s memory
     * ({@code hipDeviceEnablePeerAccess(peer, 0)}), and records that for {@link #peerAccessEnabled}. Enabled already
     * ({@code hipErrorPeerAccessAlreadyEnabled}, also by code outside hip-ffm) is success: the error the runtime
     * noted for {@code hipGetLastError} is cleared.
     *
     * @param device the current device's ordinal
     * @param peer the ordinal of the device whose memory becomes accessible
     * @throws HipException e.g. {@code hipErrorPeerAccessUnsupported}, {@code hipErrorInvalidDevice}
     */
    public void enablePeerAccess(int device, int peer) {
        int rc = calls.deviceEnablePeerAccess(peer, 0);
        if (rc != 0 && calls.hipCode(rc) == HipError.PEER_ACCESS_ALREADY_ENABLED.code()) {
            calls.getLastError();
            rc = 0;
        }
        check(rc, "hipDeviceEnablePeerAccess");
        recordPeer(device, peer);
    }

    /**
     * {@return whether peer access from {@code device} to {@code peer}'s memory was enabled through
     * {@link #enablePeerAccess}} No native call, no allocation.
     */
    public boolean peerAccessEnabled(int device, int peer) {
        long[][] rows = peers;
        if (device < 0 || device >= rows.length || peer < 0) {
            return false;
        }
        long[] row = rows[device];
        return row != null && (peer >>> 6) < row.length && (row[peer >>> 6] & (1L << peer)) != 0;
    }

    /**
     * Forgets every pair {@link #enablePeerAccess} recorded, without a native call: for the test doubles, whose
     * devices and peer state are replaced between tests. hip-ffm itself never disables peer access.
     */
    public synchronized void forgetPeerAccess() {
        peers = new long[0][];
    }

    private synchronized void recordPeer(int device, int peer) {
        long[][] rows = Arrays.copyOf(peers, Math.max(peers.length, device + 1));
        int words = (peer >>> 6) + 1;
        long[] row = rows[device] == null ? new long[words]
                : Arrays.copyOf(rows[device], Math.max(rows[device].length, words));
        row[peer >>> 6] |= 1L << peer;
        rows[device] = row;
        peers = rows;
    }

    /**
     * {@return the device name}
     * @param device the ordinal
     */
    public String deviceName(int device) {
        return calls.deviceName(this, device);
    }

    /**
     * {@return the 16-byte device UUID (the one Vulkan reports as {@code deviceUUID})}
     * @param device ordinal
     */
    public byte[] deviceUuid(int device) {
        return calls.deviceUuid(this, device);
    }

    /**
     * {@return the PCI bus id string, {@code domain:bus:device.function}}
     * @param device the ordinal
     */
    public String pciBusId(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment id = a.allocate(64);
            check(calls.deviceGetPCIBusId(id, 64, device), "hipDeviceGetPCIBusId");
            return id.getString(0);
        }
    }

    /**
     * {@return an attribute's value}
     * @param device the ordinal
     * @param attribute which one
     */
    public int attribute(int device, DeviceAttribute attribute) {
        int value = Codes.of(platform, attribute);
        return intOut("hipDeviceGetAttribute", v -> calls.deviceGetAttribute(v, value, device));
    }

    /**
     * {@return total device memory in bytes}
     * @param device the ordinal
     */
    public long totalMemory(int device) {
        return calls.totalMemory(this, device);
    }

    /**
     * {@return free and total memory of a device; makes it current for the call}
     * @param device the ordinal
     */
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

    /**
     * {@return a device allocation ({@code hipMalloc})}
     * @param bytes size, &gt; 0
     */
    public MemorySegment malloc(long bytes) {
        return pointerOut("hipMalloc", p -> calls.malloc(p, bytes));
    }

    /** Frees device memory, including a mapped external buffer ({@code hipFree}). @param pointer it */
    public void free(MemorySegment pointer) {
        check(calls.free(pointer), "hipFree");
    }

    /**
     * {@return pinned host memory ({@code hipHostMalloc}, default flags)}
     * @param bytes size, &gt; 0
     */
    public MemorySegment hostMalloc(long bytes) {
        return pointerOut("hipHostMalloc", p -> calls.hostMalloc(p, bytes));
    }

    /** Frees pinned host memory ({@code hipHostFree}). @param pointer it */
    public void hostFree(MemorySegment pointer) {
        check(calls.hostFree(pointer), "hipHostFree");
    }

    /**
     * Copies bytes, direction from the pointers, and returns once the copy has finished on the GPU: the copy on
     * the null stream ({@code hipMemcpyAsync}, {@code hipMemcpyDefault}), then {@code hipStreamSynchronize(NULL)}.
     * Neither runtime's own {@code hipMemcpy}/{@code cudaMemcpy} waits for a device-to-device copy (ROCm/clr
     * {@code ihipMemcpy}: "Device to Device copies do not need to host side synchronization"; CUDA's API
     * synchronization rules), nor, in some cases, for one from pageable host memory; this waits for every one,
     * with one wait where the runtime would have waited anyway.
     */
    public void memcpy(MemorySegment dst, MemorySegment src, long bytes) {
        check(calls.memcpyAsync(dst, src, bytes, memcpyDefault, MemorySegment.NULL), "hipMemcpyAsync");
        synchronizeNullStream();
    }

    /** Waits for the null stream, where the synchronous copies and fills ran. */
    private void synchronizeNullStream() {
        check(calls.streamSynchronize(MemorySegment.NULL), "hipStreamSynchronize");
    }

    /** Enqueues a copy on a stream ({@code hipMemcpyAsync}, {@code hipMemcpyDefault}; NULL: default stream). */
    public void memcpyAsync(MemorySegment dst, MemorySegment src, long bytes, MemorySegment stream) {
        check(calls.memcpyAsync(dst, src, bytes, memcpyDefault, stream), "hipMemcpyAsync");
    }

    /**
     * Sets bytes and returns once that has finished on the GPU: {@code hipMemsetAsync} on the null stream, then
     * {@code hipStreamSynchronize(NULL)}. Both runtimes' {@code hipMemset}/{@code cudaMemset} return before a fill
     * of device memory is done (ROCm/clr {@code ihipMemset}: "hipMemset will be asynchronous when destination
     * memory is device memory").
     */
    public void memset(MemorySegment dst, int value, long bytes) {
        check(calls.memsetAsync(dst, value, bytes, MemorySegment.NULL), "hipMemsetAsync");
        synchronizeNullStream();
    }

    /**
     * Copies between the memory of two devices ({@code hipMemcpyPeerAsync} on the current device's null stream, then
     * {@code hipStreamSynchronize(NULL)}) and returns once it has finished. A peer copy needs no peer access.
     */
    public void memcpyPeer(MemorySegment dst, int dstDevice, MemorySegment src, int srcDevice, long bytes) {
        check(calls.memcpyPeerAsync(dst, dstDevice, src, srcDevice, bytes, MemorySegment.NULL), "hipMemcpyPeerAsync");
        synchronizeNullStream();
    }

    /** Enqueues a copy between the memory of two devices on a stream ({@code hipMemcpyPeerAsync}). */
    public void memcpyPeerAsync(MemorySegment dst, int dstDevice, MemorySegment src, int srcDevice, long bytes,
            MemorySegment stream) {
        check(calls.memcpyPeerAsync(dst, dstDevice, src, srcDevice, bytes, stream), "hipMemcpyPeerAsync");
    }

    /** Enqueues {@code hipMemsetAsync}. */
    public void memsetAsync(MemorySegment dst, int value, long bytes, MemorySegment stream) {
        check(calls.memsetAsync(dst, value, bytes, stream), "hipMemsetAsync");
    }

    /**
     * Copies tightly packed rows into a 1D or 2D array at its origin ({@code hipMemcpy2DToArray}), then waits for
     * the null stream: neither runtime waits for a copy from device memory into an array.
     */
    public void memcpy2DToArray(MemorySegment array, MemorySegment src, long rowBytes, long rows) {
        check(calls.memcpy2DToArray(array, 0, 0, src, rowBytes, rowBytes, rows, memcpyDefault), "hipMemcpy2DToArray");
        synchronizeNullStream();
    }

    /** Copies a 1D or 2D array from its origin into tightly packed rows ({@code hipMemcpy2DFromArray}), then waits. */
    public void memcpy2DFromArray(MemorySegment dst, MemorySegment array, long rowBytes, long rows) {
        check(calls.memcpy2DFromArray(dst, rowBytes, array, 0, 0, rowBytes, rows, memcpyDefault),
                "hipMemcpy2DFromArray");
        synchronizeNullStream();
    }

    /**
     * Copies between a whole 1D, 2D or 3D (or layered) array and tightly packed linear memory
     * ({@code hipMemcpy3D}, positions 0), then waits for the null stream.
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
        synchronizeNullStream();
    }

    // ---- streams and events ---------------------------------------------------------------------------------

    /**
     * {@return a new stream}
     * @param nonBlocking whether it does not synchronise with the null stream
     */
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

    /**
     * {@return a new event}
     * @param timing false for {@code hipEventDisableTiming}
     */
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

    /**
     * {@return a kernel of a module by its (lowered) name ({@code hipModuleGetFunction}), loaded into the current
     * device's context (on NVIDIA {@code cudaLibraryGetKernel} + {@code cudaFuncGetAttributes}, see
     * {@link CudaCalls#moduleGetFunction})}
     */
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
}
