package io.github.hipffm.testrt;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A native call in flight that holds a segment, on a thread of its own, for as long as a test wants: the way a
 * runtime call on another thread holds a resource's handle or buffer. The call is libc's {@code write} of 1 MiB into
 * an empty pipe, declared with the held segment as a fourth, unused argument (the x86-64 System V ABI passes it in
 * a register {@code write} never reads), so the FFM API keeps the segment's arena acquired for the whole call; the
 * pipe fills after 64 KiB and {@code write} blocks. {@link #hold} returns once the call is blocked (a byte has
 * come out of the pipe); {@link #close()} drains the pipe, which ends the call.
 */
public final class InFlight implements AutoCloseable {
    private static final Linker L = Linker.nativeLinker();
    private static final MethodHandle WRITE_HOLDING = h("write", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final MethodHandle READ = h("read", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final long BYTES = 1 << 20;

    private final Arena arena = Arena.ofShared();
    private final int readEnd;
    private final int writeEnd;
    private final CompletableFuture<Long> call;

    private InFlight(MemorySegment held) throws Throwable {
        int[] ends = LinuxFds.pipe();
        readEnd = ends[0];
        writeEnd = ends[1];
        MemorySegment data = arena.allocate(BYTES);
        call = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("in-flight call").start(() -> {
            try {
                call.complete((long) WRITE_HOLDING.invokeExact(writeEnd, data, BYTES, held));
            } catch (Throwable t) {
                call.completeExceptionally(t);
            }
        });
        MemorySegment one = arena.allocate(1);
        long n = (long) READ.invokeExact(readEnd, one, 1L);   // the call is inside write(2) now
        if (n != 1) {
            throw new IllegalStateException("the holding call did not start: " + (call.isDone() ? call.join() : n));
        }
    }

    /**
     * {@return a native call holding {@code segment}, blocked until {@link #close()}}
     * @param segment a segment whose arena the call keeps acquired
     */
    public static InFlight hold(MemorySegment segment) {
        try {
            return new InFlight(segment);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Ends the call (drains the pipe) and waits for it. */
    @Override
    public void close() throws Exception {
        MemorySegment sink = arena.allocate(64 * 1024);
        long total = 1;
        while (total < BYTES) {
            long n;
            try {
                n = (long) READ.invokeExact(readEnd, sink, sink.byteSize());
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            if (n <= 0) {
                break;
            }
            total += n;
        }
        long written = call.get(10, TimeUnit.SECONDS);
        LinuxFds.close(readEnd);
        LinuxFds.close(writeEnd);
        arena.close();
        if (written != BYTES) {
            throw new IllegalStateException("the holding call wrote " + written + " of " + BYTES + " bytes");
        }
    }

    private static MethodHandle h(String name, FunctionDescriptor d) {
        return L.downcallHandle(L.defaultLookup().find(name).orElseThrow(), d);
    }
}
