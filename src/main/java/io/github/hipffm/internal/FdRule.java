package io.github.hipffm.internal;

import io.github.hipffm.internal.Posix.Stat;

import java.lang.foreign.MemorySegment;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What the fd of a GPU export can be on one platform, as data ({@link PlatformCalls#fdRule()}), and the check that
 * refuses an fd that cannot be one, before any native call. Every fd import is checked:
 *
 * <ul>
 *   <li>the fd must be open ({@code fstat}), on every platform;</li>
 *   <li>its kind ({@link FdKind}) must not be one of {@link #notExports()} (NVIDIA: regular files, memfds, shm
 *       objects, directories, pipes, device nodes that are not NVIDIA's);</li>
 *   <li>where {@link #dmaBufSize()} (AMD), a dma-buf must be at least as large as the memory imported from it.</li>
 * </ul>
 *
 * <p>The system property {@value #PROPERTY}, read at every import, chooses how much is checked: {@code kind} (the
 * default) all of the above, {@code open} only that the fd is open, for exporters whose fds look otherwise than
 * the table in {@code ExternalMemoryHandleType}'s javadoc says. The check costs one {@code fstat} on the usual
 * path (an NVIDIA export, an AMD dma-buf of the right size) and allocates nothing there; the
 * {@code /proc/self/fd} link is read only where {@code fstat} does not decide, and for messages.
 *
 * @param exports what a GPU export's fd is on this platform, for messages
 * @param notExports the kinds that are never a GPU export here (refused)
 * @param dmaBufSize whether a dma-buf smaller than the memory imported from it is refused
 */
public record FdRule(String exports, Set<FdKind> notExports, boolean dmaBufSize) {
    /** The system property that chooses what is checked: {@code kind} (the default) or {@code open}. */
    public static final String PROPERTY = "hipffm.fdCheck";

    /** Copies the set. */
    public FdRule {
        notExports = Set.copyOf(notExports);
    }

    /**
     * Refuses {@code fd} when it is not open, or (unless {@value #PROPERTY} is {@code open}) when it cannot be the
     * GPU export {@code handle} needs; leaves the fd as it is either way.
     *
     * @param fd the caller's fd
     * @param handle what the import takes, for messages: "OPAQUE_FD memory"
     * @param size the bytes to import (memory), 0 for a semaphore
     * @param hint what the fd must be, appended to a refusal of its kind
     * @throws IllegalArgumentException naming the fd and what it is, or naming a bad {@value #PROPERTY}
     */
    public void check(int fd, String handle, long size, String hint) {
        boolean kinds = kindsChecked();
        MemorySegment st;
        try {
            st = Posix.fstat(fd);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + ": " + handle + " needs an open file descriptor");
        }
        if (!kinds || clearedByFstat(Posix.mode(st), Posix.rdev(st), Posix.size(st), size)) {
            return;         // the usual path: no object made, no link read
        }
        String refusal = refusal(Stat.of(st), size, () -> Posix.link(fd));
        if (refusal != null) {
            throw new IllegalArgumentException("fd " + fd + " is " + refusal + ": " + hint + " (-D" + PROPERTY
                    + "=open hands such fds to the runtime unchecked)");
        }
    }

    /**
     * {@return why an fd cannot be the GPU export to import, or null when it can be} The link is asked for only
     * where {@code fstat} does not decide.
     *
     * @param st what {@code fstat} says about the fd
     * @param size the bytes to import (memory), 0 for a semaphore
     * @param link the fd's {@code /proc/self/fd} link ({@link Posix#link}), read at most once
     */
    public String refusal(Stat st, long size, Supplier<String> link) {
        if (clearedByFstat(st.mode(), st.rdev(), st.size(), size)) {
            return null;
        }
        String linked = link.get();      // fstat did not decide: its kind, or a dma-buf's size, needs the link
        FdKind kind = FdKind.of(st, linked);
        if (notExports.contains(kind)) {
            return FdKind.describe(st, linked) + ", not a GPU export (" + exports + ")";
        }
        if (kind == FdKind.DMA_BUF && tooSmall(st.size(), size)) {
            return FdKind.describe(st, linked) + ", smaller than the " + size + " bytes to import";
        }
        return null;
    }

    /**
     * {@return whether {@code fstat} alone lets the fd through: its kind is known from it and not refused, and its
     * size is no reason to look closer} False means: read the link and decide ({@link #refusal}).
     */
    private boolean clearedByFstat(int mode, long rdev, long stSize, long size) {
        if (!notExports.isEmpty()) {
            FdKind known = FdKind.of(mode, rdev);
            if (known == null || notExports.contains(known)) {
                return false;
            }
        }
        return !tooSmall(stSize, size);
    }

    /** {@return whether a dma-buf of {@code stSize} bytes (0: unknown) is checked and smaller than {@code size}} */
    private boolean tooSmall(long stSize, long size) {
        return dmaBufSize && size > 0 && stSize > 0 && size > stSize;
    }

    /** {@return whether {@value #PROPERTY} asks for the kind check (its default)} */
    private static boolean kindsChecked() {
        String mode = System.getProperty(PROPERTY, "kind");
        return switch (mode) {
            case "kind" -> true;
            case "open" -> false;
            default -> throw new IllegalArgumentException(PROPERTY + " must be 'kind' (the default: refuse fds that"
                    + " cannot be a GPU export) or 'open' (refuse only fds that are not open), not '" + mode + "'");
        };
    }
}
