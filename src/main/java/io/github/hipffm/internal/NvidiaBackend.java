package io.github.hipffm.internal;

import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Platform;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.bindings.cuda.cudaChannelFormatDesc;
import io.github.hipffm.bindings.cuda.cudaDeviceProp;
import io.github.hipffm.bindings.cuda.cudaExtent;
import io.github.hipffm.bindings.cuda.cudaExternalMemoryBufferDesc;
import io.github.hipffm.bindings.cuda.cudaExternalMemoryHandleDesc;
import io.github.hipffm.bindings.cuda.cudaExternalMemoryMipmappedArrayDesc;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreHandleDesc;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreSignalParams;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreWaitParams;
import io.github.hipffm.bindings.cuda.cudaMemcpy3DParms;
import io.github.hipffm.bindings.hip.Hip;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The NVIDIA platform: the CUDA runtime ({@code libcudart}) through the generated {@link CudaRuntime} bindings,
 * each call reported under its HIP name and each CUDA error under its HIP name and code. Arguments arrive with
 * HIP numbering and are translated by name through the tables below.
 */
final class NvidiaBackend implements Backend {
    /** {@code hipExternalMemoryHandleType} to {@code cudaExternalMemoryHandleType}, as {@code {hip, cuda}}. */
    private static final int[][] MEMORY_HANDLE_TYPES = {
        {Hip.hipExternalMemoryHandleTypeOpaqueFd(), CudaRuntime.cudaExternalMemoryHandleTypeOpaqueFd()},
        {Hip.hipExternalMemoryHandleTypeOpaqueWin32(), CudaRuntime.cudaExternalMemoryHandleTypeOpaqueWin32()},
        {Hip.hipExternalMemoryHandleTypeOpaqueWin32Kmt(), CudaRuntime.cudaExternalMemoryHandleTypeOpaqueWin32Kmt()},
        {Hip.hipExternalMemoryHandleTypeD3D12Heap(), CudaRuntime.cudaExternalMemoryHandleTypeD3D12Heap()},
        {Hip.hipExternalMemoryHandleTypeD3D12Resource(), CudaRuntime.cudaExternalMemoryHandleTypeD3D12Resource()},
        {Hip.hipExternalMemoryHandleTypeD3D11Resource(), CudaRuntime.cudaExternalMemoryHandleTypeD3D11Resource()},
        {Hip.hipExternalMemoryHandleTypeD3D11ResourceKmt(),
            CudaRuntime.cudaExternalMemoryHandleTypeD3D11ResourceKmt()},
        {Hip.hipExternalMemoryHandleTypeNvSciBuf(), CudaRuntime.cudaExternalMemoryHandleTypeNvSciBuf()},
    };

    /** {@code hipExternalSemaphoreHandleType} to {@code cudaExternalSemaphoreHandleType}. */
    private static final int[][] SEMAPHORE_HANDLE_TYPES = {
        {Hip.hipExternalSemaphoreHandleTypeOpaqueFd(), CudaRuntime.cudaExternalSemaphoreHandleTypeOpaqueFd()},
        {Hip.hipExternalSemaphoreHandleTypeOpaqueWin32(), CudaRuntime.cudaExternalSemaphoreHandleTypeOpaqueWin32()},
        {Hip.hipExternalSemaphoreHandleTypeOpaqueWin32Kmt(),
            CudaRuntime.cudaExternalSemaphoreHandleTypeOpaqueWin32Kmt()},
        {Hip.hipExternalSemaphoreHandleTypeD3D12Fence(), CudaRuntime.cudaExternalSemaphoreHandleTypeD3D12Fence()},
        {Hip.hipExternalSemaphoreHandleTypeD3D11Fence(), CudaRuntime.cudaExternalSemaphoreHandleTypeD3D11Fence()},
        {Hip.hipExternalSemaphoreHandleTypeNvSciSync(), CudaRuntime.cudaExternalSemaphoreHandleTypeNvSciSync()},
        {Hip.hipExternalSemaphoreHandleTypeKeyedMutex(), CudaRuntime.cudaExternalSemaphoreHandleTypeKeyedMutex()},
        {Hip.hipExternalSemaphoreHandleTypeKeyedMutexKmt(),
            CudaRuntime.cudaExternalSemaphoreHandleTypeKeyedMutexKmt()},
        {Hip.hipExternalSemaphoreHandleTypeTimelineSemaphoreFd(),
            CudaRuntime.cudaExternalSemaphoreHandleTypeTimelineSemaphoreFd()},
        {Hip.hipExternalSemaphoreHandleTypeTimelineSemaphoreWin32(),
            CudaRuntime.cudaExternalSemaphoreHandleTypeTimelineSemaphoreWin32()},
    };

