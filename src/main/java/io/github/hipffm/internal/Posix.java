package io.github.hipffm.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/** The few libc calls the fd-ownership rule needs: {@code dup} and {@code close}, with {@code errno}. */
public final class Posix {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    private static final MethodHandle DUP = handle("dup");
    private static final MethodHandle CLOSE = handle("close");
    private static final MethodHandle FSTAT = LINKER.downcallHandle(LINKER.defaultLookup().find("fstat").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    /** {@code struct stat} on x86-64 Linux: 144 bytes, {@code st_dev} at 0 and {@code st_ino} at 8. */
    private static final long STAT_SIZE = 144;
    private static final MethodHandle STRERROR = LINKER.downcallHandle(LINKER.defaultLookup().find("strerror").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private Posix() {
    }

    private static MethodHandle handle(String name) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), CAPTURE);
    }

    /**
     * {@return a duplicate of {@code fd}}
     * @param fd an open file descriptor
     * @throws IllegalArgumentException when {@code dup} fails (e.g. {@code fd} is not open)
     */
    public static int dup(int fd) {
        return call(DUP, fd, "dup");
    }

    /**
     * Closes {@code fd}.
     *
     * @param fd an open file descriptor
     * @throws IllegalStateException when {@code close} fails
     */
    public static void close(int fd) {
        try {
            call(CLOSE, fd, "close");
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * Closes {@code copy} if it is still open and still the same file as {@code original} (same device and
     * inode). Used after a runtime that may or may not have closed a duplicate refused it.
     *
     * @param copy the duplicate handed to the runtime
     * @param original the caller's fd it was duplicated from
     */
    public static void closeIfSameFile(int copy, int original) {
        long[] a = identity(copy);
        long[] b = identity(original);
        if (a != null && b != null && a[0] == b[0] && a[1] == b[1]) {
            close(copy);
        }
    }

    /** {@return {st_dev, st_ino} of an open fd, or null when it is not open} */
    private static long[] identity(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(STAT_SIZE, 8);
            int rc = (int) FSTAT.invokeExact(fd, st);
            return rc < 0 ? null : new long[] {st.get(ValueLayout.JAVA_LONG, 0), st.get(ValueLayout.JAVA_LONG, 8)};
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static int call(MethodHandle h, int fd, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            int rc = (int) h.invokeExact(state, fd);
            if (rc < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                throw new IllegalArgumentException(name + "(" + fd + ") failed: " + strerror(errno));
            }
            return rc;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static String strerror(int errno) throws Throwable {
        MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
        return NativeSupport.cString(s) + " (errno " + errno + ")";
    }
}
