package io.github.hipffm;

import io.github.hipffm.internal.Backend;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A node of a {@link Graph} ({@code hipGraphNode_t}), returned by the graph's {@code add...} methods: the handle
 * to give as a dependency of later nodes of the same graph, and to an exec's
 * {@link GraphExec#setFence(GraphNode, long) setFence}. It lives as long as its graph: once the graph is closed,
 * {@link #handle()}, {@link #fences()} and {@link #setFences} throw {@link IllegalStateException} and giving the
 * node as a dependency or to an exec is refused with {@link IllegalArgumentException}.
 *
 * <h2>Fence values of a semaphore node</h2>
 * {@link #fences()} reads the values the graph's node holds ({@code hipGraphExternalSemaphores*NodeGetParams});
 * {@link #setFences} changes them ({@code hipGraphExternalSemaphores*NodeSetParams}) for the execs instantiated
 * afterwards (and the graphs that add this graph as a child afterwards), as CUDA documents: an exec made before keeps
 * its values. ROCm keeps a node's parameters by value, so an exec's node points to the same arrays as the graph's;
 * hip-ffm therefore writes new values into fresh arrays in the graph's memory when an exec was instantiated from
 * the graph since the arrays were made, and in place otherwise: one copy per instantiation at most, freed with the
 * graph. Values that change every frame belong on the exec ({@link GraphExec#setFence(GraphNode, long)}), which
 * allocates nothing per change.
 *
 * {@snippet :
 * GraphNode release = graph.addSignal(hipDone, 0);
 * release.setFence(1);                       // execs made from now on signal 1
 * GraphExec exec = graph.instantiate();
 * long[] values = release.fences();          // {1}
 * }
 */
public final class GraphNode {
    /** What a node does. */
    public enum Type {
        /** Does nothing: joins its dependencies ({@code hipGraphAddEmptyNode}). */
        EMPTY,
        /** Launches a kernel ({@code hipGraphAddKernelNode}). */
        KERNEL,
        /** Copies bytes ({@code hipGraphAddMemcpyNode1D}). */
        COPY,
        /** Sets bytes ({@code hipGraphAddMemsetNode}). */
        FILL,
        /** Records an event ({@code hipGraphAddEventRecordNode}). */
        EVENT_RECORD,
        /** Waits for an event ({@code hipGraphAddEventWaitNode}). */
        EVENT_WAIT,
        /** Runs a clone of another graph ({@code hipGraphAddChildGraphNode}). */
        CHILD_GRAPH,
        /** Signals external semaphores ({@code hipGraphAddExternalSemaphoresSignalNode}). */
        SEMAPHORE_SIGNAL,
        /** Waits on external semaphores ({@code hipGraphAddExternalSemaphoresWaitNode}). */
        SEMAPHORE_WAIT
    }

    final Graph graph;
    final MemorySegment raw;
    final Type type;
    /** The semaphores of a semaphore node, in the order of the node's arrays; empty for the other kinds. */
    final List<ExternalSemaphore> semaphores;
    /** The resources the node uses (semaphores, an event, a kernel's module): a launch refuses a closed one. */
    final NativeResource[] resources;
    /** The memory the node uses (a copy's, a fill's, a kernel's pointer arguments): a launch refuses a released one. */
    final MemorySegment[] segments;
    /** The same, for the launch's check (indexed, no iterator). */
    final ExternalSemaphore[] semaphoreArray;
    /**
     * The node params struct the runtime's node holds now (in the graph's node memory), null for the other kinds:
     * replaced by a node-level change that copies on write. Written under the graph's lock; an exec reads it to
     * make its own copy.
     */
    volatile MemorySegment nodeParams;
    /** {@link Graph#snapshots} when {@link #nodeParams}' params array was made; guarded by the graph's lock. */
    int paramsSnapshot;
    /** A copy of the node params the runtime refused, reused by the next copy; guarded by the graph's lock. */
    private MemorySegment spare;
    /** Its position in the graph: 0 for the first node added. */
    final int index;

    GraphNode(Graph graph, MemorySegment raw, Type type, List<ExternalSemaphore> semaphores,
            NativeResource[] resources, MemorySegment[] segments, MemorySegment nodeParams, int index) {
        this.graph = graph;
        this.raw = raw;
        this.type = type;
        this.semaphores = semaphores;
        this.semaphoreArray = semaphores.toArray(ExternalSemaphore[]::new);
        this.resources = resources;
        this.segments = segments;
        this.nodeParams = nodeParams;
        this.index = index;
    }

    /** {@return the graph it belongs to} */
    public Graph graph() {
        return graph;
    }

    /** {@return what it does} */
    public Type type() {
        return type;
    }

    /**
     * {@return the semaphores it signals or waits on, in order (a semaphore node's fence values are in this order);
     * empty for the other kinds}
     */
    public List<ExternalSemaphore> semaphores() {
        return semaphores;
    }

    /**
     * {@return the raw {@code hipGraphNode_t}, for the generated bindings} Valid while the graph is open.
     * @throws IllegalStateException when the graph is closed
     */
    public MemorySegment handle() {
        graph.lifetime.checkOpen();
        return raw;
    }

    /**
     * {@return the fence values the graph's node holds ({@code hipGraphExternalSemaphoresSignalNodeGetParams} /
     * {@code ...WaitNodeGetParams}), one per semaphore in the order of {@link #semaphores()}} Those of the node as
     * added, or as last {@linkplain #setFences set}; an exec's own values ({@link GraphExec#setFence}) are not
     * the node's.
     *
     * @throws IllegalStateException when the graph is closed, or when the runtime's node does not hold this node's
     *     semaphores in this order (a runtime or binding bug: the message says what differs)
     * @throws IllegalArgumentException when this is not an external-semaphore node
     */
    public long[] fences() {
        synchronized (graph) {
            MemorySegment node = handle();
            checkSemaphoreNode();
            int n = semaphoreArray.length;
            Backend.SemaphoreNodeParams p = graph.backend.graphSemaphoreNodeParams(isSignal(), node, n);
            if (p.count() != n) {
                throw new IllegalStateException(this + ": the runtime's node has " + p.count() + " semaphore(s), "
                        + n + " were added (a runtime or binding bug)");
            }
            if (p.semaphores().size() != n) {
                throw new IllegalStateException(this + ": the runtime's node has no semaphore or params array"
                        + " (a runtime or binding bug)");
            }
            for (int i = 0; i < n; i++) {
                long runtime = p.semaphores().get(i).address();
                if (runtime != semaphoreArray[i].handle.address()) {
                    throw new IllegalStateException(this + ": the runtime's node has semaphore 0x"
                            + Long.toHexString(runtime) + " at index " + i + ", where " + semaphoreArray[i]
                            + " was added (a runtime or binding bug)");
                }
            }
            return p.fences();
        }
    }

    /**
     * Sets the fence value of a one-semaphore node for the execs instantiated from now on (see
     * {@link #setFences}).
     *
     * @param value the fence value, &gt;= 0
     * @return this node
     * @throws IllegalStateException when the graph is closed
     * @throws IllegalArgumentException when this is not an external-semaphore node, or has several semaphores
     */
    public GraphNode setFence(long value) {
        graph.lifetime.checkOpen();
        checkOneSemaphore();
        return setFences(value);
    }

    /**
     * Sets the fence values of this semaphore node in its graph ({@code hipGraphExternalSemaphoresSignalNodeSetParams}
     * / {@code ...WaitNodeSetParams}), one per semaphore in the order of {@link #semaphores()}: the execs
     * instantiated from now on (and graphs that add this graph as a child from now on) use them; execs made before
     * keep theirs. When an exec was instantiated since the node's arrays were made, the values go into fresh arrays
     * in the graph's memory (freed with the graph), else in place; for values that change per launch, use
     * {@link GraphExec#setFences(GraphNode, long...)}. A change the runtime refuses leaves the node as it was.
     *
     * @param values the fence values, each &gt;= 0
     * @return this node
     * @throws IllegalStateException when the graph is closed
     * @throws IllegalArgumentException when this is not an external-semaphore node, or the count differs from its
     *     semaphores'
     */
    public GraphNode setFences(long... values) {
        Checks.notNull(values, "values");
        synchronized (graph) {
            MemorySegment node = handle();
            checkSemaphoreNode();
            checkFences(values);
            Backend b = graph.backend;
            boolean signal = isSignal();
            if (paramsSnapshot == graph.snapshots) {     // no exec (nor clone) points to these arrays: in place
                MemorySegment array = b.semaphoreNodeParamsArray(signal, nodeParams);
                long[] old = new long[values.length];
                b.writeFences(signal, array, values, old);
                try {
                    b.graphSetSemaphoreNode(signal, node, nodeParams);
                } catch (RuntimeException e) {
                    b.writeFences(signal, array, old, null);
                    throw e;
                }
            } else {                                     // an exec made since points to them: copy on write
                MemorySegment copy = spare != null ? spare : b.copySemaphoreNodeParams(signal, graph.nodeMemory(),
                        nodeParams);
                spare = null;
                b.writeFences(signal, b.semaphoreNodeParamsArray(signal, copy), values, null);
                try {
                    b.graphSetSemaphoreNode(signal, node, copy);
                } catch (RuntimeException e) {
                    spare = copy;                        // the runtime did not take it: the next change reuses it
                    throw e;
                }
                nodeParams = copy;
                paramsSnapshot = graph.snapshots;
            }
        }
        return this;
    }

    boolean isSemaphoreNode() {
        return type == Type.SEMAPHORE_SIGNAL || type == Type.SEMAPHORE_WAIT;
    }

    /** Refuses a node that is not an external-semaphore node. */
    void checkSemaphoreNode() {
        if (!isSemaphoreNode()) {
            throw new IllegalArgumentException(this + " is not an external-semaphore node: it has no fence value");
        }
    }

    /** Refuses a semaphore node of several semaphores, for the one-value setters. */
    void checkOneSemaphore() {
        checkSemaphoreNode();
        if (semaphoreArray.length != 1) {
            throw new IllegalArgumentException(this + " has " + semaphoreArray.length
                    + " semaphores: give one value each with setFences");
        }
    }

    /** Refuses fence values that are not one per semaphore, or negative. */
    void checkFences(long[] values) {
        int n = semaphoreArray.length;
        if (values.length != n) {
            throw new IllegalArgumentException(this + " has " + n + " semaphore(s), got " + values.length
                    + " value(s)");
        }
        for (long v : values) {
            checkFence(v);
        }
    }

    /** Refuses a negative fence value. */
    static void checkFence(long value) {
        if (value < 0) {
            throw new IllegalArgumentException("fence value must be >= 0, got " + value);
        }
    }

    /** Refuses a launch when something the node uses was released. */
    void checkUses() {
        for (NativeResource r : resources) {
            if (r.isClosed()) {
                throw new IllegalStateException(this + " uses " + r + ", which is closed");
            }
        }
        for (MemorySegment s : segments) {
            if (!s.scope().isAlive()) {
                throw new IllegalStateException(this + " uses memory that was released");
            }
        }
    }

    boolean isSignal() {
        return type == Type.SEMAPHORE_SIGNAL;
    }

    /** {@return e.g. {@code GraphNode[#0 SEMAPHORE_WAIT, 1 semaphore(s), of Graph[0x5581c2a0, 2 nodes]]}} */
    @Override
    public String toString() {
        return "GraphNode[#" + index + " " + type + (isSemaphoreNode() ? ", " + semaphores.size() + " semaphore(s)" : "")
                + ", of " + graph + "]";
    }
}