    /** {@code hipChannelFormatKind} to {@code cudaChannelFormatKind}. */
    private static final int[][] CHANNEL_KINDS = {
        {Hip.hipChannelFormatKindSigned(), CudaRuntime.cudaChannelFormatKindSigned()},
        {Hip.hipChannelFormatKindUnsigned(), CudaRuntime.cudaChannelFormatKindUnsigned()},
        {Hip.hipChannelFormatKindFloat(), CudaRuntime.cudaChannelFormatKindFloat()},
        {Hip.hipChannelFormatKindNone(), CudaRuntime.cudaChannelFormatKindNone()},
    };

    /** Flag bits, {@code hipGraphicsRegisterFlags*} to {@code cudaGraphicsRegisterFlags*} (None is 0, no bit). */
    private static final int[][] GRAPHICS_REGISTER_FLAGS = {
        {Hip.hipGraphicsRegisterFlagsReadOnly(), CudaRuntime.cudaGraphicsRegisterFlagsReadOnly()},
        {Hip.hipGraphicsRegisterFlagsWriteDiscard(), CudaRuntime.cudaGraphicsRegisterFlagsWriteDiscard()},
        {Hip.hipGraphicsRegisterFlagsSurfaceLoadStore(), CudaRuntime.cudaGraphicsRegisterFlagsSurfaceLoadStore()},
        {Hip.hipGraphicsRegisterFlagsTextureGather(), CudaRuntime.cudaGraphicsRegisterFlagsTextureGather()},
    };
    /** Flag bits, {@code hipArray*} to {@code cudaArray*} ({@code hipArrayDefault} is 0, no bit). */
    private static final int[][] ARRAY_FLAGS = {
        {Hip.hipArrayLayered(), CudaRuntime.cudaArrayLayered()},
        {Hip.hipArraySurfaceLoadStore(), CudaRuntime.cudaArraySurfaceLoadStore()},
        {Hip.hipArrayCubemap(), CudaRuntime.cudaArrayCubemap()},
        {Hip.hipArrayTextureGather(), CudaRuntime.cudaArrayTextureGather()},
    };

    private static final int[][] EXTERNAL_MEMORY_FLAGS = {
        {Hip.hipExternalMemoryDedicated(), CudaRuntime.cudaExternalMemoryDedicated()},
    };

    private static final int[][] STREAM_FLAGS = {
        {Hip.hipStreamNonBlocking(), CudaRuntime.cudaStreamNonBlocking()},
    };

    /** HIP's AMD-only event flags (release scopes, system fence) have no CUDA counterpart. */
    private static final int[][] EVENT_FLAGS = {
        {Hip.hipEventBlockingSync(), CudaRuntime.cudaEventBlockingSync()},
        {Hip.hipEventDisableTiming(), CudaRuntime.cudaEventDisableTiming()},
        {Hip.hipEventInterprocess(), CudaRuntime.cudaEventInterprocess()},
    };

    private final Path library;

