package io.github.hipffm.interop;

import io.github.hipffm.Dim3;
import io.github.hipffm.HipException;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.fuzz.Gen;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fuzzing {@link HipModule}, {@link Kernel}, {@link KernelArgs} and the launches: images (valid, empty, not a
 * module), kernel names (built in, listed but not built in, unknown, empty), declared parameter lists, random
 * sequences of {@code KernelArgs.set} (every type, every index, heap and released pointers), grids, blocks and
 * shared memory at the runtime's limits, closed streams and modules, and the boxed-values launch. Each call's
 * outcome is predicted from the javadoc (and, for what the runtime refuses, from its documented limits); what a
 * launch does to the memory is checked against a model of the test runtime's built-in kernels.
 */
@Tag("testrt")
class KernelFuzzTest {
    private static final String IMAGE = "hipffm-test-module\nscale_add\nincrement\nfill_u32\nnoop\nmystery\n";
    /** The built-in kernels' C signatures ("mystery" is listed in the image but not built in: no signature). */
    private static final Map<String, List<Kernel.Param>> SIGNATURES = Map.of(
            "scale_add", List.of(Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.FLOAT, Kernel.Param.LONG),
            "increment", List.of(Kernel.Param.POINTER, Kernel.Param.LONG),
            "fill_u32", List.of(Kernel.Param.POINTER, Kernel.Param.INT, Kernel.Param.LONG),
            "noop", List.of(),
            "mystery", List.of(Kernel.Param.INT));

    enum Image { VALID, EMPTY, NOT_A_MODULE, VALID_NATIVE, HEAP_SEGMENT }

    /** What is set: a value of a type, or a pointer of a kind. */
    enum Value { INT, LONG, FLOAT, DOUBLE, DEVICE, PINNED, HEAP, RELEASED }

    /**
     * One {@code set}.
     *
     * @param index the index (may be out of range)
     * @param value what is set
     * @param number the number set (a size for pointers: elements of 4 bytes)
     */
    record Set(int index, Value value, long number) {
    }

    /**
     * One case.
     *
     * @param image the module's image
     * @param name the kernel's name
     * @param declareSignature whether the declared parameters are the C signature (else {@code declared})
     * @param declared another declaration
     * @param sets the sets, in order
     * @param grid the grid
     * @param block the block
     * @param shared the dynamic shared memory
     * @param streamKind 0 default, 1 a stream, 2 a closed stream
     * @param closeModule whether the module is closed before the launch
     * @param boxed launch with boxed values instead (those of the sets, in index order)
     */
    record Case(Image image, String name, boolean declareSignature, List<Kernel.Param> declared, List<Set> sets,
            List<Integer> grid, List<Integer> block, int shared, int streamKind, boolean closeModule, boolean boxed) {
    }

