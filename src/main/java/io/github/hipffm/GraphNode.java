package io.github.hipffm;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A node of a {@link Graph} ({@code hipGraphNode_t}), returned by the graph's {@code add...} methods: the handle
 * to give as a dependency of later nodes of the same graph, and to an exec's
 * {@link GraphExec#setFence(GraphNode, long) setFence}. It lives as long as its graph: once the graph is closed,
 * {@link #handle()} throws {@link IllegalStateException} and giving the node as a dependency or to an exec is
 * refused with {@link IllegalArgumentException}.
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
    /** The node params struct the graph's node was made from (in the graph's node memory). */
    final MemorySegment nodeParams;
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

    boolean isSemaphoreNode() {
        return type == Type.SEMAPHORE_SIGNAL || type == Type.SEMAPHORE_WAIT;
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
