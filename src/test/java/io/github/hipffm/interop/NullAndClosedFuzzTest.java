package io.github.hipffm.interop;

import io.github.hipffm.ArrayLevel;
import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Device;
import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.Dim3;
import io.github.hipffm.Event;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.Graph;
import io.github.hipffm.GraphExec;
import io.github.hipffm.GraphNode;
import io.github.hipffm.GraphicsResource;
import io.github.hipffm.Hip;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.MipmappedArray;
import io.github.hipffm.Stream;
import io.github.hipffm.fuzz.Gen;
import io.github.hipffm.interop.GraphicsResourceTest.GlHooks;
import io.github.hipffm.testrt.LinuxFds;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fuzzing every public entry point with null and released arguments: a table of the entry points, each with the
 * kinds of its reference arguments; a case calls some of them with all arguments valid, one of them null, or one
 * of them (or the receiver) released. Null is refused with {@link IllegalArgumentException}, a released resource,
 * segment or arena with {@link IllegalStateException} (nothing reaches native code), and a valid call works,
 * whatever came before it in the case.
 */
@Tag("testrt")
class NullAndClosedFuzzTest {
    private static final byte[] MODULE = "hipffm-test-module\nincrement\n".getBytes(StandardCharsets.US_ASCII);
    private static final Path MODULE_FILE;
    private static final AtomicInteger GL_NAMES = new AtomicInteger(80_000);

