package io.github.hipffm;

import io.github.hipffm.internal.Backend;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * An instantiated {@link Graph} ({@code hipGraphExec_t}), made by {@link Graph#instantiate()}: launched on a stream
 * as one unit ({@link #launch(Stream)}), as often as needed. A child of its graph: closing the graph (or its arena)
 * closes the exec first, so it never outlives the graph; it can be closed earlier with {@link #close()}. After close
 * every method but the getters throws {@link IllegalStateException} before any native call.
 *
 * <p>The fence values of its external-semaphore nodes change per launch without re-instantiation
 * ({@link #setFence(GraphNode, long)}, {@link #setFences(GraphNode, long...)}: the exec-level
 * {@code hipGraphExecExternalSemaphoresSignalNodeSetParams} / {@code ...WaitNodeSetParams}); they change this exec
 * only, not the graph or its other execs. The other way round, a node-level change ({@link GraphNode#setFences})
 * reaches the execs instantiated after it, not this one if it was made before. The exec's copies of the node parameters live in the graph's memory (ROCm
 * keeps pointers to them), so they outlast the exec's destroy. A change the runtime refuses leaves the exec's
 * values as they were. Once a node's copy exists (its first change), {@code launch} and {@code setFence} allocate
 * nothing on the Java heap.
 */
public final class GraphExec extends NativeResource {
    private final Graph graph;
    /** The graph's nodes when this exec was made, by {@link GraphNode#index}. */
    private final GraphNode[] nodes;
    /** This exec's own parameters per semaphore node, made at its first change; guarded by {@code this}. */
    private final NodeParams[] params;
    /** The nodes whose uses a launch checks: {@link #nodes}, or those of the graph of the latest update. */
    private volatile GraphNode[] uses;

    /**
     * One node's parameters in this exec.
     *
     * @param nodeParams the node params struct passed to the runtime
     * @param array the params array it points to, whose fence values are set in place
     * @param old room to keep the values a change replaces, restored if the runtime refuses it
     */
    private record NodeParams(MemorySegment nodeParams, MemorySegment array, long[] old) {
    }

    /** The node memory of the graphs this exec was updated from, released after its destroy. */
    private final List<Graph.NodeMemory> held;

    GraphExec(Backend backend, Lifetime lifetime, MemorySegment handle, Graph graph, List<GraphNode> nodes,
            List<Graph.NodeMemory> held) {
        super(backend, lifetime, handle);
        this.held = held;
        this.graph = graph;
        this.nodes = nodes.toArray(GraphNode[]::new);
        this.params = new NodeParams[this.nodes.length];
        this.uses = this.nodes;
    }

    /** {@return the graph it was made from} */
    public Graph graph() {
        return graph;
    }

    /**
     * Launches the graph on a stream ({@code hipGraphLaunch}), with the fence values set so far.
     *
     * @param stream a stream of the graph's device
     * @throws IllegalStateException when this exec or the stream is closed, or something one of its nodes uses (a
     *     semaphore, an event, a kernel's module, memory) was released
     */
    public void launch(Stream stream) {
        Checks.notNull(stream, "stream");
        MemorySegment exec = handle();
        MemorySegment s = stream.handle();
        DeviceChecks.sameDevice(lifetime.device, stream, "the graph");
        for (GraphNode node : uses) {
            node.checkUses();
        }
        backend.graphLaunch(exec, s);
    }

    /**
     * Sets the fence value of a one-semaphore node for this exec's later launches.
     *
     * @param node a semaphore node of the graph, made before this exec
     * @param value the fence value, &gt;= 0
     * @return this exec
     */
    public GraphExec setFence(GraphNode node, long value) {
        checkNode(node);
        node.checkOneSemaphore();
        GraphNode.checkFence(value);
        synchronized (this) {
            MemorySegment exec = handle();
            boolean signal = node.isSignal();
            NodeParams p = params(node);
            long offset = backend.semaphoreFenceOffset(signal, 0);
            long old = p.array.get(ValueLayout.JAVA_LONG, offset);
            p.array.set(ValueLayout.JAVA_LONG, offset, value);
            try {
                backend.graphExecSetSemaphoreNode(signal, exec, node.raw, p.nodeParams);
            } catch (RuntimeException e) {
                p.array.set(ValueLayout.JAVA_LONG, offset, old);   // ROCm reads this array when it launches
                throw e;
            }
        }
        return this;
    }

    /**
     * Sets the fence values of a semaphore node for this exec's later launches, one per semaphore in the order of
     * {@link GraphNode#semaphores()}.
     *
     * @param node a semaphore node of the graph, made before this exec
     * @param values the fence values, each &gt;= 0
     * @return this exec
     */
    public GraphExec setFences(GraphNode node, long... values) {
        checkNode(node);
        Checks.notNull(values, "values");
        node.checkFences(values);
        synchronized (this) {
            MemorySegment exec = handle();
            boolean signal = node.isSignal();
            NodeParams p = params(node);
            backend.writeFences(signal, p.array, values, p.old);
            try {
                backend.graphExecSetSemaphoreNode(signal, exec, node.raw, p.nodeParams);
            } catch (RuntimeException e) {
                backend.writeFences(signal, p.array, p.old, null);
                throw e;
            }
        }
        return this;
    }

    /**
     * Updates this exec from {@code source}, a graph of the same shape (the same kinds of nodes added in the same
     * order with the same dependencies), without re-instantiating ({@code hipGraphExecUpdate}): the kernels'
     * arguments, the copies' and fills' memory, the events and the child graphs of its nodes replace this exec's.
     * The semaphore nodes' handles and fence values are then set at exec level from {@code source}'s nodes
     * ({@code hipGraphExecExternalSemaphores*NodeSetParams}: ROCm's update is not known to carry them), so they
     * change on both platforms. The nodes keep their identity: {@link #setFence} still takes this exec's graph's
     * nodes. What {@code source}'s nodes point to is kept alive as long as this exec; a launch then checks
     * what {@code source}'s nodes use.
     *
     * @param source a graph of the same shape and device (this exec's own graph too)
     * @return this exec
     * @throws IllegalArgumentException when the shapes differ as hip-ffm sees them (the node count, a node's kind or
     *     semaphore count),
     *     before any native call
     * @throws HipException {@code hipErrorGraphExecUpdateFailure} when the runtime refuses the update, its message
     *     saying why (topology changed, ...); this exec is then as it was
     */
    public GraphExec update(Graph source) {
        Checks.notNull(source, "source");
        MemorySegment exec = handle();
        MemorySegment src = source.handle();
        DeviceChecks.same(source.lifetime.device, lifetime.device, "the source graph", "this exec");
        List<GraphNode> fresh = source.nodes();
        if (!source.isCaptured() && !graph.isCaptured()) {
            if (fresh.size() != nodes.length) {
                throw new IllegalArgumentException(source + " has " + fresh.size() + " node(s), this exec's graph "
                        + nodes.length + ": not the same shape");
            }
            for (int i = 0; i < nodes.length; i++) {
                if (fresh.get(i).type != nodes[i].type
                        || fresh.get(i).semaphoreArray.length != nodes[i].semaphoreArray.length) {
                    throw new IllegalArgumentException("node #" + i + " is " + fresh.get(i) + " in the source, "
                            + nodes[i] + " in this exec's graph: not the same shape");
                }
            }
        }
        synchronized (this) {
            synchronized (source) {
                backend.graphExecUpdate(exec, src);
                source.snapshotTaken();   // this exec may point to its nodes' arrays now: their next change copies
            }
            if (source != graph) {
                Graph.NodeMemory m = source.memory();      // the runtime's nodes may point into it now
                m.retain();
                held.add(m);
            }
            GraphNode[] checked = fresh.size() == nodes.length ? fresh.toArray(GraphNode[]::new) : nodes;
            uses = checked;
            for (int i = 0; i < nodes.length && checked != nodes; i++) {
                GraphNode node = nodes[i];
                if (node.isSemaphoreNode()) {
                    boolean signal = node.isSignal();
                    MemorySegment copy = backend.copySemaphoreNodeParams(signal, graph.nodeMemory(),
                            checked[i].nodeParams);
                    NodeParams p = new NodeParams(copy, backend.semaphoreNodeParamsArray(signal, copy),
                            new long[checked[i].semaphoreArray.length]);
                    backend.graphExecSetSemaphoreNode(signal, exec, node.raw, p.nodeParams);
                    params[i] = p;
                }
            }
        }
        return this;
    }

    /** This exec's parameters of a node, copied from the graph's node at the first change. Lock held. */
    private NodeParams params(GraphNode node) {
        NodeParams p = params[node.index];
        if (p == null) {
            boolean signal = node.isSignal();
            MemorySegment copy = backend.copySemaphoreNodeParams(signal, graph.nodeMemory(), node.nodeParams);
            p = new NodeParams(copy, backend.semaphoreNodeParamsArray(signal, copy), new long[node.semaphoreArray.length]);
            params[node.index] = p;
        }
        return p;
    }

    /** Refuses a null node, then (this exec closed: {@link IllegalStateException}) a node not of this exec. */
    private void checkNode(GraphNode node) {
        Checks.notNull(node, "node");
        lifetime.checkOpen();
        if (node.graph != graph) {
            throw new IllegalArgumentException(node + " is a node of " + (node.graph.isClosed() ? "a closed graph"
                    : "another graph") + ", not of this exec's " + graph);
        }
        if (node.index >= nodes.length) {
            throw new IllegalArgumentException(node + " was added after this exec was instantiated");
        }
        node.checkSemaphoreNode();
    }

    @Override
    String describe() {
        return address(handle) + ", of Graph[" + address(graph.handle) + "]";
    }
}
