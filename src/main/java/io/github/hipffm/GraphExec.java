package io.github.hipffm;

import io.github.hipffm.internal.Backend;

import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * An instantiated {@link Graph} ({@code hipGraphExec_t}), made by {@link Graph#instantiate()}: launched on a stream
 * as one unit ({@link #launch(Stream)}), as often as needed. A child of its graph: closing the graph (or its arena)
 * closes the exec first, so it never outlives the graph; it can be closed earlier with {@link #close()}. After close
 * every method but the getters throws {@link IllegalStateException} before any native call.
 *
 * <p>The fence values of its external-semaphore nodes change per launch without re-instantiation
 * ({@link #setFence(GraphNode, long)}, {@link #setFences(GraphNode, long...)}: the exec-level
 * {@code hipGraphExecExternalSemaphoresSignalNodeSetParams} / {@code ...WaitNodeSetParams}); they change this exec
 * only, not the graph or its other execs. The exec's copies of the node parameters live in the graph's memory, so
 * they outlast the exec's destroy.
 */
public final class GraphExec extends NativeResource {
    private final Graph graph;
    /** The graph's nodes when this exec was made. */
    private final List<GraphNode> nodes;
    /** This exec's own node params struct per semaphore node, made at its first change; guarded by {@code this}. */
    private final Map<GraphNode, MemorySegment> params = new IdentityHashMap<>();

    GraphExec(Backend backend, Lifetime lifetime, MemorySegment handle, Graph graph, List<GraphNode> nodes) {
        super(backend, lifetime, handle);
        this.graph = graph;
        this.nodes = nodes;
    }

    /** {@return the graph it was made from} */
    public Graph graph() {
        return graph;
    }

    /**
     * Launches the graph on a stream ({@code hipGraphLaunch}), with the fence values set so far.
     *
     * @param stream a stream of the graph's device
     * @throws IllegalStateException when this exec, the stream or a semaphore one of its nodes uses is closed
     */
    public void launch(Stream stream) {
        Checks.notNull(stream, "stream");
        MemorySegment exec = handle();
        MemorySegment s = stream.handle();
        DeviceChecks.sameDevice(lifetime.device, stream, "the graph");
        for (GraphNode node : nodes) {
            for (ExternalSemaphore semaphore : node.semaphores) {
                if (semaphore.isClosed()) {
                    throw new IllegalStateException(node + " uses " + semaphore + ", which is closed");
                }
            }
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
        if (node.semaphores.size() != 1) {
            throw new IllegalArgumentException(node + " has " + node.semaphores.size()
                    + " semaphores: give one value each with setFences");
        }
        return set(node, new long[] {value});
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
        if (values.length != node.semaphores.size()) {
            throw new IllegalArgumentException(node + " has " + node.semaphores.size() + " semaphore(s), got "
                    + values.length + " value(s)");
        }
        return set(node, values.clone());
    }

    /** Refuses a null node, then (this exec closed: {@link IllegalStateException}) a node not of this exec. */
    private void checkNode(GraphNode node) {
        Checks.notNull(node, "node");
        lifetime.checkOpen();
        if (node.graph != graph) {
            throw new IllegalArgumentException(node + " is a node of " + (node.graph.isClosed() ? "a closed graph"
                    : "another graph") + ", not of this exec's " + graph);
        }
        if (!nodes.contains(node)) {
            throw new IllegalArgumentException(node + " was added after this exec was instantiated");
        }
    }

    /** Writes the values into this exec's params (restored if the runtime refuses them) and passes them on. */
    private synchronized GraphExec set(GraphNode node, long[] values) {
        for (long v : values) {
            if (v < 0) {
                throw new IllegalArgumentException("fence value must be >= 0, got " + v);
            }
        }
        MemorySegment exec = handle();
        graph.handle();   // open while this exec is; the node memory with it
        boolean signal = node.isSignal();
        MemorySegment p = params.get(node);
        if (p == null) {
            p = backend.copySemaphoreNodeParams(signal, graph.nodeMemory(), node.nodeParams);
            params.put(node, p);
        }
        long[] old = backend.semaphoreNodeFences(signal, p);
        for (int i = 0; i < values.length; i++) {
            backend.setSemaphoreNodeFence(signal, p, i, values[i]);
        }
        try {
            backend.graphExecSetSemaphoreNode(signal, exec, node.raw, p);
        } catch (RuntimeException e) {
            for (int i = 0; i < old.length; i++) {
                backend.setSemaphoreNodeFence(signal, p, i, old[i]);   // ROCm reads these arrays at launch
            }
            throw e;
        }
        return this;
    }

    @Override
    String describe() {
        return address(handle) + ", of Graph[" + address(graph.handle) + "]";
    }
}
