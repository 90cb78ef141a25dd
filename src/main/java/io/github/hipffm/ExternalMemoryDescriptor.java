package io.github.hipffm;

import java.lang.foreign.MemorySegment;

/**
 * What to import as {@link ExternalMemory}: the handle type, the handle, the size of the exported allocation,
 * and whether it is a dedicated allocation. Build one with a factory ({@link #opaqueFd(int, long)}, ...).
 * Every value is checked here, in Java, before any native call.
 *
 * @param type the handle type
 * @param fd the file descriptor for fd types, else -1
 * @param win32Handle the NT/KMT handle for Windows types, else {@code MemorySegment.NULL}
 * @param win32Name the object name for named NT handles, else {@code null}
 * @param nvSciBufObject the NvSciBuf object for {@link ExternalMemoryHandleType#NVSCIBUF}, else
 *     {@code MemorySegment.NULL}
 * @param size the size of the exported allocation in bytes, &gt; 0 (Vulkan: the allocation's size)
 * @param dedicated whether the allocation is dedicated (Vulkan: allocated with a dedicated-allocation struct;
 *     HIP's {@code hipExternalMemoryDedicated} flag)
 */
public record ExternalMemoryDescriptor(ExternalMemoryHandleType type, int fd, MemorySegment win32Handle,
        String win32Name, MemorySegment nvSciBufObject, long size, boolean dedicated) {

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException for a missing type, a size &lt;= 0, a missing or invalid handle
     */
    public ExternalMemoryDescriptor {
        if (type == null) {
            throw new IllegalArgumentException("handle type must not be null");
        }
        if (size <= 0) {
            throw new IllegalArgumentException("size must be > 0, got " + size);
        }
        win32Handle = win32Handle == null ? MemorySegment.NULL : win32Handle;
        nvSciBufObject = nvSciBufObject == null ? MemorySegment.NULL : nvSciBufObject;
        Handles.check(type.name(), type.isFd(), type == ExternalMemoryHandleType.NVSCIBUF,
                type == ExternalMemoryHandleType.OPAQUE_WIN32 || type == ExternalMemoryHandleType.D3D12_HEAP
                        || type == ExternalMemoryHandleType.D3D12_RESOURCE,
                fd, win32Handle, win32Name, nvSciBufObject);
    }

    /**
     * {@return a descriptor for an opaque fd (Vulkan {@code vkGetMemoryFdKHR} with {@code OPAQUE_FD})}
     * @param fd the file descriptor, &gt; 0
     * @param size the exported allocation's size in bytes
     */
    public static ExternalMemoryDescriptor opaqueFd(int fd, long size) {
        return new ExternalMemoryDescriptor(ExternalMemoryHandleType.OPAQUE_FD, fd, null, null, null, size, false);
    }

    /**
     * {@return a descriptor for a Windows handle type}
     * @param type a Win32 or Direct3D type
     * @param handle the handle
     * @param size the allocation's size in bytes
     */
    public static ExternalMemoryDescriptor win32(ExternalMemoryHandleType type, MemorySegment handle, long size) {
        return new ExternalMemoryDescriptor(type, -1, handle, null, null, size, false);
    }

    /**
     * {@return a descriptor for a named NT handle ({@code OPAQUE_WIN32}, {@code D3D12_HEAP}, {@code D3D12_RESOURCE})}
     * @param type the type
     * @param name the object name
     * @param size the allocation's size in bytes
     */
    public static ExternalMemoryDescriptor win32Named(ExternalMemoryHandleType type, String name, long size) {
        return new ExternalMemoryDescriptor(type, -1, null, name, null, size, false);
    }

    /**
     * {@return a descriptor for an NvSciBuf object}
     * @param object the {@code NvSciBufObj}
     * @param size the allocation's size in bytes
     */
    public static ExternalMemoryDescriptor nvSciBuf(MemorySegment object, long size) {
        return new ExternalMemoryDescriptor(ExternalMemoryHandleType.NVSCIBUF, -1, null, null, object, size, false);
    }

    /** {@return this descriptor for a dedicated allocation} */
    public ExternalMemoryDescriptor asDedicated() {
        return new ExternalMemoryDescriptor(type, fd, win32Handle, win32Name, nvSciBufObject, size, true);
    }

    /**
     * {@return this descriptor with another fd (same type, size and flags)}
     * @param newFd the fd
     */
    ExternalMemoryDescriptor withFd(int newFd) {
        return new ExternalMemoryDescriptor(type, newFd, win32Handle, win32Name, nvSciBufObject, size, dedicated);
    }
}
