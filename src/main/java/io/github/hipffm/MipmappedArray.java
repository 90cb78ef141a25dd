package io.github.hipffm;

import io.github.hipffm.bindings.hip.Hip;
import io.github.hipffm.internal.Backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A mipmapped array mapped from {@link ExternalMemory} ({@code hipExternalMemoryGetMappedMipmappedArray}): one
 * {@link ArrayLevel} per mip level, each an array that copies can fill and read.
 *
 * <p>It is released ({@code hipFreeMipmappedArray}) with the memory it came from, before that memory, or earlier
 * by {@link #close()}. After release, it and its levels throw {@link IllegalStateException}.
 */
public final class MipmappedArray implements AutoCloseable {
    /** {@code hipArrayLayered}: a layered array. */
    public static final int LAYERED = Hip.hipArrayLayered();
    /** {@code hipArraySurfaceLoadStore}: usable as a surface. */
    public static final int SURFACE_LOAD_STORE = Hip.hipArraySurfaceLoadStore();
    /** {@code hipArrayCubemap}: a cube map. */
    public static final int CUBEMAP = Hip.hipArrayCubemap();
    /** {@code hipArrayTextureGather}: usable for texture gather. */
    public static final int TEXTURE_GATHER = Hip.hipArrayTextureGather();
    static final int ALL_FLAGS = LAYERED | SURFACE_LOAD_STORE | CUBEMAP | TEXTURE_GATHER;

    /** Layered arrays and cube maps keep their depth (layers, faces) at every mip level. */
    static boolean isLayered(int flags) {
        return (flags & (LAYERED | CUBEMAP)) != 0;
    }

    private final Backend backend;
    private final Lifetime lifetime;
    private final MemorySegment handle;
    private final ChannelFormat format;
    private final Extent extent;
    private final int levels;
    private final boolean layered;

    private MipmappedArray(Backend backend, Lifetime lifetime, MemorySegment handle, ChannelFormat format,
            Extent extent, int levels, boolean layered) {
        this.backend = backend;
        this.lifetime = lifetime;
        this.handle = handle;
        this.format = format;
        this.extent = extent;
        this.levels = levels;
        this.layered = layered;
    }

    static MipmappedArray map(Backend b, Arena memoryArena, MemorySegment memory, long offset, ChannelFormat format,
            Extent extent, int levels, int flags) {
        Lifetime lifetime = new Lifetime(memoryArena, "MipmappedArray");
        try {
            MemorySegment h = b.externalMemoryMappedMipmappedArray(memory, offset, format.bits(), format.kind().value(),
                    extent.width(), extent.height(), extent.depth(), flags, levels);
            lifetime.onClose(() -> b.freeMipmappedArray(h));
            return new MipmappedArray(b, lifetime, lifetime.guard(h), format, extent, levels, isLayered(flags));
        } catch (RuntimeException e) {
            lifetime.close();
            throw e;
        }
    }

    /** {@return the number of mip levels} */
    public int levels() {
        return levels;
    }

    /** {@return the element format} */
    public ChannelFormat format() {
        return format;
    }

    /** {@return the extent of level 0} */
    public Extent extent() {
        return extent;
    }

    /**
     * {@return mip level {@code level} ({@code hipGetMipmappedArrayLevel})}
     * @param level 0 to {@code levels() - 1}
     */
    public ArrayLevel level(int level) {
        lifetime.checkOpen();
        if (level < 0 || level >= levels) {
            throw new IllegalArgumentException("mip level " + level + " out of range: " + levels + " level(s)");
        }
        return new ArrayLevel(backend, lifetime, lifetime.guard(backend.mipmappedArrayLevel(handle, level)), level,
                extent.level(level, layered), format.bytesPerElement());
    }

    /** {@return the raw {@code hipMipmappedArray_t}, for the generated bindings} */
    public MemorySegment handle() {
        lifetime.checkOpen();
        return handle;
    }

    /** {@return whether it was released} */
    public boolean isClosed() {
        return lifetime.isClosed();
    }

    /** Releases the array now; does nothing the second time. */
    @Override
    public void close() {
        lifetime.close();
    }
}
