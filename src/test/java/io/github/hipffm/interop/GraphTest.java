package io.github.hipffm.interop;

import io.github.hipffm.Dim3;
import io.github.hipffm.Event;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphore.Signal;
import io.github.hipffm.ExternalSemaphore.Wait;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.Graph;
import io.github.hipffm.GraphExec;
import io.github.hipffm.GraphNode;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Graphs of external-semaphore nodes on the test runtime (both doubles): building, instantiating, launching,
 * the exec-level fence values, the dependency order, errors and injected faults on each native call, input refused
 * before any native call, and use after close.
 *
 * <p>The double runs a launch's nodes at once, in an order that respects the dependencies and otherwise prefers the
 * latest node added, and keeps a node's parameters by value as ROCm does (the arrays are hip-ffm's memory, read at
 * launch). A wait that is never satisfied polls for about a second and fails with {@code hipErrorNotReady}.
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class GraphTest {
    /** The HIP names of the graph calls; on NVIDIA the cudart double's cuda* calls reach these. */
    private static final String CREATE = "hipGraphCreate";
    private static final String ADD_SIGNAL = "hipGraphAddExternalSemaphoresSignalNode";
    private static final String ADD_WAIT = "hipGraphAddExternalSemaphoresWaitNode";
    private static final String INSTANTIATE = "hipGraphInstantiate";
    private static final String LAUNCH = "hipGraphLaunch";
    private static final String SET_SIGNAL = "hipGraphExecExternalSemaphoresSignalNodeSetParams";
    private static final String SET_WAIT = "hipGraphExecExternalSemaphoresWaitNodeSetParams";
    private static final String ADD_EMPTY = "hipGraphAddEmptyNode";
    private static final String ADD_KERNEL = "hipGraphAddKernelNode";
    private static final String ADD_COPY = "hipGraphAddMemcpyNode1D";
    private static final String ADD_FILL = "hipGraphAddMemsetNode";
    private static final String ADD_RECORD = "hipGraphAddEventRecordNode";
    private static final String ADD_EVENT_WAIT = "hipGraphAddEventWaitNode";
    private static final String ADD_CHILD = "hipGraphAddChildGraphNode";
    private static final byte[] MODULE = "hipffm-test-module\nincrement\n".getBytes(StandardCharsets.US_ASCII);

    /** A fill, then a kernel, then a copy back, with events around: every launch redoes all of it in order. */
    @Test
    void aFillAKernelAndACopyRunInDependencyOrderAtEachLaunch() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 512);
            MemorySegment host = Memory.allocatePinned(arena, 512);
            Kernel increment = HipModule.load(arena, MODULE).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            KernelArgs args = increment.newArgs(arena).set(0, device).set(1, 64L);
            Event start = Event.create(arena);
            Event end = Event.create(arena);
            Stream stream = Stream.create(arena);
            Graph graph = Graph.create(arena);
            GraphNode begin = graph.addEventRecord(start);
            GraphNode fill = graph.addFill(device, (byte) 0, begin);
            GraphNode kernel = graph.addKernel(increment, Dim3.of(1), Dim3.of(64), 0, args, fill);
            GraphNode twice = graph.addKernel(increment, Dim3.of(1), Dim3.of(64), 0, args, kernel);
            GraphNode copy = graph.addCopy(host, device, 512, twice);
            GraphNode join = graph.addEmpty(copy, begin);
            graph.addEventRecord(end, join);
            args.set(1, 0L);                        // the graph copied the arguments: this changes nothing there
            assertEquals(GraphNode.Type.KERNEL, kernel.type());
            assertEquals(List.of(), kernel.semaphores());
            GraphExec exec = graph.instantiate();
            for (int launch = 1; launch <= 3; launch++) {
                exec.launch(stream);
                stream.synchronize();
                for (int i = 0; i < 64; i++) {
                    assertEquals(2, host.getAtIndex(ValueLayout.JAVA_INT, i), "launch " + launch + ", element " + i);
                }
                assertEquals(0, host.getAtIndex(ValueLayout.JAVA_INT, 64), "past the kernel's n");
                assertTrue(Event.elapsedMillis(start, end) >= 0);
            }
            assertEquals(0, TestRuntime.calls("hipModuleLaunchKernel") + TestRuntime.calls("hipMemsetAsync")
                    + TestRuntime.calls("hipMemcpyAsync") + TestRuntime.calls("hipEventRecord"), "all in the graph");
            assertEquals(7, TestRuntime.live("graphNode"));
        }
    }

    @Test
    void anEventWaitNodeWaitsForAnEventRecordedElsewhere() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 64);
            MemorySegment host = Memory.allocatePinned(arena, 64);
            Event done = Event.create(arena);
            Stream stream = Stream.create(arena);
            Graph producer = Graph.create(arena);
            producer.addEventRecord(done, producer.addFill(device, (byte) 7));
            Graph consumer = Graph.create(arena);
            consumer.addCopy(host, device, 64, consumer.addEventWait(done));
            producer.instantiate().launch(stream);
            consumer.instantiate().launch(stream);
            stream.synchronize();
            assertEquals(7, host.get(ValueLayout.JAVA_BYTE, 63));
            assertTrue(done.isComplete());
        }
    }

    @Test
    void whatANodeUsesMustOutliveTheLaunches() {
        try (Arena arena = Arena.ofConfined()) {
            Stream stream = Stream.create(arena);
            Arena memory = Arena.ofConfined();
            MemorySegment device = Memory.allocateDevice(memory, 64);
            HipModule module = HipModule.load(arena, MODULE);
            Kernel increment = module.kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            Event event = Event.create(arena);
            Graph graph = Graph.create(arena);
            GraphNode kernel = graph.addKernel(increment, Dim3.of(1), Dim3.of(16), 0,
                    increment.newArgs(arena).set(0, device).set(1, 16L));
            graph.addEventRecord(event, kernel);
            GraphExec exec = graph.instantiate();
            exec.launch(stream);
            refused("not an external-semaphore node", () -> exec.setFence(kernel, 1));

            memory.close();
            TestRuntime.reset();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> exec.launch(stream));
            assertTrue(e.getMessage().contains("memory that was released"), e.getMessage());
            event.close();
            module.close();
            e = assertThrows(IllegalStateException.class, () -> exec.launch(stream));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertEquals(0, TestRuntime.calls(LAUNCH));
        }
    }

    @Test
    void badNodeInputIsRefusedBeforeAnyNativeCall() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 64);
            HipModule module = HipModule.load(arena, MODULE);
            Kernel increment = module.kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            Kernel other = module.kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            KernelArgs args = increment.newArgs(arena).set(0, device).set(1, 16L);
            Graph graph = Graph.create(arena);
            TestRuntime.reset();
            refused("arguments are for kernel", () -> graph.addKernel(other, Dim3.of(1), Dim3.of(1), 0, args));
            refused("shared memory", () -> graph.addKernel(increment, Dim3.of(1), Dim3.of(1), -1, args));
            refused("is not set", () -> graph.addKernel(increment, Dim3.of(1), Dim3.of(1), 0, increment.newArgs(arena)));
            refused("grid", () -> graph.addKernel(increment, null, Dim3.of(1), 0, args));
            refused("heap segment", () -> graph.addFill(MemorySegment.ofArray(new byte[8]), (byte) 1));
            refused("dst", () -> graph.addCopy(null, device, 8));
            refused("64", () -> graph.addCopy(Memory.allocatePinned(arena, 8), device, 64));
            refused("event", () -> graph.addEventRecord(null));
            refused("dependencies", () -> graph.addEmpty((GraphNode[]) null));
            assertEquals(0, TestRuntime.calls(ADD_KERNEL) + TestRuntime.calls(ADD_FILL) + TestRuntime.calls(ADD_COPY)
                    + TestRuntime.calls(ADD_RECORD) + TestRuntime.calls(ADD_EMPTY));
            module.close();
            assertThrows(IllegalStateException.class, () -> graph.addKernel(increment, Dim3.of(1), Dim3.of(1), 0, args));
            assertEquals(0, TestRuntime.calls(ADD_KERNEL));
        }
    }

    /** An exec takes another graph's parameters without re-instantiation; its semaphore nodes' too. */
    @Test
    void anExecIsUpdatedFromAGraphOfTheSameShape() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore first = timeline(arena);
            ExternalSemaphore second = timeline(arena);
            MemorySegment a = Memory.allocateDevice(arena, 64);
            MemorySegment b = Memory.allocateDevice(arena, 64);
            MemorySegment host = Memory.allocatePinned(arena, 64);
            Stream stream = Stream.create(arena);
            Graph one = Graph.create(arena);
            GraphNode signal = one.addSignal(first, 1, one.addCopy(host, a, 64, one.addFill(a, (byte) 1)));
            Graph two = Graph.create(arena);
            two.addSignal(second, 5, two.addCopy(host, b, 64, two.addFill(b, (byte) 2)));
            GraphExec exec = one.instantiate();
            exec.launch(stream);
            assertEquals(1, host.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(1, TestRuntime.semaphoreValue(first.handle()));

            assertEquals(exec, exec.update(two));
            two.close();                                   // what the exec now points to stays alive
            exec.launch(stream);
            assertEquals(2, host.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(5, TestRuntime.semaphoreValue(second.handle()), "the update carried the semaphore node");
            assertEquals(1, TestRuntime.semaphoreValue(first.handle()));
            exec.setFence(signal, 7).launch(stream);       // the node keeps its identity
            assertEquals(7, TestRuntime.semaphoreValue(second.handle()));
            assertEquals(1, TestRuntime.calls(INSTANTIATE));

            Graph longer = Graph.create(arena);
            longer.addFill(a, (byte) 3);
            Graph kinds = Graph.create(arena);
            kinds.addSignal(first, 1, kinds.addFill(host, (byte) 0, kinds.addFill(a, (byte) 1)));
            Graph rewired = Graph.create(arena);
            GraphNode f = rewired.addFill(a, (byte) 1);
            rewired.addSignal(first, 1, f);
            rewired.addCopy(host, a, 64, f);
            TestRuntime.reset();
            refused("not the same shape", () -> exec.update(longer));
            refused("not the same shape", () -> exec.update(kinds));
            refused("source", () -> exec.update(null));
            assertEquals(0, TestRuntime.calls("hipGraphExecUpdate"));
            Graph wired = Graph.create(arena);
            GraphNode fill = wired.addFill(a, (byte) 4);
            GraphNode copy = wired.addCopy(host, a, 64);      // no dependency on the fill
            wired.addSignal(first, 1, copy, fill);
            HipException e = assertThrows(HipException.class, () -> exec.update(wired));
            assertEquals(HipError.GRAPH_EXEC_UPDATE_FAILURE, e.error());
            assertTrue(e.getMessage().contains("topology changed"), e.getMessage());
            TestRuntime.failNext("hipGraphExecUpdate", HipError.OUT_OF_MEMORY, 0);
            assertThrows(HipException.class, () -> exec.update(one));
            exec.update(one).launch(stream);               // back to the first graph's parameters
            assertEquals(1, host.get(ValueLayout.JAVA_BYTE, 0));
            assertThrows(IllegalStateException.class, () -> exec.update(two), "a closed source");
            GraphExec gone = one.instantiate();
            gone.close();
            assertThrows(IllegalStateException.class, () -> gone.update(one), "a closed exec");
        }
    }

    /** A child graph runs as one node, as it was when added; its memory outlives the child's close. */
    @Test
    void aChildGraphRunsAsOneNodeAsItWasWhenAdded() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            MemorySegment device = Memory.allocateDevice(arena, 64);
            MemorySegment host = Memory.allocatePinned(arena, 64);
            Stream stream = Stream.create(arena);
            Graph child = Graph.create(arena);
            GraphNode fill = child.addFill(device, (byte) 9);
            child.addSignal(s, 3, fill);
            Graph parent = Graph.create(arena);
            GraphNode run = parent.addChildGraph(child);
            parent.addCopy(host, device, 64, run);
            child.addFill(device, (byte) 1);       // after the clone: not part of the parent's node
            assertEquals(GraphNode.Type.CHILD_GRAPH, run.type());
            refused("its own child", () -> parent.addChildGraph(parent));
            refused("child", () -> parent.addChildGraph(null));

            child.close();                          // the clone's semaphore arrays stay alive with the parent
            GraphExec exec = parent.instantiate();
            exec.launch(stream);
            stream.synchronize();
            assertEquals(9, host.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(3, TestRuntime.semaphoreValue(s.handle()));
            assertThrows(IllegalStateException.class, () -> parent.addChildGraph(child), "a closed child");

            s.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> exec.launch(stream));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }

    /** Work queued on a capturing stream becomes a graph's nodes instead of running; the graph then runs it. */
    @Test
    void aStreamCaptureMakesAGraphOfTheQueuedWork() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 256);
            MemorySegment host = Memory.allocatePinned(arena, 256);
            Kernel increment = HipModule.load(arena, MODULE).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            KernelArgs args = increment.newArgs(arena).set(0, device).set(1, 64L);
            Event done = Event.create(arena);
            Stream stream = Stream.create(arena);
            stream.beginCapture();
            assertTrue(stream.isCapturing());
            assertTrue(stream.toString().contains("capturing"), stream.toString());
            Memory.fillAsync(device, (byte) 0, stream);
            increment.launch(Dim3.of(1), Dim3.of(64), 0, stream, args);
            increment.launch(Dim3.of(1), Dim3.of(64), 0, stream, args);
            Memory.copyAsync(host, device, 256, stream);
            done.record(stream);
            assertEquals(0, host.getAtIndex(ValueLayout.JAVA_INT, 0), "captured, not run");
            Graph graph = stream.endCapture(arena);
            assertFalse(stream.isCapturing());
            assertEquals(List.of(), graph.nodes());
            assertTrue(graph.toString().contains("captured"), graph.toString());
            assertEquals(5, TestRuntime.live("graphNode"));
            GraphExec exec = graph.instantiate();
            for (int launch = 1; launch <= 2; launch++) {
                exec.launch(stream);
                stream.synchronize();
                assertEquals(2, host.getAtIndex(ValueLayout.JAVA_INT, 63), "launch " + launch);
            }
            assertTrue(done.isComplete());
        }
    }

    @Test
    void aCaptureRefusesSemaphoresAndEndsInvalidatedWhenTheStreamIsSynchronized() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Stream stream = Stream.create(arena);
            refused("default stream", () -> Stream.defaultStream().beginCapture());
            assertThrows(IllegalStateException.class, () -> stream.endCapture(arena), "not capturing");
            stream.beginCapture();
            assertThrows(IllegalStateException.class, stream::beginCapture, "already capturing");
            TestRuntime.reset();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.signal(1, stream));
            assertTrue(e.getMessage().contains("Graph.addSignal"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> s.wait(1, stream));
            assertThrows(IllegalStateException.class, () -> ExternalSemaphore.signal(List.of(Signal.of(s, 1)), stream));
            assertThrows(IllegalStateException.class, () -> ExternalSemaphore.wait(List.of(Wait.of(s, 1)), stream));
            assertEquals(0, TestRuntime.calls("hipSignalExternalSemaphoresAsync")
                    + TestRuntime.calls("hipWaitExternalSemaphoresAsync"));

            HipException sync = assertThrows(HipException.class, stream::synchronize);
            assertEquals(HipError.STREAM_CAPTURE_UNSUPPORTED, sync.error());
            HipException end = assertThrows(HipException.class, () -> stream.endCapture(arena));
            assertEquals(HipError.STREAM_CAPTURE_INVALIDATED, end.error());
            assertEquals("hipStreamEndCapture", end.call());
            assertFalse(stream.isCapturing());
            assertEquals(0, TestRuntime.live("graph"), "the spoilt capture's graph is gone");
            s.signal(1, stream);   // no longer capturing

            Arena closed = Arena.ofConfined();
            closed.close();
            stream.beginCapture();
            assertThrows(IllegalStateException.class, () -> stream.endCapture(closed));
            assertFalse(stream.isCapturing());
            assertEquals(0, TestRuntime.live("graph"), "the capture ended, its graph destroyed");
            stream.synchronize();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hipStreamBeginCapture", "hipStreamEndCapture"})
    void anInjectedFaultOfACaptureCallIsReportedAndLeavesNothingBehind(String call) {
        try (Arena arena = Arena.ofConfined()) {
            Stream stream = Stream.create(arena);
            TestRuntime.failNext(call, HipError.OUT_OF_MEMORY, 0);
            HipException e = assertThrows(HipException.class, () -> {
                stream.beginCapture();
                stream.endCapture(arena);
            });
            assertEquals(call, e.call());
            assertFalse(stream.isCapturing());
        }   // a capture the double still holds goes with its stream
    }

    /** Each node kind's add fails once: reported, nothing added; the same add then works. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {ADD_EMPTY, ADD_KERNEL, ADD_COPY, ADD_FILL, ADD_RECORD, ADD_EVENT_WAIT, ADD_CHILD})
    void anInjectedFaultOfEachNodeKindsAddIsReported(String call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 64);
            MemorySegment host = Memory.allocatePinned(arena, 64);
            Kernel increment = HipModule.load(arena, MODULE).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            KernelArgs args = increment.newArgs(arena).set(0, device).set(1, 16L);
            Event event = Event.create(arena);
            Stream stream = Stream.create(arena);
            Graph child = Graph.create(arena);
            child.addFill(device, (byte) 0);
            Graph graph = Graph.create(arena);
            Executable add = () -> {
                GraphNode e = graph.addEmpty();
                GraphNode k = graph.addKernel(increment, Dim3.of(1), Dim3.of(16), 0, args, e);
                GraphNode c = graph.addCopy(host, device, 64, k);
                GraphNode f = graph.addFill(device, (byte) 0, c);
                GraphNode r = graph.addEventRecord(event, f);
                GraphNode w = graph.addEventWait(event, r);
                graph.addChildGraph(child, w);
            };
            TestRuntime.failNext(call, HipError.INVALID_VALUE, 0);
            HipException e = assertThrows(HipException.class, add);
            assertEquals(HipError.INVALID_VALUE, e.error());
            assertEquals(call, e.call());
            long added = graph.nodes().size();
            assertEquals(added + 1, TestRuntime.live("graphNode"), "the refused node was not added (+ the child's)");
            assertDoesNotThrow(add);
            assertEquals(added + 7, graph.nodes().size());
            graph.instantiate().launch(stream);
            stream.synchronize();
        }
    }

    @Test
    void aWaitThenASignalRunsOnAStreamAndEverythingIsReleasedInOrder() {
        GraphExec exec;
        Graph graph;
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore vulkanDone = timeline(arena);
            ExternalSemaphore hipDone = timeline(arena);
            Stream stream = Stream.create(arena);
            graph = Graph.create(arena);
            GraphNode acquire = graph.addWait(vulkanDone, 1);
            GraphNode release = graph.addSignal(hipDone, 1, acquire);
            assertEquals(List.of(acquire, release), graph.nodes());
            assertEquals(GraphNode.Type.SEMAPHORE_WAIT, acquire.type());
            assertEquals(GraphNode.Type.SEMAPHORE_SIGNAL, release.type());
            assertEquals(List.of(hipDone), release.semaphores());
            assertEquals(graph, release.graph());
            exec = graph.instantiate();
            assertEquals(graph, exec.graph());
            assertEquals(1, TestRuntime.live("graph"));
            assertEquals(1, TestRuntime.live("graphExec"));
            assertEquals(2, TestRuntime.live("graphNode"));

            vulkanDone.signal(1, stream);
            exec.launch(stream);
            stream.synchronize();
            assertEquals(1, TestRuntime.semaphoreValue(hipDone.handle()));
            assertEquals(1, TestRuntime.semaphoreSignals(hipDone.handle()));
        }
        assertTrue(exec.isClosed());
        assertTrue(graph.isClosed());
        assertEquals(1, TestRuntime.calls("hipGraphExecDestroy"));
        assertEquals(1, TestRuntime.calls("hipGraphDestroy"));
        assertEquals(0, TestRuntime.live("graphNode"));
    }

    @Test
    void theDependenciesReachTheRuntime() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Stream stream = Stream.create(arena);
            Graph ordered = Graph.create(arena);
            GraphNode signal = ordered.addSignal(s, 5);
            ordered.addWait(s, 5, signal);
            ordered.instantiate().launch(stream);   // the signal first, then the wait: satisfied
            assertEquals(5, TestRuntime.semaphoreValue(s.handle()));

            ExternalSemaphore t = timeline(arena);
            Graph unordered = Graph.create(arena);
            unordered.addSignal(t, 5);
            unordered.addWait(t, 5);                // no dependency: the double runs the later node first
            GraphExec exec = unordered.instantiate();
            HipException e = assertThrows(HipException.class, () -> exec.launch(stream));
            assertEquals(HipError.NOT_READY, e.error());
            assertEquals(LAUNCH, e.call());
        }
    }

    @Test
    void aHundredLaunchesEachWithItsOwnFenceValues() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore vulkanDone = timeline(arena);
            ExternalSemaphore hipDone = timeline(arena);
            Stream stream = Stream.create(arena);
            Graph graph = Graph.create(arena);
            GraphNode acquire = graph.addWait(vulkanDone, 0);
            GraphNode release = graph.addSignal(hipDone, 0, acquire);
            GraphExec exec = graph.instantiate();
            for (long frame = 1; frame <= 100; frame++) {
                vulkanDone.signal(frame, stream);
                exec.setFence(acquire, frame).setFence(release, frame).launch(stream);
                assertEquals(frame, TestRuntime.semaphoreValue(hipDone.handle()), "frame " + frame);
                assertEquals(frame, TestRuntime.semaphoreSignals(hipDone.handle()), "frame " + frame);
            }
            stream.synchronize();
            assertEquals(100, TestRuntime.calls(SET_SIGNAL));
            assertEquals(100, TestRuntime.calls(SET_WAIT));
            assertEquals(1, TestRuntime.calls(INSTANTIATE), "no re-instantiation");

            // the exec's values are its own: the graph's node and a new exec keep the values the node was made with
            GraphExec fresh = graph.instantiate();
            ExternalSemaphore before = hipDone;
            fresh.launch(stream);
            assertEquals(101, TestRuntime.semaphoreSignals(before.handle()));
            assertEquals(100, TestRuntime.semaphoreValue(before.handle()), "a signal of 0 does not lower a timeline");
        }
    }

    @Test
    void aNodeOfSeveralSemaphoresTakesOneValueEach() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore a = timeline(arena);
            ExternalSemaphore b = timeline(arena);
            ExternalSemaphore binary = binary(arena);
            Stream stream = Stream.create(arena);
            Graph graph = Graph.create(arena);
            GraphNode signal = graph.addSignal(List.of(Signal.of(a, 1), Signal.of(b, 2), Signal.of(binary, 0)));
            GraphNode wait = graph.addWait(List.of(Wait.of(a, 1), Wait.of(b, 2)), signal);
            GraphExec exec = graph.instantiate();
            exec.launch(stream);
            assertEquals(1, TestRuntime.semaphoreValue(a.handle()));
            assertEquals(2, TestRuntime.semaphoreValue(b.handle()));
            assertEquals(1, TestRuntime.semaphoreValue(binary.handle()));

            exec.setFences(signal, 10, 20, 0).setFences(wait, 10, 20).launch(stream);
            assertEquals(10, TestRuntime.semaphoreValue(a.handle()));
            assertEquals(20, TestRuntime.semaphoreValue(b.handle()));

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> exec.setFence(signal, 3));
            assertTrue(e.getMessage().contains("3 semaphores"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> exec.setFences(wait, 1, 2, 3));
        }
    }

    /** Each new native call fails once: the error and call reach Java, nothing is left half made, and it then works. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {CREATE, ADD_SIGNAL, ADD_WAIT, INSTANTIATE, LAUNCH, SET_SIGNAL, SET_WAIT})
    void anInjectedFaultOfEachCallIsReportedAndLeavesNothingBehind(String call) {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Stream stream = Stream.create(arena);
            TestRuntime.failNext(call, HipError.OUT_OF_MEMORY, 0);
            Executable build = () -> {
                Graph graph = Graph.create(arena);
                GraphNode signal = graph.addSignal(s, 1);
                GraphNode wait = graph.addWait(s, 1, signal);
                GraphExec exec = graph.instantiate();
                exec.setFence(signal, 2);
                exec.setFence(wait, 2);
                exec.launch(stream);
            };
            HipException e = assertThrows(HipException.class, build);
            assertEquals(HipError.OUT_OF_MEMORY, e.error());
            assertEquals(call, e.call());
            if (call.equals(CREATE)) {
                assertEquals(0, TestRuntime.live("graph"));
            }
            if (call.equals(INSTANTIATE)) {
                assertEquals(0, TestRuntime.live("graphExec"));
            }
            if (call.equals(ADD_WAIT)) {
                assertEquals(1, TestRuntime.live("graphNode"), "the signal node only");
            }
            assertEquals(0, TestRuntime.semaphoreSignals(s.handle()), "nothing launched");
            assertDoesNotThrow(build);   // everything works afterwards
            assertEquals(2, TestRuntime.semaphoreValue(s.handle()));
        }
    }

    /** A refused exec-level change leaves the exec's values as they were: ROCm reads the arrays at launch. */
    @Test
    void aRefusedFenceChangeLeavesTheOldValue() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Stream stream = Stream.create(arena);
            Graph graph = Graph.create(arena);
            GraphNode signal = graph.addSignal(s, 1);
            GraphExec exec = graph.instantiate();
            exec.setFence(signal, 5);
            TestRuntime.failNext(SET_SIGNAL, HipError.INVALID_VALUE, 0);
            assertThrows(HipException.class, () -> exec.setFence(signal, 9));
            exec.launch(stream);
            assertEquals(5, TestRuntime.semaphoreValue(s.handle()));
        }
    }

    @Test
    void badInputIsRefusedBeforeAnyNativeCall() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Graph graph = Graph.create(arena);
            Graph other = Graph.create(arena);
            GraphNode mine = graph.addSignal(s, 1);
            GraphNode foreign = other.addSignal(s, 1);
            Graph gone = Graph.create(arena);
            GraphNode closedNode = gone.addSignal(s, 1);
            gone.close();
            TestRuntime.reset();

            refused("dependencies[0]", () -> graph.addWait(s, 1, foreign));
            IllegalArgumentException e = refused("dependencies[1]", () -> graph.addWait(s, 1, mine, closedNode));
            assertTrue(e.getMessage().contains("a closed graph"), e.getMessage());
            refused("another graph", () -> graph.addWait(s, 1, foreign));
            refused("given twice", () -> graph.addWait(s, 1, mine, mine));
            refused("dependencies[0] must not be null", () -> graph.addWait(s, 1, (GraphNode) null));
            refused("dependencies", () -> graph.addWait(s, 1, (GraphNode[]) null));
            refused("semaphore", () -> graph.addSignal((ExternalSemaphore) null, 1));
            refused("fence value", () -> graph.addSignal(s, -1));
            refused("must not be empty", () -> graph.addSignal(List.of()));
            refused("must not be empty", () -> graph.addWait(List.of()));
            refused("signals[0]", () -> graph.addSignal(java.util.Arrays.asList((Signal) null)));
            refused("waits", () -> graph.addWait((List<Wait>) null));
            refused("arena", () -> Graph.create(null));
            assertEquals(0, TestRuntime.calls(ADD_SIGNAL) + TestRuntime.calls(ADD_WAIT) + TestRuntime.calls(CREATE));

            GraphExec exec = graph.instantiate();
            GraphNode later = graph.addSignal(s, 2);
            TestRuntime.reset();
            refused("another graph", () -> exec.setFence(foreign, 1));
            refused("after this exec", () -> exec.setFence(later, 1));
            refused("fence value", () -> exec.setFence(mine, -1));
            refused("node", () -> exec.setFence(null, 1));
            refused("values", () -> exec.setFences(mine, (long[]) null));
            refused("stream", () -> exec.launch(null));
            assertEquals(0, TestRuntime.calls(SET_SIGNAL) + TestRuntime.calls(LAUNCH));
        }
    }

    @Test
    void useAfterCloseIsRefusedBeforeAnyNativeCall() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Stream stream = Stream.create(arena);
            Graph graph = Graph.create(arena);
            GraphNode node = graph.addSignal(s, 1);
            GraphExec exec = graph.instantiate();
            GraphExec second = graph.instantiate();
            second.close();
            second.close();   // harmless
            assertThrows(IllegalStateException.class, () -> second.launch(stream));
            assertThrows(IllegalStateException.class, () -> second.setFence(node, 2));
            assertFalse(exec.isClosed());

            graph.close();
            assertTrue(exec.isClosed(), "an exec closes with its graph");
            TestRuntime.reset();
            assertThrows(IllegalStateException.class, () -> exec.launch(stream));
            assertThrows(IllegalStateException.class, () -> exec.setFence(node, 2));
            assertThrows(IllegalStateException.class, graph::instantiate);
            assertThrows(IllegalStateException.class, () -> graph.addSignal(s, 1));
            assertThrows(IllegalStateException.class, graph::handle);
            assertThrows(IllegalStateException.class, node::handle);
            assertEquals(0, TestRuntime.calls(LAUNCH) + TestRuntime.calls(SET_SIGNAL) + TestRuntime.calls(INSTANTIATE)
                    + TestRuntime.calls(ADD_SIGNAL));
            assertEquals(2, TestRuntime.live("externalSemaphore") + TestRuntime.live("stream"),
                    "what the graph used is not the graph's");
        }
    }

    @Test
    void aLaunchUsingAClosedSemaphoreIsRefused() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Stream stream = Stream.create(arena);
            Graph graph = Graph.create(arena);
            graph.addSignal(s, 1);
            GraphExec exec = graph.instantiate();
            s.close();
            TestRuntime.reset();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> exec.launch(stream));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertEquals(0, TestRuntime.calls(LAUNCH));
            // a closed semaphore cannot be added either
            assertThrows(IllegalStateException.class, () -> graph.addSignal(s, 2));
        }
    }

    @Test
    void toStringSaysWhatItIs() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Graph graph = Graph.create(arena);
            GraphNode node = graph.addSignal(s, 1);
            GraphExec exec = graph.instantiate();
            assertTrue(graph.toString().matches("Graph\\[0x[0-9a-f]+, 1 node]"), graph.toString());
            assertTrue(node.toString().startsWith("GraphNode[#0 SEMAPHORE_SIGNAL, 1 semaphore(s), of Graph[0x"),
                    node.toString());
            assertTrue(exec.toString().startsWith("GraphExec[0x"), exec.toString());
            graph.close();
            assertTrue(graph.toString().endsWith(", closed]"), graph.toString());
            assertTrue(exec.toString().endsWith(", closed]"), exec.toString());
        }
    }

    static IllegalArgumentException refused(String fragment, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should contain '" + fragment + "'");
        return e;
    }

    private static void assertDoesNotThrow(Executable e) {
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(e);
    }

    static ExternalSemaphore timeline(Arena arena) {
        return importSemaphore(arena, ExternalSemaphoreDescriptor::timelineFd);
    }

    static ExternalSemaphore binary(Arena arena) {
        return importSemaphore(arena, ExternalSemaphoreDescriptor::opaqueFd);
    }

    private static ExternalSemaphore importSemaphore(Arena arena, IntFunction<ExternalSemaphoreDescriptor> descriptor) {
        int fd = LinuxFds.memfd("hipffm-graph", 0);
        try {
            return ExternalSemaphore.importSemaphore(arena, descriptor.apply(fd));
        } catch (RuntimeException e) {
            LinuxFds.close(fd);
            throw e;
        }
    }
}
