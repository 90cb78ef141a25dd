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
 * <p>Nodes: kernel launches ({@link #addKernel}, the arguments copied into the graph), copies ({@link #addCopy}),
 * fills ({@link #addFill}), event records and waits ({@link #addEventRecord}, {@link #addEventWait}), empty join
 * points ({@link #addEmpty}), whole graphs ({@link #addChildGraph}), and external-semaphore signal and wait nodes
 * with fence values ({@link #addSignal},
 * {@link #addWait}), whose values an exec changes per launch without re-instantiation
 * ({@link GraphExec#setFence}), and the node itself for the execs instantiated afterwards
 * ({@link GraphNode#setFences}, read back with {@link GraphNode#fences()}).
 *
 * <h2>Lifetimes</h2>
 * What the nodes point to (kernel argument buffers, and the semaphore handle arrays and params arrays of the
 * semaphore nodes: ROCm keeps the
 * node's parameters by value, so those arrays stay pointers into hip-ffm's memory, read whenever the node's
 * commands are built) is owned by the graph and freed after the graph is destroyed. Closing the graph closes its
 * execs first ({@code hipGraphExecDestroy}), then destroys the graph ({@code hipGraphDestroy}), then frees what
 * the nodes point to. After close, every method but the plain getters throws {@link IllegalStateException}. What a
 * node uses but the graph does not own (semaphores, events, a kernel's module, memory) must outlive the launches:
 * an exec launch refuses one that was released ({@link IllegalStateException}) before any native call.
 *
 * <h2>Validation</h2>
 * Before any native call: a dependency that is null, repeated, or a node of another graph (or of a closed one) is
 * refused with {@link IllegalArgumentException} naming it; so is a semaphore, recorded event, kernel or memory of
 * another device than the graph's.
 *
 * <p>Building a graph is not thread-safe in the runtimes: add nodes from one thread at a time (hip-ffm's add
 * methods, {@link #instantiate()} and a node's {@link GraphNode#fences()} and {@link GraphNode#setFences} are
 * synchronized on the graph, {@link #addChildGraph} on both graphs; the runtime's graph is not touched elsewhere). On AMD Linux no external semaphore can be
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
    private static final NativeResource[] NO_RESOURCES = {};
    private static final MemorySegment[] NO_SEGMENTS = {};

    /** What the nodes point to: freed after {@code hipGraphDestroy}, so shared (the release may run elsewhere). */
    private final Arena nodeMemory;
    /** That memory with what else must outlive this graph's destroy (the memory of the graphs it has as children). */
    private final NodeMemory memory;
    /** Guarded by {@code this}. */
    private final List<GraphNode> nodes = new ArrayList<>();
    /** Made by a stream capture: its captured nodes are the runtime's, not in {@link #nodes}. */
    private final boolean captured;
    /**
     * How often the runtime copied this graph's nodes by value, sharing their arrays (an instantiation, a clone as
     * a child graph, an exec's update from it): a semaphore node's arrays made before the latest are copied on their
     * next change ({@link GraphNode#setFences}). Guarded by {@code this}.
     */
    int snapshots;
    /** Orders the locks of two graphs ({@link #addChildGraph}). */
    private final long lockOrder = LOCK_ORDER.getAndIncrement();
    private static final java.util.concurrent.atomic.AtomicLong LOCK_ORDER = new java.util.concurrent.atomic.AtomicLong();

    private Graph(Backend backend, Lifetime lifetime, MemorySegment handle, NodeMemory memory, boolean captured) {
        super(backend, lifetime, handle);
        this.memory = memory;
        this.nodeMemory = memory.arena;
        this.captured = captured;
    }

    /**
     * A graph's node memory, counted: freed when its graph and every graph that has it as a child (whose clone of it
     * points into it: ROCm keeps semaphore node arrays by value) have been destroyed.
     */
    static final class NodeMemory {
        final Arena arena = Arena.ofShared();
        private final java.util.concurrent.atomic.AtomicInteger refs = new java.util.concurrent.atomic.AtomicInteger(1);
        /** The child graphs' memories this one's graph holds; guarded by {@code this}. */
        private final List<NodeMemory> held = new ArrayList<>();

        /** One more reference, dropped by {@link #release()}. */
        void retain() {
            refs.incrementAndGet();
        }

        void hold(NodeMemory child) {
            child.retain();
            synchronized (this) {
                held.add(child);
            }
        }

        /** Drops one reference; the last one frees the memory and lets go of the children's. */
        void release() {
            if (refs.decrementAndGet() == 0) {
                arena.close();
                List<NodeMemory> children;
                synchronized (this) {
                    children = List.copyOf(held);
                    held.clear();
                }
                for (NodeMemory c : children) {
                    c.release();
                }
            }
        }
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
        return make(device, arena, b, b::graphCreate, false);
    }

    /**
     * The graph of a stream capture that ends now ({@link Stream#endCapture}); {@code ended[0]} says whether the
     * native end was reached (else the capture goes on, and the caller ends it).
     */
    static Graph captured(Arena arena, Device device, Backend b, MemorySegment stream, boolean[] ended) {
        return make(device, arena, b, () -> {
            ended[0] = true;
            return b.streamEndCapture(stream);
        }, true);
    }

    private static Graph make(Device device, Arena arena, Backend b, java.util.function.Supplier<MemorySegment> create,
            boolean captured) {
        NodeMemory memory = new NodeMemory();
        boolean[] made = {false};
        try {
            return Lifetime.create(arena, device, "Graph", create, g -> {
                try {
                    b.graphDestroy(g);
                } finally {
                    memory.release();   // after the destroy: the runtime's nodes point into it
                }
            }, (lifetime, g) -> {
                made[0] = true;
                return new Graph(b, lifetime, g, memory, captured);
            });
        } catch (RuntimeException e) {
            if (!made[0]) {
                memory.release();
            }
            throw e;
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

    /**
     * Adds a node that does nothing ({@code hipGraphAddEmptyNode}): a join point, for dependencies on many nodes.
     *
     * @param dependencies nodes of this graph that must complete first
     * @return the node
     */
    public synchronized GraphNode addEmpty(GraphNode... dependencies) {
        MemorySegment graph = handle();
        MemorySegment[] deps = dependencies(dependencies);
        return added(backend.graphAddEmptyNode(graph, deps), GraphNode.Type.EMPTY, NO_RESOURCES, NO_SEGMENTS);
    }

    /**
     * Adds a node that records an event ({@code hipGraphAddEventRecordNode}).
     *
     * @param event an event of the graph's device
     * @param dependencies nodes of this graph that must complete first
     * @return the node
     */
    public GraphNode addEventRecord(Event event, GraphNode... dependencies) {
        return addEvent(true, event, dependencies);
    }

    /**
     * Adds a node that waits for an event ({@code hipGraphAddEventWaitNode}): recorded elsewhere, on a stream or by
     * another graph.
     *
     * @param event the event
     * @param dependencies nodes of this graph that must complete first
     * @return the node
     */
    public GraphNode addEventWait(Event event, GraphNode... dependencies) {
        return addEvent(false, event, dependencies);
    }

    private synchronized GraphNode addEvent(boolean record, Event event, GraphNode[] dependencies) {
        Checks.notNull(event, "event");
        MemorySegment graph = handle();
        MemorySegment e = event.handle();
        MemorySegment[] deps = dependencies(dependencies);
        if (record) {
            DeviceChecks.same(event.lifetime.device, lifetime.device, "the event", "the graph");
        }
        return added(backend.graphAddEventNode(record, graph, deps, e),
                record ? GraphNode.Type.EVENT_RECORD : GraphNode.Type.EVENT_WAIT, new NativeResource[] {event},
                NO_SEGMENTS);
    }

    /**
     * Adds a node that copies {@code bytes} from the start of {@code src} to the start of {@code dst}
     * ({@code hipGraphAddMemcpyNode1D}, direction from the pointers). The segments are not owned by the graph: a
     * launch refuses one that was released.
     *
     * @param dst destination (device, mapped or pinned memory)
     * @param src source
     * @param bytes how many, no more than either segment's size
     * @param dependencies nodes of this graph that must complete first
     * @return the node
     */
    public synchronized GraphNode addCopy(MemorySegment dst, MemorySegment src, long bytes, GraphNode... dependencies) {
        Memory.checkCopy(dst, src, bytes);
        MemorySegment graph = handle();
        checkAlive(dst, "dst");
        checkAlive(src, "src");
        MemorySegment[] deps = dependencies(dependencies);
        DeviceChecks.same(Segments.deviceOf(dst), lifetime.device, "the destination", "the graph");
        DeviceChecks.same(Segments.deviceOf(src), lifetime.device, "the source", "the graph");
        return added(backend.graphAddCopyNode(graph, deps, dst, src, bytes), GraphNode.Type.COPY, NO_RESOURCES,
                new MemorySegment[] {dst, src});
    }

    /**
     * Adds a node that sets every byte of {@code dst} to {@code value} ({@code hipGraphAddMemsetNode}). The segment
     * is not owned by the graph: a launch refuses it once released.
     *
     * @param dst the memory (device, mapped or pinned)
     * @param value the byte
     * @param dependencies nodes of this graph that must complete first
     * @return the node
     */
    public synchronized GraphNode addFill(MemorySegment dst, byte value, GraphNode... dependencies) {
        Checks.nativeSegment(dst, "dst");
        MemorySegment graph = handle();
        checkAlive(dst, "dst");   // its address goes into a params struct, where FFM does not check it
        MemorySegment[] deps = dependencies(dependencies);
        DeviceChecks.same(Segments.deviceOf(dst), lifetime.device, "the destination", "the graph");
        return added(backend.graphAddFillNode(graph, deps, dst, value, dst.byteSize()), GraphNode.Type.FILL,
                NO_RESOURCES, new MemorySegment[] {dst});
    }

    /**
     * Adds a node that launches a kernel ({@code hipGraphAddKernelNode}) with the arguments as they are now: they
     * are copied into memory the graph owns, so changing {@code args} later changes nothing in the graph. The
     * kernel's module and the memory the pointer arguments point to are not owned by the graph: a launch refuses
     * them once released.
     *
     * @param kernel the kernel, of a module of the graph's device
     * @param grid blocks in the grid
     * @param block threads in a block
     * @param sharedBytes dynamic shared memory per block, &gt;= 0
     * @param args arguments from the kernel's {@link Kernel#newArgs}, all set
     * @param dependencies nodes of this graph that must complete first
     * @return the node
     */
    public synchronized GraphNode addKernel(Kernel kernel, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args,
            GraphNode... dependencies) {
        Checks.notNull(kernel, "kernel");
        Checks.notNull(grid, "grid");
        Checks.notNull(block, "block");
        Checks.notNull(args, "args");
        if (args.kernel() != kernel) {
            throw new IllegalArgumentException("arguments are for kernel " + args.kernel().name() + ", not "
                    + kernel.name());
        }
        if (sharedBytes < 0) {
            throw new IllegalArgumentException("shared memory must be >= 0 bytes, got " + sharedBytes);
        }
        MemorySegment graph = handle();
        MemorySegment function = kernel.function();              // the module closed: IllegalStateException
        MemorySegment[] deps = dependencies(dependencies);
        DeviceChecks.same(kernel.module().device(), lifetime.device, "kernel " + kernel.name() + " (its module)",
                "the graph");
        Device[] devices = args.pointerDevices();
        for (int i = 0; i < devices.length; i++) {
            DeviceChecks.same(devices[i], lifetime.device, "kernel " + kernel.name() + ": argument " + i, "the graph");
        }
        MemorySegment params = args.copyInto(nodeMemory);         // unset or released arguments: refused
        MemorySegment raw = backend.graphAddKernelNode(graph, deps, function, grid.x(), grid.y(), grid.z(), block.x(),
                block.y(), block.z(), sharedBytes, params);
        return added(raw, GraphNode.Type.KERNEL, new NativeResource[] {kernel.module()},
                args.pointerSegments().toArray(MemorySegment[]::new));
    }

    private static void checkAlive(MemorySegment segment, String what) {
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException(what + " was released");
        }
    }

    /**
     * Adds a node that runs a whole graph ({@code hipGraphAddChildGraphNode}). The runtime clones {@code child} now:
     * nodes added to it later are not part of this node. What the child's nodes point to stays alive as long as this
     * graph, also when the child is closed first; what they use (semaphores, events, modules, memory) must outlive
     * this graph's launches as the child's own.
     *
     * @param child another graph, of the same device
     * @param dependencies nodes of this graph that must complete first
     * @return the node
     */
    public GraphNode addChildGraph(Graph child, GraphNode... dependencies) {
        Checks.notNull(child, "child");
        if (child == this) {
            throw new IllegalArgumentException("a graph cannot be its own child");
        }
        Graph first = lockOrder < child.lockOrder ? this : child;
        synchronized (first) {               // both graphs: the runtime reads the child (its nodes' arrays too)
            synchronized (first == this ? child : this) {
                return addChild(child, dependencies);
            }
        }
    }

    /** {@link #addChildGraph}, both graphs' locks held. */
    private GraphNode addChild(Graph child, GraphNode[] dependencies) {
        List<GraphNode> childNodes = child.nodes();
        MemorySegment graph = handle();
        MemorySegment c = child.handle();
        MemorySegment[] deps = dependencies(dependencies);
        DeviceChecks.same(child.lifetime.device, lifetime.device, "the child graph", "the graph");
        List<NativeResource> resources = new ArrayList<>();
        List<MemorySegment> segments = new ArrayList<>();
        for (GraphNode n : childNodes) {
            resources.addAll(List.of(n.resources));
            segments.addAll(List.of(n.segments));
        }
        MemorySegment raw = backend.graphAddChildNode(graph, deps, c);
        child.snapshots++;                   // the clone points to the child's semaphore nodes' arrays
        memory.hold(child.memory);
        return added(raw, GraphNode.Type.CHILD_GRAPH, resources.toArray(NativeResource[]::new),
                segments.toArray(MemorySegment[]::new));
    }

    /** The node just added. Lock held. */
    private GraphNode added(MemorySegment raw, GraphNode.Type type, NativeResource[] resources, MemorySegment[] segments) {
        GraphNode node = new GraphNode(this, raw, type, List.of(), resources, segments, null, nodes.size());
        nodes.add(node);
        return node;
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
                List.copyOf(semaphores), semaphores.toArray(NativeResource[]::new), NO_SEGMENTS, params, nodes.size());
        node.paramsSnapshot = snapshots;
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

    /** {@return the nodes added so far, in the order they were added (not those of a stream capture)} */
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
        snapshots++;                                          // the exec's nodes point to the nodes' arrays
        List<NodeMemory> held = new java.util.concurrent.CopyOnWriteArrayList<>();   // the update sources' memory
        return Lifetime.create(lifetime, "GraphExec", () -> backend.graphInstantiate(graph), e -> {
            try {
                backend.graphExecDestroy(e);
            } finally {
                for (NodeMemory m : held) {
                    m.release();   // after the destroy: the exec's nodes may point into it
                }
            }
        }, (l, e) -> new GraphExec(backend, l, e, this, now, held));
    }

    /** Counts a copy of the nodes by value made elsewhere ({@link GraphExec#update}). */
    synchronized void snapshotTaken() {
        snapshots++;
    }

    /** The counted node memory (an exec updated from this graph holds it until the exec is destroyed). */
    NodeMemory memory() {
        return memory;
    }

    boolean isCaptured() {
        return captured;
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
        return address(handle) + (captured ? ", captured, " + n + " added" : ", " + n) + (n == 1 ? " node" : " nodes");
    }
}