    Gen<Case> cases() {
        Gen<Image> images = Gen.frequency(Gen.w(24, Image.VALID), Gen.w(6, Image.VALID_NATIVE),
                Gen.w(1, Image.EMPTY), Gen.w(1, Image.NOT_A_MODULE), Gen.w(1, Image.HEAP_SEGMENT));
        Gen<String> names = Gen.frequency(Gen.w(5, "scale_add"), Gen.w(5, "increment"),
                Gen.w(5, "fill_u32"), Gen.w(2, "noop"), Gen.w(1, "mystery"), Gen.w(1, "unknown"),
                Gen.w(1, ""), Gen.w(1, null));
        Gen<Set> sets = Gen.combine(
                Gen.frequencyOf(Gen.w(10, Gen.ints(0, 3)), Gen.w(1, Gen.of(-1, 4, 100))),
                Gen.frequency(Gen.w(3, Value.INT), Gen.w(3, Value.LONG), Gen.w(3, Value.FLOAT),
                        Gen.w(1, Value.DOUBLE), Gen.w(4, Value.DEVICE), Gen.w(1, Value.PINNED), Gen.w(1, Value.HEAP),
                        Gen.w(1, Value.RELEASED)),
                Gen.frequencyOf(Gen.w(8, Gen.longs(0, 600)),
                        Gen.w(1, Gen.of(-1L, 1L << 40, Long.MIN_VALUE)))).as(Set::new);
        Gen<Integer> gridDims = Gen.frequencyOf(Gen.w(40, Gen.ints(1, 8)),
                Gen.w(1, Gen.of(0, 65536, 65537, 1 << 20, Integer.MAX_VALUE)));
        Gen<Integer> blockDims = Gen.frequencyOf(Gen.w(40, Gen.of(1, 2, 32, 64, 256)),
                Gen.w(1, Gen.of(0, 1024, 1025, 1 << 16)));
        return Gen.combine(images, names, Gen.frequency(Gen.w(6, true), Gen.w(1, false)),
                Gen.of(Kernel.Param.class).list().ofMaxSize(4), sets.list().ofMaxSize(8),
                gridDims.list().ofSize(3), blockDims.list().ofSize(3),
                Gen.frequencyOf(Gen.w(16, Gen.just(0)), Gen.w(1, Gen.of(-1, 1, 65536, 65537))))
                .as((image, name, sig, declared, s, grid, block, shared) -> new Object[] {image, name, sig, declared, s,
                    grid, block, shared})
                .flatMap(o -> Gen.combine(Gen.frequency(Gen.w(12, 0), Gen.w(6, 1), Gen.w(1, 2)),
                        Gen.frequency(Gen.w(20, false), Gen.w(1, true)),
                        Gen.frequency(Gen.w(4, false), Gen.w(1, true)))
                        .as((stream, close, boxed) -> new Case((Image) o[0], (String) o[1], (Boolean) o[2], cast(o[3]),
                                cast(o[4]), cast(o[5]), cast(o[6]), (Integer) o[7], stream, close, boxed)));
    }

    @SuppressWarnings("unchecked")
    private static <T> List<T> cast(Object o) {
        return (List<T>) o;
    }

    /** The test's view of one argument. */
    private record Arg(Value value, long number, MemorySegment pointer, boolean released) {
    }

    @Test
    @FuzzHook.Cases(1000)
    void launchesAndArgumentsBehaveAsDocumented() {
        FuzzHook.check(cases(), this::launchesAndArgumentsBehaveAsDocumented);
    }

    private void launchesAndArgumentsBehaveAsDocumented(Case c) {
        try (Arena arena = Arena.ofConfined()) {
            HipModule module = load(c.image, arena);
            if (module == null) {
                return;
            }
            List<Kernel.Param> declared = c.declareSignature && c.name != null && SIGNATURES.containsKey(c.name)
                    ? SIGNATURES.get(c.name) : c.declared;
            Class<? extends RuntimeException> expectedKernel = c.name == null ? IllegalArgumentException.class
                    : c.name.isEmpty() || !SIGNATURES.containsKey(c.name) ? HipException.class : null;
            var got = Calls.call("kernel(" + c.name + ")", Calls.NATIVE,
                    () -> module.kernel(c.name, declared.toArray(Kernel.Param[]::new))).expect(expectedKernel);
            if (!got.ok()) {
                return;
            }
            Kernel kernel = got.get();
            assertEquals(c.name, kernel.name());
            assertEquals(declared, kernel.params());
            KernelArgs args = Calls.call("newArgs", Calls.NATIVE, () -> kernel.newArgs(arena)).get();
            Arg[] state = new Arg[declared.size()];
            Arena released = Arena.ofConfined();
            if (c.sets.size() % 2 == 0) {       // half the cases start from every argument set, of its declared type
                for (int i = 0; i < declared.size(); i++) {
                    set(args, new Set(i, switch (declared.get(i)) {
                        case INT -> Value.INT;
                        case LONG -> Value.LONG;
                        case FLOAT -> Value.FLOAT;
                        case DOUBLE -> Value.DOUBLE;
                        case POINTER -> Value.DEVICE;
                    }, declared.get(i) == Kernel.Param.POINTER ? 600 : 100 + 37L * i), declared, state, arena, released);
                }
            }
            for (Set s : c.sets) {
                set(args, s, declared, state, arena, released);
            }
            released.close();
            for (int i = 0; i < state.length; i++) {
                if (state[i] != null && state[i].value == Value.RELEASED) {
                    state[i] = new Arg(Value.RELEASED, state[i].number, state[i].pointer, true);
                }
            }
            launch(c, module, kernel, args, declared, state, arena);
        }
    }