    static {
        try {
            MODULE_FILE = Files.createTempFile("hipffm-fuzz-module", ".txt");
            Files.write(MODULE_FILE, MODULE);
            MODULE_FILE.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The kinds of reference arguments, each with a valid value, a released one (or none) and null. */
    enum Arg { ARENA, MEMORY, MIPMAPPED, LEVEL, SEMAPHORE, STREAM, EVENT, EVENT2, MODULE, KERNEL, ARGS, DEVICE, PINNED,
        MAPPED, RESOURCE, MAPPING, FORMAT, EXTENT, DIM3, SIGNALS, WAITS, BYTES, PATH, NAME, PARAMS, FLAGS, ATTRIBUTE,
        VALUES, BUS_ID, DEVICE_ORDINAL, MAPPED_RESOURCE, GRAPH, EXEC, NODE, CHILD }

    /** A call of one entry point with its arguments in order. */
    interface Call {
        Object call(Fixture f, Object[] a);
    }

    /**
     * One entry point.
     *
     * @param name for messages
     * @param args its reference arguments (the receiver first, for an instance method)
     * @param releasedOk the argument positions whose released value is no error for this entry point
     * @param call the call
     */
    record Entry(String name, List<Arg> args, Set<Integer> releasedOk, Call call) {
        Entry(String name, List<Arg> args, Call call) {
            this(name, args, Set.of(), call);
        }

        /** {@return whether the first argument is the receiver (an instance method, named with #), never null} */
        boolean hasReceiver() {
            return name.contains("#");
        }
    }

    static final List<Entry> ENTRIES = List.of(
            new Entry("ExternalMemory.importMemory", List.of(Arg.ARENA), (f, a) -> f.importMemory((Arena) a[0], false)),
            new Entry("ExternalMemory.importCopy", List.of(Arg.ARENA), (f, a) -> f.importMemory((Arena) a[0], true)),
            new Entry("ExternalSemaphore.importSemaphore", List.of(Arg.ARENA), (f, a) -> f.importSemaphore((Arena) a[0])),
            new Entry("ExternalMemory#mapBuffer(o, s)", List.of(Arg.MEMORY), (f, a) -> ((ExternalMemory) a[0]).mapBuffer(0, 64)),
            new Entry("ExternalMemory#mapBuffer()", List.of(Arg.MEMORY), (f, a) -> ((ExternalMemory) a[0]).mapBuffer()),
            new Entry("ExternalMemory#mapMipmappedArray", List.of(Arg.MEMORY, Arg.FORMAT, Arg.EXTENT),
                    (f, a) -> ((ExternalMemory) a[0]).mapMipmappedArray(0, (ChannelFormat) a[1], (Extent) a[2], 1, 0)),
            new Entry("ExternalMemory#handle", List.of(Arg.MEMORY), (f, a) -> ((ExternalMemory) a[0]).handle()),
            new Entry("ExternalMemory#close", List.of(Arg.MEMORY), Set.of(0), (f, a) -> close(f.freshIfValid(a[0]))),
            new Entry("MipmappedArray#level", List.of(Arg.MIPMAPPED), (f, a) -> ((MipmappedArray) a[0]).level(0)),
            new Entry("MipmappedArray#handle", List.of(Arg.MIPMAPPED), (f, a) -> ((MipmappedArray) a[0]).handle()),
            new Entry("ArrayLevel#copyFrom", List.of(Arg.LEVEL, Arg.DEVICE),
                    (f, a) -> run(() -> ((ArrayLevel) a[0]).copyFrom((MemorySegment) a[1]))),
            new Entry("ArrayLevel#copyTo", List.of(Arg.LEVEL, Arg.PINNED),
                    (f, a) -> run(() -> ((ArrayLevel) a[0]).copyTo((MemorySegment) a[1]))),
            new Entry("ArrayLevel#handle", List.of(Arg.LEVEL), (f, a) -> ((ArrayLevel) a[0]).handle()),
            new Entry("ExternalSemaphore#signal", List.of(Arg.SEMAPHORE, Arg.STREAM),
                    (f, a) -> run(() -> ((ExternalSemaphore) a[0]).signal(1, (Stream) a[1]))),
            new Entry("ExternalSemaphore#wait", List.of(Arg.SEMAPHORE, Arg.STREAM),
                    (f, a) -> run(() -> ((ExternalSemaphore) a[0]).wait(0, (Stream) a[1]))),
            new Entry("ExternalSemaphore.signal(batch)", List.of(Arg.SIGNALS, Arg.STREAM),
                    (f, a) -> run(() -> ExternalSemaphore.signal(f.list(a[0]), (Stream) a[1]))),
            new Entry("ExternalSemaphore.wait(batch)", List.of(Arg.WAITS, Arg.STREAM),
                    (f, a) -> run(() -> ExternalSemaphore.wait(f.list(a[0]), (Stream) a[1]))),
            new Entry("ExternalSemaphore.Signal.of", List.of(Arg.SEMAPHORE), Set.of(0),
                    (f, a) -> ExternalSemaphore.Signal.of((ExternalSemaphore) a[0], 1)),
            new Entry("ExternalSemaphore.Wait.of", List.of(Arg.SEMAPHORE), Set.of(0),
                    (f, a) -> ExternalSemaphore.Wait.of((ExternalSemaphore) a[0], 0)),
            new Entry("ExternalSemaphore#close", List.of(Arg.SEMAPHORE), Set.of(0), (f, a) -> close(f.freshIfValid(a[0]))),
            new Entry("Memory.allocateDevice", List.of(Arg.ARENA), (f, a) -> Memory.allocateDevice((Arena) a[0], 64)),
            new Entry("Memory.allocatePinned", List.of(Arg.ARENA), (f, a) -> Memory.allocatePinned((Arena) a[0], 64)),
            new Entry("Memory.copy(dst, src)", List.of(Arg.DEVICE, Arg.MAPPED),
                    (f, a) -> run(() -> Memory.copy((MemorySegment) a[0], (MemorySegment) a[1]))),
            new Entry("Memory.copy(dst, src, n)", List.of(Arg.PINNED, Arg.DEVICE),
                    (f, a) -> run(() -> Memory.copy((MemorySegment) a[0], (MemorySegment) a[1], 16))),
            new Entry("Memory.copyAsync", List.of(Arg.MAPPED, Arg.PINNED, Arg.STREAM),
                    (f, a) -> run(() -> Memory.copyAsync((MemorySegment) a[0], (MemorySegment) a[1], 16, (Stream) a[2]))),
            new Entry("Memory.fill", List.of(Arg.DEVICE), (f, a) -> run(() -> Memory.fill((MemorySegment) a[0], (byte) 3))),
            new Entry("Memory.fillAsync", List.of(Arg.MAPPED, Arg.STREAM),
                    (f, a) -> run(() -> Memory.fillAsync((MemorySegment) a[0], (byte) 3, (Stream) a[1]))),
            new Entry("Stream.create", List.of(Arg.ARENA), (f, a) -> Stream.create((Arena) a[0], true)),
            new Entry("Stream#synchronize", List.of(Arg.STREAM), (f, a) -> run(((Stream) a[0])::synchronize)),
            new Entry("Stream#isIdle", List.of(Arg.STREAM), (f, a) -> ((Stream) a[0]).isIdle()),
            new Entry("Stream#waitFor", List.of(Arg.STREAM, Arg.EVENT), (f, a) -> run(() -> ((Stream) a[0]).waitFor((Event) a[1]))),
            new Entry("Stream#handle", List.of(Arg.STREAM), (f, a) -> ((Stream) a[0]).handle()),
            new Entry("Stream#close", List.of(Arg.STREAM), Set.of(0), (f, a) -> close(f.freshIfValid(a[0]))),
            new Entry("Event.create", List.of(Arg.ARENA), (f, a) -> Event.create((Arena) a[0])),
            new Entry("Event#record", List.of(Arg.EVENT, Arg.STREAM), (f, a) -> ((Event) a[0]).record((Stream) a[1])),
            new Entry("Event#synchronize", List.of(Arg.EVENT), (f, a) -> run(((Event) a[0])::synchronize)),
            new Entry("Event#isComplete", List.of(Arg.EVENT), (f, a) -> ((Event) a[0]).isComplete()),
            new Entry("Event.elapsedMillis", List.of(Arg.EVENT, Arg.EVENT2), (f, a) -> Event.elapsedMillis((Event) a[0], (Event) a[1])),
            new Entry("Event#close", List.of(Arg.EVENT), Set.of(0), (f, a) -> close(f.freshIfValid(a[0]))),
            new Entry("HipModule.load(bytes)", List.of(Arg.ARENA, Arg.BYTES), (f, a) -> HipModule.load((Arena) a[0], (byte[]) a[1])),
            new Entry("HipModule.load(segment)", List.of(Arg.ARENA, Arg.PINNED), (f, a) -> f.loadSegment((Arena) a[0], (MemorySegment) a[1])),
            new Entry("HipModule.load(path)", List.of(Arg.ARENA, Arg.PATH), (f, a) -> HipModule.load((Arena) a[0], (Path) a[1])),
            new Entry("HipModule#kernel", List.of(Arg.MODULE, Arg.NAME, Arg.PARAMS),
                    (f, a) -> ((HipModule) a[0]).kernel((String) a[1], (Kernel.Param[]) a[2])),
            new Entry("HipModule#close", List.of(Arg.MODULE), Set.of(0), (f, a) -> close(f.freshIfValid(a[0]))),
            // a closed module's kernels "cannot be launched" (HipModule): arguments can still be made for them
            new Entry("Kernel#newArgs", List.of(Arg.KERNEL, Arg.ARENA), Set.of(0), (f, a) -> ((Kernel) a[0]).newArgs((Arena) a[1])),
            new Entry("Kernel#launch(args)", List.of(Arg.KERNEL, Arg.DIM3, Arg.DIM3, Arg.STREAM, Arg.ARGS),
                    (f, a) -> run(() -> ((Kernel) a[0]).launch((Dim3) a[1], (Dim3) a[2], 0, (Stream) a[3],
                            a[0] == f.goneKernel && a[4] == f.args ? f.goneArgs : (KernelArgs) a[4]))),
            new Entry("Kernel#launch(values)", List.of(Arg.KERNEL, Arg.DIM3, Arg.DIM3, Arg.STREAM, Arg.VALUES),
                    (f, a) -> run(() -> ((Kernel) a[0]).launch((Dim3) a[1], (Dim3) a[2], 0, (Stream) a[3], (Object[]) a[4]))),
            // a released segment may be set (a launch refuses it); the shared arguments then get a live one back, so
            // that a later launch of them in the same case is not refused for this one
            new Entry("KernelArgs#set(pointer)", List.of(Arg.ARGS, Arg.DEVICE), Set.of(1), (f, a) -> {
                KernelArgs args = ((KernelArgs) a[0]).set(0, (MemorySegment) a[1]);
                if (!((MemorySegment) a[1]).scope().isAlive()) {
                    args.set(0, f.device);
                }
                return args;
            }),
            new Entry("GraphicsResource.registerBuffer", List.of(Arg.ARENA, Arg.FLAGS),
                    (f, a) -> f.registerBuffer((Arena) a[0], f.list(a[1]))),
            new Entry("GraphicsResource#map", List.of(Arg.RESOURCE, Arg.STREAM), (f, a) -> f.map((GraphicsResource) a[0], (Stream) a[1])),
            new Entry("GraphicsResource#close", List.of(Arg.RESOURCE), Set.of(0), (f, a) -> close(f.freshIfValid(a[0]))),
            new Entry("GraphicsResource.Mapping#buffer", List.of(Arg.MAPPING, Arg.MAPPED_RESOURCE),
                    (f, a) -> ((GraphicsResource.Mapping) a[0]).buffer((GraphicsResource) a[1])),
            new Entry("GraphicsResource.Mapping#close", List.of(Arg.MAPPING), Set.of(0), (f, a) -> close(f.freshIfValid(a[0]))),
            new Entry("Device#attribute", List.of(Arg.DEVICE_ORDINAL, Arg.ATTRIBUTE),
                    (f, a) -> ((Device) a[0]).attribute((DeviceAttribute) a[1])),
            new Entry("Device.PciAddress.parse", List.of(Arg.BUS_ID), (f, a) -> Device.PciAddress.parse((String) a[0])),
            new Entry("Device#canAccessPeer", List.of(Arg.DEVICE_ORDINAL, Arg.DEVICE_ORDINAL),
                    (f, a) -> peer(a, () -> ((Device) a[0]).canAccessPeer((Device) a[1]))),
            new Entry("Device#enablePeerAccess", List.of(Arg.DEVICE_ORDINAL, Arg.DEVICE_ORDINAL),
                    (f, a) -> peer(a, () -> run(() -> ((Device) a[0]).enablePeerAccess((Device) a[1])))),
            // creation on an explicit device (the several-GPU overloads): the device is checked like any argument
            new Entry("Stream.create(device)", List.of(Arg.DEVICE_ORDINAL, Arg.ARENA),
                    (f, a) -> Stream.create((Device) a[0], (Arena) a[1], true)),
            new Entry("Event.create(device)", List.of(Arg.DEVICE_ORDINAL, Arg.ARENA),
                    (f, a) -> Event.create((Device) a[0], (Arena) a[1], false)),
            new Entry("Memory.allocateDevice(device)", List.of(Arg.DEVICE_ORDINAL, Arg.ARENA),
                    (f, a) -> Memory.allocateDevice((Device) a[0], (Arena) a[1], 64)),
            new Entry("HipModule.load(device, bytes)", List.of(Arg.DEVICE_ORDINAL, Arg.ARENA, Arg.BYTES),
                    (f, a) -> HipModule.load((Device) a[0], (Arena) a[1], (byte[]) a[2])),
            new Entry("HipModule.load(device, segment)", List.of(Arg.DEVICE_ORDINAL, Arg.ARENA, Arg.PINNED),
                    (f, a) -> f.loadSegment(true, (Device) a[0], (Arena) a[1], (MemorySegment) a[2])),
            new Entry("HipModule.load(device, path)", List.of(Arg.DEVICE_ORDINAL, Arg.ARENA, Arg.PATH),
                    (f, a) -> HipModule.load((Device) a[0], (Arena) a[1], (Path) a[2])),
            new Entry("ExternalMemory.importMemory(device)", List.of(Arg.DEVICE_ORDINAL, Arg.ARENA),
                    (f, a) -> f.importMemory(true, (Device) a[0], (Arena) a[1], false)),
            new Entry("ExternalMemory.importCopy(device)", List.of(Arg.DEVICE_ORDINAL, Arg.ARENA),
                    (f, a) -> f.importMemory(true, (Device) a[0], (Arena) a[1], true)),
            new Entry("ExternalSemaphore.importSemaphore(device)", List.of(Arg.DEVICE_ORDINAL, Arg.ARENA),
                    (f, a) -> f.importSemaphore(true, (Device) a[0], (Arena) a[1])),
            new Entry("Memory.copyPeer", List.of(Arg.DEVICE, Arg.MAPPED),
                    (f, a) -> run(() -> Memory.copyPeer((MemorySegment) a[0], (MemorySegment) a[1], 16))),
            new Entry("Memory.copyPeerAsync", List.of(Arg.MAPPED, Arg.DEVICE, Arg.STREAM),
                    (f, a) -> run(() -> Memory.copyPeerAsync((MemorySegment) a[0], (MemorySegment) a[1], 16, (Stream) a[2]))),
            new Entry("Graph.create", List.of(Arg.ARENA), (f, a) -> Graph.create((Arena) a[0])),
            new Entry("Graph.create(device)", List.of(Arg.DEVICE_ORDINAL, Arg.ARENA),
                    (f, a) -> Graph.create((Device) a[0], (Arena) a[1])),
            new Entry("Graph#addSignal", List.of(Arg.GRAPH, Arg.SEMAPHORE),
                    (f, a) -> ((Graph) a[0]).addSignal((ExternalSemaphore) a[1], 2)),
            new Entry("Graph#addWait", List.of(Arg.GRAPH, Arg.SEMAPHORE, Arg.NODE),
                    (f, a) -> ((Graph) a[0]).addWait((ExternalSemaphore) a[1], 0, (GraphNode) a[2])),
            new Entry("Graph#addSignal(batch)", List.of(Arg.GRAPH, Arg.SIGNALS, Arg.NODE),
                    (f, a) -> ((Graph) a[0]).addSignal(f.list(a[1]), (GraphNode) a[2])),
            new Entry("Graph#addWait(batch)", List.of(Arg.GRAPH, Arg.WAITS),
                    (f, a) -> ((Graph) a[0]).addWait(f.list(a[1]))),
            new Entry("Graph#addEmpty", List.of(Arg.GRAPH, Arg.NODE), (f, a) -> ((Graph) a[0]).addEmpty((GraphNode) a[1])),
            new Entry("Graph#addEventRecord", List.of(Arg.GRAPH, Arg.EVENT),
                    (f, a) -> ((Graph) a[0]).addEventRecord((Event) a[1])),
            new Entry("Graph#addEventWait", List.of(Arg.GRAPH, Arg.EVENT, Arg.NODE),
                    (f, a) -> ((Graph) a[0]).addEventWait((Event) a[1], (GraphNode) a[2])),
            new Entry("Graph#addCopy", List.of(Arg.GRAPH, Arg.PINNED, Arg.DEVICE),
                    (f, a) -> ((Graph) a[0]).addCopy((MemorySegment) a[1], (MemorySegment) a[2], 16)),
            new Entry("Graph#addFill", List.of(Arg.GRAPH, Arg.MAPPED), (f, a) -> ((Graph) a[0]).addFill((MemorySegment) a[1], (byte) 1)),
            // as Kernel#launch: the released module's kernel gets its own arguments, so that it is refused for the module
            new Entry("Graph#addKernel", List.of(Arg.GRAPH, Arg.KERNEL, Arg.DIM3, Arg.DIM3, Arg.ARGS),
                    (f, a) -> ((Graph) a[0]).addKernel((Kernel) a[1], (Dim3) a[2], (Dim3) a[3], 0,
                            a[1] == f.goneKernel && a[4] == f.args ? f.goneArgs : (KernelArgs) a[4])),
            new Entry("Graph#addChildGraph", List.of(Arg.GRAPH, Arg.CHILD),
                    (f, a) -> ((Graph) a[0]).addChildGraph((Graph) a[1])),
            new Entry("Graph#instantiate", List.of(Arg.GRAPH), (f, a) -> ((Graph) a[0]).instantiate()),
            new Entry("Graph#nodes", List.of(Arg.GRAPH), Set.of(0), (f, a) -> ((Graph) a[0]).nodes()),
            new Entry("Graph#handle", List.of(Arg.GRAPH), (f, a) -> ((Graph) a[0]).handle()),
            new Entry("Graph#close", List.of(Arg.GRAPH), Set.of(0), (f, a) -> close(f.freshIfValid(a[0]))),
            new Entry("GraphNode#handle", List.of(Arg.NODE), (f, a) -> ((GraphNode) a[0]).handle()),
            new Entry("GraphExec#launch", List.of(Arg.EXEC, Arg.STREAM), (f, a) -> run(() -> ((GraphExec) a[0]).launch((Stream) a[1]))),
            new Entry("GraphExec#setFence", List.of(Arg.EXEC, Arg.NODE), (f, a) -> ((GraphExec) a[0]).setFence((GraphNode) a[1], 2)),
            new Entry("GraphExec#setFences", List.of(Arg.EXEC, Arg.NODE), (f, a) -> ((GraphExec) a[0]).setFences((GraphNode) a[1], 3)),
            new Entry("GraphExec#close", List.of(Arg.EXEC), Set.of(0), (f, a) -> close(f.freshIfValid(a[0]))),
            new Entry("Hip.deviceByPciBusId", List.of(Arg.BUS_ID), (f, a) -> {
                try {
                    return Hip.deviceByPciBusId((String) a[0]);
                } catch (IllegalArgumentException notThere) {
                    if (a[0] == null || !notThere.getMessage().startsWith("no device with")) {
                        throw notThere;
                    }
                    return null;   // a valid bus id of no device here: the lookup ran
                }
            }));

    /**
     * A peer-access call: with the fixture's one device on both sides it is refused as "this device" once the
     * arguments passed their checks, which is as far as a valid call goes here.
     */
    private static Object peer(Object[] a, java.util.function.Supplier<Object> call) {
        try {
            return call.get();
        } catch (IllegalArgumentException self) {
            if (a[1] == null || !self.getMessage().startsWith("peer access is between two devices")) {
                throw self;
            }
            return null;
        }
    }

    private static Object run(Runnable r) {
        r.run();
        return null;
    }

    private static Object close(Object resource) {
        try {
            ((AutoCloseable) resource).close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return null;
    }

    /** What one call does to its arguments: nothing, one null, or one released. */
    enum Mutation { NONE, NULL, RELEASED }

    record Pick(int entry, Mutation mutation, int position) {
    }

    Gen<List<Pick>> picks() {
        return Gen.combine(Gen.ints(0, ENTRIES.size() - 1), Gen.of(Mutation.class),
                Gen.ints(0, 4)).as(Pick::new).list().ofMinSize(1).ofMaxSize(6);
    }

    @Test
    @FuzzHook.Cases(1000)
    void nullIsRefusedAsAnArgumentAndReleasedAsStateBeforeAnyNativeCall() {
        FuzzHook.check(picks(), this::nullIsRefusedAsAnArgumentAndReleasedAsStateBeforeAnyNativeCall);
    }

    private void nullIsRefusedAsAnArgumentAndReleasedAsStateBeforeAnyNativeCall(List<Pick> picks) {
        GlHooks.setContext(true);
        try (Fixture f = new Fixture()) {
            for (Pick p : picks) {
                Entry e = ENTRIES.get(p.entry);
                int position = p.position % e.args.size();
                Object[] args = new Object[e.args.size()];
                Class<? extends RuntimeException> expected = null;
                for (int i = 0; i < args.length; i++) {
                    Arg kind = e.args.get(i);
                    boolean receiver = i == 0 && e.hasReceiver();
                    if (i != position || p.mutation == Mutation.NONE || (receiver && p.mutation == Mutation.NULL)) {
                        args[i] = f.valid(kind);
                    } else if (p.mutation == Mutation.NULL) {
                        args[i] = null;
                        expected = IllegalArgumentException.class;
                    } else {
                        Object released = f.released(kind);
                        args[i] = released != null ? released : f.valid(kind);
                        if (released != null && !e.releasedOk.contains(i)) {
                            expected = IllegalStateException.class;
                        }
                    }
                }
                String what = e.name + (expected == null ? "" : " with " + e.args.get(position) + " "
                        + p.mutation.name().toLowerCase(java.util.Locale.ROOT));
                Calls.call(what, Calls.NATIVE, () -> e.call.call(f, args)).expect(expected);
            }
        } finally {
            GlHooks.setContext(false);
        }
    }

    /**
     * Everything the entry points take, valid and released, in one confined arena; and what the calls made, released
     * with it. The caller's fds of imports that failed are closed by the calls themselves.
     */
    static final class Fixture implements AutoCloseable {
        final Arena arena = Arena.ofConfined();
        final Arena gone = Arena.ofConfined();     // closed at once: what was made in it is released
        final List<Integer> glNames = new ArrayList<>();
        final ExternalMemory memory;
        final ExternalMemory goneMemory;
        final MipmappedArray array;
        final MipmappedArray goneArray;
        final ArrayLevel level;
        final ArrayLevel goneLevel;
        final ExternalSemaphore semaphore;
        final ExternalSemaphore goneSemaphore;
        final Stream stream;
        final Stream goneStream;
        final Event event;
        final Event event2;
        final Event goneEvent;
        final HipModule module;
        final HipModule goneModule;
        final Kernel kernel;
        final Kernel goneKernel;
        final KernelArgs args;
        /** Arguments of the released module's kernel: a launch of it is refused for the module, not the arguments. */
        final KernelArgs goneArgs;
        final MemorySegment device;
        final MemorySegment goneDevice;
        final MemorySegment pinned;
        final MemorySegment gonePinned;
        final MemorySegment mapped;
        final MemorySegment goneMapped;
        final GraphicsResource resource;
        final GraphicsResource goneResource;
        final GraphicsResource mappedResource;
        final GraphicsResource.Mapping mapping;
        final GraphicsResource.Mapping goneMapping;
        final Graph graph;
        final Graph goneGraph;
        /** The signal node of {@link #graph} (there is no released node: one of a closed graph is refused as a foreign one). */
        final GraphNode node;
        final GraphExec exec;
        final GraphExec goneExec;
        final Graph child;
        final Graph goneChild;

        Fixture() {
            ChannelFormat rgba8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);
            memory = importMemory(arena, false);
            goneMemory = importMemory(gone, false);
            array = memory.mapMipmappedArray(4096, rgba8, Extent.of(8, 8), 2, 0);
            goneArray = goneMemory.mapMipmappedArray(4096, rgba8, Extent.of(8, 8), 2, 0);
            level = array.level(0);
            goneLevel = goneArray.level(0);
            semaphore = importSemaphore(arena);
            goneSemaphore = importSemaphore(gone);
            stream = Stream.create(arena, true);
            goneStream = Stream.create(gone);
            event = Event.create(arena).record(stream);
            event2 = Event.create(arena).record(stream);
            goneEvent = Event.create(gone);
            module = HipModule.load(arena, MODULE);
            goneModule = HipModule.load(gone, MODULE);
            kernel = module.kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            goneKernel = goneModule.kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            device = Memory.allocateDevice(arena, 256);
            goneDevice = Memory.allocateDevice(gone, 256);
            pinned = Memory.allocatePinned(arena, 256);
            gonePinned = Memory.allocatePinned(gone, 256);
            args = kernel.newArgs(arena).set(0, device).set(1, 64L);
            goneArgs = goneKernel.newArgs(arena).set(0, device).set(1, 64L);
            mapped = memory.mapBuffer(0, 256);
            goneMapped = goneMemory.mapBuffer(0, 256);
            resource = registerBuffer(arena, List.of());
            goneResource = registerBuffer(gone, List.of());
            mappedResource = registerBuffer(arena, List.of());
            mapping = mappedResource.map(stream);
            goneMapping = registerBuffer(arena, List.of()).map(stream);
            goneMapping.close();
            graph = Graph.create(arena);
            node = graph.addSignal(semaphore, 2);
            graph.addWait(semaphore, 0, node);
            exec = graph.instantiate();
            goneGraph = Graph.create(gone);
            goneGraph.addSignal(semaphore, 2);
            goneExec = goneGraph.instantiate();
            child = Graph.create(arena);
            child.addEmpty();
            goneChild = Graph.create(gone);
            gone.close();
        }

        Object valid(Arg kind) {
            return switch (kind) {
                case ARENA -> arena;
                case MEMORY -> memory;
                case MIPMAPPED -> array;
                case LEVEL -> level;
                case SEMAPHORE -> semaphore;
                case STREAM -> stream;
                case EVENT -> event;
                case EVENT2 -> event2;
                case MODULE -> module;
                case KERNEL -> kernel;
                case ARGS -> args;
                case DEVICE -> device;
                case PINNED -> pinned;
                case MAPPED -> mapped;
                case RESOURCE -> resource;
                case MAPPING -> mapping;
                case FORMAT -> new ChannelFormat(32, 0, 0, 0, ChannelFormat.Kind.FLOAT);
                case EXTENT -> new Extent(16, 0, 0);
                case DIM3 -> Dim3.of(1);
                case SIGNALS -> List.of(ExternalSemaphore.Signal.of(semaphore, 2));
                case WAITS -> List.of(ExternalSemaphore.Wait.of(semaphore, 0));
                case BYTES -> MODULE;
                case PATH -> MODULE_FILE;
                case NAME -> "increment";
                case PARAMS -> new Kernel.Param[] {Kernel.Param.POINTER, Kernel.Param.LONG};
                case FLAGS -> List.of(GraphicsResource.Flag.READ_ONLY);
                case ATTRIBUTE -> DeviceAttribute.COMPUTE_CAPABILITY_MAJOR;
                case VALUES -> new Object[] {device, 64L};
                case BUS_ID -> "0000:c1:00.0";
                case DEVICE_ORDINAL -> Hip.device(0);
                case MAPPED_RESOURCE -> mappedResource;
                case GRAPH -> graph;
                case EXEC -> exec;
                case NODE -> node;
                case CHILD -> child;
            };
        }

        /** {@return the released counterpart, or null when the kind has none} */
        Object released(Arg kind) {
            return switch (kind) {
                case ARENA -> gone;
                case MEMORY -> goneMemory;
                case MIPMAPPED -> goneArray;
                case LEVEL -> goneLevel;
                case SEMAPHORE -> goneSemaphore;
                case STREAM -> goneStream;
                case EVENT, EVENT2 -> goneEvent;
                case MODULE -> goneModule;
                case KERNEL -> goneKernel;
                case DEVICE -> goneDevice;
                case PINNED -> gonePinned;
                case MAPPED -> goneMapped;
                case RESOURCE -> goneResource;     // a released resource is in no open mapping: no MAPPED_RESOURCE
                case MAPPING -> goneMapping;
                case GRAPH -> goneGraph;
                case EXEC -> goneExec;
                case CHILD -> goneChild;
                case SIGNALS -> List.of(ExternalSemaphore.Signal.of(goneSemaphore, 2));
                case WAITS -> List.of(ExternalSemaphore.Wait.of(goneSemaphore, 0));
                default -> null;
            };
        }

        /**
         * {@return a new resource of the same kind when {@code o} is the fixture's valid one, else {@code o}} A
         * close of the valid resource would change what the later calls of the case get.
         */
        Object freshIfValid(Object o) {
            if (o == memory) {
                return importMemory(arena, false);
            } else if (o == semaphore) {
                return importSemaphore(arena);
            } else if (o == stream) {
                return Stream.create(arena);
            } else if (o == event) {
                return Event.create(arena);
            } else if (o == module) {
                return HipModule.load(arena, MODULE);
            } else if (o == resource) {
                return registerBuffer(arena, List.of());
            } else if (o == mapping) {
                return registerBuffer(arena, List.of()).map(stream);
            } else if (o == graph) {
                return Graph.create(arena);
            } else if (o == exec) {
                return graph.instantiate();
            }
            return o;
        }

        @SuppressWarnings("unchecked")
        <T> List<T> list(Object o) {
            return (List<T>) o;
        }

        /** importMemory or importCopy of a new memfd; the fd is closed here unless the memory took it. */
        ExternalMemory importMemory(Arena owner, boolean copy) {
            return importMemory(false, null, owner, copy);
        }

        /** {@code onDevice}: through the overload with a device (which may be null), else the one without. */
        ExternalMemory importMemory(boolean onDevice, Device device, Arena owner, boolean copy) {
            int fd = LinuxFds.memfd("hipffm-fuzz-null", 64 * 1024);
            ExternalMemoryDescriptor d = ExternalMemoryDescriptor.opaqueFd(fd, 64 * 1024);
            boolean taken = false;
            try {
                ExternalMemory m = !onDevice
                        ? (copy ? ExternalMemory.importCopy(owner, d) : ExternalMemory.importMemory(owner, d))
                        : (copy ? ExternalMemory.importCopy(device, owner, d) : ExternalMemory.importMemory(device, owner, d));
                taken = !copy;
                return m;
            } finally {
                if (!taken) {
                    LinuxFds.close(fd);
                }
            }
        }

        ExternalSemaphore importSemaphore(Arena owner) {
            return importSemaphore(false, null, owner);
        }

        ExternalSemaphore importSemaphore(boolean onDevice, Device device, Arena owner) {
            int fd = LinuxFds.memfd("hipffm-fuzz-null-semaphore", 0);
            boolean taken = false;
            try {
                ExternalSemaphoreDescriptor d = ExternalSemaphoreDescriptor.timelineFd(fd);
                ExternalSemaphore s = !onDevice ? ExternalSemaphore.importSemaphore(owner, d)
                        : ExternalSemaphore.importSemaphore(device, owner, d);
                taken = true;
                return s;
            } finally {
                if (!taken) {
                    LinuxFds.close(fd);
                }
            }
        }

        HipModule loadSegment(Arena owner, MemorySegment image) {
            return loadSegment(false, null, owner, image);
        }

        /** {@code onDevice}: through the overload with a device (which may be null), else the one without. */
        HipModule loadSegment(boolean onDevice, Device device, Arena owner, MemorySegment image) {
            if (image != null && image.scope().isAlive()) {
                MemorySegment.copy(MemorySegment.ofArray(MODULE), 0, image, 0, MODULE.length);
                image.set(java.lang.foreign.ValueLayout.JAVA_BYTE, MODULE.length, (byte) 0);
            }
            return onDevice ? HipModule.load(device, owner, image) : HipModule.load(owner, image);
        }

        GraphicsResource registerBuffer(Arena owner, List<GraphicsResource.Flag> flags) {
            int name = GL_NAMES.incrementAndGet();
            GlHooks.defineBuffer(name, 4096);
            glNames.add(name);
            return GraphicsResource.registerBuffer(owner, name, flags == null ? null
                    : flags.isEmpty() ? EnumSet.noneOf(GraphicsResource.Flag.class) : EnumSet.copyOf(flags));
        }

        GraphicsResource.Mapping map(GraphicsResource r, Stream s) {
            GraphicsResource.Mapping m = r.map(s);
            m.close();                 // the fixture's resource is mapped again by later picks
            return m;
        }

        @Override
        public void close() {
            stream.synchronize();
            arena.close();
            for (int name : glNames) {
                if (GlHooks.delete(name) != 0) {
                    throw new AssertionError("GL object " + name + " is still registered");
                }
            }
        }
    }
}
