package io.github.hipffm.abi;

/**
 * A disagreement between the C headers and the Java bindings.
 *
 * @param target  the binding set, e.g. {@code hip}
 * @param subject the C type, or {@code constants} / {@code functions} / {@code classes}, it is reported under
 * @param detail  what disagrees, e.g. {@code struct hipExtent.depth offset: C=16 Java=24}
 */
record Mismatch(String target, String subject, String detail) {

    /** The mismatch as the test reports it, e.g. {@code hip: struct hipExtent.depth offset: C=16 Java=24}. */
    String message() {
        return target + ": " + detail;
    }
}
