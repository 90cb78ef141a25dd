package io.github.hipffm.internal;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.ExternalMemoryHandleType;
import io.github.hipffm.ExternalSemaphoreHandleType;
import io.github.hipffm.GraphicsResource;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.TextureDescriptor;
import io.github.hipffm.internal.Codes.Constant;
import io.github.hipffm.internal.Codes.NativeFlag;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.ToIntBiFunction;
import java.util.function.ToIntFunction;

/**
 * One platform's runtime behind the calls the idiomatic layer needs, written once for both platforms: the
 * interop calls (external memory, external semaphores, OpenGL) here, on top of the basics of {@link RuntimeCore}.
 * Structs are filled by field name from the platform's layouts, values translated through {@link Codes}.
 * Arguments are validated by the callers before they get here.
 *
 * <p>Pointers and handles travel as {@link MemorySegment}s so that FFM's liveness check refuses a closed one
 * before any native call. Returned pointers and handles are zero-length segments unless said otherwise.
 */
public final class Backend extends RuntimeCore {
    private final Struct memoryHandleDesc;
    private final Struct bufferDesc;
    private final Struct mipmappedArrayDesc;
    private final Struct semaphoreHandleDesc;
    private final SemaphoreParams signal;
    private final SemaphoreParams wait;
    private final Struct channelFormatDesc;
    private final Struct extent;
    private final Struct signalNode;
    private final Struct waitNode;
    private final Struct kernelNode;
    private final Struct memsetParams;
    private final Struct resourceDesc;
    private final Struct textureDesc;
    private final Struct allocationProp;
    private final Struct accessDesc;

    Backend(PlatformCalls calls, Path library) {
        super(calls, library);
        PlatformCalls.Layouts l = calls.layouts();
        memoryHandleDesc = new Struct(l.memoryHandleDesc());
        bufferDesc = new Struct(l.bufferDesc());
        mipmappedArrayDesc = new Struct(l.mipmappedArrayDesc());
        semaphoreHandleDesc = new Struct(l.semaphoreHandleDesc());
        signal = SemaphoreParams.signal(l.signalParams());
        wait = SemaphoreParams.wait(l.waitParams());
        channelFormatDesc = new Struct(l.channelFormatDesc());
        extent = new Struct(l.extent());
        signalNode = new Struct(l.signalNodeParams());
        waitNode = new Struct(l.waitNodeParams());
        kernelNode = new Struct(l.kernelNodeParams());
        memsetParams = new Struct(l.memsetParams());
        resourceDesc = new Struct(l.resourceDesc());
        textureDesc = new Struct(l.textureDesc());
        allocationProp = new Struct(l.memAllocationProp());
        accessDesc = new Struct(l.memAccessDesc());
    }

    // ---- external memory ------------------------------------------------------------------------------------

    /**
     * {@return whether a successful import closes the fd it was given} The CUDA runtime does (for memory and
     * semaphores); ROCm never does. hip-ffm evens this out: on success the imported object owns the fd.
     */
    public boolean importConsumesFd() {
        return calls.importConsumesFd();
    }

    /** {@return what the fd of a GPU export can be on this platform ({@link FdRule#check} refuses the rest)} */
    public FdRule fdRule() {
        return calls.fdRule();
    }

    /**
     * {@return the {@code hipExternalMemory_t} of an import ({@code hipImportExternalMemory})} Ownership of the
     * fd follows the platform ({@link #importConsumesFd()}); the caller evens that out.
     *
     * @param d what to import
     * @param fd the fd to hand the runtime (the descriptor's, or a duplicate)
     */
    public MemorySegment importExternalMemory(ExternalMemoryDescriptor d, int fd) {
        if (d.type().isFd() || d.type() == ExternalMemoryHandleType.NVSCIBUF) {
            return importExternalMemory(d, fd, Scratch.get().params(memoryHandleDesc.layout().byteSize()), null);
        }
        try (Arena a = Arena.ofConfined()) {      // Windows handles: a name to allocate
            return importExternalMemory(d, fd, a.allocate(memoryHandleDesc.layout()), a);
        }
    }

    private MemorySegment importExternalMemory(ExternalMemoryDescriptor d, int fd, MemorySegment desc, Arena a) {
        memoryHandleDesc.setInt(desc, Codes.of(platform, d.type()), "type");
        if (d.type().isFd()) {
            memoryHandleDesc.setInt(desc, fd, "handle", "fd");
        } else if (d.type() == ExternalMemoryHandleType.NVSCIBUF) {
            memoryHandleDesc.setAddress(desc, d.nvSciBufObject(), "handle", "nvSciBufObject");
        } else {
            setWin32(memoryHandleDesc, desc, a, d.win32Handle(), d.win32Name());
        }
        memoryHandleDesc.setLong(desc, d.size(), "size");
        memoryHandleDesc.setInt(desc, d.dedicated() ? Codes.of(platform, NativeFlag.EXTERNAL_MEMORY_DEDICATED) : 0,
                "flags");
        return pointerOut("hipImportExternalMemory", p -> calls.importExternalMemory(p, desc));
    }

    /** Windows names are wide strings; Windows types are refused on Linux before this is reached. */
    private static void setWin32(Struct s, MemorySegment desc, Arena a, MemorySegment handle, String name) {
        s.setAddress(desc, handle, "handle", "win32", "handle");
        s.setAddress(desc, name == null ? MemorySegment.NULL : a.allocateFrom(name, StandardCharsets.UTF_16LE),
                "handle", "win32", "name");
    }

    /** {@return a device pointer to part of external memory ({@code hipExternalMemoryGetMappedBuffer}, flags 0)} */
    public MemorySegment externalMemoryMappedBuffer(MemorySegment memory, long offset, long size) {
        MemorySegment desc = Scratch.get().params(bufferDesc.layout().byteSize());
        bufferDesc.setLong(desc, offset, "offset");
        bufferDesc.setLong(desc, size, "size");
        return pointerOut("hipExternalMemoryGetMappedBuffer", p -> calls.externalMemoryGetMappedBuffer(p, memory, desc));
    }

