package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Device and pinned host memory as {@link MemorySegment}s, and copies between any of host, pinned, device and
 * mapped external memory.
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
        Backend b = Runtimes.current();
        MemorySegment p = b.malloc(bytes);
        return scoped(p, bytes, arena, () -> b.free(p)).asReadOnly();
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
     * Copies all of {@code src} to the start of {@code dst} and waits for it ({@code hipMemcpy}, direction from
     * the pointers).
     *
     * @param dst destination, at least as large as {@code src}
     * @param src source
     */
    public static void copy(MemorySegment dst, MemorySegment src) {
        Checks.nativeSegment(src, "src");
        copy(dst, src, src.byteSize());
    }

    /**
     * Copies {@code bytes} from the start of {@code src} to the start of {@code dst} and waits for it.
     *
     * @param dst destination
     * @param src source
     * @param bytes how many, no more than either segment's size
     */
    public static void copy(MemorySegment dst, MemorySegment src, long bytes) {
        checkCopy(dst, src, bytes);
        Runtimes.current().memcpy(dst, src, bytes);
    }

    /**
     * Queues a copy of {@code bytes} from {@code src} to {@code dst} on a stream ({@code hipMemcpyAsync}). Both
     * segments must stay alive until the stream has run it; pinned host memory makes it truly asynchronous.
     *
     * @param dst destination
     * @param src source
     * @param bytes how many, no more than either segment's size
     * @param stream the stream
     */
    public static void copyAsync(MemorySegment dst, MemorySegment src, long bytes, Stream stream) {
        checkCopy(dst, src, bytes);
        Checks.notNull(stream, "stream");
        Runtimes.current().memcpyAsync(dst, src, bytes, stream.handle());
    }

    /**
     * Sets every byte of device (or pinned) memory to {@code value} on the GPU and waits ({@code hipMemset}).
     *
     * @param dst the memory
     * @param value the byte
     */
    public static void fill(MemorySegment dst, byte value) {
        Checks.nativeSegment(dst, "dst");
        Runtimes.current().memset(dst, value & 0xff, dst.byteSize());
    }

    /**
     * Queues {@code hipMemsetAsync} of every byte of {@code dst} on a stream.
     *
     * @param dst the memory
     * @param value the byte
     * @param stream the stream
     */
    public static void fillAsync(MemorySegment dst, byte value, Stream stream) {
        Checks.nativeSegment(dst, "dst");
        Checks.notNull(stream, "stream");
        Runtimes.current().memsetAsync(dst, value & 0xff, dst.byteSize(), stream.handle());
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

    private static void checkCopy(MemorySegment dst, MemorySegment src, long bytes) {
        Checks.nativeSegment(dst, "dst");
        Checks.nativeSegment(src, "src");
        if (bytes < 0 || bytes > src.byteSize() || bytes > dst.byteSize()) {
            throw new IllegalArgumentException("cannot copy " + bytes + " bytes from a " + src.byteSize()
                    + "-byte source to a " + dst.byteSize() + "-byte destination");
        }
    }
}
