package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Codes;
import io.github.hipffm.internal.Codes.NativeFlag;

import java.lang.foreign.MemorySegment;

/**
 * A mipmapped array mapped from {@link ExternalMemory} ({@code hipExternalMemoryGetMappedMipmappedArray}): one
 * {@link ArrayLevel} per mip level, each an array that copies can fill and read.
 *
 * <p>It is released ({@code hipFreeMipmappedArray}) with the memory it came from, before that memory, or earlier
 * by {@link #close()}. After release, it and its levels throw {@link IllegalStateException}. {@link #handle()} is
 * the raw {@code hipMipmappedArray_t}.
 */
public final class MipmappedArray extends NativeResource {
    /** {@code hipArrayLayered}: a layered array. */
    public static final int LAYERED = Codes.hip(NativeFlag.ARRAY_LAYERED);
    /** {@code hipArraySurfaceLoadStore}: usable as a surface. */
    public static final int SURFACE_LOAD_STORE = Codes.hip(NativeFlag.ARRAY_SURFACE_LOAD_STORE);
    /** {@code hipArrayCubemap}: a cube map. */
    public static final int CUBEMAP = Codes.hip(NativeFlag.ARRAY_CUBEMAP);
    /** {@code hipArrayTextureGather}: usable for texture gather. */
    public static final int TEXTURE_GATHER = Codes.hip(NativeFlag.ARRAY_TEXTURE_GATHER);
    static final int ALL_FLAGS = LAYERED | SURFACE_LOAD_STORE | CUBEMAP | TEXTURE_GATHER;

    /** Layered arrays and cube maps keep their depth (layers, faces) at every mip level. */
    static boolean isLayered(int flags) {
        return (flags & (LAYERED | CUBEMAP)) != 0;
    }

    private final ChannelFormat format;
    private final Extent extent;
    private final int levels;
    private final int flags;

    private MipmappedArray(Backend backend, Lifetime lifetime, MemorySegment handle, ChannelFormat format,
            Extent extent, int levels, int flags) {
        super(backend, lifetime, handle);
        this.format = format;
        this.extent = extent;
        this.levels = levels;
        this.flags = flags;
    }

    static MipmappedArray map(ExternalMemory memory, long offset, ChannelFormat format, Extent extent, int levels,
            int flags) {
        Backend b = memory.backend;
        return Lifetime.create(memory.lifetime, "MipmappedArray",
                () -> b.externalMemoryMappedMipmappedArray(memory.handle, offset, format, extent, flags, levels),
                b::freeMipmappedArray,
                (lifetime, h) -> new MipmappedArray(b, lifetime, h, format, extent, levels, flags));
    }

    /** {@return the number of mip levels} */
    public int levels() {
        return levels;
    }

    /** {@return the element format} */
    public ChannelFormat format() {
        return format;
    }

    /** {@return the {@code hipArray*} flags it was mapped with ({@link #SURFACE_LOAD_STORE}, ...)} */
    public int flags() {
        return flags;
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
                extent.level(level, isLayered(flags)), format.bytesPerElement(), format,
                (flags & SURFACE_LOAD_STORE) != 0);
    }

    @Override
    String describe() {
        return format + ", " + extent + ", " + levels + " level(s)";
    }
}
