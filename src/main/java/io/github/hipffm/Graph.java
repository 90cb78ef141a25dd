package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A graph of GPU work ({@code hipGraph_t}) built node by node, each node with the nodes it depends on given when
 * it is added; {@link #instantiate()} makes a {@link GraphExec} that launches the whole graph on a stream in one
 * call, again and again. Owned by an {@link Arena} like {@link Stream}.
 *
 * <p>Nodes: external-semaphore signal and wait nodes with fence values ({@link #addSignal}, {@link #addWait}),
 * whose values an exec changes per launch without re-instantiation ({@link GraphExec#setFence}).
 *
 * <h2>Lifetimes</h2>
 * What the nodes point to (the semaphore handle arrays and params arrays of the semaphore nodes: ROCm keeps the
 * node's parameters by value, so those arrays stay pointers into hip-ffm's memory, read whenever the node's
 * commands are built) is owned by the graph and freed after the graph is destroyed. Closing the graph closes its
 * execs first ({@code hipGraphExecDestroy}), then destroys the graph ({@code hipGraphDestroy}), then frees what
 * the nodes point to. After close, every method but the plain getters throws {@link IllegalStateException}. The
 * semaphores a node uses are not owned by the graph: an exec launch refuses one that was closed
 * ({@link IllegalStateException}) before any native call.
 *
 * <h2>Validation</h2>
 * Before any native call: a dependency that is null, repeated, or a node of another graph (or of a closed one) is
 * refused with {@link IllegalArgumentException} naming it; so is a semaphore of another device than the graph's.
 *
 * <p>Building a graph is not thread-safe in the runtimes: add nodes from one thread at a time (hip-ffm's add
 * methods are synchronized, the runtime's graph is not touched elsewhere). On AMD Linux no external semaphore can be
 * imported, so semaphore nodes exist on NVIDIA only there.
 *
 * {@snippet :
 * Graph graph = Graph.create(arena);
 * GraphNode acquire = graph.addWait(vulkanDone, 0);              // wait for Vulkan's frame
 * GraphNode release = graph.addSignal(hipDone, 0, acquire);      // then tell Vulkan
 * GraphExec exec = graph.instantiate();
 * for (long frame = 1; frame <= frames; frame++) {
 *     exec.setFence(acquire, frame).setFence(release, frame).launch(stream);
 * }
 * }
 */
public final class Graph extends NativeResource {
    /** What the nodes point to: freed after {@code hipGraphDestroy}, so shared (the release may run elsewhere). */
    private final Arena nodeMemory;
    /** Guarded by {@code this}. */
    private final List<GraphNode> nodes = new ArrayList<>();

    private Graph(Backend backend, Lifetime lifetime, MemorySegment handle, Arena nodeMemory) {
        super(backend, lifetime, handle);
        this.nodeMemory = nodeMemory;
    }

    /**
     * {@return a new empty graph on the calling thread's current device, owned by {@code arena}}
     * @param arena the owner
     */
    public static Graph create(Arena arena) {
        Checks.notNull(arena, "arena");
        return make(null, arena);
    }

    /**
     * {@return a new empty graph of {@code device}, owned by {@code arena}} Its nodes use that device's resources and
     * its execs launch on that device's streams.
     * @param device the device
     * @param arena the owner
     */
    public static Graph create(Device device, Arena arena) {
        Checks.notNull(device, "device");
        Checks.notNull(arena, "arena");
        return make(device, arena);
    }

    private static Graph make(Device device, Arena arena) {
        Backend b = Runtimes.current();
        Arena memory = Arena.ofShared();
        try {
            return Lifetime.create(arena, device, "Graph", b::graphCreate, g -> {
                try {
                    b.graphDestroy(g);
                } finally {
                    closeMemory(memory);   // after the destroy: the runtime's nodes point into it
                }
            }, (lifetime, g) -> new Graph(b, lifetime, g, memory));
        } catch (RuntimeException e) {
            closeMemory(memory);
            throw e;
        }
    }

    private static void closeMemory(Arena memory) {
        if (memory.scope().isAlive()) {
            memory.close();
        }
    }

    /**
     * Adds a node that signals one external semaphore with a fence value.
     *
     * @param semaphore the semaphore
     * @param value the fence value (timeline semaphores; binary semaphores ignore it), &gt;= 0
     * @param dependencies nodes of this graph that must complete first
     * @return the node
     */
    public GraphNode addSignal(ExternalSemaphore semaphore, long value, GraphNode... dependencies) {
        return addSignal(List.of(ExternalSemaphore.Signal.of(semaphore, value)), dependencies);
    }

    /**
     * Adds a node that signals several external semaphores ({@code hipGraphAddExternalSemaphoresSignalNode}).
     *
     * @param signals one per semaphore, non-empty
     * @param dependencies nodes of this graph that must complete first
     * @return the node
     */
    public GraphNode addSignal(List<ExternalSemaphore.Signal> signals, GraphNode... dependencies) {
        Checks.notNull(signals, "signals");
        int n = signals.size();
        MemorySegment[] handles = new MemorySegment[n];
        long[] values = new long[n];
        long[] keys = new long[n];
        List<ExternalSemaphore> used = new ArrayList<>(n);
        checkNotEmpty(n, "signals");
        for (int i = 0; i < n; i++) {
            ExternalSemaphore.Signal s = signals.get(i);
            if (s == null) {
                throw new IllegalArgumentException("signals[" + i + "] must not be null");
            }
            used.add(s.semaphore());
            values[i] = s.value();
            keys[i] = s.keyedMutexKey();
        }
        return addSemaphoreNode(true, used, handles, values, keys, null, dependencies);
    }

    /**
     * Adds a node that waits for one external semaphore to reach a fence value.
     *
     * @param semaphore the semaphore
     * @param value the fence value to reach (timeline semaphores; binary semaphores ignore it), &gt;= 0
     * @param dependencies nodes of this graph that must complete first
     * @return the node
     */
    public GraphNode addWait(ExternalSemaphore semaphore, long value, GraphNode... dependencies) {
        return addWait(List.of(ExternalSemaphore.Wait.of(semaphore, value)), dependencies);
    }

    /**
     * Adds a node that waits on several external semaphores ({@code hipGraphAddExternalSemaphoresWaitNode}).
     *
     * @param waits one per semaphore, non-empty
     * @param dependencies nodes of this graph that must complete first
     * @return the node
     */
    public GraphNode addWait(List<ExternalSemaphore.Wait> waits, GraphNode... dependencies) {
        Checks.notNull(waits, "waits");
        int n = waits.size();
        MemorySegment[] handles = new MemorySegment[n];
        long[] values = new long[n];
        long[] keys = new long[n];
        int[] timeouts = new int[n];
        List<ExternalSemaphore> used = new ArrayList<>(n);
        checkNotEmpty(n, "waits");
        for (int i = 0; i < n; i++) {
            ExternalSemaphore.Wait w = waits.get(i);
            if (w == null) {
                throw new IllegalArgumentException("waits[" + i + "] must not be null");
            }
            used.add(w.semaphore());
            values[i] = w.value();
            keys[i] = w.keyedMutexKey();
            timeouts[i] = w.keyedMutexTimeoutMs();
        }
        return addSemaphoreNode(false, used, handles, values, keys, timeouts, dependencies);
    }

    private static void checkNotEmpty(int n, String what) {
        if (n == 0) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
    }

    private synchronized GraphNode addSemaphoreNode(boolean signal, List<ExternalSemaphore> semaphores,
            MemorySegment[] handles, long[] values, long[] keys, int[] timeouts, GraphNode[] dependencies) {
        MemorySegment graph = handle();                       // closed: IllegalStateException
        MemorySegment[] deps = dependencies(dependencies);
        for (int i = 0; i < handles.length; i++) {
            ExternalSemaphore s = semaphores.get(i);
            handles[i] = s.handle();                          // closed: IllegalStateException
            DeviceChecks.same(s.lifetime.device, lifetime.device, "a semaphore of the node", "the graph");
        }
        MemorySegment params = backend.semaphoreNodeParams(signal, nodeMemory, handles, values, keys, timeouts);
        MemorySegment raw = backend.graphAddSemaphoreNode(signal, graph, deps, params);
        GraphNode node = new GraphNode(this, raw, signal ? GraphNode.Type.SEMAPHORE_SIGNAL : GraphNode.Type.SEMAPHORE_WAIT,
                List.copyOf(semaphores), params, nodes.size());
        nodes.add(node);
        return node;
    }

    /** The raw handles of the dependencies, after refusing null, repeated and foreign ones. */
    private MemorySegment[] dependencies(GraphNode[] dependencies) {
        Checks.notNull(dependencies, "dependencies");
        MemorySegment[] raw = new MemorySegment[dependencies.length];
        for (int i = 0; i < dependencies.length; i++) {
            GraphNode d = dependencies[i];
            if (d == null) {
                throw new IllegalArgumentException("dependencies[" + i + "] must not be null");
            }
            if (d.graph != this) {
                throw new IllegalArgumentException("dependencies[" + i + "], " + d + ", is a node of "
                        + (d.graph.isClosed() ? "a closed graph" : "another graph") + ", not of " + this);
            }
            for (int j = 0; j < i; j++) {
                if (dependencies[j] == d) {
                    throw new IllegalArgumentException("dependencies[" + i + "], " + d + ", is given twice");
                }
            }
            raw[i] = d.raw;
        }
        return raw;
    }

    /** {@return the nodes added so far, in the order they were added} */
    public synchronized List<GraphNode> nodes() {
        return List.copyOf(nodes);
    }

    /**
     * {@return a new exec of the graph as it is now ({@code hipGraphInstantiate}), closed with the graph at the
     * latest} Nodes added later are not in it.
     */
    public synchronized GraphExec instantiate() {
        MemorySegment graph = handle();
        List<GraphNode> now = List.copyOf(nodes);
        return Lifetime.create(lifetime, "GraphExec", () -> backend.graphInstantiate(graph), backend::graphExecDestroy,
                (l, e) -> new GraphExec(backend, l, e, this, now));
    }

    /** The memory of what nodes and execs point to: freed after the graph's destroy. */
    Arena nodeMemory() {
        return nodeMemory;
    }

    @Override
    String describe() {
        int n;
        synchronized (this) {
            n = nodes.size();
        }
        return address(handle) + ", " + n + (n == 1 ? " node" : " nodes");
    }
}
