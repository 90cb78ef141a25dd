package io.github.hipffm;

import io.github.hipffm.internal.Codes;

import java.util.Locale;

/**
 * Every {@code hipExternalMemoryHandleType}: what kind of handle another API exported the memory as.
 *
 * <p>Only file-descriptor types can work on Linux; Win32 and Direct3D types are Windows handles and NvSciBuf is
 * an NVIDIA-only object. {@link ExternalMemory#importMemory} rejects a type that cannot work on this OS and
 * platform before any native call, naming the type and the OS.
 *
 * <h2>What an fd reveals, and which fds are refused</h2>
 * The one fd type, {@link #OPAQUE_FD} (and the fd semaphore types of {@link ExternalSemaphoreHandleType}), is
 * checked before any native call, with one {@code fstat} (the fd's {@code /proc/self/fd} link is read only where
 * {@code fstat} does not decide, and for messages). An fd that is not open is refused on both platforms. Where what
 * user space sees of an fd tells that it cannot be a GPU export, the import is refused too: an
 * {@link IllegalArgumentException} names the fd, what it is and what was expected, and the fd stays the caller's,
 * open and untouched. What the fds look like:
 *
 * <table class="striped">
 * <caption>NVIDIA (Vulkan exports measured on an H200; the rest on Linux 6.18)</caption>
 * <thead><tr><th scope="col">fd</th><th scope="col">{@code /proc/self/fd} link</th><th scope="col">{@code fstat}</th>
 *     <th scope="col">hip-ffm</th></tr></thead>
 * <tbody>
 * <tr><th scope="row">Vulkan memory ({@code vkGetMemoryFdKHR}, {@code OPAQUE_FD})</th><td>{@code /dev/nvidiactl}</td>
 *     <td>character device, major 195, mode {@code 020666}, size 0</td><td>accepted</td></tr>
 * <tr><th scope="row">Vulkan timeline semaphore ({@code vkGetSemaphoreFdKHR})</th><td>{@code /dev/nvidiactl}</td>
 *     <td>the same: same {@code st_dev}, {@code st_ino}, {@code st_rdev}, and the same {@code fdinfo}</td>
 *     <td>accepted</td></tr>
 * <tr><th scope="row">memfd ({@code memfd_create})</th><td>{@code /memfd:NAME (deleted)}</td>
 *     <td>regular file, its size</td><td>refused</td></tr>
 * <tr><th scope="row">POSIX shared memory ({@code shm_open})</th><td>{@code /dev/shm/NAME}</td>
 *     <td>regular file, its size</td><td>refused</td></tr>
 * <tr><th scope="row">regular file</th><td>its path</td><td>regular file</td><td>refused</td></tr>
 * <tr><th scope="row">directory, pipe or FIFO, a device node not NVIDIA's ({@code /dev/null})</th>
 *     <td>path, {@code pipe:[N]}</td><td>directory, FIFO, device not of major 195 nor {@code /dev/nvidia*}</td>
 *     <td>refused</td></tr>
 * <tr><th scope="row">socket, anonymous inode ({@code eventfd}, {@code sync_file}), dma-buf</th>
 *     <td>{@code socket:[N]}, {@code anon_inode:[eventfd]}, {@code /dmabuf:}</td><td>socket; type bits 0</td>
 *     <td>not caught: reach CUDA</td></tr>
 * </tbody>
 * </table>
 *
 * <table class="striped">
 * <caption>AMD (from the kernel's and ROCm's source; not measured: no AMD GPU was at hand)</caption>
 * <thead><tr><th scope="col">fd</th><th scope="col">{@code /proc/self/fd} link</th><th scope="col">{@code fstat}</th>
 *     <th scope="col">hip-ffm</th></tr></thead>
 * <tbody>
 * <tr><th scope="row">Vulkan memory (RADV, AMDVLK: a dma-buf, which ROCm's {@code hsa_amd_interop_map_buffer}
 *     imports)</th><td>{@code /dmabuf:NAME} ({@code anon_inode:dmabuf} before Linux 5.3)</td>
 *     <td>type bits 0, mode {@code 0600}, size the buffer's (0 before Linux 5.3)</td>
 *     <td>accepted; refused when smaller than the descriptor's size</td></tr>
 * <tr><th scope="row">memfd, shm object, regular file, anything else</th><td>as on NVIDIA</td><td>as on NVIDIA</td>
 *     <td>not refused: reach ROCm, which refuses what is not a dma-buf</td></tr>
 * </tbody>
 * </table>
 *
 * <p>What cannot be caught, and reaches the runtime:
 * <ul>
 *   <li>on NVIDIA, a semaphore's fd given as memory, or memory's as a semaphore: the two look identical;</li>
 *   <li>a size beyond the exported allocation, on NVIDIA (size 0 is all an export shows) and on AMD before
 *       Linux 5.3; a smaller size is legal everywhere;</li>
 *   <li>an export of another GPU, another process's or an old one: every NVIDIA export is the same
 *       {@code /dev/nvidiactl} inode;</li>
 *   <li>sockets, anonymous inodes and dma-bufs on NVIDIA; every kind but a too small dma-buf on AMD;</li>
 *   <li>an fd closed and reused for another file by another thread between the check and the import.</li>
 * </ul>
 * OpenGL exports no fds ({@code GL_EXT_memory_object_fd} only imports them; GL objects come in through
 * {@link GraphicsResource}); an EGL image exported as a dma-buf is a dma-buf, as above. For an exporter whose fds
 * look otherwise than these tables say (another driver), {@code -Dhipffm.fdCheck=open} keeps only the check that the
 * fd is open (the system property is read at each import; the default is {@code kind}).
 */
