package io.github.hipffm.internal;

import io.github.hipffm.Extent;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A {@code hipMemcpy3DParms} / {@code cudaMemcpy3DParms} for a whole-array copy, filled by field name from the
 * platform's generated layout (both runtimes name the fields alike: {@code srcArray}, {@code srcPtr.ptr},
 * {@code extent.width}, {@code kind}, ...), so that one piece of code serves both platforms.
 *
 * @param struct the platform's struct layout
 */
record Memcpy3DParams(Struct struct) {

    /**
     * {@return the parameters of a copy between a whole array and tightly packed linear memory, positions 0}
     *
     * @param arena where the struct lives
     * @param array the array
     * @param linear host, pinned or device memory
     * @param toArray {@code true}: linear to array
     * @param extent width in elements (the extent counts elements where an array takes part), rows per slice and
     *     slices, each at least 1
     * @param elementBytes bytes per element
     * @param kind the platform's {@code cudaMemcpyDefault} / {@code hipMemcpyDefault}
     */
    MemorySegment fill(Arena arena, MemorySegment array, MemorySegment linear, boolean toArray, Extent extent,
            long elementBytes, int kind) {
        MemorySegment p = arena.allocate(struct.layout());        // zeroed: positions 0, the other side NULL
        String ptr = toArray ? "srcPtr" : "dstPtr";
        struct.setAddress(p, linear, ptr, "ptr");
        struct.setLong(p, extent.width() * elementBytes, ptr, "pitch");
        struct.setLong(p, extent.width(), ptr, "xsize");
        struct.setLong(p, extent.height(), ptr, "ysize");
        struct.setAddress(p, array, toArray ? "dstArray" : "srcArray");
        struct.setLong(p, extent.width(), "extent", "width");
        struct.setLong(p, extent.height(), "extent", "height");
        struct.setLong(p, extent.depth(), "extent", "depth");
        struct.setInt(p, kind, "kind");
        return p;
    }
}