    NvidiaBackend(Path library) {
        this.library = library;
        Fast.init();        // the runtime's first call here, not inside a later (critical) call or a test's count
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
        return intOut("hipGetDeviceCount", n -> Critical.call(Fast.GET_DEVICE_COUNT, n));
    }

    @Override
    public int getDevice() {
        return intOut("hipGetDevice", d -> Critical.call(Fast.GET_DEVICE, d));
    }

    /**
     * {@link Critical} handles, made when the backend is (the library is loaded by then), after the first
     * {@code cudaGetDeviceCount} (which may initialise the runtime) has gone through the ordinary binding.
     */
    private static final class Fast {
        static {
            CudaRuntime.cudaGetDeviceCount(Scratch.get().out);         // the result does not matter here
        }

        static final java.lang.invoke.MethodHandle GET_DEVICE_COUNT = Critical.intOut("cudaGetDeviceCount");
        static final java.lang.invoke.MethodHandle GET_DEVICE = Critical.intOut("cudaGetDevice");

        /** Initialises this class: the first device count and the two handles. */
        static void init() {
        }
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

    // ---- memory -------------------------------------------------------------------------------------------

    @Override
    public MemorySegment malloc(long bytes) {
        return pointerOut("hipMalloc", p -> CudaRuntime.cudaMalloc(p, bytes));
    }

    @Override
    public void free(MemorySegment pointer) {
        check(CudaRuntime.cudaFree(pointer), "hipFree");
    }

    @Override
    public MemorySegment hostMalloc(long bytes) {
        return pointerOut("hipHostMalloc", p -> CudaRuntime.cudaMallocHost(p, bytes));
    }

    @Override
    public void hostFree(MemorySegment pointer) {
        check(CudaRuntime.cudaFreeHost(pointer), "hipHostFree");
    }

    @Override
    public void memcpy(MemorySegment dst, MemorySegment src, long bytes) {
        check(CudaRuntime.cudaMemcpy(dst, src, bytes, CudaRuntime.cudaMemcpyDefault()), "hipMemcpy");
    }

    @Override
    public void memcpyAsync(MemorySegment dst, MemorySegment src, long bytes, MemorySegment stream) {
        check(CudaRuntime.cudaMemcpyAsync(dst, src, bytes, CudaRuntime.cudaMemcpyDefault(), stream), "hipMemcpyAsync");
    }

    @Override
    public void memset(MemorySegment dst, int value, long bytes) {
        check(CudaRuntime.cudaMemset(dst, value, bytes), "hipMemset");
    }

    @Override
    public void memsetAsync(MemorySegment dst, int value, long bytes, MemorySegment stream) {
        check(CudaRuntime.cudaMemsetAsync(dst, value, bytes, stream), "hipMemsetAsync");
    }

    @Override
    public void memcpy2DToArray(MemorySegment array, long xOffsetBytes, long yOffset, MemorySegment src, long srcPitch,
            long widthBytes, long height) {
        check(CudaRuntime.cudaMemcpy2DToArray(array, xOffsetBytes, yOffset, src, srcPitch, widthBytes, height,
                CudaRuntime.cudaMemcpyDefault()), "hipMemcpy2DToArray");
    }

    @Override
    public void memcpy2DFromArray(MemorySegment dst, long dstPitch, MemorySegment array, long xOffsetBytes,
            long yOffset, long widthBytes, long height) {
        check(CudaRuntime.cudaMemcpy2DFromArray(dst, dstPitch, array, xOffsetBytes, yOffset, widthBytes, height,
                CudaRuntime.cudaMemcpyDefault()), "hipMemcpy2DFromArray");
    }

    @Override
    public void memcpy3D(MemorySegment array, MemorySegment linear, boolean toArray, long width, long elementBytes,
            long height, long depth) {
        try (Arena a = Arena.ofConfined()) {
            check(CudaRuntime.cudaMemcpy3D(MEMCPY_3D.fill(a, array, linear, toArray, width, elementBytes, height, depth,
                    CudaRuntime.cudaMemcpyDefault())), "hipMemcpy3D");
        }
    }

