package io.github.hipffm;

import io.github.hipffm.internal.Codes;

/**
 * Every {@code hipExternalSemaphoreHandleType}: what kind of handle another API exported the semaphore as.
 *
 * <p>Only the fd types can work on Linux; {@link ExternalSemaphore#importSemaphore} rejects the others before
 * any native call, naming the type and the OS. Keyed-mutex types take a key (and, for waits, a timeout) per
 * signal/wait: see {@link ExternalSemaphore.Signal} and {@link ExternalSemaphore.Wait}.
 *
 * <h2>What an fd reveals, and which fds are refused</h2>
 * {@link #OPAQUE_FD} and {@link #TIMELINE_SEMAPHORE_FD} fds are checked before any native call, as
 * {@link ExternalMemoryHandleType#OPAQUE_FD} memory is (its javadoc has the tables and what cannot be caught):
 *
 * <table class="striped">
 * <caption>Semaphore fds</caption>
 * <thead><tr><th scope="col">platform</th><th scope="col">a GPU export is</th><th scope="col">hip-ffm refuses</th>
 *     <th scope="col">not caught</th></tr></thead>
 * <tbody>
 * <tr><th scope="row">NVIDIA (measured on an H200 for a Vulkan timeline semaphore)</th>
 *     <td>an fd of {@code /dev/nvidiactl} (character major 195, mode {@code 020666}, size 0), identical to a
 *     memory export's</td>
 *     <td>an fd that is not open; a regular file, memfd, shm object, directory, pipe, a device node not
 *     NVIDIA's</td>
 *     <td>a memory export's fd (it looks the same), another GPU's export, sockets, anonymous inodes, dma-bufs</td></tr>
 * <tr><th scope="row">AMD (from the source; not measured)</th>
 *     <td>a DRM syncobj ({@code anon_inode:syncobj}) from RADV</td>
 *     <td>an fd that is not open; then every import, since ROCm cannot import semaphores on Linux
 *     ({@link HipError#NOT_SUPPORTED})</td>
 *     <td>nothing else is asked of the fd</td></tr>
 * </tbody>
 * </table>
 */
public enum ExternalSemaphoreHandleType {
    /** A binary semaphore as a POSIX fd (Vulkan {@code OPAQUE_FD}). Linux. */
    OPAQUE_FD(ExternalMemoryHandleType.Os.LINUX),
    /** An NT handle. Windows. */
    OPAQUE_WIN32(ExternalMemoryHandleType.Os.WINDOWS),
    /** A global share (KMT) handle. Windows. */
    OPAQUE_WIN32_KMT(ExternalMemoryHandleType.Os.WINDOWS),
    /** A D3D12 fence. Windows. */
    D3D12_FENCE(ExternalMemoryHandleType.Os.WINDOWS),
    /** A D3D11 fence. Windows. */
    D3D11_FENCE(ExternalMemoryHandleType.Os.WINDOWS),
    /** An NvSciSync object. NVIDIA platform on Linux (Tegra/DRIVE) only. */
    NVSCISYNC(ExternalMemoryHandleType.Os.LINUX),
    /** A DXGI keyed mutex (NT handle). Windows. */
    KEYED_MUTEX(ExternalMemoryHandleType.Os.WINDOWS),
    /** A DXGI keyed mutex (KMT handle). Windows. */
    KEYED_MUTEX_KMT(ExternalMemoryHandleType.Os.WINDOWS),
    /** A timeline semaphore as a POSIX fd (Vulkan timeline semaphore, {@code OPAQUE_FD}). Linux. */
    TIMELINE_SEMAPHORE_FD(ExternalMemoryHandleType.Os.LINUX),
    /** A timeline semaphore as an NT handle. Windows. */
    TIMELINE_SEMAPHORE_WIN32(ExternalMemoryHandleType.Os.WINDOWS);

    private final ExternalMemoryHandleType.Os os;

    ExternalSemaphoreHandleType(ExternalMemoryHandleType.Os os) {
        this.os = os;
    }

    /** {@return the {@code hipExternalSemaphoreHandleType} value, for the generated bindings} */
    public int hipValue() {
        return Codes.hip(this);
    }

    /** {@return whether the handle is a file descriptor} */
    public boolean isFd() {
        return this == OPAQUE_FD || this == TIMELINE_SEMAPHORE_FD;
    }

    /** {@return whether signal and wait carry a fence value that must increase (timeline semantics)} */
    public boolean isTimeline() {
        return this == TIMELINE_SEMAPHORE_FD || this == TIMELINE_SEMAPHORE_WIN32 || this == D3D12_FENCE
                || this == D3D11_FENCE || this == NVSCISYNC;
    }

    /** {@return whether signal/wait take a keyed-mutex key} */
    public boolean isKeyedMutex() {
        return this == KEYED_MUTEX || this == KEYED_MUTEX_KMT;
    }

    /**
     * {@return the type with this {@code hipExternalSemaphoreHandleType} value}
     * @param value the C value
     * @throws IllegalArgumentException when no type has it
     */
    public static ExternalSemaphoreHandleType ofValue(int value) {
        for (var t : All.TYPES) {
            if (t.hipValue() == value) {
                return t;
            }
        }
        throw new IllegalArgumentException("invalid hipExternalSemaphoreHandleType " + value);
    }

    /** Every type, once ({@code values()} copies its array at each call; a received message looks its type up). */
    private static final class All {
        static final ExternalSemaphoreHandleType[] TYPES = values();
    }

    void checkSupported(Platform platform) {
        ExternalMemoryHandleType.Os.check(os, name(), "external semaphore", this == NVSCISYNC && platform != Platform.NVIDIA,
                platform);
    }
}
