package io.github.hipffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * The arguments of one kernel, marshalled once into native memory and reused: setting a value writes it in
 * place, and {@link Kernel#launch} passes the same {@code void*[]} every time, so a launch with reused arguments
 * allocates nothing.
 *
 * <p>Each argument has the type the kernel was declared with ({@link Kernel.Param}); setting a value of another
 * type throws {@link IllegalArgumentException} naming the index, the declared type and what was given. A device
 * pointer is given as a {@link MemorySegment} (device memory, a mapped external buffer, pinned memory); a launch
 * checks that every such segment is still alive, so a pointer into released memory never reaches the GPU. A set
 * that throws leaves the argument as it was.
 *
 * <p>Not thread-safe: use one {@code KernelArgs} per thread.
 *
 * {@snippet :
 * Kernel scale = module.kernel("scale", Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.INT);
 * KernelArgs args = scale.newArgs(arena).set(0, buffer).set(1, 2.0f).set(2, n);
 * for (int frame = 0; frame < frames; frame++) {
 *     scale.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, args);
 * }
 * }
 */
public final class KernelArgs {
    /** Every parameter type fits, 8-aligned, in one 8-byte slot: argument {@code i} lives at {@code 8 * i}. */
    private static final long SLOT = 8;

    private final Kernel kernel;
    private final List<Kernel.Param> params;
    private final MemorySegment values;
    private final MemorySegment pointers;
    private final boolean[] set;
    private final MemorySegment[] segments;
    /** Whether the segment of an argument is a texture or surface object's scoped handle rather than memory. */
    private final boolean[] objects;
    /** The device of each pointer argument that is a hip-ffm device segment, else null. */
    private final Device[] devices;
    /** The launch's {@code dim3}s, written per launch (the NVIDIA platform passes them by value). */
    final MemorySegment gridDim;
    final MemorySegment blockDim;

    KernelArgs(Kernel kernel, List<Kernel.Param> params, Arena arena) {
        this.kernel = kernel;
        this.params = params;
        int n = params.size();
        values = arena.allocate(SLOT * Math.max(1, n), SLOT);
        pointers = arena.allocate(ValueLayout.ADDRESS, Math.max(1, n));
        for (int i = 0; i < n; i++) {
            pointers.setAtIndex(ValueLayout.ADDRESS, i, values.asSlice(SLOT * i));
        }
        set = new boolean[n];
        segments = new MemorySegment[n];
        objects = new boolean[n];
        devices = new Device[n];
        MemorySegment dims = arena.allocate(24, 8);
        gridDim = dims.asSlice(0, 12);
        blockDim = dims.asSlice(12, 12);
    }

    /** {@return the kernel these arguments are for} */
    public Kernel kernel() {
        return kernel;
    }

    /**
     * Sets an {@code int} argument.
     *
     * @param index the parameter index
     * @param value the value
     * @return this
     */
    public KernelArgs set(int index, int value) {
        slot(index, Kernel.Param.INT, "int");
        values.set(ValueLayout.JAVA_INT, SLOT * index, value);
        return mark(index, null);
    }

    /**
     * Sets a {@code long} ({@code int64_t}, {@code size_t}) argument.
     *
     * @param index the parameter index
     * @param value the value
     * @return this
     */
    public KernelArgs set(int index, long value) {
        slot(index, Kernel.Param.LONG, "long");
        values.set(ValueLayout.JAVA_LONG, SLOT * index, value);
        return mark(index, null);
    }

    /**
     * Sets a {@code float} argument.
     *
     * @param index the parameter index
     * @param value the value
     * @return this
     */
    public KernelArgs set(int index, float value) {
        slot(index, Kernel.Param.FLOAT, "float");
        values.set(ValueLayout.JAVA_FLOAT, SLOT * index, value);
        return mark(index, null);
    }

    /**
     * Sets a {@code double} argument.
     *
     * @param index the parameter index
     * @param value the value
     * @return this
     */
    public KernelArgs set(int index, double value) {
        slot(index, Kernel.Param.DOUBLE, "double");
        values.set(ValueLayout.JAVA_DOUBLE, SLOT * index, value);
        return mark(index, null);
    }

    /**
     * Sets a pointer argument to the start of a native segment (device, mapped external, or pinned memory).
     *
     * @param index the parameter index
     * @param pointer the memory
     * @return this
     */
    public KernelArgs set(int index, MemorySegment pointer) {
        slot(index, Kernel.Param.POINTER, "MemorySegment");
        Checks.nativeSegment(pointer, "argument " + index);
        values.set(ValueLayout.JAVA_LONG, SLOT * index, pointer.address());
        mark(index, pointer);
        devices[index] = Segments.deviceOf(pointer);
        return this;
    }