    /**
     * {@return a mipmapped array over external memory ({@code hipExternalMemoryGetMappedMipmappedArray})}
     *
     * @param memory the external memory
     * @param offset offset in bytes
     * @param format the element format
     * @param size the extent of level 0
     * @param hipFlags {@code hipArray*} flag bits (checked by the caller)
     * @param levels number of mip levels
     */
    public MemorySegment externalMemoryMappedMipmappedArray(MemorySegment memory, long offset, ChannelFormat format,
            Extent size, int hipFlags, int levels) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(mipmappedArrayDesc.layout());
            mipmappedArrayDesc.setLong(desc, offset, "offset");
            mipmappedArrayDesc.setInt(desc, format.x(), "formatDesc", "x");
            mipmappedArrayDesc.setInt(desc, format.y(), "formatDesc", "y");
            mipmappedArrayDesc.setInt(desc, format.z(), "formatDesc", "z");
            mipmappedArrayDesc.setInt(desc, format.w(), "formatDesc", "w");
            mipmappedArrayDesc.setInt(desc, Codes.of(platform, format.kind()), "formatDesc", "f");
            mipmappedArrayDesc.setLong(desc, size.width(), "extent", "width");
            mipmappedArrayDesc.setLong(desc, size.height(), "extent", "height");
            mipmappedArrayDesc.setLong(desc, size.depth(), "extent", "depth");
            mipmappedArrayDesc.setInt(desc, Codes.arrayFlags(platform, hipFlags), "flags");
            mipmappedArrayDesc.setInt(desc, levels, "numLevels");
            return pointerOut("hipExternalMemoryGetMappedMipmappedArray",
                    p -> calls.externalMemoryGetMappedMipmappedArray(p, memory, desc));
        }
    }

    /** {@return one level of a mipmapped array ({@code hipGetMipmappedArrayLevel})} */
    public MemorySegment mipmappedArrayLevel(MemorySegment mipmappedArray, int level) {
        return pointerOut("hipGetMipmappedArrayLevel", p -> calls.getMipmappedArrayLevel(p, mipmappedArray, level));
    }

    /** Frees a mipmapped array ({@code hipFreeMipmappedArray}). */
    public void freeMipmappedArray(MemorySegment mipmappedArray) {
        check(calls.freeMipmappedArray(mipmappedArray), "hipFreeMipmappedArray");
    }

    /** Destroys external memory ({@code hipDestroyExternalMemory}). */
    public void destroyExternalMemory(MemorySegment memory) {
        check(calls.destroyExternalMemory(memory), "hipDestroyExternalMemory");
    }

    // ---- external semaphores --------------------------------------------------------------------------------

    /**
     * {@return whether this runtime can import external semaphores at all} ROCm on Linux cannot: its
     * {@code importExtSemaphore} reaches {@code ShouldNotReachHere()} and aborts the process, so it is never
     * called there.
     */
    public boolean supportsExternalSemaphores() {
        return calls.supportsExternalSemaphores();
    }

    /**
     * {@return the {@code hipExternalSemaphore_t} of an import ({@code hipImportExternalSemaphore}, flags 0)}
     * @param d what to import
     * @param fd the fd to hand the runtime
     * @throws HipException {@link HipError#NOT_SUPPORTED} where {@link #supportsExternalSemaphores()} is false
     */
    public MemorySegment importExternalSemaphore(ExternalSemaphoreDescriptor d, int fd) {
        if (!supportsExternalSemaphores()) {
            throw new HipException(HipError.NOT_SUPPORTED, "hipImportExternalSemaphore", "the AMD HIP runtime does"
                    + " not support external semaphores on Linux (ROCm's importExtSemaphore aborts the process there),"
                    + " so hip-ffm does not call it");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(semaphoreHandleDesc.layout());
            semaphoreHandleDesc.setInt(desc, Codes.of(platform, d.type()), "type");
            if (d.type().isFd()) {
                semaphoreHandleDesc.setInt(desc, fd, "handle", "fd");
            } else if (d.type() == ExternalSemaphoreHandleType.NVSCISYNC) {
                semaphoreHandleDesc.setAddress(desc, d.nvSciSyncObject(), "handle", "nvSciSyncObj");
            } else {
                setWin32(semaphoreHandleDesc, desc, a, d.win32Handle(), d.win32Name());
            }
            return pointerOut("hipImportExternalSemaphore", p -> calls.importExternalSemaphore(p, desc));
        }
    }

    /**
     * Signals semaphores in one native call ({@code hipSignalExternalSemaphoresAsync}, params flags 0).
     *
     * @param n how many: the first {@code n} entries of each array (which may be longer, for reuse)
     * @param semaphores the handles
     * @param values fence value per semaphore
     * @param keyedMutexKeys key per semaphore (keyed-mutex types only)
     * @param stream the stream, {@code NULL} for the default stream
     */
    public void signalExternalSemaphores(int n, MemorySegment[] semaphores, long[] values, long[] keyedMutexKeys,
            MemorySegment stream) {
        Scratch s = Scratch.get();
        signal.fill(s, n, semaphores, values, keyedMutexKeys, null);
        check(calls.signalExternalSemaphoresAsync(s.batchHandles(), s.batchParams(), n, stream),
                "hipSignalExternalSemaphoresAsync");
    }

    /** Waits on semaphores in one native call, as {@link #signalExternalSemaphores}, with keyed-mutex timeouts. */
    public void waitExternalSemaphores(int n, MemorySegment[] semaphores, long[] values, long[] keyedMutexKeys,
            int[] keyedMutexTimeoutsMs, MemorySegment stream) {
        Scratch s = Scratch.get();
        wait.fill(s, n, semaphores, values, keyedMutexKeys, keyedMutexTimeoutsMs);
        check(calls.waitExternalSemaphoresAsync(s.batchHandles(), s.batchParams(), n, stream),
                "hipWaitExternalSemaphoresAsync");
    }

    /** Signals one semaphore (a batch of one, without allocating). */
    public void signalExternalSemaphore(MemorySegment semaphore, long value, MemorySegment stream) {
        Scratch s = Scratch.get();
        signal.fillOne(s, semaphore, value);
        check(calls.signalExternalSemaphoresAsync(s.handle, s.params, 1, stream), "hipSignalExternalSemaphoresAsync");
    }

    /** Waits on one semaphore (a batch of one, without allocating). */
    public void waitExternalSemaphore(MemorySegment semaphore, long value, MemorySegment stream) {
        Scratch s = Scratch.get();
        wait.fillOne(s, semaphore, value);
        check(calls.waitExternalSemaphoresAsync(s.handle, s.params, 1, stream), "hipWaitExternalSemaphoresAsync");
    }

    /** Destroys an external semaphore ({@code hipDestroyExternalSemaphore}). */
    public void destroyExternalSemaphore(MemorySegment semaphore) {
        check(calls.destroyExternalSemaphore(semaphore), "hipDestroyExternalSemaphore");
    }

    // ---- graphs ---------------------------------------------------------------------------------------------

    /** {@return a new empty graph ({@code hipGraphCreate}, flags 0)} */
    public MemorySegment graphCreate() {
        return pointerOut("hipGraphCreate", p -> calls.graphCreate(p, 0));
    }

    /** Destroys a graph and its nodes ({@code hipGraphDestroy}). */
    public void graphDestroy(MemorySegment graph) {
        check(calls.graphDestroy(graph), "hipGraphDestroy");
    }

    /**
     * {@return the node params struct of an external-semaphore node ({@code hip/cudaExternalSemaphore*NodeParams}),
     * with the handle array and params array it points to, all allocated in {@code memory}} ROCm copies the struct
     * by value, so the two arrays stay the caller's and are read whenever the node's commands are built: the
     * caller keeps {@code memory} alive until the graph and every exec made from it are destroyed.
     *
     * @param signal signal params (true) or wait params
     * @param memory where the struct and the arrays live
     * @param semaphores the handles
     * @param values fence values
     * @param keys keyed-mutex keys
     * @param timeoutsMs keyed-mutex timeouts (wait nodes), null for signal nodes
     */
    public MemorySegment semaphoreNodeParams(boolean signal, Arena memory, MemorySegment[] semaphores, long[] values,
            long[] keys, int[] timeoutsMs) {
        int n = semaphores.length;
        SemaphoreParams sp = signal ? this.signal : wait;
        MemorySegment handles = memory.allocate(ValueLayout.ADDRESS, n);
        MemorySegment params = memory.allocate(sp.size() * n, 8);
        sp.write(handles, params, n, semaphores, values, keys, signal ? null : timeoutsMs);
        Struct node = signal ? signalNode : waitNode;
        MemorySegment nodeParams = memory.allocate(node.layout());
        node.setAddress(nodeParams, handles, "extSemArray");
        node.setAddress(nodeParams, params, "paramsArray");
        node.setInt(nodeParams, n, "numExtSems");
        return nodeParams;
    }

    /**
     * {@return a copy of an external-semaphore node params struct and of its params array in {@code memory}; the
     * handle array is shared} For the exec-level parameters of one exec, which must not change the graph's node.
     */
    public MemorySegment copySemaphoreNodeParams(boolean signal, Arena memory, MemorySegment nodeParams) {
        Struct node = signal ? signalNode : waitNode;
        SemaphoreParams sp = signal ? this.signal : wait;
        MemorySegment template = nodeParams.reinterpret(node.layout().byteSize());
        int n = node.getInt(template, "numExtSems");
        MemorySegment params = memory.allocate(sp.size() * n, 8);
        params.copyFrom(node.getAddress(template, "paramsArray").reinterpret(sp.size() * n));
        MemorySegment copy = memory.allocate(node.layout());
        copy.copyFrom(template);
        node.setAddress(copy, params, "paramsArray");
        return copy;
    }

    /**
     * {@return the params array an external-semaphore node params struct points to, sized} With
     * {@link #semaphoreFenceOffset}, for setting fence values in place without allocating.
     */
    public MemorySegment semaphoreNodeParamsArray(boolean signal, MemorySegment nodeParams) {
        Struct node = signal ? signalNode : waitNode;
        SemaphoreParams sp = signal ? this.signal : wait;
        MemorySegment struct = nodeParams.reinterpret(node.layout().byteSize());
        int n = node.getInt(struct, "numExtSems");
        return node.getAddress(struct, "paramsArray").reinterpret(sp.size() * n);
    }

    /** {@return the offset of semaphore {@code index}'s fence value (a {@code long}) in a params array} */
    public long semaphoreFenceOffset(boolean signal, int index) {
        SemaphoreParams sp = signal ? this.signal : wait;
        return sp.size() * index + sp.value();
    }

    /**
     * Writes fence values into a params array ({@link #semaphoreNodeParamsArray}), one per semaphore in order.
     *
     * @param signal signal params (true) or wait params
     * @param array the params array
     * @param values the values, no more than the array holds
     * @param old where the values replaced are kept, as long as {@code values}; null: not kept
     */
    public void writeFences(boolean signal, MemorySegment array, long[] values, long[] old) {
        for (int i = 0; i < values.length; i++) {
            long offset = semaphoreFenceOffset(signal, i);
            if (old != null) {
                old[i] = array.get(ValueLayout.JAVA_LONG, offset);
            }
            array.set(ValueLayout.JAVA_LONG, offset, values[i]);
        }
    }

    /**
     * {@return a new external-semaphore node ({@code hipGraphAddExternalSemaphoresSignalNode} or
     * {@code ...WaitNode})}
     *
     * @param signal a signal node (true) or a wait node
     * @param graph the graph
     * @param dependencies the nodes it depends on (raw handles of nodes of {@code graph})
     * @param nodeParams from {@link #semaphoreNodeParams}
     */
    public MemorySegment graphAddSemaphoreNode(boolean signal, MemorySegment graph, MemorySegment[] dependencies,
            MemorySegment nodeParams) {
        int n = dependencies.length;
        MemorySegment deps = dependencyArray(dependencies);
        return signal
                ? pointerOut("hipGraphAddExternalSemaphoresSignalNode",
                        p -> calls.graphAddExternalSemaphoresSignalNode(p, graph, deps, n, nodeParams))
                : pointerOut("hipGraphAddExternalSemaphoresWaitNode",
                        p -> calls.graphAddExternalSemaphoresWaitNode(p, graph, deps, n, nodeParams));
    }

    /** {@return a new empty node ({@code hipGraphAddEmptyNode}): a join point of its dependencies} */
    public MemorySegment graphAddEmptyNode(MemorySegment graph, MemorySegment[] dependencies) {
        int n = dependencies.length;
        MemorySegment deps = dependencyArray(dependencies);
        return pointerOut("hipGraphAddEmptyNode", p -> calls.graphAddEmptyNode(p, graph, deps, n));
    }

    /** {@return a new child-graph node ({@code hipGraphAddChildGraphNode}): the runtime clones {@code child}} */
    public MemorySegment graphAddChildNode(MemorySegment graph, MemorySegment[] dependencies, MemorySegment child) {
        int n = dependencies.length;
        MemorySegment deps = dependencyArray(dependencies);
        return pointerOut("hipGraphAddChildGraphNode", p -> calls.graphAddChildGraphNode(p, graph, deps, n, child));
    }

    /** {@return a new event record node ({@code hipGraphAddEventRecordNode}) or event wait node} */
    public MemorySegment graphAddEventNode(boolean record, MemorySegment graph, MemorySegment[] dependencies,
            MemorySegment event) {
        int n = dependencies.length;
        MemorySegment deps = dependencyArray(dependencies);
        return record
                ? pointerOut("hipGraphAddEventRecordNode", p -> calls.graphAddEventRecordNode(p, graph, deps, n, event))
                : pointerOut("hipGraphAddEventWaitNode", p -> calls.graphAddEventWaitNode(p, graph, deps, n, event));
    }

    /** {@return a new 1D copy node ({@code hipGraphAddMemcpyNode1D}, {@code hipMemcpyDefault})} */
    public MemorySegment graphAddCopyNode(MemorySegment graph, MemorySegment[] dependencies, MemorySegment dst,
            MemorySegment src, long bytes) {
        int n = dependencies.length;
        MemorySegment deps = dependencyArray(dependencies);
        return pointerOut("hipGraphAddMemcpyNode1D",
                p -> calls.graphAddMemcpyNode1D(p, graph, deps, n, dst, src, bytes, memcpyDefault));
    }

    /** {@return a new 1D byte fill node ({@code hipGraphAddMemsetNode}: element size 1, height 1)} */
    public MemorySegment graphAddFillNode(MemorySegment graph, MemorySegment[] dependencies, MemorySegment dst,
            byte value, long bytes) {
        int n = dependencies.length;
        MemorySegment deps = dependencyArray(dependencies);
        MemorySegment params = Scratch.get().params(memsetParams.layout().byteSize());
        memsetParams.setAddress(params, dst, "dst");
        memsetParams.setInt(params, 1, "elementSize");
        memsetParams.setLong(params, 1, "height");
        memsetParams.setLong(params, 0, "pitch");
        memsetParams.setInt(params, value & 0xff, "value");
        memsetParams.setLong(params, bytes, "width");
        return pointerOut("hipGraphAddMemsetNode", p -> calls.graphAddMemsetNode(p, graph, deps, n, params));
    }

    /**
     * {@return a new kernel node ({@code hipGraphAddKernelNode})}
     *
     * @param function the kernel ({@code hipFunction_t}; on NVIDIA a {@code cudaKernel_t})
     * @param kernelParams the {@code void*[]} of the arguments, which must live as long as the graph
     */
    public MemorySegment graphAddKernelNode(MemorySegment graph, MemorySegment[] dependencies, MemorySegment function,
            int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes,
            MemorySegment kernelParams) {
        int n = dependencies.length;
        MemorySegment deps = dependencyArray(dependencies);
        MemorySegment params = Scratch.get().params(kernelNode.layout().byteSize());
        kernelNode.setAddress(params, function, "func");
        kernelNode.setInt(params, gridX, "gridDim", "x");
        kernelNode.setInt(params, gridY, "gridDim", "y");
        kernelNode.setInt(params, gridZ, "gridDim", "z");
        kernelNode.setInt(params, blockX, "blockDim", "x");
        kernelNode.setInt(params, blockY, "blockDim", "y");
        kernelNode.setInt(params, blockZ, "blockDim", "z");
        kernelNode.setInt(params, sharedBytes, "sharedMemBytes");
        kernelNode.setAddress(params, kernelParams, "kernelParams");
        kernelNode.setAddress(params, MemorySegment.NULL, "extra");
        return pointerOut("hipGraphAddKernelNode", p -> calls.graphAddKernelNode(p, graph, deps, n, params));
    }

    /** This thread's batch handle array with the dependencies, or NULL for none. */
    private static MemorySegment dependencyArray(MemorySegment[] dependencies) {
        if (dependencies.length == 0) {
            return MemorySegment.NULL;
        }
        MemorySegment deps = Scratch.get().batchHandles(8L * dependencies.length);
        for (int i = 0; i < dependencies.length; i++) {
            deps.setAtIndex(ValueLayout.ADDRESS, i, dependencies[i]);
        }
        return deps;
    }

    /**
     * Sets an external-semaphore node's parameters in one exec ({@code hipGraphExecExternalSemaphoresSignalNodeSetParams}
     * or {@code ...WaitNodeSetParams}), without re-instantiating.
     */
    public void graphExecSetSemaphoreNode(boolean signal, MemorySegment exec, MemorySegment node,
            MemorySegment nodeParams) {
        if (signal) {
            check(calls.graphExecExternalSemaphoresSignalNodeSetParams(exec, node, nodeParams),
                    "hipGraphExecExternalSemaphoresSignalNodeSetParams");
        } else {
            check(calls.graphExecExternalSemaphoresWaitNodeSetParams(exec, node, nodeParams),
                    "hipGraphExecExternalSemaphoresWaitNodeSetParams");
        }
    }

    /**
     * Sets an external-semaphore node's parameters in its graph ({@code hipGraphExternalSemaphoresSignalNodeSetParams}
     * or {@code ...WaitNodeSetParams}): execs instantiated afterwards use them, those made before keep theirs. ROCm
     * copies the struct by value (its arrays stay the caller's, also for the execs made before, whose nodes are
     * copies of the struct too) and casts the node without checking its kind: {@code signal} must say it.
     */
    public void graphSetSemaphoreNode(boolean signal, MemorySegment node, MemorySegment nodeParams) {
        if (signal) {
            check(calls.graphExternalSemaphoresSignalNodeSetParams(node, nodeParams),
                    "hipGraphExternalSemaphoresSignalNodeSetParams");
        } else {
            check(calls.graphExternalSemaphoresWaitNodeSetParams(node, nodeParams),
                    "hipGraphExternalSemaphoresWaitNodeSetParams");
        }
    }

    /**
     * An external-semaphore node's parameters as the runtime reports them.
     *
     * @param count the node's {@code numExtSems}
     * @param semaphores the handles of its {@code extSemArray}, in order: as many as {@code count} and the count
     *     asked for allow, none when the runtime gives no array
     * @param fences the fence values of its {@code paramsArray}, as many as {@code semaphores}
     */
    public record SemaphoreNodeParams(long count, List<MemorySegment> semaphores, long[] fences) {
    }

    /**
     * {@return an external-semaphore node's parameters as its graph holds them
     * ({@code hipGraphExternalSemaphoresSignalNodeGetParams} or {@code ...WaitNodeGetParams})} The arrays are read
     * for no more than {@code expected} semaphores, nor more than the runtime's count.
     *
     * @param signal a signal node (true) or a wait node: ROCm casts the node without checking its kind
     * @param node the node
     * @param expected how many semaphores the caller's node has
     */
    public SemaphoreNodeParams graphSemaphoreNodeParams(boolean signal, MemorySegment node, int expected) {
        Struct struct = signal ? signalNode : waitNode;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(struct.layout());
            if (signal) {
                check(calls.graphExternalSemaphoresSignalNodeGetParams(node, out),
                        "hipGraphExternalSemaphoresSignalNodeGetParams");
            } else {
                check(calls.graphExternalSemaphoresWaitNodeGetParams(node, out),
                        "hipGraphExternalSemaphoresWaitNodeGetParams");
            }
            long count = Integer.toUnsignedLong(struct.getInt(out, "numExtSems"));
            MemorySegment handles = struct.getAddress(out, "extSemArray");
            MemorySegment params = struct.getAddress(out, "paramsArray");
            int n = handles.address() == 0 || params.address() == 0 ? 0 : (int) Math.min(count, expected);
            handles = handles.reinterpret(ValueLayout.ADDRESS.byteSize() * n);
            params = params.reinterpret((signal ? this.signal : wait).size() * n);
            List<MemorySegment> semaphores = new ArrayList<>(n);
            long[] fences = new long[n];
            for (int i = 0; i < n; i++) {
                semaphores.add(handles.getAtIndex(ValueLayout.ADDRESS, i));
                fences[i] = params.get(ValueLayout.JAVA_LONG, semaphoreFenceOffset(signal, i));
            }
            return new SemaphoreNodeParams(count, List.copyOf(semaphores), fences);
        }
    }

    /** {@return an exec of a graph ({@code hipGraphInstantiate})} */
    public MemorySegment graphInstantiate(MemorySegment graph) {
        return pointerOut("hipGraphInstantiate", p -> calls.graphInstantiate(p, graph));
    }

    /** Launches an exec on a stream ({@code hipGraphLaunch}). */
    public void graphLaunch(MemorySegment exec, MemorySegment stream) {
        check(calls.graphLaunch(exec, stream), "hipGraphLaunch");
    }

    /**
     * Starts capturing a stream's work into a graph ({@code hipStreamBeginCapture}, {@code
     * hipStreamCaptureModeGlobal}).
     */
    public void streamBeginCapture(MemorySegment stream) {
        check(calls.streamBeginCapture(stream, Codes.of(platform, Constant.STREAM_CAPTURE_MODE_GLOBAL)),
                "hipStreamBeginCapture");
    }

    /** {@return the graph of a stream's capture, which ends ({@code hipStreamEndCapture})} */
    public MemorySegment streamEndCapture(MemorySegment stream) {
        return pointerOut("hipStreamEndCapture", p -> calls.streamEndCapture(stream, p));
    }

    /** The {@code hipGraphExecUpdateResult} values' meanings, by value (CUDA's are the same, plus 8). */
    private static final String[] UPDATE_RESULTS = {"success", "error", "topology changed", "node type changed",
        "function changed", "parameters changed", "not supported", "unsupported function change",
        "attributes changed"};

    /**
     * Updates an exec's parameters from a graph of the same shape ({@code hipGraphExecUpdate}).
     *
     * @throws HipException when the runtime refuses it ({@code hipErrorGraphExecUpdateFailure}), its message
     *     saying the update result (topology changed, node type changed, ...)
     */
    public void graphExecUpdate(MemorySegment exec, MemorySegment graph) {
        MemorySegment result = Scratch.get().out;
        result.set(ValueLayout.JAVA_INT, 0, 0);
        int rc = calls.graphExecUpdate(exec, graph, result);
        Releases.callEnded();
        if (rc != 0) {
            int r = result.get(ValueLayout.JAVA_INT, 0);
            throw new HipException(calls.hipCode(rc), "hipGraphExecUpdate",
                    NativeSupport.cString(calls.getErrorString(rc)) + " (update result: "
                            + (r >= 0 && r < UPDATE_RESULTS.length ? UPDATE_RESULTS[r] : String.valueOf(r)) + ")",
                    calls.nativeErrorName(rc));
        }
    }

    /** Destroys an exec ({@code hipGraphExecDestroy}). */
    public void graphExecDestroy(MemorySegment exec) {
        check(calls.graphExecDestroy(exec), "hipGraphExecDestroy");
    }

    // ---- OpenGL interop -------------------------------------------------------------------------------------

    /**
     * {@return the devices of the current GL context ({@code hipGLGetDevices}, all frames)}
     * @param max at most
     */
    public int[] glDevices(int max) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment devices = a.allocate(ValueLayout.JAVA_INT, Math.max(1, max));
            check(calls.glGetDevices(count, devices, max, Codes.of(platform, Constant.GL_DEVICE_LIST_ALL)),
                    "hipGLGetDevices");
            int n = Math.min(max, count.get(ValueLayout.JAVA_INT, 0));
            return devices.asSlice(0, 4L * n).toArray(ValueLayout.JAVA_INT);
        }
    }

    /** {@return a registered GL buffer object ({@code hipGraphicsGLRegisterBuffer})} */
    public MemorySegment glRegisterBuffer(int glBuffer, Set<GraphicsResource.Flag> flags) {
        int f = Codes.bits(platform, flags);
        return pointerOut("hipGraphicsGLRegisterBuffer", p -> calls.graphicsGLRegisterBuffer(p, glBuffer, f));
    }

    /** {@return a registered GL texture or renderbuffer ({@code hipGraphicsGLRegisterImage})} */
    public MemorySegment glRegisterImage(int glImage, int glTarget, Set<GraphicsResource.Flag> flags) {
        int f = Codes.bits(platform, flags);
        return pointerOut("hipGraphicsGLRegisterImage", p -> calls.graphicsGLRegisterImage(p, glImage, glTarget, f));
    }

    /** Maps registered resources in one call ({@code hipGraphicsMapResources}). */
    public void graphicsMap(MemorySegment[] resources, MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            check(calls.graphicsMapResources(resources.length, NativeSupport.addressArray(a, resources), stream),
                    "hipGraphicsMapResources");
        }
    }

    /** Unmaps resources in one call ({@code hipGraphicsUnmapResources}). */
    public void graphicsUnmap(MemorySegment[] resources, MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            check(calls.graphicsUnmapResources(resources.length, NativeSupport.addressArray(a, resources), stream),
                    "hipGraphicsUnmapResources");
        }
    }

    /** {@return a mapped buffer resource's memory, sized as the runtime reports, unscoped} */
    public MemorySegment graphicsMappedBuffer(MemorySegment resource) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment p = pointerOut("hipGraphicsResourceGetMappedPointer",
                    out -> calls.graphicsResourceGetMappedPointer(out, size, resource));
            return p.reinterpret(size.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /** {@return the array of a mapped image resource ({@code hipGraphicsSubResourceGetMappedArray})} */
    public MemorySegment graphicsMappedArray(MemorySegment resource, int arrayIndex, int mipLevel) {
        return pointerOut("hipGraphicsSubResourceGetMappedArray",
                p -> calls.graphicsSubResourceGetMappedArray(p, resource, arrayIndex, mipLevel));
    }

    /** Unregisters a resource ({@code hipGraphicsUnregisterResource}). */
    public void graphicsUnregister(MemorySegment resource) {
        check(calls.graphicsUnregisterResource(resource), "hipGraphicsUnregisterResource");
    }

    /** {@return an array's channel bits and extent ({@code hipArrayGetInfo})} */
    public ArrayInfo arrayInfo(MemorySegment array) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(channelFormatDesc.layout());
            MemorySegment ext = a.allocate(extent.layout());
            MemorySegment flags = a.allocate(ValueLayout.JAVA_INT);
            check(calls.arrayGetInfo(desc, ext, flags, array), "hipArrayGetInfo");
            int f = channelFormatDesc.getInt(desc, "f");
            ChannelFormat.Kind kind = null;
            for (ChannelFormat.Kind k : ChannelFormat.Kind.values()) {
                kind = Codes.of(platform, k) == f ? k : kind;
            }
            return new ArrayInfo(channelFormatDesc.getInt(desc, "x"), channelFormatDesc.getInt(desc, "y"),
                    channelFormatDesc.getInt(desc, "z"), channelFormatDesc.getInt(desc, "w"), kind,
                    new Extent(extent.getLong(ext, "width"), extent.getLong(ext, "height"),
                            extent.getLong(ext, "depth")),
                    (flags.get(ValueLayout.JAVA_INT, 0) & Codes.of(platform, NativeFlag.ARRAY_SURFACE_LOAD_STORE)) != 0);
        }
    }

    // ---- virtual memory management (hipMem*; on NVIDIA the driver API's cuMem*) -------------------------------

    /** The size of an IPC handle, memory or event ({@code HIP_IPC_HANDLE_SIZE}, CUDA's too). */
    public static final int IPC_HANDLE_SIZE = 64;

    /** Pinned device memory of {@code device}, exportable as a POSIX fd. */
    private MemorySegment allocationProp(Arena a, int device) {
        MemorySegment p = a.allocate(allocationProp.layout());
        allocationProp.setInt(p, Codes.of(platform, Codes.VmmConstant.ALLOCATION_TYPE_PINNED), "type");
        allocationProp.setInt(p, Codes.of(platform, Codes.VmmConstant.HANDLE_TYPE_POSIX_FILE_DESCRIPTOR),
                calls.requestedHandleTypesField());
        allocationProp.setInt(p, Codes.of(platform, Codes.VmmConstant.LOCATION_TYPE_DEVICE), "location", "type");
        allocationProp.setInt(p, device, "location", "id");
        return p;
    }

    private void vmmPrepare(String hipCall) {
        check(calls.vmmPrepare(), hipCall);
    }

    /**
     * {@return the minimum granularity of device memory of {@code device} ({@code hipMemGetAllocationGranularity})}
     * @param device the ordinal
     */
    public long vmmGranularity(int device) {
        vmmPrepare("hipMemGetAllocationGranularity");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_LONG);
            check(calls.memGetAllocationGranularity(out, allocationProp(a, device),
                    Codes.of(platform, Codes.VmmConstant.GRANULARITY_MINIMUM)), "hipMemGetAllocationGranularity");
            return out.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /**
     * {@return a new physical allocation of {@code bytes} (a multiple of the granularity) on {@code device},
     * exportable as a POSIX fd ({@code hipMemCreate})}
     */
    public MemorySegment vmmCreate(int device, long bytes) {
        vmmPrepare("hipMemCreate");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_LONG);
            check(calls.memCreate(out, bytes, allocationProp(a, device)), "hipMemCreate");
            return MemorySegment.ofAddress(out.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /** {@return the allocation a POSIX fd refers to ({@code hipMemImportFromShareableHandle}); the fd is left open} */
    public MemorySegment vmmImport(int fd) {
        vmmPrepare("hipMemImportFromShareableHandle");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_LONG);
            check(calls.memImportFromShareableHandle(out, fd,
                    Codes.of(platform, Codes.VmmConstant.HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)),
                    "hipMemImportFromShareableHandle");
            return MemorySegment.ofAddress(out.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /** {@return a new POSIX fd of an allocation, the caller's ({@code hipMemExportToShareableHandle}: a new fd each call)} */
    public int vmmExport(MemorySegment handle) {
        vmmPrepare("hipMemExportToShareableHandle");
        return intOut("hipMemExportToShareableHandle", out -> calls.memExportToShareableHandle(out, handle,
                Codes.of(platform, Codes.VmmConstant.HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)));
    }

    /**
     * {@return the address of {@code bytes} of an allocation mapped into a new reserved range, read-write for
     * {@code device}} Reserve ({@code hipMemAddressReserve}), map ({@code hipMemMap}), allow
     * ({@code hipMemSetAccess}); a failure undoes the steps before it.
     */
    public MemorySegment vmmMap(MemorySegment handle, int device, long bytes) {
        vmmPrepare("hipMemAddressReserve");
        MemorySegment address = pointerOut("hipMemAddressReserve", out -> calls.memAddressReserve(out, bytes, 0));
        boolean mapped = false;
        try (Arena a = Arena.ofConfined()) {
            check(calls.memMap(address, bytes, handle), "hipMemMap");
            mapped = true;
            MemorySegment desc = a.allocate(accessDesc.layout());
            accessDesc.setInt(desc, Codes.of(platform, Codes.VmmConstant.LOCATION_TYPE_DEVICE), "location", "type");
            accessDesc.setInt(desc, device, "location", "id");
            accessDesc.setInt(desc, Codes.of(platform, Codes.VmmConstant.ACCESS_FLAGS_PROT_READ_WRITE), "flags");
            check(calls.memSetAccess(address, bytes, desc), "hipMemSetAccess");
            return address;
        } catch (RuntimeException e) {
            try {
                vmmUnmap(address, bytes, mapped);
            } catch (RuntimeException undo) {
                e.addSuppressed(undo);
            }
            throw e;
        }
    }

    /** Unmaps a range {@link #vmmMap} made ({@code hipMemUnmap}) and frees it ({@code hipMemAddressFree}), both tried. */
    public void vmmUnmap(MemorySegment address, long bytes) {
        vmmUnmap(address, bytes, true);
    }

    private void vmmUnmap(MemorySegment address, long bytes, boolean mapped) {
        vmmPrepare("hipMemUnmap");
        try {
            if (mapped) {
                check(calls.memUnmap(address, bytes), "hipMemUnmap");
            }
        } finally {
            check(calls.memAddressFree(address, bytes), "hipMemAddressFree");
        }
    }

    /** Releases an allocation ({@code hipMemRelease}): its memory goes once it is unmapped too. */
    public void vmmRelease(MemorySegment handle) {
        vmmPrepare("hipMemRelease");
        check(calls.memRelease(handle), "hipMemRelease");
    }

    // ---- IPC handles ---------------------------------------------------------------------------------------------

    /** {@return the IPC handle of the start of a device allocation ({@code hipIpcGetMemHandle})} */
    public byte[] ipcMemHandle(MemorySegment pointer) {
        return ipcHandle("hipIpcGetMemHandle", out -> calls.ipcGetMemHandle(out, pointer));
    }

    /** {@return the 64 bytes an IPC handle call wrote} */
    private byte[] ipcHandle(String hipCall, ToIntFunction<MemorySegment> call) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(IPC_HANDLE_SIZE, 8);
            check(call.applyAsInt(out), hipCall);
            return out.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** {@return the pointer an open call returned for an IPC handle, passed by value} */
    private MemorySegment ipcOpen(String hipCall, byte[] handle, ToIntBiFunction<MemorySegment, MemorySegment> call) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment h = a.allocate(IPC_HANDLE_SIZE, 8).copyFrom(MemorySegment.ofArray(handle));
            return pointerOut(hipCall, out -> call.applyAsInt(out, h));
        }
    }

    /** {@return the device memory another process's IPC handle names ({@code hipIpcOpenMemHandle}, lazy peer access)} */
    public MemorySegment ipcOpenMemHandle(byte[] handle) {
        return ipcOpen("hipIpcOpenMemHandle", handle, calls::ipcOpenMemHandle);
    }

    /** Unmaps memory opened from an IPC handle ({@code hipIpcCloseMemHandle}). */
    public void ipcCloseMemHandle(MemorySegment pointer) {
        check(calls.ipcCloseMemHandle(pointer), "hipIpcCloseMemHandle");
    }

    /** {@return the IPC handle of an interprocess event ({@code hipIpcGetEventHandle})} */
    public byte[] ipcEventHandle(MemorySegment event) {
        return ipcHandle("hipIpcGetEventHandle", out -> calls.ipcGetEventHandle(out, event));
    }

    /** {@return the event another process's IPC handle names ({@code hipIpcOpenEventHandle}), destroyed as any event} */
    public MemorySegment ipcOpenEventHandle(byte[] handle) {
        return ipcOpen("hipIpcOpenEventHandle", handle, calls::ipcOpenEventHandle);
    }

    /** {@return a new event for use by other processes ({@code hipEventInterprocess | hipEventDisableTiming})} */
    public MemorySegment eventCreateInterprocess() {
        int flags = Codes.of(platform, NativeFlag.EVENT_INTERPROCESS) | Codes.of(platform, NativeFlag.EVENT_DISABLE_TIMING);
        return pointerOut("hipEventCreateWithFlags", p -> calls.eventCreateWithFlags(p, flags));
    }

    /**
     * What {@code hipArrayGetInfo} says of an array: the bits of its channels, their kind, its extent and whether
     * it may be bound as a surface.
     *
     * @param x bits of the first channel
     * @param y bits of the second channel
     * @param z bits of the third channel
     * @param w bits of the fourth channel
     * @param kind how the channels are read; null for a kind hip-ffm does not know ({@code hipChannelFormatKindNone},
     *     a compressed format)
     * @param extent the extent in elements
     * @param surfaceLoadStore whether its flags have {@code hipArraySurfaceLoadStore}
     */
    public record ArrayInfo(int x, int y, int z, int w, ChannelFormat.Kind kind, Extent extent,
            boolean surfaceLoadStore) {
        /** {@return bytes per element} */
        public int bytesPerElement() {
            return (x + y + z + w) / 8;
        }

        /** {@return the element format, or null when {@link ChannelFormat} cannot express it} */
        public ChannelFormat format() {
            try {
                return kind == null ? null : new ChannelFormat(x, y, z, w, kind);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
    }

    // ---- texture and surface objects -------------------------------------------------------------------------

    /**
     * What a texture or surface object views: one of the four kinds of {@code hipResourceDesc}. Handles and
     * pointers are scoped segments, so a released one is refused before the native call.
     */
    public sealed interface Resource {
        /** A level of a mipmapped array, or a mapped GL texture's array ({@code hipResourceTypeArray}). */
        record Array(MemorySegment array) implements Resource {
        }

        /** A whole mipmapped array ({@code hipResourceTypeMipmappedArray}). */
        record Mipmapped(MemorySegment mipmappedArray) implements Resource {
        }

        /** Linear device memory ({@code hipResourceTypeLinear}). */
        record Linear(MemorySegment memory, ChannelFormat format, long bytes) implements Resource {
        }

        /** Pitched 2D device memory ({@code hipResourceTypePitch2D}). */
        record Pitch2D(MemorySegment memory, ChannelFormat format, long width, long height, long pitchBytes)
                implements Resource {
        }
    }

    /** {@return a texture object ({@code hipCreateTextureObject}, no resource view)} */
    public MemorySegment createTextureObject(Resource resource, TextureDescriptor d) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment res = resourceDesc(a, resource);
            MemorySegment tex = a.allocate(textureDesc.layout());
            long modes = textureDesc.offset("addressMode");
            for (int i = 0; i < 3; i++) {
                tex.set(ValueLayout.JAVA_INT, modes + 4L * i, Codes.of(platform, d.addressModes().get(i)));
            }
            textureDesc.setInt(tex, Codes.of(platform, d.filter()), "filterMode");
            textureDesc.setInt(tex, Codes.of(platform, d.readMode()), "readMode");
            textureDesc.setInt(tex, d.sRGB() ? 1 : 0, "sRGB");
            long border = textureDesc.offset("borderColor");
            TextureDescriptor.BorderColor c = d.borderColor();
            float[] rgba = {c.r(), c.g(), c.b(), c.a()};
            for (int i = 0; i < 4; i++) {
                tex.set(ValueLayout.JAVA_FLOAT, border + 4L * i, rgba[i]);
            }
            textureDesc.setInt(tex, d.normalizedCoordinates() ? 1 : 0, "normalizedCoords");
            textureDesc.setInt(tex, d.maxAnisotropy(), "maxAnisotropy");
            textureDesc.setInt(tex, Codes.of(platform, d.mipmapFilter()), "mipmapFilterMode");
            tex.set(ValueLayout.JAVA_FLOAT, textureDesc.offset("mipmapLevelBias"), d.mipmapLevelBias());
            tex.set(ValueLayout.JAVA_FLOAT, textureDesc.offset("minMipmapLevelClamp"), d.minMipmapLevelClamp());
            tex.set(ValueLayout.JAVA_FLOAT, textureDesc.offset("maxMipmapLevelClamp"), d.maxMipmapLevelClamp());
            return pointerOut("hipCreateTextureObject", p -> calls.createTextureObject(p, res, tex));
        }
    }

    /** {@return a surface object over an array ({@code hipCreateSurfaceObject})} */
    public MemorySegment createSurfaceObject(MemorySegment array) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment res = resourceDesc(a, new Resource.Array(array));
            return pointerOut("hipCreateSurfaceObject", p -> calls.createSurfaceObject(p, res));
        }
    }

    /** Destroys a texture object ({@code hipDestroyTextureObject}). */
    public void destroyTextureObject(MemorySegment texture) {
        check(calls.destroyTextureObject(texture), "hipDestroyTextureObject");
    }

    /** Destroys a surface object ({@code hipDestroySurfaceObject}). */
    public void destroySurfaceObject(MemorySegment surface) {
        check(calls.destroySurfaceObject(surface), "hipDestroySurfaceObject");
    }

    /** A zeroed {@code hipResourceDesc} for {@code resource} (CUDA's {@code flags} and reserved words stay 0). */
    private MemorySegment resourceDesc(Arena a, Resource resource) {
        MemorySegment res = a.allocate(resourceDesc.layout());
        switch (resource) {
            case Resource.Array r -> {
                resourceDesc.setInt(res, Codes.of(platform, Constant.RESOURCE_TYPE_ARRAY), "resType");
                resourceDesc.setAddress(res, r.array(), "res", "array", "array");
            }
            case Resource.Mipmapped r -> {
                resourceDesc.setInt(res, Codes.of(platform, Constant.RESOURCE_TYPE_MIPMAPPED_ARRAY), "resType");
                resourceDesc.setAddress(res, r.mipmappedArray(), "res", "mipmap", "mipmap");
            }
            case Resource.Linear r -> {
                resourceDesc.setInt(res, Codes.of(platform, Constant.RESOURCE_TYPE_LINEAR), "resType");
                resourceDesc.setAddress(res, r.memory(), "res", "linear", "devPtr");
                setFormat(res, r.format(), "linear");
                resourceDesc.setLong(res, r.bytes(), "res", "linear", "sizeInBytes");
            }
            case Resource.Pitch2D r -> {
                resourceDesc.setInt(res, Codes.of(platform, Constant.RESOURCE_TYPE_PITCH2D), "resType");
                resourceDesc.setAddress(res, r.memory(), "res", "pitch2D", "devPtr");
                setFormat(res, r.format(), "pitch2D");
                resourceDesc.setLong(res, r.width(), "res", "pitch2D", "width");
                resourceDesc.setLong(res, r.height(), "res", "pitch2D", "height");
                resourceDesc.setLong(res, r.pitchBytes(), "res", "pitch2D", "pitchInBytes");
            }
        }
        return res;
    }

    private void setFormat(MemorySegment res, ChannelFormat format, String kind) {
        resourceDesc.setInt(res, format.x(), "res", kind, "desc", "x");
        resourceDesc.setInt(res, format.y(), "res", kind, "desc", "y");
        resourceDesc.setInt(res, format.z(), "res", kind, "desc", "z");
        resourceDesc.setInt(res, format.w(), "res", kind, "desc", "w");
        resourceDesc.setInt(res, Codes.of(platform, format.kind()), "res", kind, "desc", "f");
    }
}
