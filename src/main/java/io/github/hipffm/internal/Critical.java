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
 * in nanoseconds qualify. Their first call may initialise the runtime (milliseconds), so each backend makes that
 * first call through the ordinary generated binding before it uses these handles.
 *
 * <p>The generated bindings ({@code io.github.hipffm.bindings}) stay jextract's output; these handles are the
 * idiomatic layer's own, resolved in the same loaded library.
 */
final class Critical {
    private Critical() {
    }

    /** {@return a critical handle for {@code int symbol(int *out)}} @param symbol the C function */
    static MethodHandle intOut(String symbol) {
        MemorySegment address = SymbolLookup.loaderLookup().find(symbol)
                .orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + symbol));
        return Linker.nativeLinker().downcallHandle(address, FunctionDescriptor.of(JAVA_INT, ADDRESS),
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