    private static HipModule load(Image image, Arena arena) {
        byte[] bytes = IMAGE.getBytes(StandardCharsets.US_ASCII);
        return switch (image) {
            case VALID -> Calls.call("load(byte[])", Calls.NATIVE, () -> HipModule.load(arena, bytes)).get();
            case VALID_NATIVE -> Calls.call("load(segment)", Calls.NATIVE,
                    () -> HipModule.load(arena, arena.allocateFrom(IMAGE))).get();    // with its NUL: as PTX would be
            case EMPTY -> nothing(Calls.call("load(empty)", Calls.NATIVE, () -> HipModule.load(arena, new byte[0]))
                    .expect(IllegalArgumentException.class));
            case NOT_A_MODULE -> nothing(Calls.call("load(not a module)", Calls.NATIVE,
                    () -> HipModule.load(arena, "not a module".getBytes(StandardCharsets.US_ASCII))).expect(HipException.class));
            case HEAP_SEGMENT -> nothing(Calls.call("load(heap segment)", Calls.NATIVE,
                    () -> HipModule.load(arena, MemorySegment.ofArray(bytes))).expect(IllegalArgumentException.class));
        };
    }

    private static HipModule nothing(Calls.Result<HipModule> refused) {
        return null;
    }

    /** One set, its outcome predicted: a refused set changes nothing. */
    private static void set(KernelArgs args, Set s, List<Kernel.Param> declared, Arg[] state, Arena arena, Arena released) {
        Kernel.Param type = switch (s.value) {
            case INT -> Kernel.Param.INT;
            case LONG -> Kernel.Param.LONG;
            case FLOAT -> Kernel.Param.FLOAT;
            case DOUBLE -> Kernel.Param.DOUBLE;
            default -> Kernel.Param.POINTER;
        };
        MemorySegment pointer = switch (s.value) {
            case DEVICE -> Memory.allocateDevice(arena, 4 * Math.max(1, Math.min(s.number, 600)));
            case PINNED -> Memory.allocatePinned(arena, 4 * Math.max(1, Math.min(s.number, 600)));
            case HEAP -> MemorySegment.ofArray(new int[4]);
            case RELEASED -> Memory.allocateDevice(released, 4 * Math.max(1, Math.min(s.number, 600)));
            default -> null;
        };
        boolean valid = s.index >= 0 && s.index < declared.size() && declared.get(s.index) == type && s.value != Value.HEAP;
        var result = Calls.call("set(" + s.index + ", " + s.value + ")", Calls.VALUE, () -> switch (s.value) {
            case INT -> args.set(s.index, (int) s.number);
            case LONG -> args.set(s.index, s.number);
            case FLOAT -> args.set(s.index, (float) s.number);
            case DOUBLE -> args.set(s.index, (double) s.number);
            default -> args.set(s.index, pointer);
        }).expect(valid ? null : IllegalArgumentException.class);
        if (result.ok()) {
            assertEquals(args, result.get(), "set returns its KernelArgs");
            if (pointer != null) {
                initialise(pointer);
            }
            state[s.index] = new Arg(s.value, s.number, pointer, false);
        }
    }

