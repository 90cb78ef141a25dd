package io.github.hipffm;

import io.github.hipffm.internal.Backend;

import java.lang.foreign.MemorySegment;

/**
 * A 1D, 2D or 3D (or layered) GPU array ({@code hipArray_t}) that copies can fill and read: a mip level of a
 * {@link MipmappedArray}, or a level of a mapped GL texture ({@link GraphicsResource.Mapping#array}). Valid
 * while what it came from is mapped; afterwards it throws {@link IllegalStateException}.
 */
public final class ArrayLevel {
    final Backend backend;
    /** What it came from: its mipmapped array's, or its GL mapping's lifetime. */
    final Lifetime lifetime;
    /** The {@code hipArray_t}, scoped to {@link #lifetime}. */
    final MemorySegment array;
    private final int level;
    private final Extent extent;
    private final int bytesPerElement;
    /** Null where {@link ChannelFormat} cannot express the runtime's format (a GL texture's, rarely). */
    private final ChannelFormat format;
    private final boolean surfaceLoadStore;

    ArrayLevel(Backend backend, Lifetime lifetime, MemorySegment array, int level, Extent extent, int bytesPerElement,
            ChannelFormat format, boolean surfaceLoadStore) {
        this.backend = backend;
        this.lifetime = lifetime;
        this.array = array;
        this.level = level;
        this.extent = extent;
        this.bytesPerElement = bytesPerElement;
        this.format = format;
        this.surfaceLoadStore = surfaceLoadStore;
    }

    /** {@return which mip level} */
    public int level() {
        return level;
    }

    /** {@return this level's extent in elements} */
    public Extent extent() {
        return extent;
    }

    /**
     * {@return the element format; for a GL texture's level the runtime's ({@code hipArrayGetInfo}), null where
     * {@link ChannelFormat} cannot express it}
     */
    public ChannelFormat format() {
        return format;
    }

    /**
     * {@return whether a {@link SurfaceObject} may be made over it: the array has {@code hipArraySurfaceLoadStore}
     * ({@link MipmappedArray#SURFACE_LOAD_STORE}; a GL texture registered with
     * {@link GraphicsResource.Flag#SURFACE_LOAD_STORE})}
     */
    public boolean surfaceLoadStore() {
        return surfaceLoadStore;
    }

    /** {@return the bytes of one element} */
    public int bytesPerElement() {
        return bytesPerElement;
    }

    /** {@return the bytes of one tightly packed row} */
    public long rowBytes() {
        return extent.width() * bytesPerElement;
    }

    /** {@return the bytes of the whole level, tightly packed: rows of every slice (or layer), slice after slice} */
    public long byteSize() {
        return rowBytes() * rows() * slices();
    }

    private long rows() {
        return Math.max(1, extent.height());
    }

    private long slices() {
        return Math.max(1, extent.depth());
    }

    /** {@return the extent as a 3D copy counts it: rows and slices at least 1} */
    private Extent packed() {
        return new Extent(extent.width(), rows(), slices());
    }

    /**
     * Copies tightly packed rows from {@code src} (host, pinned or device memory) into this level:
     * {@code hipMemcpy2DToArray} for 1D and 2D levels, {@code hipMemcpy3D} where the extent has a depth (3D and
     * layered arrays; slice after slice in {@code src}). Returns once the copy has finished on the GPU (see
     * {@link Memory}).
     *
     * @param src at least {@link #byteSize()} bytes
     */
    public void copyFrom(MemorySegment src) {
        check(src, "src");
        if (extent.depth() > 0) {
            backend.memcpy3D(array, src, true, packed(), bytesPerElement);
        } else {
            backend.memcpy2DToArray(array, src, rowBytes(), rows());
        }
    }

    /**
     * Copies this level into {@code dst} as tightly packed rows, slice after slice where the level has a depth
     * ({@code hipMemcpy2DFromArray}, or {@code hipMemcpy3D} for 3D and layered levels). Returns once the copy has
     * finished on the GPU.
     *
     * @param dst at least {@link #byteSize()} bytes
     */
    public void copyTo(MemorySegment dst) {
        check(dst, "dst");
        if (extent.depth() > 0) {
            backend.memcpy3D(array, dst, false, packed(), bytesPerElement);
        } else {
            backend.memcpy2DFromArray(dst, array, rowBytes(), rows());
        }
    }

    /** {@return the raw {@code hipArray_t}, for the generated bindings} */
    public MemorySegment handle() {
        lifetime.checkOpen();
        return array;
    }

    private void check(MemorySegment segment, String name) {
        lifetime.checkOpen();
        Checks.nativeSegment(segment, name);
        if (segment.byteSize() < byteSize()) {
            throw new IllegalArgumentException(name + " has " + segment.byteSize() + " bytes, level " + level
                    + " needs " + byteSize());
        }
    }

    /** {@return the level, its extent, its element size and, once what it came from is released, {@code closed}} */
    @Override
    public String toString() {
        return "ArrayLevel[level " + level + ", " + extent + ", " + bytesPerElement + " B/element"
                + (surfaceLoadStore ? ", surface" : "")
                + (lifetime.isClosed() ? ", closed]" : "]");
    }
}