    private static final Memcpy3DParams MEMCPY_3D = new Memcpy3DParams(cudaMemcpy3DParms.layout());

    // ---- streams and events -------------------------------------------------------------------------------

    @Override
    public MemorySegment streamCreate(int flags) {
        int cudaFlags = bits(flags, STREAM_FLAGS, "hipStreamCreateWithFlags", "stream flags");
        return pointerOut("hipStreamCreateWithFlags", s -> CudaRuntime.cudaStreamCreateWithFlags(s, cudaFlags));
    }

    @Override
    public void streamDestroy(MemorySegment stream) {
        check(CudaRuntime.cudaStreamDestroy(stream), "hipStreamDestroy");
    }

    @Override
    public void streamSynchronize(MemorySegment stream) {
        check(CudaRuntime.cudaStreamSynchronize(stream), "hipStreamSynchronize");
    }

    @Override
    public boolean streamQuery(MemorySegment stream) {
        return done(CudaRuntime.cudaStreamQuery(stream), "hipStreamQuery");
    }

    @Override
    public void streamWaitEvent(MemorySegment stream, MemorySegment event) {
        check(CudaRuntime.cudaStreamWaitEvent(stream, event, 0), "hipStreamWaitEvent");
    }

    @Override
    public MemorySegment eventCreate(int flags) {
        int cudaFlags = bits(flags, EVENT_FLAGS, "hipEventCreateWithFlags", "event flags");
        return pointerOut("hipEventCreateWithFlags", e -> CudaRuntime.cudaEventCreateWithFlags(e, cudaFlags));
    }

    @Override
    public void eventDestroy(MemorySegment event) {
        check(CudaRuntime.cudaEventDestroy(event), "hipEventDestroy");
    }

    @Override
    public void eventRecord(MemorySegment event, MemorySegment stream) {
        check(CudaRuntime.cudaEventRecord(event, stream), "hipEventRecord");
    }

    @Override
    public void eventSynchronize(MemorySegment event) {
        check(CudaRuntime.cudaEventSynchronize(event), "hipEventSynchronize");
    }

    @Override
    public boolean eventQuery(MemorySegment event) {
        return done(CudaRuntime.cudaEventQuery(event), "hipEventQuery");
    }

    @Override
    public float eventElapsedTime(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ms = a.allocate(ValueLayout.JAVA_FLOAT);
            check(CudaRuntime.cudaEventElapsedTime(ms, start, end), "hipEventElapsedTime");
            return ms.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    // ---- external memory ------------------------------------------------------------------------------------

    @Override
    public MemorySegment importExternalMemory(int handleType, int fd, MemorySegment win32Handle,
            MemorySegment win32Name, MemorySegment nvSciBufObject, long size, int flags) {
        String call = "hipImportExternalMemory";
        int type = value(handleType, MEMORY_HANDLE_TYPES, call, "external memory handle type");
        int cudaFlags = bits(flags, EXTERNAL_MEMORY_FLAGS, call, "external memory flags");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(cudaExternalMemoryHandleDesc.layout());
            cudaExternalMemoryHandleDesc.type(desc, type);
            MemorySegment handle = cudaExternalMemoryHandleDesc.handle(desc);
            if (type == CudaRuntime.cudaExternalMemoryHandleTypeOpaqueFd()) {
                cudaExternalMemoryHandleDesc.handle.fd(handle, fd);
            } else if (type == CudaRuntime.cudaExternalMemoryHandleTypeNvSciBuf()) {
                cudaExternalMemoryHandleDesc.handle.nvSciBufObject(handle, nvSciBufObject);
            } else {
                MemorySegment win32 = cudaExternalMemoryHandleDesc.handle.win32(handle);
                cudaExternalMemoryHandleDesc.handle.win32.handle(win32, win32Handle);
                cudaExternalMemoryHandleDesc.handle.win32.name(win32, win32Name);
            }
            cudaExternalMemoryHandleDesc.size(desc, size);
            cudaExternalMemoryHandleDesc.flags(desc, cudaFlags);
            return pointerOut(call, m -> CudaRuntime.cudaImportExternalMemory(m, desc));
        }
    }