    /**
     * Sets a texture object argument: its 64-bit handle ({@code hipTextureObject_t}), for a parameter declared
     * {@link Kernel.Param#LONG} (or {@link Kernel.Param#POINTER}: on AMD the handle is a pointer). A launch checks
     * that it is still open.
     *
     * @param index the parameter index
     * @param texture the texture
     * @return this
     * @throws IllegalStateException when the texture is closed
     */
    public KernelArgs set(int index, TextureObject texture) {
        return setObject(index, Checks.notNull(texture, "argument " + index), "TextureObject");
    }

    /**
     * Sets a surface object argument: its 64-bit handle ({@code hipSurfaceObject_t}), as
     * {@link #set(int, TextureObject)}.
     *
     * @param index the parameter index
     * @param surface the surface
     * @return this
     * @throws IllegalStateException when the surface is closed
     */
    public KernelArgs set(int index, SurfaceObject surface) {
        return setObject(index, Checks.notNull(surface, "argument " + index), "SurfaceObject");
    }

    private KernelArgs setObject(int index, NativeResource object, String given) {
        boolean pointer = index >= 0 && index < params.size() && params.get(index) == Kernel.Param.POINTER;
        slot(index, pointer ? Kernel.Param.POINTER : Kernel.Param.LONG, given);
        MemorySegment handle = object.handle();
        values.set(ValueLayout.JAVA_LONG, SLOT * index, handle.address());
        mark(index, handle);
        objects[index] = true;
        return this;
    }

    /** The {@code void*[]} for the launch, after checking every argument is set and every pointer alive. */
    MemorySegment forLaunch() {
        for (int i = 0; i < set.length; i++) {
            if (!set[i]) {
                throw new IllegalArgumentException("kernel " + kernel.name() + ": argument " + i + " ("
                        + params.get(i) + ") is not set");
            }
            if (segments[i] != null && !segments[i].scope().isAlive()) {
                throw new IllegalStateException("kernel " + kernel.name() + ": argument " + i
                        + (objects[i] ? " is a texture or surface object that was closed"
                                : " points into memory that was released"));
            }
        }
        return pointers;
    }

    /**
     * Refuses a launch on {@code stream} (of device {@code streamOrdinal}) with a pointer argument that is memory
     * of another device that the stream's device has no peer access to; no allocation unless it refuses.
     */
    void checkDevices(Stream stream, int streamOrdinal) {
        for (int i = 0; i < devices.length; i++) {
            Device d = devices[i];
            if (d != null && !d.reaches(streamOrdinal)) {
                throw DeviceChecks.memoryRefusal(d, stream,
                        "kernel " + kernel.name() + ": argument " + i + " is memory");
            }
        }
    }

    /**
     * {@return a copy of the arguments as they are now, as a {@code void*[]} in {@code memory} (the values with it)}
     * For a graph's kernel node, whose arguments must stay as they were when it was added. Checks, as a launch
     * does, that every argument is set and every pointer alive.
     */
    MemorySegment copyInto(Arena memory) {
        forLaunch();
        int n = set.length;
        MemorySegment v = memory.allocate(SLOT * Math.max(1, n), SLOT);
        MemorySegment p = memory.allocate(ValueLayout.ADDRESS, Math.max(1, n));
        v.copyFrom(values);
        for (int i = 0; i < n; i++) {
            p.setAtIndex(ValueLayout.ADDRESS, i, v.asSlice(SLOT * i));
        }
        return p;
    }

    /** {@return the pointer arguments that are segments (their liveness is checked per launch), in order} */
    List<MemorySegment> pointerSegments() {
        List<MemorySegment> list = new java.util.ArrayList<>();
        for (MemorySegment s : segments) {
            if (s != null) {
                list.add(s);
            }
        }
        return list;
    }

    /** {@return the device of each pointer argument that is a hip-ffm device segment, else null} */
    Device[] pointerDevices() {
        return devices.clone();
    }

    /** Checks that argument {@code index} is declared {@code type}; a refused set changes nothing. */
    private void slot(int index, Kernel.Param type, String given) {
        if (index < 0 || index >= params.size()) {
            throw new IllegalArgumentException("kernel " + kernel.name() + " takes " + params.size()
                    + " argument(s) " + params + "; index " + index + " is out of range");
        }
        if (params.get(index) != type) {
            throw new IllegalArgumentException("kernel " + kernel.name() + ": argument " + index + " is declared "
                    + params.get(index) + ", not " + given);
        }
    }

    /** Argument {@code index} is set, to {@code pointer} for a pointer (whose liveness a launch checks). */
    private KernelArgs mark(int index, MemorySegment pointer) {
        set[index] = true;
        segments[index] = pointer;
        objects[index] = false;
        devices[index] = null;
        return this;
    }

    @Override
    public String toString() {
        return "KernelArgs[" + kernel.name() + " " + params + ", set " + Arrays.toString(set) + "]";
    }
}