    /** Element i of a pointer argument starts as i. */
    private static void initialise(MemorySegment pointer) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(pointer.byteSize());
            for (long i = 0; i < pointer.byteSize() / 4; i++) {
                host.setAtIndex(ValueLayout.JAVA_INT, i, (int) i);
            }
            Memory.copy(pointer, host);
        }
    }

    private static void launch(Case c, HipModule module, Kernel kernel, KernelArgs args, List<Kernel.Param> declared,
            Arg[] state, Arena arena) {
        boolean dimsValid = c.grid.stream().allMatch(d -> d >= 1) && c.block.stream().allMatch(d -> d >= 1);
        var grid = Calls.call("Dim3 grid", Calls.VALUE, () -> new Dim3(c.grid.get(0), c.grid.get(1), c.grid.get(2)))
                .expect(c.grid.stream().allMatch(d -> d >= 1) ? null : IllegalArgumentException.class);
        var block = Calls.call("Dim3 block", Calls.VALUE, () -> new Dim3(c.block.get(0), c.block.get(1), c.block.get(2)))
                .expect(c.block.stream().allMatch(d -> d >= 1) ? null : IllegalArgumentException.class);
        if (!dimsValid) {
            return;
        }
        Stream stream = c.streamKind == 0 ? Stream.defaultStream() : Stream.create(arena);
        if (c.streamKind == 2) {
            stream.close();
        }
        if (c.closeModule) {
            module.close();
        }
        boolean signatureMatches = c.name != null && SIGNATURES.get(c.name).equals(declared) && !c.name.equals("mystery");
        boolean allSet = true;
        Class<? extends RuntimeException> argumentRefused = null;   // the first argument, in order, refused
        for (Arg a : state) {
            allSet &= a != null;
            if (argumentRefused == null && (a == null || a.released)) {
                argumentRefused = a == null ? IllegalArgumentException.class : IllegalStateException.class;
            }
        }
        Class<? extends RuntimeException> expected;
        if (c.shared < 0) {
            expected = IllegalArgumentException.class;
        } else if (c.closeModule || c.streamKind == 2) {
            expected = IllegalStateException.class;
        } else if (argumentRefused != null) {
            expected = argumentRefused;
        } else if (!signatureMatches) {
            return;     // a declaration that is not the kernel's reaches the runtime: undefined, as in C; not made
        } else {
            expected = runtimeRefuses(c, state) ? HipException.class : null;
        }
        if (c.boxed) {
            if (!allSet) {
                return;  // the boxed form has no unset arguments
            }
            Object[] values = new Object[state.length];
            for (int i = 0; i < state.length; i++) {
                Arg a = state[i];
                values[i] = switch (a.value) {
                    case INT -> (int) a.number;
                    case LONG -> a.number;
                    case FLOAT -> (float) a.number;
                    case DOUBLE -> (double) a.number;
                    default -> a.pointer;
                };
            }
            Calls.run("launch(values)", Calls.NATIVE, () -> kernel.launch(grid.get(), block.get(), c.shared, stream, values))
                    .expect(expected);
        } else {
            Calls.run("launch(args)", Calls.NATIVE, () -> kernel.launch(grid.get(), block.get(), c.shared, stream, args))
                    .expect(expected);
        }
        if (expected == null) {
            stream.synchronize();
            checkEffect(c, state);
        }
    }

    /** {@return whether the test runtime refuses the launch (README: the launch checks, in order)} */
    private static boolean runtimeRefuses(Case c, Arg[] state) {
        long threads = 1;
        for (int i = 0; i < 3; i++) {
            threads *= c.block.get(i);
            if ((long) c.grid.get(i) * c.block.get(i) > 0xffffffffL) {
                return true;
            }
        }
        if (threads > 1024 || c.grid.get(1) > 65536 || c.grid.get(2) > 65536 || c.shared > 65536) {
            return true;
        }
        if (c.name.equals("mystery")) {
            return true;
        }
        if (c.name.equals("noop")) {
            return false;
        }
        long n = state[state.length - 1].number;
        long touched = Math.min(n, (long) c.grid.get(0) * c.block.get(0));
        return touched > 0 && touched * 4 > state[0].pointer.byteSize();
    }

    /** The memory after the kernel: the first touched elements changed as the kernel says, the rest not. */
    private static void checkEffect(Case c, Arg[] state) {
        if (c.name.equals("noop")) {
            return;
        }
        MemorySegment pointer = state[0].pointer;
        long n = state[state.length - 1].number;
        long touched = Math.max(0, Math.min(n, (long) c.grid.get(0) * c.block.get(0)));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(pointer.byteSize());
            Memory.copy(host, pointer);
            for (long i = 0; i < pointer.byteSize() / 4; i++) {
                boolean hit = i < touched;
                int before = (int) i;
                switch (c.name) {
                    case "increment" -> assertEquals(hit ? before + 1 : before, host.getAtIndex(ValueLayout.JAVA_INT, i),
                            "element " + i);
                    case "fill_u32" -> assertEquals(hit ? (int) state[1].number : before,
                            host.getAtIndex(ValueLayout.JAVA_INT, i), "element " + i);
                    default -> {
                        float x = Float.intBitsToFloat(before);
                        float expected = hit ? x * (float) state[1].number + (float) state[2].number : x;
                        assertEquals(Float.floatToRawIntBits(expected),
                                Float.floatToRawIntBits(host.getAtIndex(ValueLayout.JAVA_FLOAT, i)), "element " + i);
                    }
                }
            }
        }
    }
}
