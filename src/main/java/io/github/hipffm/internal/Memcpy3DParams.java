package io.github.hipffm.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A {@code hipMemcpy3DParms} / {@code cudaMemcpy3DParms} for a whole-array copy, filled by field name from the
 * platform's generated layout (both runtimes name the fields alike: {@code srcArray}, {@code srcPtr.ptr},
 * {@code extent.width}, {@code kind}, ...), so that one piece of code serves both backends.
 *
 * @param layout the platform's struct layout
 */
record Memcpy3DParams(GroupLayout layout) {

    private long offset(String... path) {
        MemoryLayout.PathElement[] elements = new MemoryLayout.PathElement[path.length];
        for (int i = 0; i < path.length; i++) {
            elements[i] = MemoryLayout.PathElement.groupElement(path[i]);
        }
        return layout.byteOffset(elements);
    }

    /**
     * {@return the parameters of a copy between a whole array and tightly packed linear memory, positions 0}
     *
     * @param arena where the struct lives
     * @param array the array
     * @param linear host, pinned or device memory
     * @param toArray {@code true}: linear to array
     * @param width width in elements (the extent counts elements where an array takes part)
     * @param elementBytes bytes per element
     * @param height rows per slice
     * @param depth slices
     * @param kind the platform's {@code cudaMemcpyDefault} / {@code hipMemcpyDefault}
     */
    MemorySegment fill(Arena arena, MemorySegment array, MemorySegment linear, boolean toArray, long width,
            long elementBytes, long height, long depth, int kind) {
        MemorySegment p = arena.allocate(layout);                 // zeroed: positions 0, the other side NULL
        String ptr = toArray ? "srcPtr" : "dstPtr";
        p.set(ValueLayout.ADDRESS, offset(ptr, "ptr"), linear);
        p.set(ValueLayout.JAVA_LONG, offset(ptr, "pitch"), width * elementBytes);
        p.set(ValueLayout.JAVA_LONG, offset(ptr, "xsize"), width);
        p.set(ValueLayout.JAVA_LONG, offset(ptr, "ysize"), height);
        p.set(ValueLayout.ADDRESS, offset(toArray ? "dstArray" : "srcArray"), array);
        p.set(ValueLayout.JAVA_LONG, offset("extent", "width"), width);
        p.set(ValueLayout.JAVA_LONG, offset("extent", "height"), height);
        p.set(ValueLayout.JAVA_LONG, offset("extent", "depth"), depth);
        p.set(ValueLayout.JAVA_INT, offset("kind"), kind);
        return p;
    }
}
