package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Device and pinned host memory as {@link MemorySegment}s, and copies between any of host, pinned, device and
 * mapped external memory.
 *
 * <h2>When a copy or fill has finished</h2>
 * The calls without {@code Async} in their name have finished on the GPU when they return, on both platforms and
 * in every direction: {@link #copy} (host, pinned, device and mapped external memory, any pair), {@link #fill},
 * and the array copies of {@link ArrayLevel}. Another API may read the result at once (Vulkan, OpenGL, another
 * process, the host through a mapping), with no stream synchronization in between. The runtimes' own synchronous
 * calls do not promise that: measured on an H200 (CUDA 13), {@code cudaMemcpy} of 256 MiB device to device
 * returned after 6-10 µs and finished after 137-141 µs, {@code cudaMemset} of 256 MiB returned after 5-16 µs and
 * finished after 71-81 µs; ROCm's {@code hipMemcpy} does not wait for device-to-device copies and
 * {@code hipMemset} does not wait for fills of device memory (ROCm/clr {@code hip_memory.cpp}). So hip-ffm queues
 * the work on the null stream ({@code hipMemcpyAsync}, {@code hipMemsetAsync}) and then waits for that stream
 * ({@code hipStreamSynchronize(NULL)}), one wait per call, where the runtime would have waited anyway for the
 * other directions. Like the runtimes' synchronous calls, they run after work queued before on the null stream
 * and on blocking {@link Stream}s.
 *
 * <table class="striped">
 * <caption>When the runtime's own synchronous call returns, and when hip-ffm's does</caption>
 * <thead><tr><th scope="col">call, direction</th><th scope="col">AMD {@code hipMemcpy}/{@code hipMemset}
 *   (ROCm/clr)</th><th scope="col">NVIDIA {@code cudaMemcpy}/{@code cudaMemset}</th>
 *   <th scope="col">hip-ffm, both platforms</th></tr></thead>
 * <tbody>
 * <tr><th scope="row">copy, device to device (also mapped external memory)</th><td>before the copy is done</td>
 *   <td>before the copy is done</td><td>when it is done</td></tr>
 * <tr><th scope="row">copy, pageable host to device</th><td>before, for small copies (staged, direct
 *   dispatch)</td><td>possibly before the DMA is done</td><td>when it is done</td></tr>
 * <tr><th scope="row">copy, pinned host to device</th><td>when done</td><td>when done</td><td>when it is done</td></tr>
 * <tr><th scope="row">copy, device to host (pinned or pageable)</th><td>when done</td><td>when done</td>
 *   <td>when it is done</td></tr>
 * <tr><th scope="row">fill of device memory</th><td>before the fill is done</td><td>before the fill is done</td>
 *   <td>when it is done</td></tr>
 * <tr><th scope="row">fill of pinned host memory</th><td>when done</td><td>when done</td><td>when it is done</td></tr>
 * <tr><th scope="row">array copies ({@link ArrayLevel}) from or to device memory</th><td>before the copy is
 *   done</td><td>before the copy is done</td><td>when it is done</td></tr>
 * </tbody>
 * </table>
 *
 * <p>The {@code Async} calls ({@link #copyAsync}, {@link #fillAsync}) only queue the work: it runs after the work
 * queued before on the same stream (and, for the null stream or a blocking stream, the implicit ordering of the
 * null stream) and has finished once {@link Stream#synchronize()} returns, an {@link Event} recorded after it
 * completes, or an {@link ExternalSemaphore} signalled after it on the same stream is signalled. Until then
 * neither the host nor another API may rely on the result.
 *
 * <h2>Device segments are not host memory</h2>
 * A device segment ({@link #allocateDevice}, {@link ExternalMemory#mapBuffer}) carries a GPU address and its
 * exact size, and is scoped to its arena, so the runtime calls here, kernel launches and the generated bindings
 * can take it and a closed one is refused before any native call. It is returned <em>read-only</em>: a Java-side
 * write ({@code set}, {@code MemorySegment.copy} into it, {@code fill}) fails with
 * {@link IllegalArgumentException} ("Attempt to write a read-only segment", the FFM API's exception for writes
 * to read-only segments since Java 22) instead of crashing the JVM. Reads cannot be intercepted by the FFM API:
 * reading a device segment from Java is undefined (it crashes on most GPUs). Move data with {@link #copy} and
 * {@link #fill}, which run on the GPU.
 *
 * {@snippet :
 * try (Arena arena = Arena.ofConfined()) {
 *     MemorySegment host = Memory.allocatePinned(arena, 1 << 20);
 *     MemorySegment device = Memory.allocateDevice(arena, 1 << 20);
 *     host.fill((byte) 7);
 *     Memory.copy(device, host);          // host -> device
 *     Memory.fill(device, (byte) 0);      // on the GPU
 *     Memory.copy(host, device);          // device -> host
 * }
 * }
 */
public final class Memory {
    private Memory() {
    }

    /**
     * {@return device memory ({@code hipMalloc}) freed when {@code arena} closes; a read-only device segment}
     * @param arena the owner
     * @param bytes the size, &gt; 0
     */
    public static MemorySegment allocateDevice(Arena arena, long bytes) {
        Checks.notNull(arena, "arena");
        positive(bytes);
        return allocate(Runtimes.current(), null, arena, bytes);
    }

    /**
     * {@return device memory of {@code device} ({@code hipMalloc} with that device current: switched only if it is
     * another one, and restored), freed when {@code arena} closes; a read-only device segment}
     * @param device the device
     * @param arena the owner
     * @param bytes the size, &gt; 0
     */
    public static MemorySegment allocateDevice(Device device, Arena arena, long bytes) {
        Checks.notNull(device, "device");
        Checks.notNull(arena, "arena");
        positive(bytes);
        Backend b = Runtimes.current();
        return device.callEntered(device.enter(), () -> allocate(b, device, arena, bytes));
    }

    /**
     * {@code hipMalloc} on the current device, which is {@code device} (null: whichever it is); the segment's
     * device recorded.
     */
    private static MemorySegment allocate(Backend b, Device device, Arena arena, long bytes) {
        MemorySegment p = b.malloc(bytes);
        return deviceSegment(b, device, arena, p, bytes, () -> b.free(p), Segments.Origin.ALLOCATION);
    }

    /**
     * {@return device memory the runtime just gave ({@code pointer}, of {@code bytes}), as a read-only segment scoped
     * to {@code arena} with {@code release} run when it closes (at once, and rethrown, when it is closed), its device
     * and origin recorded} {@code device} is the current device (null: whichever it is).
     */
    static MemorySegment deviceSegment(Backend b, Device device, Arena arena, MemorySegment pointer, long bytes,
            Runnable release, Segments.Origin origin) {
        MemorySegment s = scoped(pointer, bytes, arena, release).asReadOnly();
        Segments.register(s, device != null ? device : Device.currentOrNull(b), origin);
        return s;
    }

    /**
     * {@return pinned (page-locked) host memory ({@code hipHostMalloc}) freed when {@code arena} closes} It is
     * ordinary host memory to Java and the fastest source or destination of copies to and from the device.
     * @param arena the owner
     * @param bytes the size, &gt; 0
     */
    public static MemorySegment allocatePinned(Arena arena, long bytes) {
        Checks.notNull(arena, "arena");
        positive(bytes);
        Backend b = Runtimes.current();
        MemorySegment p = b.hostMalloc(bytes);
        return scoped(p, bytes, arena, () -> b.hostFree(p));
    }

    /**
     * Copies all of {@code src} to the start of {@code dst} and returns once the copy has finished on the GPU
     * (direction from the pointers; see the class documentation).
     *
     * @param dst destination, at least as large as {@code src}
     * @param src source
     */
    public static void copy(MemorySegment dst, MemorySegment src) {
        Checks.nativeSegment(src, "src");
        copy(dst, src, src.byteSize());
    }

    /**
     * Copies {@code bytes} from the start of {@code src} to the start of {@code dst} and returns once the copy has
     * finished on the GPU.
     *
     * @param dst destination
     * @param src source
     * @param bytes how many, no more than either segment's size
     */
    public static void copy(MemorySegment dst, MemorySegment src, long bytes) {
        checkCopy(dst, src, bytes);
        Device d = DeviceChecks.deviceOf(dst, src);
        if (d == null) {
            Runtimes.current().memcpy(dst, src, bytes);
            return;
        }
        int entered = d.enter();
        try {
            Runtimes.current().memcpy(dst, src, bytes);
        } finally {
            d.exit(entered);
        }
    }

    /**
     * Queues a copy of {@code bytes} from {@code src} to {@code dst} on a stream ({@code hipMemcpyAsync}): it runs
     * after the work queued before on that stream, and has finished when the stream is synchronized (see the class
     * documentation). Both segments must stay alive until then; pinned host memory makes it truly asynchronous.
     *
     * @param dst destination
     * @param src source
     * @param bytes how many, no more than either segment's size
     * @param stream the stream
     */
    public static void copyAsync(MemorySegment dst, MemorySegment src, long bytes, Stream stream) {
        checkCopy(dst, src, bytes);
        Checks.notNull(stream, "stream");
        MemorySegment handle = stream.handle();
        DeviceChecks.sameDevice(dst, stream, "the destination");
        DeviceChecks.sameDevice(src, stream, "the source");
        Runtimes.current().memcpyAsync(dst, src, bytes, handle);
    }

    /**
     * Copies {@code bytes} from the start of {@code src}, memory of one device, to the start of {@code dst}, memory
     * of another (or the same) device ({@code hipMemcpyPeerAsync} with the source's device current, then a wait
     * for that device's null stream), and returns once the copy has finished. A peer copy needs no peer access. The
     * devices are those hip-ffm recorded for the segments: both must be device segments hip-ffm made
     * ({@link #allocateDevice}, {@link ExternalMemory#mapBuffer}), or a slice of one.
     *
     * @param dst destination, device memory
     * @param src source, device memory
     * @param bytes how many, no more than either segment's size
     * @throws IllegalArgumentException for a segment that is not a hip-ffm device segment, or a bad size
     */
    public static void copyPeer(MemorySegment dst, MemorySegment src, long bytes) {
        checkCopy(dst, src, bytes);
        Device d = peerDevice(dst, "dst");
        Device s = peerDevice(src, "src");
        int entered = s.enter();
        try {
            Runtimes.current().memcpyPeer(dst, d.ordinal(), src, s.ordinal(), bytes);
        } finally {
            s.exit(entered);
        }
    }

    /**
     * Queues a copy of {@code bytes} from {@code src}, memory of one device, to {@code dst}, memory of another, on a
     * stream of one of the two devices ({@code hipMemcpyPeerAsync}); ordered like {@link #copyAsync}.
     *
     * @param dst destination, a hip-ffm device segment
     * @param src source, a hip-ffm device segment
     * @param bytes how many, no more than either segment's size
     * @param stream a stream of the source's or the destination's device
     * @throws IllegalArgumentException for a segment that is not a hip-ffm device segment, a bad size, or a stream
     *     of a third device
     */
    public static void copyPeerAsync(MemorySegment dst, MemorySegment src, long bytes, Stream stream) {
        checkCopy(dst, src, bytes);
        Checks.notNull(stream, "stream");
        MemorySegment handle = stream.handle();
        Device d = peerDevice(dst, "dst");
        Device s = peerDevice(src, "src");
        int on = DeviceChecks.ordinal(stream);
        if (!s.reaches(on) && !d.reaches(on)) {
            throw DeviceChecks.memoryRefusal(s, stream, "the source of a peer copy (to " + d.describe() + ") is memory");
        }
        Runtimes.current().memcpyPeerAsync(dst, d.ordinal(), src, s.ordinal(), bytes, handle);
    }

    private static Device peerDevice(MemorySegment segment, String name) {
        Device d = Segments.deviceOf(segment);
        if (d == null) {
            throw new IllegalArgumentException(name + " is not a device segment hip-ffm made (Memory.allocateDevice,"
                    + " ExternalMemory.mapBuffer): a peer copy needs to know the device of each side; for other"
                    + " memory use Memory.copy");
        }
        return d;
    }

    /**
     * Sets every byte of device (or pinned) memory to {@code value} on the GPU and returns once that has finished
     * ({@code hipMemsetAsync} on the null stream, then {@code hipStreamSynchronize}; see the class documentation).
     *
     * @param dst the memory
     * @param value the byte
     */
    public static void fill(MemorySegment dst, byte value) {
        Checks.nativeSegment(dst, "dst");
        Device d = Segments.deviceOf(dst);
        if (d == null) {
            Runtimes.current().memset(dst, value & 0xff, dst.byteSize());
            return;
        }
        int entered = d.enter();
        try {
            Runtimes.current().memset(dst, value & 0xff, dst.byteSize());
        } finally {
            d.exit(entered);
        }
    }

    /**
     * Queues {@code hipMemsetAsync} of every byte of {@code dst} on a stream: ordered like {@link #copyAsync}.
     *
     * @param dst the memory
     * @param value the byte
     * @param stream the stream
     */
    public static void fillAsync(MemorySegment dst, byte value, Stream stream) {
        Checks.nativeSegment(dst, "dst");
        Checks.notNull(stream, "stream");
        MemorySegment handle = stream.handle();
        DeviceChecks.sameDevice(dst, stream, "the destination");
        Runtimes.current().memsetAsync(dst, value & 0xff, dst.byteSize(), handle);
    }

    /**
     * A zero-length pointer as a segment of {@code bytes} scoped to {@code arena}, with {@code release} run when
     * the arena closes. If the arena is already closed, releases at once and rethrows.
     */
    static MemorySegment scoped(MemorySegment pointer, long bytes, Arena arena, Runnable release) {
        try {
            return pointer.reinterpret(bytes, arena, s -> release.run());
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
    }

    private static void positive(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("size must be > 0, got " + bytes);
        }
    }

    static void checkCopy(MemorySegment dst, MemorySegment src, long bytes) {
        Checks.nativeSegment(dst, "dst");
        Checks.nativeSegment(src, "src");
        if (bytes < 0 || bytes > src.byteSize() || bytes > dst.byteSize()) {
            throw new IllegalArgumentException("cannot copy " + bytes + " bytes from a " + src.byteSize()
                    + "-byte source to a " + dst.byteSize() + "-byte destination");
        }
    }
}
