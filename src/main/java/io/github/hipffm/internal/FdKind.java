package io.github.hipffm.internal;

import io.github.hipffm.internal.Posix.Stat;

/**
 * What an fd refers to, as far as user space can tell on Linux: {@code fstat}'s type and device, and the
 * {@code /proc/self/fd} link where {@code fstat} alone does not say. The table of what GPU exports look like on
 * each platform is in the javadoc of {@code ExternalMemoryHandleType}.
 */
public enum FdKind {
    /** A node of the NVIDIA driver: character major {@value #NVIDIA_MAJOR}, or a {@code /dev/nvidia*} link. */
    NVIDIA_DEVICE("an NVIDIA device node"),
    /** A dma-buf: link {@code /dmabuf:NAME} (kernels since 5.3), {@code anon_inode:dmabuf} before. */
    DMA_BUF("a dma-buf"),
    /** A {@code memfd_create} file: a regular file, link {@code /memfd:NAME (deleted)}. */
    MEMFD("a memfd"),
    /** A POSIX shared memory object ({@code shm_open}): a regular file, link {@code /dev/shm/NAME}. */
    SHM("a POSIX shared memory object"),
    /** Any other regular file. */
    REGULAR_FILE("a regular file"),
    /** A directory. */
    DIRECTORY("a directory"),
    /** A pipe or FIFO. */
    PIPE("a pipe or FIFO"),
    /** A socket. */
    SOCKET("a socket"),
    /** A character device that is not NVIDIA's. */
    CHAR_DEVICE("a character device"),
    /** A block device. */
    BLOCK_DEVICE("a block device"),
    /** A symbolic link itself ({@code O_PATH | O_NOFOLLOW}). */
    SYMLINK("a symbolic link"),
    /** An anonymous inode other than a dma-buf: {@code eventfd}, {@code sync_file}, a DRM syncobj, ... */
    ANON_INODE("an anonymous inode");

    /** The NVIDIA driver's character major ({@code NV_MAJOR_DEVICE_NUMBER}: {@code /dev/nvidiactl}, {@code /dev/nvidia0}). */
    public static final int NVIDIA_MAJOR = 195;

    private final String description;

    FdKind(String description) {
        this.description = description;
    }

    /** {@return the kind with its article, for messages: "a memfd"} */
    public String description() {
        return description;
    }

    /**
     * {@return the kind when {@code fstat} alone tells it, else null (then {@link #of(Stat, String)} needs the
     * link)} Without a link: an NVIDIA device node (major {@value #NVIDIA_MAJOR}), a directory, a pipe, a socket,
     * a block device, a symbolic link.
     *
     * @param st what {@code fstat} says
     */
    public static FdKind of(Stat st) {
        return of(st.mode(), st.rdev());
    }

    /** {@return {@link #of(Stat)} from {@code st_mode} and {@code st_rdev}} */
    static FdKind of(int mode, long rdev) {
        return switch (mode & Stat.S_IFMT) {
            case Stat.S_IFCHR -> Stat.major(rdev) == NVIDIA_MAJOR ? NVIDIA_DEVICE : null;
            case Stat.S_IFDIR -> DIRECTORY;
            case Stat.S_IFIFO -> PIPE;
            case Stat.S_IFSOCK -> SOCKET;
            case Stat.S_IFBLK -> BLOCK_DEVICE;
            case Stat.S_IFLNK -> SYMLINK;
            default -> null;    // a regular file, memfd, shm object, an anonymous inode or dma-buf, another device
        };
    }

    /**
     * {@return the kind of an fd from {@code fstat} and its {@code /proc/self/fd} link}
     * @param st what {@code fstat} says
     * @param link the link ({@link Posix#link}); "" when unknown
     */
    public static FdKind of(Stat st, String link) {
        if (link.startsWith("/dmabuf:") || link.equals("anon_inode:dmabuf")) {
            return DMA_BUF;
        }
        if (link.startsWith("anon_inode:")) {
            return ANON_INODE;                  // whatever mode the kernel gives anonymous inodes
        }
        FdKind known = of(st);
        if (known != null) {
            return known;
        }
        return switch (st.type()) {
            case Stat.S_IFREG -> link.startsWith("/memfd:") ? MEMFD : link.startsWith("/dev/shm/") ? SHM : REGULAR_FILE;
            case Stat.S_IFCHR -> link.startsWith("/dev/nvidia") ? NVIDIA_DEVICE : CHAR_DEVICE;
            default -> ANON_INODE;              // type bits 0: an anonymous inode
        };
    }

    /**
     * {@return what an fd is, for messages: "a memfd (/memfd:x (deleted), 4096 bytes)", "a character device
     * (/dev/null, 1:3)", "a socket (socket:[1234])"}
     * @param st what {@code fstat} says
     * @param link its link ({@link Posix#link}); "" when unknown
     */
    public static String describe(Stat st, String link) {
        FdKind kind = of(st, link);
        String where = link.isEmpty() ? "" : link + ", ";
        String detail = switch (kind) {
            case NVIDIA_DEVICE, CHAR_DEVICE, BLOCK_DEVICE -> where + st.major() + ":" + st.minor();
            case MEMFD, SHM, REGULAR_FILE, DMA_BUF -> where + st.size() + " bytes";
            default -> link;
        };
        return detail.isEmpty() ? kind.description : kind.description + " (" + detail + ")";
    }
}
