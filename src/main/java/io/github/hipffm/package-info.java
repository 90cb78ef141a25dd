/**
 * hip-ffm: HIP's external resource interoperability API for Java.
 *
 * <h2>Import, use, release</h2>
 * Another API (Vulkan, OpenGL, CUDA, another process) exports a GPU resource as a file descriptor; hip-ffm
 * imports it, HIP works on it, and the import is released:
 * <ol>
 *   <li><b>Import</b>: {@link io.github.hipffm.ExternalMemory#importMemory ExternalMemory.importMemory} or
 *       {@link io.github.hipffm.ExternalSemaphore#importSemaphore ExternalSemaphore.importSemaphore}, in an
 *       {@link java.lang.foreign.Arena}, from a descriptor that says what the handle is
 *       ({@link io.github.hipffm.ExternalMemoryDescriptor#opaqueFd opaqueFd(fd, size)}, ...).</li>
 *   <li><b>Use</b>: map the memory ({@link io.github.hipffm.ExternalMemory#mapBuffer mapBuffer} gives a device
 *       {@link java.lang.foreign.MemorySegment}, {@link io.github.hipffm.ExternalMemory#mapMipmappedArray
 *       mapMipmappedArray} an image); copy ({@link io.github.hipffm.Memory}), launch kernels
 *       ({@link io.github.hipffm.HipModule}, {@link io.github.hipffm.Kernel}), order the work against the other
 *       API with {@link io.github.hipffm.ExternalSemaphore#wait(long, Stream) wait} and
 *       {@link io.github.hipffm.ExternalSemaphore#signal(long, Stream) signal} on a {@link io.github.hipffm.Stream}.</li>
 *   <li><b>Release</b>: close the arena (or the object). Everything derived from the import goes first: mapped
 *       buffers, then mipmapped arrays, then the import, then its fd. After that, every object and segment of it
 *       throws {@link java.lang.IllegalStateException}; nothing reaches native code.</li>
 * </ol>
 *
 * {@snippet :
 * try (Arena arena = Arena.ofConfined()) {
 *     ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, size));
 *     MemorySegment buffer = memory.mapBuffer(0, size);
 *     Memory.fill(buffer, (byte) 0);
 * }   // hipFree(buffer), hipDestroyExternalMemory(memory), close(fd)
 * }
 *
 * <h2>Threads, arenas and churn</h2>
 * An object is owned by the {@link java.lang.foreign.Arena} it was created in and has that arena's threading:
 * <ul>
 *   <li><b>{@link java.lang.foreign.Arena#ofConfined() Arena.ofConfined()}</b>: the object and every segment it
 *       hands out belong to the arena's thread; using or closing them from another thread throws
 *       {@link java.lang.WrongThreadException}. Creating and releasing is cheapest this way (no cross-thread
 *       handshake): use a confined arena for what is created and released per frame or per request (imports,
 *       streams, events). Imports and streams then cost what C's calls cost; an event's create + release costs
 *       about 0.15 us more than C's (0.26-0.73 us on an H200: the owned object's bookkeeping), so record a
 *       long-lived event per frame rather than creating one per frame.</li>
 *   <li><b>{@link java.lang.foreign.Arena#ofShared() Arena.ofShared()}</b>, {@link java.lang.foreign.Arena#global()
 *       global()}, {@link java.lang.foreign.Arena#ofAuto() ofAuto()}: any thread may use and close the object.
 *       Each object then has a shared arena of its own, whose release is a handshake with every thread of the
 *       JVM (measured: tens of microseconds; more on busy machines, see {@code docs/performance.md}).</li>
 * </ul>
 * A release never pulls a resource from under a call in flight, and is never lost: when another thread's call
 * (hip-ffm's, the generated bindings', or NIO's) still holds one of the object's segments as the object or its
 * arena is closed, the object counts as closed at once (new uses through it throw
 * {@link java.lang.IllegalStateException}) and is released, exactly once, as soon as the last such call has
 * ended. Segments handed out before stay usable until then.
 *
 * <h2>Who owns the file descriptor</h2>
 * The same rule on both platforms: when the import succeeds, the imported object owns the fd; it stays open while
 * the object lives and is closed exactly once, right after the runtime's destroy call. When the import fails, the
 * fd is still the caller's, open. (ROCm never closes an imported fd; CUDA closes it, even on some failures, so on
 * NVIDIA hip-ffm gives CUDA a {@code dup}.) {@code importCopy} imports a {@code dup}, so the caller keeps its fd
 * in every case.
 *
 * <h2>Fds from another process</h2>
 * {@link io.github.hipffm.FdChannel} passes export fds between processes over an owner-only Unix socket
 * ({@code SCM_RIGHTS}), each with what its import needs (handle type, size, dedicated flag, offset; a semaphore's
 * value). Across processes the rule goes on: sending never closes the sender's fd (the receiver gets its own);
 * a received fd belongs to the received {@link io.github.hipffm.FdMessage} until it is imported (then to the
 * import, as above), taken or closed; when a receive fails for any reason (peer gone, fds truncated, missing or
 * more than announced, a malformed message, a timeout, wrong peer credentials) every fd that arrived is closed
 * before the {@link io.github.hipffm.FdChannelException} is thrown.
 *
 * <h2>Several GPUs</h2>
 * Every resource belongs to one device ({@code device()}): the one given to its creation (the overloads that take a
 * {@link io.github.hipffm.Device} first, e.g. {@code Stream.create(device, arena)}), else the calling thread's
 * current device ({@link io.github.hipffm.Hip#currentDevice()}); what is made from a resource is that resource's
 * device's, and so are the device segments hip-ffm hands out ({@code Memory.allocateDevice},
 * {@code ExternalMemory.mapBuffer}). A creation on a device switches the current device only when it is another one,
 * and restores it afterwards, also on failure ({@link io.github.hipffm.Device#call} does the same for any code).
 * Work that mixes devices (a kernel, copy, fill, event or semaphore on a stream of another device than the memory or
 * resource it uses, a copy between devices) is refused before any native call with an
 * {@link java.lang.IllegalArgumentException} naming both devices' UUIDs; synchronous copies and fills run on the
 * device of their memory; {@code Memory.copyPeer} copies between devices. Segments hip-ffm did not make are not
 * checked. Memory is the one exception: once a device enabled peer access to another
 * ({@link io.github.hipffm.Device#enablePeerAccess}, where {@link io.github.hipffm.Device#canAccessPeer} says it
 * can), that device's kernels, copies and fills may use the other's memory (a synchronous copy between the two runs
 * on the device that has the access); events, semaphores and modules stay their own device's.
 *
 * <h2>Textures and surfaces</h2>
 * A {@link io.github.hipffm.TextureObject} samples an {@link io.github.hipffm.ArrayLevel} (a mip level of a
 * {@link io.github.hipffm.MipmappedArray}, or a mapped GL texture's level), a whole mipmapped array, or linear or
 * pitched device memory, as a {@link io.github.hipffm.TextureDescriptor} says; a
 * {@link io.github.hipffm.SurfaceObject} reads and writes a level whose array may be bound as a surface. Kernels get
 * them as 64-bit handles ({@link io.github.hipffm.KernelArgs#set(int, io.github.hipffm.TextureObject)}). Views of
 * an array are released before it; a descriptor the format or the device does not allow is refused before the
 * native call.
 *
 * <h2>Graphs</h2>
 * A {@link io.github.hipffm.Graph} of kernel, copy, fill, event and external-semaphore nodes (dependencies given as
 * {@link io.github.hipffm.GraphNode}s when a node is added), or one captured from a stream
 * ({@link io.github.hipffm.Stream#beginCapture()}), is instantiated into a {@link io.github.hipffm.GraphExec},
 * launched on a stream in one call per frame; {@link io.github.hipffm.GraphExec#setFence GraphExec.setFence} changes
 * a node's fence value between launches without re-instantiation; {@link io.github.hipffm.GraphNode#setFences
 * GraphNode.setFences} changes the graph's node for the execs instantiated afterwards, and
 * {@link io.github.hipffm.GraphNode#fences() GraphNode.fences} reads it back. The graph owns what its nodes point to and its
 * execs, and releases them in dependency order: execs, the graph, then the nodes' memory.
 *
 * <h2>Platforms and errors</h2>
 * {@link io.github.hipffm.Hip} says which runtime this JVM uses ({@link io.github.hipffm.Platform}). Runtime
 * failures are {@link io.github.hipffm.HipException}s with the {@code hipError_t} name and code (CUDA errors under
 * their HIP names), bad arguments {@link java.lang.IllegalArgumentException}s raised before any native call.
 *
 * <h2>How it is built</h2>
 * This package holds the API and no platform code: it hands Java values (descriptors, enums,
 * {@link io.github.hipffm.ChannelFormat}, {@link io.github.hipffm.Extent}) to one platform layer, which writes
 * every call once and translates values through one table of HIP and CUDA numbers; each platform supplies only
 * its generated calls, struct layouts, error numbering and the few behaviours that really differ. The enums'
 * {@code hipValue()} and every {@code handle()} are for mixing in the raw bindings of
 * {@code io.github.hipffm.bindings.*}.
 */
package io.github.hipffm;
