package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Device memory made with HIP's virtual memory management, exportable to another process as a POSIX fd: a physical
 * allocation ({@code hipMemCreate}, requested with {@code hipMemHandleTypePosixFileDescriptor}) mapped into an
 * address range of its own ({@code hipMemAddressReserve}, {@code hipMemMap}) that its device may read and write
 * ({@code hipMemSetAccess}). On NVIDIA these are the CUDA driver API's {@code cuMem*} calls (libcuda, in the CUDA
 * runtime's primary context), under their HIP names in errors.
 *
 * <h2>Sharing</h2>
 * {@link #exportFd()} ({@code hipMemExportToShareableHandle}) returns a new fd on every call, owned by the caller.
 * Another process imports it in one call, either as {@link ExternalMemory} ({@code OPAQUE_FD}, with the size:
 * {@link #exportDescriptor()}), or as {@code VirtualMemory} with {@link #importFd} ({@code
 * hipMemImportFromShareableHandle}); {@link #send(FdChannel)} sends one over an {@link FdChannel} (and closes it),
 * and the receiver's {@link ReceivedMemory#importMemory} or {@link ReceivedMemory#importVirtualMemory} imports it.
 * Both sides then see the same bytes.
 *
 * <h2>Lifetime and the fd rule</h2>
 * Owned by an {@link Arena} or closed by {@link #close()}, whichever is first: release unmaps
 * ({@code hipMemUnmap}), frees the range ({@code hipMemAddressFree}) and releases the allocation
 * ({@code hipMemRelease}); for an import, then closes the fd. After close, every method but {@link #size()} throws
 * {@link IllegalStateException}, and so does any use of {@link #segment()}. An fd from {@link #exportFd()} stays the
 * caller's whatever happens here (the memory lives on in the importer until it releases it). An fd given to
 * {@link #importFd} follows the rule of {@link ExternalMemory}: checked first (open, of a kind that can be a GPU
 * export here), owned by the import on success and closed after its release, still the caller's on failure.
 *
 * {@snippet :
 * VirtualMemory shared = VirtualMemory.allocate(arena, 1 << 20);   // rounded up to the granularity
 * Memory.fill(shared.segment(), (byte) 7);
 * shared.send(channel);                                            // the other process: received.importMemory(arena)
 * }
 */
public final class VirtualMemory extends NativeResource {
    private static final String FD_HINT = "a virtual memory fd must be one that hipMemExportToShareableHandle or"
            + " cuMemExportToShareableHandle made (VirtualMemory.exportFd in another process), with size at most the"
            + " exported allocation's; the fd is still yours";
    private final long size;
    private final MemorySegment segment;
    private final boolean imported;

    private VirtualMemory(Backend backend, Lifetime lifetime, MemorySegment handle, long size, MemorySegment address,
            boolean imported) {
        super(backend, lifetime, handle);
        this.size = size;
        this.imported = imported;
        MemorySegment s;
        try {
            s = address.reinterpret(size, lifetime.arena(), null).asReadOnly();
            // Made without a device, the lifetime learns it only after this constructor: the current one it was made on.
            Device d = lifetime.device != null ? lifetime.device : Device.currentOrNull(backend);
            Segments.register(s, d, Segments.Origin.VIRTUAL_MEMORY);
        } catch (IllegalStateException closedMeanwhile) {
            s = MemorySegment.NULL;   // never handed out: the lifetime is closed, segment() checks that first
        }
        this.segment = s;
    }

    /**
     * {@return the allocation granularity of {@code device} ({@code hipMemGetAllocationGranularity}, minimum): sizes
     * are rounded up to a multiple of it}
     * @param device the device
     */
    public static long granularity(Device device) {
        Checks.notNull(device, "device");
        Backend b = Runtimes.current();
        return device.call(() -> b.vmmGranularity(device.ordinal()));
    }

    /**
     * Allocates exportable device memory on the current device, mapped read-write for it.
     *
     * @param arena the owner
     * @param bytes the size, &gt; 0, rounded up to the device's {@link #granularity}
     * @return the memory
     * @throws IllegalArgumentException for a size &lt;= 0 (before any native call)
     * @throws HipException when the runtime refuses (nothing is left behind)
     */
    public static VirtualMemory allocate(Arena arena, long bytes) {
        return create(null, arena, bytes);
    }

    /**
     * Allocates exportable device memory on {@code device}, mapped read-write for it; the current device is switched
     * only if it is another one, and restored.
     *
     * @param device the device
     * @param arena the owner
     * @param bytes the size, &gt; 0, rounded up to the device's {@link #granularity}
     * @return the memory, of {@code device}
     */
    public static VirtualMemory allocate(Device device, Arena arena, long bytes) {
        Checks.notNull(device, "device");
        return create(device, arena, bytes);
    }

    private static VirtualMemory create(Device device, Arena arena, long bytes) {
        Checks.notNull(arena, "arena");
        positive(bytes);
        Backend b = Runtimes.current();
        long[] mapped = new long[2];   // the size and the address, known once mapped
        return Lifetime.create(arena, device, "VirtualMemory", () -> {
            int ordinal = b.getDevice();
            long size = roundUp(bytes, b.vmmGranularity(ordinal));
            MemorySegment handle = b.vmmCreate(ordinal, size);
            mapped[0] = size;
            mapped[1] = map(b, handle, ordinal, size);
            return handle;
        }, h -> release(b, h, mapped), (lifetime, h) -> new VirtualMemory(b, lifetime, h, mapped[0],
                MemorySegment.ofAddress(mapped[1]), false));
    }

    /**
     * Imports an fd another process exported ({@code hipMemImportFromShareableHandle}) on the current device and maps
     * {@code bytes} of it read-write; the fd rule is {@link ExternalMemory}'s (see the class documentation).
     *
     * @param arena the owner
     * @param fd the exported fd
     * @param bytes how much to map, &gt; 0, at most the exported size (rounded up to the granularity)
     * @return the memory
     * @throws IllegalArgumentException for a size &lt;= 0 or an fd that is not open or cannot be a GPU export
     *     (before any native call; the fd still the caller's)
     * @throws HipException when the runtime refuses (the fd still the caller's)
     */
    public static VirtualMemory importFd(Arena arena, int fd, long bytes) {
        return importing(null, arena, fd, bytes);
    }

    /**
     * {@link #importFd(Arena, int, long)} on {@code device}.
     *
     * @param device the device that exported the memory
     * @param arena the owner
     * @param fd the exported fd
     * @param bytes how much to map
     * @return the memory, of {@code device}
     */
    public static VirtualMemory importFd(Device device, Arena arena, int fd, long bytes) {
        Checks.notNull(device, "device");
        return importing(device, arena, fd, bytes);
    }

    private static VirtualMemory importing(Device device, Arena arena, int fd, long bytes) {
        Checks.notNull(arena, "arena");
        positive(bytes);
        Backend b = Runtimes.current();
        long[] mapped = new long[2];
        return FdImport.run(b, arena, device, "VirtualMemory", new FdImport.Fd(fd, "virtual memory", bytes, FD_HINT),
                false, false, runtimeFd -> {
                    int ordinal = b.getDevice();
                    long size = roundUp(bytes, b.vmmGranularity(ordinal));
                    MemorySegment handle = b.vmmImport(runtimeFd);
                    mapped[0] = size;
                    mapped[1] = map(b, handle, ordinal, size);
                    return handle;
                }, h -> release(b, h, mapped), (lifetime, h) -> new VirtualMemory(b, lifetime, h, mapped[0],
                        MemorySegment.ofAddress(mapped[1]), true));
    }

    /** Maps a new allocation; on failure releases it, so that a failed create leaves nothing behind. */
    private static long map(Backend b, MemorySegment handle, int ordinal, long size) {
        try {
            return b.vmmMap(handle, ordinal, size).address();
        } catch (RuntimeException e) {
            try {
                b.vmmRelease(handle);
            } catch (RuntimeException undo) {
                e.addSuppressed(undo);
            }
            throw e;
        }
    }

    /** The release, in order: unmap, free the range, release the allocation (each tried, the first failure thrown). */
    private static void release(Backend b, MemorySegment handle, long[] mapped) {
        try {
            b.vmmUnmap(MemorySegment.ofAddress(mapped[1]), mapped[0]);
        } finally {
            b.vmmRelease(handle);
        }
    }

    private static long roundUp(long bytes, long granularity) {
        if (granularity <= 0) {
            return bytes;
        }
        long n = (bytes + granularity - 1) / granularity;
        if (bytes > Long.MAX_VALUE - granularity) {
            throw new IllegalArgumentException("size " + bytes + " cannot be rounded up to the granularity " + granularity);
        }
        return n * granularity;
    }

    private static void positive(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("size must be > 0, got " + bytes);
        }
    }

    /**
     * {@return the mapped memory: a read-only device segment of {@link #size()} bytes, scoped to this memory} See
     * {@link Memory} for what a device segment may be used for.
     * @throws IllegalStateException when closed
     */
    public MemorySegment segment() {
        lifetime.checkOpen();
        return segment;
    }

    /** {@return the size in bytes: the size asked for, rounded up to the granularity} */
    public long size() {
        return size;
    }

    /**
     * {@return a new POSIX fd of this memory ({@code hipMemExportToShareableHandle}), owned by the caller} Each call
     * returns a new fd. Close it once it is sent or imported (an import owns what it imported).
     * @throws IllegalStateException when closed
     */
    public int exportFd() {
        lifetime.checkOpen();
        return backend.vmmExport(handle);
    }

    /**
     * {@return a descriptor of a new exported fd ({@link #exportFd()}), for {@link ExternalMemory#importMemory} or
     * {@link FdChannel#send(ExternalMemoryDescriptor)}: {@code OPAQUE_FD}, this memory's size} The fd in it is
     * the caller's.
     */
    public ExternalMemoryDescriptor exportDescriptor() {
        return ExternalMemoryDescriptor.opaqueFd(exportFd(), size);
    }

    /**
     * Sends this memory to the process at the other end of {@code channel}: a new exported fd, sent as
     * {@code OPAQUE_FD} memory of {@link #size()} bytes, then closed here (the receiver has its own). The receiver
     * imports it with {@link ReceivedMemory#importMemory} or {@link ReceivedMemory#importVirtualMemory}.
     *
     * @param channel the channel
     * @throws IllegalStateException when this memory or the channel is closed
     * @throws FdChannelException when sending fails
     */
    public void send(FdChannel channel) {
        Checks.notNull(channel, "channel");
        ExternalMemoryDescriptor d = exportDescriptor();
        try {
            channel.send(d);
        } finally {
            io.github.hipffm.internal.Posix.close(d.fd());
        }
    }

    @Override
    String describe() {
        return size + " bytes" + (imported ? ", imported" : "");
    }
}
