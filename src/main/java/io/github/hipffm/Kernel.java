package io.github.hipffm;

import io.github.hipffm.internal.Backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A kernel of a {@link HipModule}, with the parameter types its caller declared. Launch it with
 * {@link #launch(Dim3, Dim3, int, Stream, KernelArgs)} and arguments from {@link #newArgs(Arena)}, or with
 * {@link #launch(Dim3, Dim3, int, Stream, Object...)} for one-off launches.
 *
 * <p>The GPU runtime cannot tell a kernel's parameter types, so the declaration is the contract: arguments are
 * checked against it in Java. Declare exactly the C signature's types, in order.
 */
public final class Kernel {
    /** A kernel parameter type. */
    public enum Param {
        /** {@code int} / {@code int32_t} / {@code unsigned}. */
        INT,
        /** {@code long long} / {@code int64_t} / {@code size_t}. */
        LONG,
        /** {@code float}. */
        FLOAT,
        /** {@code double}. */
        DOUBLE,
        /** Any pointer ({@code float*}, ...), given as a {@link MemorySegment}. */
        POINTER
    }

    private final HipModule module;
    private final Backend backend;
    private final MemorySegment function;
    private final String name;
    private final List<Param> params;

    Kernel(HipModule module, Backend backend, MemorySegment function, String name, List<Param> params) {
        this.module = module;
        this.backend = backend;
        this.function = function;
        this.name = name;
        this.params = params;
    }

    /** {@return the device it runs on: its module's} */
    public Device device() {
        return module.device();
    }

    /** The module it belongs to (a graph's kernel node uses it: checked open per launch). */
    HipModule module() {
        return module;
    }

    /** The raw function handle ({@code hipFunction_t}; a {@code cudaKernel_t} on NVIDIA), after the module's check. */
    MemorySegment function() {
        module.checkOpen();
        return function;
    }

    /** {@return the kernel's name in the module} */
    public String name() {
        return name;
    }

    /** {@return the declared parameter types} */
    public List<Param> params() {
        return params;
    }

    /**
     * {@return arguments for this kernel, allocated once in {@code arena} and reusable across launches}
     * @param arena where the marshalled arguments live
     */
    public KernelArgs newArgs(Arena arena) {
        Checks.notNull(arena, "arena");
        return new KernelArgs(this, params, arena);
    }

    /**
     * Launches the kernel on a stream ({@code hipModuleLaunchKernel}).
     *
     * @param grid blocks in the grid
     * @param block threads in a block
     * @param sharedBytes dynamic shared memory per block, &gt;= 0
     * @param stream the stream
     * @param args arguments from this kernel's {@link #newArgs}, all set
     */
    public void launch(Dim3 grid, Dim3 block, int sharedBytes, Stream stream, KernelArgs args) {
        Checks.notNull(grid, "grid");
        Checks.notNull(block, "block");
        Checks.notNull(stream, "stream");
        Checks.notNull(args, "args");
        if (args.kernel() != this) {
            throw new IllegalArgumentException("arguments are for kernel " + args.kernel().name() + ", not " + name);
        }
        if (sharedBytes < 0) {
            throw new IllegalArgumentException("shared memory must be >= 0 bytes, got " + sharedBytes);
        }
        module.checkOpen();
        MemorySegment streamHandle = stream.handle();
        MemorySegment params = args.forLaunch();
        int streamOrdinal = DeviceChecks.ordinal(stream);
        Device moduleDevice = module.device();
        if (moduleDevice != null && moduleDevice.ordinal() != streamOrdinal) {   // peer access is for memory only
            throw DeviceChecks.refusal(moduleDevice, stream, "kernel " + name + " (its module)");
        }
        args.checkDevices(stream, streamOrdinal);
        backend.launch(function, grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(), sharedBytes,
                streamHandle, params, args.gridDim, args.blockDim);
    }

    /**
     * Launches with arguments given as Java values ({@code Integer}, {@code Long}, {@code Float}, {@code Double},
     * {@code MemorySegment}, {@link TextureObject}, {@link SurfaceObject}), checked against the declaration. Allocates per launch; for repeated launches use
     * {@link #newArgs}.
     *
     * @param grid blocks in the grid
     * @param block threads in a block
     * @param sharedBytes dynamic shared memory per block
     * @param stream the stream
     * @param values one per declared parameter
     */
    public void launch(Dim3 grid, Dim3 block, int sharedBytes, Stream stream, Object... values) {
        Checks.notNull(values, "values");
        if (values.length != params.size()) {
            throw new IllegalArgumentException("kernel " + name + " takes " + params.size() + " argument(s) " + params
                    + ", got " + values.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = newArgs(arena);
            for (int i = 0; i < values.length; i++) {
                switch (values[i]) {
                    case Integer v -> args.set(i, v.intValue());
                    case Long v -> args.set(i, v.longValue());
                    case Float v -> args.set(i, v.floatValue());
                    case Double v -> args.set(i, v.doubleValue());
                    case MemorySegment v -> args.set(i, v);
                    case TextureObject v -> args.set(i, v);
                    case SurfaceObject v -> args.set(i, v);
                    case null -> throw new IllegalArgumentException("kernel " + name + ": argument " + i + " is null");
                    default -> throw new IllegalArgumentException("kernel " + name + ": argument " + i + " is a "
                            + values[i].getClass().getSimpleName() + "; use Integer, Long, Float, Double, MemorySegment,"
                            + " TextureObject or SurfaceObject");
                }
            }
            launch(grid, block, sharedBytes, stream, args);
        }
    }

    /** {@return the kernel's name, its declared parameters and, once its module is closed, {@code closed}} */
    @Override
    public String toString() {
        String declared = params.stream().map(Enum::name).collect(java.util.stream.Collectors.joining(", "));
        return "Kernel[" + name + "(" + declared + ")" + (module.isClosed() ? ", closed]" : "]");
    }
}