    @Override
    public MemorySegment externalMemoryMappedBuffer(MemorySegment memory, long offset, long size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(cudaExternalMemoryBufferDesc.layout());
            cudaExternalMemoryBufferDesc.offset(desc, offset);
            cudaExternalMemoryBufferDesc.size(desc, size);
            return pointerOut("hipExternalMemoryGetMappedBuffer",
                    p -> CudaRuntime.cudaExternalMemoryGetMappedBuffer(p, memory, desc));
        }
    }

    @Override
    public MemorySegment externalMemoryMappedMipmappedArray(MemorySegment memory, long offset, int[] channelBits,
            int channelKind, long width, long height, long depth, int flags, int levels) {
        String call = "hipExternalMemoryGetMappedMipmappedArray";
        int kind = value(channelKind, CHANNEL_KINDS, call, "channel format kind");
        int cudaFlags = bits(flags, ARRAY_FLAGS, call, "array flags");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(cudaExternalMemoryMipmappedArrayDesc.layout());
            cudaExternalMemoryMipmappedArrayDesc.offset(desc, offset);
            MemorySegment format = cudaExternalMemoryMipmappedArrayDesc.formatDesc(desc);
            cudaChannelFormatDesc.x(format, channelBits[0]);
            cudaChannelFormatDesc.y(format, channelBits[1]);
            cudaChannelFormatDesc.z(format, channelBits[2]);
            cudaChannelFormatDesc.w(format, channelBits[3]);
            cudaChannelFormatDesc.f(format, kind);
            MemorySegment extent = cudaExternalMemoryMipmappedArrayDesc.extent(desc);
            cudaExtent.width(extent, width);
            cudaExtent.height(extent, height);
            cudaExtent.depth(extent, depth);
            cudaExternalMemoryMipmappedArrayDesc.flags(desc, cudaFlags);
            cudaExternalMemoryMipmappedArrayDesc.numLevels(desc, levels);
            return pointerOut(call, m -> CudaRuntime.cudaExternalMemoryGetMappedMipmappedArray(m, memory, desc));
        }
    }

    @Override
    public MemorySegment mipmappedArrayLevel(MemorySegment mipmappedArray, int level) {
        return pointerOut("hipGetMipmappedArrayLevel",
                l -> CudaRuntime.cudaGetMipmappedArrayLevel(l, mipmappedArray, level));
    }

    @Override
    public void freeMipmappedArray(MemorySegment mipmappedArray) {
        check(CudaRuntime.cudaFreeMipmappedArray(mipmappedArray), "hipFreeMipmappedArray");
    }

    @Override
    public void destroyExternalMemory(MemorySegment memory) {
        check(CudaRuntime.cudaDestroyExternalMemory(memory), "hipDestroyExternalMemory");
    }

    // ---- external semaphores ----------------------------------------------------------------------------

    /** The CUDA runtime closes the fd of a successful memory or semaphore import. */
    @Override
    public boolean importConsumesFd() {
        return true;
    }

    @Override
    public boolean supportsExternalSemaphores() {
        return true;
    }

    @Override
    public MemorySegment importExternalSemaphore(int handleType, int fd, MemorySegment win32Handle,
            MemorySegment win32Name, MemorySegment nvSciSyncObject, int flags) {
        String call = "hipImportExternalSemaphore";
        int type = value(handleType, SEMAPHORE_HANDLE_TYPES, call, "external semaphore handle type");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(cudaExternalSemaphoreHandleDesc.layout());
            cudaExternalSemaphoreHandleDesc.type(desc, type);
            MemorySegment handle = cudaExternalSemaphoreHandleDesc.handle(desc);
            if (type == CudaRuntime.cudaExternalSemaphoreHandleTypeOpaqueFd()
                    || type == CudaRuntime.cudaExternalSemaphoreHandleTypeTimelineSemaphoreFd()) {
                cudaExternalSemaphoreHandleDesc.handle.fd(handle, fd);
            } else if (type == CudaRuntime.cudaExternalSemaphoreHandleTypeNvSciSync()) {
                cudaExternalSemaphoreHandleDesc.handle.nvSciSyncObj(handle, nvSciSyncObject);
            } else {
                MemorySegment win32 = cudaExternalSemaphoreHandleDesc.handle.win32(handle);
                cudaExternalSemaphoreHandleDesc.handle.win32.handle(win32, win32Handle);
                cudaExternalSemaphoreHandleDesc.handle.win32.name(win32, win32Name);
            }
            cudaExternalSemaphoreHandleDesc.flags(desc, flags);
            return pointerOut(call, s -> CudaRuntime.cudaImportExternalSemaphore(s, desc));
        }
    }


    @Override
    public void signalExternalSemaphore(MemorySegment semaphore, long value, MemorySegment stream) {
        Scratch s = Scratch.get();
        s.params.fill((byte) 0);
        s.params.set(ValueLayout.JAVA_LONG, SIGNAL.value(), value);
        s.handle.set(ValueLayout.ADDRESS, 0, semaphore);
        check(CudaRuntime.cudaSignalExternalSemaphoresAsync(s.handle, s.params, 1, stream),
                "hipSignalExternalSemaphoresAsync");
    }

    @Override
    public void waitExternalSemaphore(MemorySegment semaphore, long value, MemorySegment stream) {
        Scratch s = Scratch.get();
        s.params.fill((byte) 0);
        s.params.set(ValueLayout.JAVA_LONG, WAIT.value(), value);
        s.handle.set(ValueLayout.ADDRESS, 0, semaphore);
        check(CudaRuntime.cudaWaitExternalSemaphoresAsync(s.handle, s.params, 1, stream),
                "hipWaitExternalSemaphoresAsync");
    }

    @Override
    public void signalExternalSemaphores(int n, MemorySegment[] semaphores, long[] values, long[] keyedMutexKeys,
            MemorySegment stream) {
        Scratch s = Scratch.get();
        SIGNAL.fill(s, n, semaphores, values, keyedMutexKeys, null);
        check(CudaRuntime.cudaSignalExternalSemaphoresAsync(s.batchHandles(), s.batchParams(), n, stream), "hipSignalExternalSemaphoresAsync");
    }

    @Override
    public void waitExternalSemaphores(int n, MemorySegment[] semaphores, long[] values, long[] keyedMutexKeys,
            int[] keyedMutexTimeoutsMs, MemorySegment stream) {
        Scratch s = Scratch.get();
        WAIT.fill(s, n, semaphores, values, keyedMutexKeys, keyedMutexTimeoutsMs);
        check(CudaRuntime.cudaWaitExternalSemaphoresAsync(s.batchHandles(), s.batchParams(), n, stream), "hipWaitExternalSemaphoresAsync");
    }

    private static final SemaphoreParams SIGNAL = SemaphoreParams.signal(cudaExternalSemaphoreSignalParams.layout());
    private static final SemaphoreParams WAIT = SemaphoreParams.wait(cudaExternalSemaphoreWaitParams.layout());

    @Override
    public void destroyExternalSemaphore(MemorySegment semaphore) {
        check(CudaRuntime.cudaDestroyExternalSemaphore(semaphore), "hipDestroyExternalSemaphore");
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

    /** A call that writes its result through one out-param and returns a CUDA code. */
    private interface OutCall {
        int call(MemorySegment out);
    }

    private int intOut(String hipCall, OutCall call) {
        MemorySegment v = Scratch.get().out;
        check(call.call(v), hipCall);
        return v.get(ValueLayout.JAVA_INT, 0);
    }

    /** {@return the pointer or handle a call writes through its out-param, as a zero-length segment} */
    private MemorySegment pointerOut(String hipCall, OutCall call) {
        MemorySegment p = Scratch.get().out;
        check(call.call(p), hipCall);
        return p.get(ValueLayout.ADDRESS, 0);
    }

    /** {@return true on success, false on {@code cudaErrorNotReady}; anything else throws} */
    private boolean done(int rc, String hipCall) {
        if (rc == CudaRuntime.cudaErrorNotReady()) {
            return false;
        }
        check(rc, hipCall);
        return true;
    }

    /** {@return the CUDA value of a HIP enum value, through a {@code {hip, cuda}} table} */
    private static int value(int hip, int[][] table, String hipCall, String what) {
        for (int[] pair : table) {
            if (pair[0] == hip) {
                return pair[1];
            }
        }
        throw new HipException(HipError.INVALID_VALUE, hipCall, what + " " + hip + " has no CUDA counterpart");
    }

    /** {@return the HIP value of a CUDA enum value, through a {@code {hip, cuda}} table; -1 when none} */
    private static int hipValue(int cuda, int[][] table) {
        for (int[] pair : table) {
            if (pair[1] == cuda) {
                return pair[0];
            }
        }
        return -1;
    }

    /** {@return the CUDA flag bits for HIP flag bits, through a {@code {hipBit, cudaBit}} table} */
    private static int bits(int hip, int[][] table, String hipCall, String what) {
        int cuda = 0;
        int left = hip;
        for (int[] pair : table) {
            if ((left & pair[0]) != 0) {
                cuda |= pair[1];
                left &= ~pair[0];
            }
        }
        if (left != 0) {
            throw new HipException(HipError.INVALID_VALUE, hipCall,
                    what + " 0x" + Integer.toHexString(hip) + ": bits 0x" + Integer.toHexString(left)
                            + " have no CUDA counterpart");
        }
        return cuda;
    }

    // ---- modules, launch, runtime compilation ---------------------------------------------------------

    @Override
    public MemorySegment moduleLoad(MemorySegment image) {
        return pointerOut("hipModuleLoadData", p -> CudaRuntime.cudaLibraryLoadData(p, image, MemorySegment.NULL,
                MemorySegment.NULL, 0, MemorySegment.NULL, MemorySegment.NULL, 0));
    }

    @Override
    public void moduleUnload(MemorySegment module) {
        check(CudaRuntime.cudaLibraryUnload(module), "hipModuleUnload");
    }

    @Override
    public MemorySegment moduleFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocateFrom(name);
            return pointerOut("hipModuleGetFunction", p -> CudaRuntime.cudaLibraryGetKernel(p, module, n));
        }
    }

    /** {@code cudaLaunchKernel} takes a {@code cudaKernel_t} as its function and the two {@code dim3}s by value. */
    @Override
    public void launch(MemorySegment function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
            int sharedBytes, MemorySegment stream, MemorySegment kernelParams, MemorySegment gridDim,
            MemorySegment blockDim) {
        gridDim.set(ValueLayout.JAVA_INT, 0, gridX);
        gridDim.set(ValueLayout.JAVA_INT, 4, gridY);
        gridDim.set(ValueLayout.JAVA_INT, 8, gridZ);
        blockDim.set(ValueLayout.JAVA_INT, 0, blockX);
        blockDim.set(ValueLayout.JAVA_INT, 4, blockY);
        blockDim.set(ValueLayout.JAVA_INT, 8, blockZ);
        check(CudaRuntime.cudaLaunchKernel(function, gridDim, blockDim, kernelParams, sharedBytes, stream),
                "hipModuleLaunchKernel");
    }

    @Override
    public io.github.hipffm.RuntimeCompiler.Program compile(String source, String name,
            java.util.List<String> options, java.util.List<String> nameExpressions) {
        NvrtcCompiler.load(library);
        return NvrtcCompiler.compile(source, name, options, nameExpressions);
    }

    // ---- OpenGL interop -------------------------------------------------------------------------------

    @Override
    public int[] glDevices(int max) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment devices = a.allocate(ValueLayout.JAVA_INT, Math.max(1, max));
            check(CudaRuntime.cudaGLGetDevices(count, devices, max, CudaRuntime.cudaGLDeviceListAll()), "hipGLGetDevices");
            int n = Math.min(max, count.get(ValueLayout.JAVA_INT, 0));
            return devices.asSlice(0, 4L * n).toArray(ValueLayout.JAVA_INT);
        }
    }

    @Override
    public MemorySegment glRegisterBuffer(int glBuffer, int flags) {
        return pointerOut("hipGraphicsGLRegisterBuffer", p -> CudaRuntime.cudaGraphicsGLRegisterBuffer(p, glBuffer, bits(flags, GRAPHICS_REGISTER_FLAGS, "hipGraphicsGLRegister", "graphics register flags")));
    }

    @Override
    public MemorySegment glRegisterImage(int glImage, int glTarget, int flags) {
        return pointerOut("hipGraphicsGLRegisterImage", p -> CudaRuntime.cudaGraphicsGLRegisterImage(p, glImage, glTarget, bits(flags, GRAPHICS_REGISTER_FLAGS, "hipGraphicsGLRegister", "graphics register flags")));
    }

    @Override
    public void graphicsMap(MemorySegment[] resources, MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            check(CudaRuntime.cudaGraphicsMapResources(resources.length, NativeSupport.addressArray(a, resources), stream),
                    "hipGraphicsMapResources");
        }
    }

    @Override
    public void graphicsUnmap(MemorySegment[] resources, MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            check(CudaRuntime.cudaGraphicsUnmapResources(resources.length, NativeSupport.addressArray(a, resources), stream),
                    "hipGraphicsUnmapResources");
        }
    }

    @Override
    public MemorySegment graphicsMappedPointer(MemorySegment resource, long[] size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment p = pointerOut("hipGraphicsResourceGetMappedPointer",
                    out -> CudaRuntime.cudaGraphicsResourceGetMappedPointer(out, n, resource));
            size[0] = n.get(ValueLayout.JAVA_LONG, 0);
            return p;
        }
    }

    @Override
    public MemorySegment graphicsMappedArray(MemorySegment resource, int arrayIndex, int mipLevel) {
        return pointerOut("hipGraphicsSubResourceGetMappedArray",
                p -> CudaRuntime.cudaGraphicsSubResourceGetMappedArray(p, resource, arrayIndex, mipLevel));
    }

    @Override
    public void graphicsUnregister(MemorySegment resource) {
        check(CudaRuntime.cudaGraphicsUnregisterResource(resource), "hipGraphicsUnregisterResource");
    }

    @Override
    public long[] arrayInfo(MemorySegment array) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(cudaChannelFormatDesc.layout());
            MemorySegment extent = a.allocate(cudaExtent.layout());
            MemorySegment flags = a.allocate(ValueLayout.JAVA_INT);
            check(CudaRuntime.cudaArrayGetInfo(desc, extent, flags, array), "hipArrayGetInfo");
            return new long[] {cudaChannelFormatDesc.x(desc), cudaChannelFormatDesc.y(desc), cudaChannelFormatDesc.z(desc),
                    cudaChannelFormatDesc.w(desc), hipValue(cudaChannelFormatDesc.f(desc), CHANNEL_KINDS), cudaExtent.width(extent),
                    cudaExtent.height(extent), cudaExtent.depth(extent)};
        }
    }
}
