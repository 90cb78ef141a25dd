package io.github.hipffm.testrt;

import io.github.hipffm.Hip;
import io.github.hipffm.Platform;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.bindings.cuda.cudaExtent;
import io.github.hipffm.bindings.hip.hipExtent;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The loaded runtime's own C functions, past hip-ffm, for the tests that clean up behind an injected failure or
 * look at a handle directly: HIP's through the generated {@code hip} bindings on AMD, CUDA's through the generated
 * {@code cuda} bindings on NVIDIA (the cudart double exports no {@code hip*} name, as the real {@code libcudart}
 * does not). Each returns the runtime's code: 0 is success on both.
 */
public final class Raw {
    private Raw() {
    }

    private static boolean nvidia() {
        return Hip.platform() == Platform.NVIDIA;
    }

    /** {@code hipDestroyExternalMemory} / {@code cudaDestroyExternalMemory}. */
    public static int destroyExternalMemory(MemorySegment memory) {
        return nvidia() ? CudaRuntime.cudaDestroyExternalMemory(memory)
                : io.github.hipffm.bindings.hip.Hip.hipDestroyExternalMemory(memory);
    }

    /** {@code hipDestroyTextureObject} / {@code cudaDestroyTextureObject} of a texture's {@code value()}. */
    public static int destroyTextureObject(long texture) {
        return nvidia() ? CudaRuntime.cudaDestroyTextureObject(texture)
                : io.github.hipffm.bindings.hip.Hip.hipDestroyTextureObject(MemorySegment.ofAddress(texture));
    }

    /** {@code hipDestroySurfaceObject} / {@code cudaDestroySurfaceObject} of a surface's {@code value()}. */
    public static int destroySurfaceObject(long surface) {
        return nvidia() ? CudaRuntime.cudaDestroySurfaceObject(surface)
                : io.github.hipffm.bindings.hip.Hip.hipDestroySurfaceObject(MemorySegment.ofAddress(surface));
    }

    /** {@code hipFree} / {@code cudaFree}. */
    public static int free(MemorySegment pointer) {
        return nvidia() ? CudaRuntime.cudaFree(pointer) : io.github.hipffm.bindings.hip.Hip.hipFree(pointer);
    }

    /** {@code hipIpcCloseMemHandle} / {@code cudaIpcCloseMemHandle}. */
    public static int ipcCloseMemHandle(MemorySegment pointer) {
        return nvidia() ? CudaRuntime.cudaIpcCloseMemHandle(pointer)
                : io.github.hipffm.bindings.hip.Hip.hipIpcCloseMemHandle(pointer);
    }

    /** {@code hipGraphicsUnregisterResource} / {@code cudaGraphicsUnregisterResource}. */
    public static int graphicsUnregisterResource(MemorySegment resource) {
        return nvidia() ? CudaRuntime.cudaGraphicsUnregisterResource(resource)
                : io.github.hipffm.bindings.hip.Hip.hipGraphicsUnregisterResource(resource);
    }

    /**
     * {@code hipMemcpy} / {@code cudaMemcpy} with the default kind (direction from the pointers): the runtime's own
     * synchronous copy, which returns before a device-to-device copy has finished.
     */
    public static int memcpy(MemorySegment dst, MemorySegment src, long bytes) {
        return nvidia() ? CudaRuntime.cudaMemcpy(dst, src, bytes, CudaRuntime.cudaMemcpyDefault())
                : io.github.hipffm.bindings.hip.Hip.hipMemcpy(dst, src, bytes,
                        io.github.hipffm.bindings.hip.Hip.hipMemcpyDefault());
    }

    /** {@code hipMemset} / {@code cudaMemset}: the runtime's own, which returns before a fill of device memory has finished. */
    public static int memset(MemorySegment dst, int value, long bytes) {
        return nvidia() ? CudaRuntime.cudaMemset(dst, value, bytes)
                : io.github.hipffm.bindings.hip.Hip.hipMemset(dst, value, bytes);
    }

    /** {@code hipStreamSynchronize} / {@code cudaStreamSynchronize} (NULL: the null stream). */
    public static int streamSynchronize(MemorySegment stream) {
        return nvidia() ? CudaRuntime.cudaStreamSynchronize(stream)
                : io.github.hipffm.bindings.hip.Hip.hipStreamSynchronize(stream);
    }

    /** {@code hipGetLastError} / {@code cudaGetLastError}: the calling thread's last error, which it resets. */
    public static int getLastError() {
        return nvidia() ? CudaRuntime.cudaGetLastError() : io.github.hipffm.bindings.hip.Hip.hipGetLastError();
    }

    /**
     * {@return the extent {width, height, depth} of an array according to {@code hipArrayGetInfo} /
     * {@code cudaArrayGetInfo}}
     * @throws IllegalStateException when the runtime refuses
     */
    public static long[] arrayExtent(MemorySegment array) {
        try (Arena a = Arena.ofConfined()) {
            if (nvidia()) {
                MemorySegment extent = a.allocate(cudaExtent.layout());
                check(CudaRuntime.cudaArrayGetInfo(MemorySegment.NULL, extent, MemorySegment.NULL, array), "cudaArrayGetInfo");
                return new long[] {cudaExtent.width(extent), cudaExtent.height(extent), cudaExtent.depth(extent)};
            }
            MemorySegment extent = a.allocate(hipExtent.layout());
            check(io.github.hipffm.bindings.hip.Hip.hipArrayGetInfo(MemorySegment.NULL, extent, MemorySegment.NULL, array),
                    "hipArrayGetInfo");
            return new long[] {hipExtent.width(extent), hipExtent.height(extent), hipExtent.depth(extent)};
        }
    }

    private static void check(int rc, String call) {
        if (rc != 0) {
            throw new IllegalStateException(call + " returned " + rc);
        }
    }
}
