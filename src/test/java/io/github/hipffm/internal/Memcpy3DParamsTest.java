package io.github.hipffm.internal;

import io.github.hipffm.bindings.cuda.cudaExtent;
import io.github.hipffm.bindings.cuda.cudaMemcpy3DParms;
import io.github.hipffm.bindings.cuda.cudaPitchedPtr;
import io.github.hipffm.bindings.hip.hipExtent;
import io.github.hipffm.bindings.hip.hipMemcpy3DParms;
import io.github.hipffm.bindings.hip.hipPitchedPtr;
import io.github.hipffm.Extent;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Memcpy3DParams} fills the struct by field name from each platform's layout; read back through the
 * generated accessors (the ABI test checks those against the C headers), every field lands where the runtime reads
 * it, on both platforms. Needs no runtime.
 */
class Memcpy3DParamsTest {
    private static final MemorySegment ARRAY = MemorySegment.ofAddress(0xA000);
    private static final MemorySegment LINEAR = MemorySegment.ofAddress(0xB000);

    @Test
    void hipToArrayAndFromArray() {
        Memcpy3DParams params = new Memcpy3DParams(new Struct(hipMemcpy3DParms.layout()));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment to = params.fill(arena, ARRAY, LINEAR, true, new Extent(8, 3, 5), 4, 4);
            assertEquals(ARRAY, hipMemcpy3DParms.dstArray(to));
            assertEquals(MemorySegment.NULL, hipMemcpy3DParms.srcArray(to));
            MemorySegment src = hipMemcpy3DParms.srcPtr(to);
            assertEquals(LINEAR, hipPitchedPtr.ptr(src));
            assertEquals(32, hipPitchedPtr.pitch(src));
            assertEquals(8, hipPitchedPtr.xsize(src));
            assertEquals(3, hipPitchedPtr.ysize(src));
            assertEquals(MemorySegment.NULL, hipPitchedPtr.ptr(hipMemcpy3DParms.dstPtr(to)));
            MemorySegment extent = hipMemcpy3DParms.extent(to);
            assertEquals(8, hipExtent.width(extent));
            assertEquals(3, hipExtent.height(extent));
            assertEquals(5, hipExtent.depth(extent));
            assertEquals(4, hipMemcpy3DParms.kind(to));

            MemorySegment from = params.fill(arena, ARRAY, LINEAR, false, new Extent(16, 1, 2), 2, 4);
            assertEquals(ARRAY, hipMemcpy3DParms.srcArray(from));
            assertEquals(MemorySegment.NULL, hipMemcpy3DParms.dstArray(from));
            assertEquals(LINEAR, hipPitchedPtr.ptr(hipMemcpy3DParms.dstPtr(from)));
            assertEquals(32, hipPitchedPtr.pitch(hipMemcpy3DParms.dstPtr(from)));
        }
    }

    @Test
    void cudaToArrayAndFromArray() {
        Memcpy3DParams params = new Memcpy3DParams(new Struct(cudaMemcpy3DParms.layout()));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment to = params.fill(arena, ARRAY, LINEAR, true, new Extent(8, 3, 5), 4, 4);
            assertEquals(ARRAY, cudaMemcpy3DParms.dstArray(to));
            assertEquals(MemorySegment.NULL, cudaMemcpy3DParms.srcArray(to));
            MemorySegment src = cudaMemcpy3DParms.srcPtr(to);
            assertEquals(LINEAR, cudaPitchedPtr.ptr(src));
            assertEquals(32, cudaPitchedPtr.pitch(src));
            assertEquals(8, cudaPitchedPtr.xsize(src));
            assertEquals(3, cudaPitchedPtr.ysize(src));
            MemorySegment extent = cudaMemcpy3DParms.extent(to);
            assertEquals(8, cudaExtent.width(extent));
            assertEquals(3, cudaExtent.height(extent));
            assertEquals(5, cudaExtent.depth(extent));
            assertEquals(4, cudaMemcpy3DParms.kind(to));

            MemorySegment from = params.fill(arena, ARRAY, LINEAR, false, new Extent(16, 1, 2), 2, 4);
            assertEquals(ARRAY, cudaMemcpy3DParms.srcArray(from));
            assertEquals(LINEAR, cudaPitchedPtr.ptr(cudaMemcpy3DParms.dstPtr(from)));
            assertEquals(1, cudaPitchedPtr.ysize(cudaMemcpy3DParms.dstPtr(from)));
        }
    }
}
