package io.github.hipffm.interop;

import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphore.Signal;
import io.github.hipffm.ExternalSemaphore.Wait;
import io.github.hipffm.Graph;
import io.github.hipffm.GraphExec;
import io.github.hipffm.GraphNode;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Stream;
import io.github.hipffm.bindings.hip.Hip;
import io.github.hipffm.bindings.hip.hipExternalSemaphoreSignalNodeParams;
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
import java.util.List;

import static io.github.hipffm.interop.GraphTest.binary;
import static io.github.hipffm.interop.GraphTest.refused;
import static io.github.hipffm.interop.GraphTest.timeline;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The node-level fence values of semaphore nodes on the test runtime (both doubles): {@link GraphNode#fences()}
 * ({@code hipGraphExternalSemaphores*NodeGetParams}) and {@link GraphNode#setFences}
 * ({@code ...NodeSetParams}), which reach the execs instantiated afterwards only. The double keeps a node's
 * parameters by value as ROCm does and an exec copies them by value again, so an exec made before a change would
 * see values written into the arrays it shares with the node: these tests see hip-ffm's copy on write.
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class GraphNodeParamsTest {
    /** The HIP names of the node-level calls; on NVIDIA the cudart double's cuda* calls reach these. */
    private static final String GET_SIGNAL = "hipGraphExternalSemaphoresSignalNodeGetParams";
    private static final String GET_WAIT = "hipGraphExternalSemaphoresWaitNodeGetParams";
    private static final String SET_SIGNAL = "hipGraphExternalSemaphoresSignalNodeSetParams";
    private static final String SET_WAIT = "hipGraphExternalSemaphoresWaitNodeSetParams";

    @Test
    void fencesAreTheNodesValuesAsAddedThenAsSet() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore a = timeline(arena);
            ExternalSemaphore b = timeline(arena);
            ExternalSemaphore flag = binary(arena);
            Graph graph = Graph.create(arena);
            GraphNode signal = graph.addSignal(List.of(Signal.of(a, 1), Signal.of(b, 2), Signal.of(flag, 0)));
            GraphNode wait = graph.addWait(List.of(Wait.of(a, 1), Wait.of(b, 2)), signal);
            GraphNode one = graph.addSignal(a, 5, wait);
            TestRuntime.reset();
            assertArrayEquals(new long[] {1, 2, 0}, signal.fences());
            assertArrayEquals(new long[] {1, 2}, wait.fences());
            assertArrayEquals(new long[] {5}, one.fences());

            assertEquals(signal, signal.setFences(3, 4, 0));
            assertEquals(wait, wait.setFences(3, 4));
            assertEquals(one, one.setFence(6));
            assertArrayEquals(new long[] {3, 4, 0}, signal.fences());
            assertArrayEquals(new long[] {3, 4}, wait.fences());
            assertArrayEquals(new long[] {6}, one.fences());

            GraphExec exec = graph.instantiate();
            exec.setFences(signal, 9, 9, 0).setFence(one, 9);
            assertArrayEquals(new long[] {3, 4, 0}, signal.fences(), "an exec's values are not the node's");
            assertArrayEquals(new long[] {6}, one.fences());
            assertEquals(2, TestRuntime.calls(SET_SIGNAL), "one native set per change");
            assertEquals(1, TestRuntime.calls(SET_WAIT));
        }
    }

    /** CUDA's rule: a node-level change reaches the execs instantiated after it; those made before keep theirs. */
    @Test
    void anExecMadeBeforeAChangeKeepsItsValuesOneMadeAfterTakesThem() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            ExternalSemaphore t = timeline(arena);
            Stream stream = Stream.create(arena);
            Graph graph = Graph.create(arena);
            GraphNode signal = graph.addSignal(s, 1);
            GraphNode wait = graph.addWait(t, 1);
            t.signal(100, stream);                           // every wait below is satisfied
            GraphExec before = graph.instantiate();
            signal.setFence(5);
            wait.setFence(50);
            GraphExec after = graph.instantiate();
            before.launch(stream);
            assertEquals(1, TestRuntime.semaphoreValue(s.handle()), "the exec made before keeps 1");
            after.launch(stream);
            assertEquals(5, TestRuntime.semaphoreValue(s.handle()));

            signal.setFence(7);                              // after's node shares the arrays: copied again
            after.launch(stream);
            assertEquals(5, TestRuntime.semaphoreValue(s.handle()), "the exec made before keeps 5");
            graph.instantiate().launch(stream);
            assertEquals(7, TestRuntime.semaphoreValue(s.handle()));
            before.launch(stream);
            assertEquals(5, TestRuntime.semaphoreSignals(s.handle()));
            assertEquals(7, TestRuntime.semaphoreValue(s.handle()), "a signal of 1 does not lower a timeline");

            signal.setFence(8);
            signal.setFence(9);                              // no exec since the last copy: in place
            assertArrayEquals(new long[] {9}, signal.fences());
            graph.instantiate().launch(stream);
            assertEquals(9, TestRuntime.semaphoreValue(s.handle()));
            assertArrayEquals(new long[] {50}, wait.fences());
        }
    }

    /** A graph added as a child is cloned by the runtime, arrays' pointers and all: its nodes copy on change too. */
    @Test
    void aChildGraphKeepsTheValuesItWasAddedWith() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Stream stream = Stream.create(arena);
            Graph child = Graph.create(arena);
            GraphNode signal = child.addSignal(s, 2);
            Graph parent = Graph.create(arena);
            parent.addChildGraph(child);
            signal.setFence(6);
            parent.instantiate().launch(stream);
            assertEquals(2, TestRuntime.semaphoreValue(s.handle()), "the clone keeps 2");
            Graph later = Graph.create(arena);
            later.addChildGraph(child);
            later.instantiate().launch(stream);
            assertEquals(6, TestRuntime.semaphoreValue(s.handle()));
        }
    }

    /**
     * The bound on node memory: changes with no instantiation in between write in place, and an instantiation
     * costs one copy at the next change. Seen through the runtime's {@code paramsArray} pointer, the HIP double's
     * own (the cudart double translates the arrays into new ones at every read).
     */
    @Test
    void changesWithoutAnInstantiationWriteInPlaceOneCopyPerInstantiation() {
        assumeFalse(TestRuntime.nvidia(), "the cudart double translates the arrays at every read");
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Graph graph = Graph.create(arena);
            GraphNode signal = graph.addSignal(s, 1);
            long added = paramsArray(signal);
            for (long v = 2; v <= 50; v++) {
                signal.setFence(v);
            }
            assertEquals(added, paramsArray(signal), "in place");
            graph.instantiate();
            signal.setFence(51);
            long copied = paramsArray(signal);
            assertNotEquals(added, copied, "copied: the exec points to the old arrays");
            for (long v = 52; v <= 100; v++) {
                signal.setFence(v);
            }
            assertEquals(copied, paramsArray(signal), "one copy per instantiation");
            assertArrayEquals(new long[] {100}, signal.fences());
        }
    }

    /** fences() checks the runtime's node against hip-ffm's: a difference is a runtime or binding bug. */
    @Test
    void aRuntimeNodeThatDiffersFromHipFfmsIsReported() {
        assumeFalse(TestRuntime.nvidia(), "set through the HIP bindings");
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore a = timeline(arena);
            ExternalSemaphore b = timeline(arena);
            Graph graph = Graph.create(arena);
            GraphNode signal = graph.addSignal(List.of(Signal.of(a, 1), Signal.of(b, 2)));
            MemorySegment params = hipExternalSemaphoreSignalNodeParams.allocate(arena);
            assertEquals(0, Hip.hipGraphExternalSemaphoresSignalNodeGetParams(signal.handle(), params));
            MemorySegment original = arena.allocate(hipExternalSemaphoreSignalNodeParams.layout()).copyFrom(params);

            hipExternalSemaphoreSignalNodeParams.numExtSems(params, 1);
            assertEquals(0, Hip.hipGraphExternalSemaphoresSignalNodeSetParams(signal.handle(), params));
            IllegalStateException e = assertThrows(IllegalStateException.class, signal::fences);
            assertTrue(e.getMessage().contains("has 1 semaphore(s), 2 were added"), e.getMessage());

            MemorySegment swapped = arena.allocate(ValueLayout.ADDRESS, 2);
            swapped.setAtIndex(ValueLayout.ADDRESS, 0, b.handle());
            swapped.setAtIndex(ValueLayout.ADDRESS, 1, a.handle());
            hipExternalSemaphoreSignalNodeParams.numExtSems(params, 2);
            hipExternalSemaphoreSignalNodeParams.extSemArray(params, swapped);
            assertEquals(0, Hip.hipGraphExternalSemaphoresSignalNodeSetParams(signal.handle(), params));
            e = assertThrows(IllegalStateException.class, signal::fences);
            assertTrue(e.getMessage().contains("at index 0"), e.getMessage());
            assertTrue(e.getMessage().startsWith(signal.toString()), e.getMessage());

            assertEquals(0, Hip.hipGraphExternalSemaphoresSignalNodeSetParams(signal.handle(), original));
            assertArrayEquals(new long[] {1, 2}, signal.fences());
        }
    }

    @Test
    void badInputIsRefusedBeforeAnyNativeCall() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Graph graph = Graph.create(arena);
            GraphNode one = graph.addSignal(s, 1);
            GraphNode three = graph.addWait(List.of(Wait.of(s, 1), Wait.of(s, 1), Wait.of(s, 1)), one);
            GraphNode empty = graph.addEmpty(three);
            TestRuntime.reset();

            refused("has 1 semaphore(s), got 2 value(s)", () -> one.setFences(1, 2));
            refused("has 3 semaphore(s), got 1 value(s)", () -> three.setFences(1));
            refused("3 semaphores: give one value each with setFences", () -> three.setFence(1));
            refused("fence value must be >= 0, got -1", () -> one.setFence(-1));
            refused("fence value must be >= 0, got -3", () -> three.setFences(1, 2, -3));
            refused("values", () -> one.setFences((long[]) null));
            for (Executable call : List.<Executable>of(empty::fences,
                    () -> empty.setFence(1), () -> empty.setFences(1))) {
                IllegalArgumentException e = refused("is not an external-semaphore node", call);
                assertTrue(e.getMessage().startsWith(empty.toString()), e.getMessage());
            }
            assertEquals(0, nodeLevelCalls());
            assertArrayEquals(new long[] {1, 1, 1}, three.fences(), "nothing changed");
        }
    }

    @Test
    void aClosedGraphsNodesAreRefusedBeforeAnyNativeCall() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Graph graph = Graph.create(arena);
            GraphNode signal = graph.addSignal(s, 1);
            GraphNode wait = graph.addWait(s, 1, signal);
            graph.close();
            TestRuntime.reset();
            assertThrows(IllegalStateException.class, signal::fences);
            assertThrows(IllegalStateException.class, wait::fences);
            assertThrows(IllegalStateException.class, () -> signal.setFence(2));
            assertThrows(IllegalStateException.class, () -> wait.setFences(2));
            assertEquals(0, nodeLevelCalls());
        }
    }

    /**
     * Each node-level call fails once, first on a change in place, then on one copied on write (an exec made in
     * between): the error and call reach Java, the node's values are as they were, and the next change works.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {GET_SIGNAL, GET_WAIT, SET_SIGNAL, SET_WAIT})
    void anInjectedFaultOfEachCallIsReportedAndLeavesTheNodeAsItWas(String call) {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore s = timeline(arena);
            Stream stream = Stream.create(arena);
            Graph graph = Graph.create(arena);
            GraphNode signal = graph.addSignal(s, 1);
            GraphNode wait = graph.addWait(s, 1, signal);
            for (long v = 2; v <= 3; v++) {
                long value = v;
                TestRuntime.failNext(call, HipError.OUT_OF_MEMORY, 0);
                HipException e = assertThrows(HipException.class, () -> change(signal, wait, value));
                assertEquals(HipError.OUT_OF_MEMORY, e.error());
                assertEquals(call, e.call());
                assertArrayEquals(new long[] {call.equals(SET_WAIT) ? value : value - 1}, signal.fences());
                assertArrayEquals(new long[] {value - 1}, wait.fences());
                change(signal, wait, value);
                graph.instantiate().launch(stream);
                assertEquals(value, TestRuntime.semaphoreValue(s.handle()));
            }
        }
    }

    /** {@return how often the four node-level calls were made since the last reset} */
    private static long nodeLevelCalls() {
        return TestRuntime.calls(GET_SIGNAL) + TestRuntime.calls(GET_WAIT) + TestRuntime.calls(SET_SIGNAL)
                + TestRuntime.calls(SET_WAIT);
    }

    private static void change(GraphNode signal, GraphNode wait, long value) {
        signal.fences();
        wait.fences();
        signal.setFence(value);
        wait.setFence(value);
    }

    /** The address of the node's {@code paramsArray} in the HIP double. */
    private static long paramsArray(GraphNode node) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment params = hipExternalSemaphoreSignalNodeParams.allocate(a);
            assertEquals(0, Hip.hipGraphExternalSemaphoresSignalNodeGetParams(node.handle(), params));
            return hipExternalSemaphoreSignalNodeParams.paramsArray(params).address();
        }
    }
}
