package io.github.hipffm;

import io.github.hipffm.internal.Backend;

import java.lang.foreign.MemorySegment;

/**
 * A surface object ({@code hipCreateSurfaceObject}): unfiltered reads and writes by kernels
 * ({@code surf2Dread}/{@code surf2Dwrite}, x in bytes) of an {@link ArrayLevel} whose array may be bound as a
 * surface ({@link ArrayLevel#surfaceLoadStore()}: mapped with {@link MipmappedArray#SURFACE_LOAD_STORE}, or a GL
 * texture registered with {@link GraphicsResource.Flag#SURFACE_LOAD_STORE}). A kernel gets it as a 64-bit handle
 * ({@code hipSurfaceObject_t}; {@code cudaSurfaceObject_t} on NVIDIA): {@link KernelArgs#set(int, SurfaceObject)}
 * on a parameter declared {@link Kernel.Param#LONG}, or {@link #value()}.
 *
 * <p>It is destroyed ({@code hipDestroySurfaceObject}) when its array is released (the mipmapped array, its memory,
 * the GL mapping, or their arenas), before it, or earlier by {@link #close()}; afterwards {@link #value()},
 * {@link #handle()} and kernel arguments that hold it throw {@link IllegalStateException}.
 */
public final class SurfaceObject extends NativeResource {
    private final ArrayLevel level;

    private SurfaceObject(Backend backend, Lifetime lifetime, MemorySegment handle, ArrayLevel level) {
        super(backend, lifetime, handle);
        this.level = level;
    }

    /**
     * {@return a surface over an array level, destroyed before the array is released}
     * @param level a level whose array may be bound as a surface
     * @throws IllegalArgumentException when its array lacks {@code hipArraySurfaceLoadStore}, which both runtimes
     *     require of a surface's array
     * @throws IllegalStateException when the level's array was released
     */
    public static SurfaceObject of(ArrayLevel level) {
        Checks.notNull(level, "level");
        level.lifetime.checkOpen();
        if (!level.surfaceLoadStore()) {
            throw new IllegalArgumentException("level " + level.level() + " is of an array without the flag"
                    + " hipArraySurfaceLoadStore, which a surface object needs: map it with"
                    + " MipmappedArray.SURFACE_LOAD_STORE (a GL texture: register it with Flag.SURFACE_LOAD_STORE)");
        }
        Backend b = level.backend;
        MemorySegment array = level.array;
        return Lifetime.create(level.lifetime, "SurfaceObject", () -> b.createSurfaceObject(array),
                b::destroySurfaceObject, (lifetime, h) -> new SurfaceObject(b, lifetime, h, level));
    }

    /**
     * {@return the handle as a kernel receives it ({@code hipSurfaceObject_t}, {@code cudaSurfaceObject_t})}
     * @throws IllegalStateException when closed
     */
    public long value() {
        lifetime.checkOpen();
        return handle.address();
    }

    /** {@return the array level it reads and writes} */
    public ArrayLevel level() {
        return level;
    }

    @Override
    String describe() {
        return address(handle) + ", level " + level.level() + ", " + level.extent();
    }
}
