package io.github.hipffm;

import java.lang.foreign.MemorySegment;

/**
 * What to import as an {@link ExternalSemaphore}: the handle type and the handle. Build one with a factory;
 * every value is checked here, in Java, before any native call.
 *
 * @param type the handle type
 * @param fd the file descriptor for fd types, else -1
 * @param win32Handle the handle for Windows types, else {@code MemorySegment.NULL}
 * @param win32Name the object name for named handles, else {@code null}
 * @param nvSciSyncObject the NvSciSync object for {@link ExternalSemaphoreHandleType#NVSCISYNC}, else
 *     {@code MemorySegment.NULL}
 */
public record ExternalSemaphoreDescriptor(ExternalSemaphoreHandleType type, int fd, MemorySegment win32Handle,
        String win32Name, MemorySegment nvSciSyncObject) {

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException for a missing type or a missing or invalid handle
     */
    public ExternalSemaphoreDescriptor {
        if (type == null) {
            throw new IllegalArgumentException("handle type must not be null");
        }
        win32Handle = win32Handle == null ? MemorySegment.NULL : win32Handle;
        nvSciSyncObject = nvSciSyncObject == null ? MemorySegment.NULL : nvSciSyncObject;
        Handles.check(type.name(), type.isFd(), type == ExternalSemaphoreHandleType.NVSCISYNC,
                type == ExternalSemaphoreHandleType.OPAQUE_WIN32 || type == ExternalSemaphoreHandleType.D3D12_FENCE
                        || type == ExternalSemaphoreHandleType.TIMELINE_SEMAPHORE_WIN32,
                fd, win32Handle, win32Name, nvSciSyncObject);
    }

    /**
     * {@return a binary semaphore exported as an opaque fd (Vulkan {@code vkGetSemaphoreFdKHR})}
     * @param fd the file descriptor, &gt; 0
     */
    public static ExternalSemaphoreDescriptor opaqueFd(int fd) {
        return new ExternalSemaphoreDescriptor(ExternalSemaphoreHandleType.OPAQUE_FD, fd, null, null, null);
    }

    /**
     * {@return a Vulkan timeline semaphore exported as an opaque fd}
     * @param fd the file descriptor, &gt; 0
     */
    public static ExternalSemaphoreDescriptor timelineFd(int fd) {
        return new ExternalSemaphoreDescriptor(ExternalSemaphoreHandleType.TIMELINE_SEMAPHORE_FD, fd, null, null, null);
    }

    /**
     * {@return a semaphore given by a Windows handle}
     * @param type a Win32, Direct3D or keyed-mutex type
     * @param handle the handle
     */
    public static ExternalSemaphoreDescriptor win32(ExternalSemaphoreHandleType type, MemorySegment handle) {
        return new ExternalSemaphoreDescriptor(type, -1, handle, null, null);
    }

    /**
     * {@return a semaphore given by an NvSciSync object}
     * @param object the {@code NvSciSyncObj}
     */
    public static ExternalSemaphoreDescriptor nvSciSync(MemorySegment object) {
        return new ExternalSemaphoreDescriptor(ExternalSemaphoreHandleType.NVSCISYNC, -1, null, null, object);
    }

    ExternalSemaphoreDescriptor withFd(int newFd) {
        return new ExternalSemaphoreDescriptor(type, newFd, win32Handle, win32Name, nvSciSyncObject);
    }
}
