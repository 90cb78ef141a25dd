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
