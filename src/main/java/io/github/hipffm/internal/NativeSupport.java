package io.github.hipffm.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;

/** Small helpers shared by the backends. */
final class NativeSupport {
    private NativeSupport() {
    }

    /** {@return a native array of the given pointers, allocated in {@code arena}} */
    static MemorySegment addressArray(java.lang.foreign.Arena arena, MemorySegment[] pointers) {
        MemorySegment array = arena.allocate(java.lang.foreign.ValueLayout.ADDRESS, pointers.length);
        for (int i = 0; i < pointers.length; i++) {
            array.setAtIndex(java.lang.foreign.ValueLayout.ADDRESS, i, pointers[i]);
        }
        return array;
    }

    /** {@return the NUL-terminated string at a native pointer, or {@code null} for NULL} */
    static String cString(MemorySegment pointer) {
        return pointer.equals(MemorySegment.NULL) ? null : pointer.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /**
     * {@return whether a loaded library exports the symbol} The generated bindings resolve a function on first
     * call and fail in a static initialiser when it is missing; calls that older runtimes lack are checked with
     * this first.
     */
    static boolean hasSymbol(String name) {
        return SymbolLookup.loaderLookup().find(name).isPresent();
    }
}
