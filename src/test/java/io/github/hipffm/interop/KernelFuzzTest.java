package io.github.hipffm.interop;

import io.github.hipffm.Dim3;
import io.github.hipffm.HipException;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;

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
@AddLifecycleHook(FuzzHook.class)
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

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Image> images = Arbitraries.frequency(Tuple.of(24, Image.VALID), Tuple.of(6, Image.VALID_NATIVE),
                Tuple.of(1, Image.EMPTY), Tuple.of(1, Image.NOT_A_MODULE), Tuple.of(1, Image.HEAP_SEGMENT));
        Arbitrary<String> names = Arbitraries.frequency(Tuple.of(5, "scale_add"), Tuple.of(5, "increment"),
                Tuple.of(5, "fill_u32"), Tuple.of(2, "noop"), Tuple.of(1, "mystery"), Tuple.of(1, "unknown"),
                Tuple.of(1, ""), Tuple.of(1, null));
        Arbitrary<Set> sets = Combinators.combine(
                Arbitraries.frequencyOf(Tuple.of(10, Arbitraries.integers().between(0, 3)), Tuple.of(1, Arbitraries.of(-1, 4, 100))),
                Arbitraries.frequency(Tuple.of(3, Value.INT), Tuple.of(3, Value.LONG), Tuple.of(3, Value.FLOAT),
                        Tuple.of(1, Value.DOUBLE), Tuple.of(4, Value.DEVICE), Tuple.of(1, Value.PINNED), Tuple.of(1, Value.HEAP),
                        Tuple.of(1, Value.RELEASED)),
                Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.longs().between(0, 600)),
                        Tuple.of(1, Arbitraries.of(-1L, 1L << 40, Long.MIN_VALUE)))).as(Set::new);
        Arbitrary<Integer> gridDims = Arbitraries.frequencyOf(Tuple.of(40, Arbitraries.integers().between(1, 8)),
                Tuple.of(1, Arbitraries.of(0, 65536, 65537, 1 << 20, Integer.MAX_VALUE)));
        Arbitrary<Integer> blockDims = Arbitraries.frequencyOf(Tuple.of(40, Arbitraries.of(1, 2, 32, 64, 256)),
                Tuple.of(1, Arbitraries.of(0, 1024, 1025, 1 << 16)));
        return Combinators.combine(images, names, Arbitraries.frequency(Tuple.of(6, true), Tuple.of(1, false)),
                Arbitraries.of(Kernel.Param.class).list().ofMaxSize(4), sets.list().ofMaxSize(8),
                gridDims.list().ofSize(3), blockDims.list().ofSize(3),
                Arbitraries.frequencyOf(Tuple.of(16, Arbitraries.just(0)), Tuple.of(1, Arbitraries.of(-1, 1, 65536, 65537))))
                .as((image, name, sig, declared, s, grid, block, shared) -> new Object[] {image, name, sig, declared, s,
                    grid, block, shared})
                .flatMap(o -> Combinators.combine(Arbitraries.frequency(Tuple.of(12, 0), Tuple.of(6, 1), Tuple.of(1, 2)),
                        Arbitraries.frequency(Tuple.of(20, false), Tuple.of(1, true)),
                        Arbitraries.frequency(Tuple.of(4, false), Tuple.of(1, true)))
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

    @Property(tries = 1000)
    void launchesAndArgumentsBehaveAsDocumented(@ForAll("cases") Case c) {
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