public enum ExternalMemoryHandleType {
    /**
     * A POSIX file descriptor (Vulkan {@code VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT}). Linux. Checked before
     * the import: see the tables above.
     */
    OPAQUE_FD(Os.LINUX),
    /** An NT handle. Windows. */
    OPAQUE_WIN32(Os.WINDOWS),
    /** A global share (KMT) handle. Windows. */
    OPAQUE_WIN32_KMT(Os.WINDOWS),
    /** A D3D12 heap. Windows. */
    D3D12_HEAP(Os.WINDOWS),
    /** A D3D12 committed resource. Windows. */
    D3D12_RESOURCE(Os.WINDOWS),
    /** A D3D11 resource (NT handle). Windows. */
    D3D11_RESOURCE(Os.WINDOWS),
    /** A D3D11 resource (KMT handle). Windows. */
    D3D11_RESOURCE_KMT(Os.WINDOWS),
    /** An NvSciBuf object. NVIDIA platform on Linux (Tegra/DRIVE) only. */
    NVSCIBUF(Os.LINUX);

    private final Os os;

    ExternalMemoryHandleType(Os os) {
        this.os = os;
    }

    /** {@return the {@code hipExternalMemoryHandleType} value, for the generated bindings} */
    public int hipValue() {
        return Codes.hip(this);
    }

    /** {@return whether the handle is a file descriptor (then its ownership follows the fd rule)} */
    public boolean isFd() {
        return this == OPAQUE_FD;
    }

    /**
     * {@return the type with this {@code hipExternalMemoryHandleType} value}
     * @param value the C value
     * @throws IllegalArgumentException when no type has it
     */
    public static ExternalMemoryHandleType ofValue(int value) {
        for (var t : All.TYPES) {
            if (t.hipValue() == value) {
                return t;
            }
        }
        throw new IllegalArgumentException("invalid hipExternalMemoryHandleType " + value);
    }

    /** Every type, once ({@code values()} copies its array at each call; a received message looks its type up). */
    private static final class All {
        static final ExternalMemoryHandleType[] TYPES = values();
    }

    /** Throws {@link IllegalArgumentException} when this type cannot work here. */
    void checkSupported(Platform platform) {
        Os.check(os, name(), "external memory", this == NVSCIBUF && platform != Platform.NVIDIA, platform);
    }

    /** The operating system a handle type belongs to. */
    enum Os {
        LINUX, WINDOWS;

        static final Os CURRENT = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")
                ? WINDOWS : LINUX;

        static void check(Os needed, String type, String what, boolean nvidiaOnly, Platform platform) {
            String osName = System.getProperty("os.name");
            if (needed != CURRENT) {
                throw new IllegalArgumentException(type + " " + what + " handles exist only on "
                        + (needed == WINDOWS ? "Windows" : "Linux") + "; this is " + osName);
            }
            if (nvidiaOnly) {
                throw new IllegalArgumentException(type + " " + what + " handles exist only on the NVIDIA platform;"
                        + " this is " + platform.id() + " on " + osName);
            }
        }
    }
}
