package io.github.hipffm.internal;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Downcall handles with {@link Linker.Option#critical(boolean) Linker.Option.critical(false)} for the few runtime
 * calls that are pure, short and never call back into Java: the current device and the device count. A critical
 * call skips the Java-to-native thread-state transition (on the H100 run that transition was 20-25 ns of a
 * 45-70 ns call); the price is that a safepoint waits for the call to return, which is why only calls that return
 * in nanoseconds qualify. Their first call may initialise the runtime (milliseconds), so {@link #deviceCalls} makes
 * that first call through an ordinary downcall before it makes these handles.
 *
 * <p>The generated bindings ({@code io.github.hipffm.bindings}) stay jextract's output; these handles are the
 * idiomatic layer's own, resolved in the same loaded library.
 */
final class Critical {
    private Critical() {
    }

    /**
     * The device count and the current device of one runtime as critical calls.
     *
     * @param count {@code int <prefix>GetDeviceCount(int *)}
     * @param current {@code int <prefix>GetDevice(int *)}
     */
    record DeviceCalls(MethodHandle count, MethodHandle current) {
    }

    /**
     * {@return the critical device-count and current-device handles of a loaded runtime} Makes the runtime's first
     * device count first, through an ordinary downcall (it may initialise the runtime, which a critical call must
     * not do), so that creating a platform does it deterministically, never a later call.
     * @param prefix {@code hip} or {@code cuda}
     */
    static DeviceCalls deviceCalls(String prefix) {
        MethodHandle first = Linker.nativeLinker().downcallHandle(address(prefix + "GetDeviceCount"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            int ignored = (int) first.invokeExact(a.allocate(JAVA_INT));          // the result does not matter here
        } catch (Throwable t) {
            throw new IllegalStateException(prefix + "GetDeviceCount failed", t);
        }
        return new DeviceCalls(intOut(prefix + "GetDeviceCount"), intOut(prefix + "GetDevice"));
    }

    private static MemorySegment address(String symbol) {
        return SymbolLookup.loaderLookup().find(symbol)
                .orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + symbol));
    }

    /**
     * {@return a critical handle for {@code int symbol(int *out)}}
     * @param symbol the C function
     */
    static MethodHandle intOut(String symbol) {
        return Linker.nativeLinker().downcallHandle(address(symbol), FunctionDescriptor.of(JAVA_INT, ADDRESS),
                Linker.Option.critical(false));
    }

    /** {@return what {@code handle} (an {@link #intOut} handle) returns for {@code out}} */
    static int call(MethodHandle handle, MemorySegment out) {
        try {
            return (int) handle.invokeExact(out);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("a downcall threw a checked exception", t);
        }
    }
}
