package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * GPU memory that another API (Vulkan, OpenGL, CUDA, another process) allocated and exported as a handle,
 * imported into HIP ({@code hipImportExternalMemory}).
 *
 * <h2>Lifetime</h2>
 * An {@code ExternalMemory} belongs to the {@link Arena} it was imported in. Closing that arena, or calling
 * {@link #close()} first, releases everything in dependency order: mapped buffers ({@code hipFree}), then
 * mipmapped arrays ({@code hipFreeMipmappedArray}), then the memory ({@code hipDestroyExternalMemory}), then
 * the fd. Closing twice is harmless. After close, every method but the plain getters {@link #size()} and
 * {@link #handleType()} throws {@link IllegalStateException}, and so does any use of a segment from
 * {@link #mapBuffer}, which is scoped to this memory; nothing reaches native code.
 * Under a shared arena several threads may import, use and close; under a confined one the memory and its
 * segments belong to the arena's thread (see the package documentation, "Threads, arenas and churn"). A close
 * while another thread's call still uses the memory releases it as soon as that call ends. {@link #handle()} is the raw
 * {@code hipExternalMemory_t}. Pending GPU work on the memory must have finished before it is closed.
 *
 * <h2>The fd rule (identical on both platforms)</h2>
 * On success the {@code ExternalMemory} owns the fd: it stays open while the memory is imported and is closed
 * exactly once, right after {@code hipDestroyExternalMemory}. On failure the fd is still the caller's, and still
 * open. Runtimes differ underneath (ROCm never closes the fd; CUDA closes the fd it imports, on success and on
 * some failures), so on NVIDIA hip-ffm hands CUDA a {@code dup} and keeps the caller's fd to this rule. Before any
 * native call the fd is checked: one that is not open, or (where the fd shows it: a memfd, shm object or plain file
 * on NVIDIA, a too small dma-buf on AMD) cannot be a GPU export, is refused with an
 * {@link IllegalArgumentException} naming it; {@link ExternalMemoryHandleType} has the table of what is caught and
 * what is not.
 * {@link #importCopy} imports a {@code dup} of the caller's fd instead, so the caller keeps theirs either way.
 *
 * {@snippet :
 * int fd = vulkanExportedFd;                 // vkGetMemoryFdKHR(..., OPAQUE_FD)
 * try (Arena arena = Arena.ofConfined()) {
 *     ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, size));
 *     MemorySegment buffer = memory.mapBuffer(0, size);      // a device segment
 *     Memory.fill(buffer, (byte) 0x2a);                       // done when it returns: Vulkan may read it
 * }                                                            // hipFree, destroy, fd closed
 * }
 */
public final class ExternalMemory extends NativeResource {
    private static final String FD_HINT = "an OPAQUE_FD memory handle must be GPU memory exported by Vulkan"
            + " (vkGetMemoryFdKHR, VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT) or another GPU API, with size the"
            + " exported allocation's size; a plain file, memfd or shm fd is not one; the fd is still yours";
    private final ExternalMemoryDescriptor descriptor;

    private ExternalMemory(Backend backend, Lifetime lifetime, MemorySegment handle, ExternalMemoryDescriptor d) {
        super(backend, lifetime, handle);
        this.descriptor = d;
    }

    /**
     * Imports external memory, taking ownership of its fd on success (see the class documentation).
     *
     * @param arena the owner: closing it releases the memory and everything mapped from it
     * @param descriptor what to import
     * @return the imported memory
     * @throws IllegalArgumentException for a null argument, a handle type that cannot work on this OS and
     *     platform, an fd that is not open or cannot be a GPU export here ({@link ExternalMemoryHandleType} has
     *     the table), all checked before any native call, the fd left with the caller
     * @throws IllegalStateException when {@code arena} is closed
     * @throws HipException when the runtime refuses the import (the caller still owns the fd)
     */
    public static ExternalMemory importMemory(Arena arena, ExternalMemoryDescriptor descriptor) {
        return importing(null, arena, descriptor, false);
    }

    /**
     * Imports external memory on {@code device}, as {@link #importMemory(Arena, ExternalMemoryDescriptor)}: the
     * calling thread's current device is switched for the import only if it is another one, and restored, also on
     * failure. Import on the GPU that exported the handle (for Vulkan: {@code Hip.deviceByUuid(deviceUUID)}).
     *
     * @param device the device that exported the memory
     * @param arena the owner
     * @param descriptor what to import
     * @return the imported memory, of {@code device}
     */
    public static ExternalMemory importMemory(Device device, Arena arena, ExternalMemoryDescriptor descriptor) {
        Checks.notNull(device, "device");
        return importing(device, arena, descriptor, false);
    }

    /**
     * Imports a {@code dup} of the descriptor's fd, so the caller keeps (and must still close) its own fd
     * whatever happens. For non-fd handle types this is the same as {@link #importMemory}.
     *
     * @param arena the owner
     * @param descriptor what to import
     * @return the imported memory
     * @throws IllegalArgumentException as {@link #importMemory}, or when the fd cannot be duplicated
     */
    public static ExternalMemory importCopy(Arena arena, ExternalMemoryDescriptor descriptor) {
        return importing(null, arena, descriptor, true);
    }

    /**
     * Imports a {@code dup} of the descriptor's fd on {@code device}; the caller keeps its own.
     *
     * @param device the device that exported the memory
     * @param arena the owner
     * @param descriptor what to import
     * @return the imported memory, of {@code device}
     */
    public static ExternalMemory importCopy(Device device, Arena arena, ExternalMemoryDescriptor descriptor) {
        Checks.notNull(device, "device");
        return importing(device, arena, descriptor, true);
    }

    /**
     * The imports, on {@code device} (null: the current one): {@code copy} imports a duplicate of the fd (ignored
     * for handles that are not fds).
     */
    private static ExternalMemory importing(Device device, Arena arena, ExternalMemoryDescriptor descriptor,
            boolean copy) {
        Checks.notNull(arena, "arena");
        Checks.notNull(descriptor, "descriptor");
        Backend b = Runtimes.current();
        descriptor.type().checkSupported(b.platform());
        return FdImport.run(b, arena, device, "ExternalMemory", fd(descriptor), copy && descriptor.type().isFd(),
                fd -> b.importExternalMemory(descriptor, fd), b::destroyExternalMemory,
                (lifetime, h) -> new ExternalMemory(b, lifetime, h, descriptor));
    }

    /** {@return the descriptor's fd and what it must be, or null when its handle is not an fd} */
    private static FdImport.Fd fd(ExternalMemoryDescriptor d) {
        return d.type().isFd() ? new FdImport.Fd(d.fd(), d.type() + " memory", d.size(), FD_HINT) : null;
    }

    /**
     * Maps part of the memory as a device buffer ({@code hipExternalMemoryGetMappedBuffer}).
     *
     * @param offset offset in bytes, &gt;= 0
     * @param size size in bytes, &gt; 0, with {@code offset + size <= size()}
     * @return a read-only device segment of exactly {@code size} bytes, scoped to this memory: freed
     *     ({@code hipFree}) when the memory is closed, before the memory is destroyed. See {@link Memory} for
     *     what a device segment may be used for.
     * @throws IllegalArgumentException when the range does not fit (checked before any native call)
     * @throws IllegalStateException when the memory is closed
     */
    public MemorySegment mapBuffer(long offset, long size) {
        lifetime.checkOpen();
        Checks.range(offset, size, descriptor.size(), "mapped buffer");
        MemorySegment p = backend.externalMemoryMappedBuffer(handle, offset, size);
        MemorySegment s = lifetime.scope(p, size, () -> backend.free(p)).asReadOnly();
        Segments.register(s, lifetime.device, Segments.Origin.MAPPED_BUFFER);
        return s;
    }

    /**
     * {@return the whole memory mapped as one device buffer}
     * @see #mapBuffer(long, long)
     */
    public MemorySegment mapBuffer() {
        return mapBuffer(0, descriptor.size());
    }

    /**
     * Maps the memory as a mipmapped array ({@code hipExternalMemoryGetMappedMipmappedArray}), for image data
     * (a Vulkan {@code VkImage} with optimal tiling exported together with its memory).
     *
     * @param offset offset of the image in the memory, bytes
     * @param format the element format
     * @param extent the size of level 0
     * @param levels the number of mip levels, 1 to what the extent allows
     * @param flags array flags: 0 ({@code hipArrayDefault}) or a combination of {@link MipmappedArray#LAYERED},
     *     {@link MipmappedArray#SURFACE_LOAD_STORE}, {@link MipmappedArray#CUBEMAP},
     *     {@link MipmappedArray#TEXTURE_GATHER}
     * @return the array, released before this memory
     * @throws IllegalArgumentException for bad values (checked before any native call)
     * @throws IllegalStateException when the memory is closed
     */
    public MipmappedArray mapMipmappedArray(long offset, ChannelFormat format, Extent extent, int levels, int flags) {
        lifetime.checkOpen();
        Checks.notNull(format, "format");
        Checks.notNull(extent, "extent");
        if (offset < 0 || offset >= descriptor.size()) {
            throw new IllegalArgumentException("mipmapped array offset " + offset + " outside the " + descriptor.size()
                    + "-byte memory");
        }
        if ((flags & ~MipmappedArray.ALL_FLAGS) != 0) {
            throw new IllegalArgumentException("invalid array flags 0x" + Integer.toHexString(flags)
                    + ": allowed are 0x" + Integer.toHexString(MipmappedArray.ALL_FLAGS));
        }
        boolean layered = MipmappedArray.isLayered(flags);
        if (levels < 1 || levels > extent.maxLevels(layered)) {
            throw new IllegalArgumentException("levels must be 1 to " + extent.maxLevels(layered) + " for extent "
                    + extent + (layered ? " (layered)" : "") + ", got " + levels);
        }
        return MipmappedArray.map(this, offset, format, extent, levels, flags);
    }

    /** {@return the imported size in bytes} */
    public long size() {
        return descriptor.size();
    }

    /** {@return the handle type it was imported from} */
    public ExternalMemoryHandleType handleType() {
        return descriptor.type();
    }

    @Override
    String describe() {
        return descriptor.type() + ", " + descriptor.size() + " bytes";
    }
}
