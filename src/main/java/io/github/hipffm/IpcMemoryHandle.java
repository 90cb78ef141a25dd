package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * What another process needs to use a device allocation of this one: the runtime's IPC handle
 * ({@code hipIpcMemHandle_t}; {@code cudaIpcMemHandle_t} on NVIDIA: {@value #RUNTIME_HANDLE_BYTES} opaque bytes on
 * both) and the allocation's size, which the runtime handle does not carry. Immutable; equal when the bytes and the
 * size are.
 *
 * <h2>Getting one</h2>
 * {@link #of(MemorySegment)} ({@code hipIpcGetMemHandle}) takes a segment that {@link Memory#allocateDevice}
 * returned, whole: the runtimes make handles of the start of a {@code hipMalloc} allocation only. A slice, pinned
 * host or foreign memory, a mapped {@link ExternalMemory} buffer, {@link VirtualMemory} (it shares by fd:
 * {@link VirtualMemory#send}) and memory opened from a handle are refused, naming what they are. The allocation must
 * stay allocated until every process that opened it has closed it.
 *
 * <h2>Passing it on</h2>
 * {@link #toBytes()} is {@value #BYTES} bytes: the runtime handle, then the size as a little-endian 64-bit integer
 * (so {@code struct { cudaIpcMemHandle_t handle; uint64_t size; }} in C on x86-64 and aarch64);
 * {@link #fromBytes(byte[])} reads them back. Send them any way (a pipe, a file, a socket): unlike an fd they are
 * data, and any process of the same user that has them can open the memory. A peer that speaks the runtime handle
 * alone (a C program) pairs {@link #runtimeHandle()} and {@link #of(byte[], long)}.
 *
 * <h2>Opening it in another process</h2>
 * {@link #open(Arena)} ({@code hipIpcOpenMemHandle}, with {@code hipIpcMemLazyEnablePeerAccess}) returns a
 * read-only device segment of {@link #size()} bytes scoped to the arena (see {@link Memory} for what a device
 * segment may be used for); closing the arena unmaps it ({@code hipIpcCloseMemHandle}), and a later use of the
 * segment throws {@link IllegalStateException}. Both processes then see the same bytes. The runtimes refuse to open
 * a handle in the process that made it. {@code toString()} shows the size, never the handle's bytes.
 *
 * {@snippet :
 * // this process
 * MemorySegment data = Memory.allocateDevice(arena, 1 << 20);
 * byte[] message = IpcMemoryHandle.of(data).toBytes();                    // 72 bytes, to the other process
 * // the other process
 * MemorySegment shared = IpcMemoryHandle.fromBytes(message).open(arena);  // the same 1 MiB
 * }
 */
public final class IpcMemoryHandle {
    /** The size of the runtime's handle ({@code HIP_IPC_HANDLE_SIZE}, CUDA's too). */
    public static final int RUNTIME_HANDLE_BYTES = Backend.IPC_HANDLE_SIZE;
    /** The size of {@link #toBytes()}: the runtime handle and the 8-byte size. */
    public static final int BYTES = RUNTIME_HANDLE_BYTES + Long.BYTES;

    private final byte[] handle;
    private final long size;

    private IpcMemoryHandle(byte[] handle, long size) {
        this.handle = handle;
        this.size = size;
    }

    /**
     * {@return the handle of a whole device allocation ({@code hipIpcGetMemHandle}, with its device current)}
     * @param allocation a segment {@link Memory#allocateDevice} returned, whole, whose arena is open
     * @throws IllegalArgumentException for any other memory, naming what it is (before any native call)
     * @throws IllegalStateException when the allocation's arena is closed
     * @throws HipException when the runtime refuses
     */
    public static IpcMemoryHandle of(MemorySegment allocation) {
        Checks.nativeSegment(allocation, "allocation");
        Segments.Range r = Segments.rangeOf(allocation);
        if (r == null) {
            throw new IllegalArgumentException("the segment is not device memory hip-ffm allocated: an IPC handle is"
                    + " made of device memory of Memory.allocateDevice (hipMalloc), not of pinned host, foreign or"
                    + " other native memory");
        }
        if (r.origin() != Segments.Origin.ALLOCATION) {
            throw new IllegalArgumentException("the segment is " + r.origin().what + ": an IPC handle is made of"
                    + " device memory of Memory.allocateDevice (hipMalloc) only");
        }
        if (allocation.address() != r.address() || allocation.byteSize() != r.size()) {
            throw new IllegalArgumentException("the segment is a slice (" + allocation.byteSize() + " bytes at offset "
                    + (allocation.address() - r.address()) + ") of a " + r.size() + "-byte allocation: an IPC handle"
                    + " names a whole allocation; pass the segment Memory.allocateDevice returned");
        }
        Backend b = Runtimes.current();
        byte[] h = r.device().call(() -> b.ipcMemHandle(allocation));
        return new IpcMemoryHandle(h, r.size());
    }

    /**
     * {@return the handle {@link #toBytes()} wrote}
     * @param bytes {@value #BYTES} bytes: the runtime handle, then the size (little-endian)
     * @throws IllegalArgumentException for another length or a size &lt;= 0
     */
    public static IpcMemoryHandle fromBytes(byte[] bytes) {
        Checks.notNull(bytes, "bytes");
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("an IpcMemoryHandle is " + BYTES + " bytes (the " + RUNTIME_HANDLE_BYTES
                    + "-byte runtime handle and the 8-byte size), got " + bytes.length);
        }
        long size = ByteBuffer.wrap(bytes, RUNTIME_HANDLE_BYTES, Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return of(Arrays.copyOf(bytes, RUNTIME_HANDLE_BYTES), size);
    }

    /**
     * {@return a handle from the runtime's handle alone and the allocation's size}, for a peer that sends the
     * runtime handle ({@code hipIpcGetMemHandle} or {@code cudaIpcGetMemHandle} in C) and tells the size apart
     * @param runtimeHandle the {@value #RUNTIME_HANDLE_BYTES} bytes of the runtime's handle (copied)
     * @param size the allocation's size in bytes, &gt; 0; the segment {@link #open} returns has this size, so it
     *     must not be more than the allocation's
     * @throws IllegalArgumentException for another length or a size &lt;= 0
     */
    public static IpcMemoryHandle of(byte[] runtimeHandle, long size) {
        byte[] h = IpcEventHandle.runtimeHandle(runtimeHandle, "an IPC memory handle");
        if (size <= 0) {
            throw new IllegalArgumentException("the size of an IPC memory handle must be > 0, got " + size);
        }
        return new IpcMemoryHandle(h, size);
    }

    /**
     * {@return the memory on the current device ({@code hipIpcOpenMemHandle}): a read-only device segment of
     * {@link #size()} bytes, unmapped ({@code hipIpcCloseMemHandle}) when {@code arena} closes}
     * @param arena the owner
     * @throws IllegalStateException when {@code arena} is closed (nothing is left open)
     * @throws HipException when the runtime refuses (in the process that made the handle, or when the memory is
     *     gone)
     */
    public MemorySegment open(Arena arena) {
        Checks.notNull(arena, "arena");
        return opening(Runtimes.current(), null, arena);
    }

    /**
     * {@return the memory opened on {@code device} (made current only if it is not, and restored)} See
     * {@link #open(Arena)}.
     * @param device the device to open it on
     * @param arena the owner
     */
    public MemorySegment open(Device device, Arena arena) {
        Checks.notNull(device, "device");
        Checks.notNull(arena, "arena");
        Backend b = Runtimes.current();
        return device.call(() -> opening(b, device, arena));
    }

    private MemorySegment opening(Backend b, Device device, Arena arena) {
        MemorySegment p = b.ipcOpenMemHandle(handle);
        return Memory.deviceSegment(b, device, arena, p, size, () -> b.ipcCloseMemHandle(p),
                Segments.Origin.IPC_OPENED);
    }

    /** {@return the allocation's size in bytes: the size of the segment {@link #open} returns} */
    public long size() {
        return size;
    }

    /** {@return a copy of the runtime's {@value #RUNTIME_HANDLE_BYTES}-byte handle} */
    public byte[] runtimeHandle() {
        return handle.clone();
    }

    /** {@return the {@value #BYTES} bytes {@link #fromBytes} reads: the runtime handle, then the size (little-endian)} */
    public byte[] toBytes() {
        return ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN).put(handle).putLong(size).array();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpcMemoryHandle h && h.size == size && Arrays.equals(h.handle, handle);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(handle) + Long.hashCode(size);
    }

    /** {@return the size, e.g. {@code IpcMemoryHandle[1048576 bytes]}: never the handle's bytes} */
    @Override
    public String toString() {
        return "IpcMemoryHandle[" + size + " bytes]";
    }
}
