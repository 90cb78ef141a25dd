package io.github.hipffm.abi;

import java.util.Optional;

/**
 * One ABI fact to check: a C expression whose value the probe prints, and the value the Java bindings hold for it.
 *
 * @param subject     what the fact belongs to, e.g. {@code struct hipExtent} or {@code constants}; the test reports
 *                    the mismatches of each subject together
 * @param description what is compared, e.g. {@code struct hipExtent.depth offset}
 * @param cExpression the C expression, e.g. {@code offsetof(struct hipExtent, depth)}
 * @param kind        how the C side prints the value and how it is compared with the Java one
 * @param javaValue   the Java side's value: a {@link Long} for sizes and offsets, the boxed return value of a constant
 *                    method, or a {@link String} for a string constant
 */
record Fact(String subject, String description, String cExpression, Kind kind, Object javaValue) {

    /** The C name of the constant whose value this fact is ({@link JavaSide#CONSTANTS}: the expression is the name). */
    Optional<String> constant() {
        return subject.equals(JavaSide.CONSTANTS) ? Optional.of(cExpression) : Optional.empty();
    }

    /** The ways a C value is printed by the probe and compared with its Java counterpart. */
    enum Kind {
        /** Sizes, offsets and integral constants, printed as {@code long long}. */
        INTEGRAL("%lld", "(long long)(%s)") {
            @Override
            boolean matches(String c, Object java) {
                long value = Long.parseLong(c);
                // Java has no unsigned int: jextract gives a macro such as 0x80000000 (a C unsigned int) to Java as
                // the int of the same 32 bits.
                return ((Number) java).longValue() == value
                        || (java instanceof Integer i && Integer.toUnsignedLong(i) == value);
            }
        },
        /** Floating-point constants, printed with enough digits to round-trip a double. */
        FLOATING("%.17g", "(double)(%s)") {
            @Override
            boolean matches(String c, Object java) {
                double value = switch (c) {
                    case "inf" -> Double.POSITIVE_INFINITY;
                    case "-inf" -> Double.NEGATIVE_INFINITY;
                    case "nan", "-nan" -> Double.NaN;
                    default -> Double.parseDouble(c);
                };
                return java instanceof Float f ? Float.compare((float) value, f) == 0
                        : Double.compare(value, ((Number) java).doubleValue()) == 0;
            }
        },
        /** String constants ({@code #define X "..."}). */
        STRING("%s", "(%s)") {
            @Override
            boolean matches(String c, Object java) {
                return c.equals(java);
            }

            @Override
            String show(Object value) {
                return '"' + String.valueOf(value) + '"';
            }
        },
        /** Pointer constants ({@code #define X ((void *) 2)}), compared as addresses. */
        ADDRESS("%llu", "(unsigned long long)(uintptr_t)(%s)") {
            @Override
            boolean matches(String c, Object java) {
                return Long.parseUnsignedLong(c) == (Long) java;
            }

            @Override
            String show(Object value) {
                return value instanceof Long address ? Long.toUnsignedString(address) : String.valueOf(value);
            }
        };

        /** The {@code printf} conversion of the C value. */
        final String printfConversion;
        private final String castTemplate;

        Kind(String printfConversion, String castTemplate) {
            this.printfConversion = printfConversion;
            this.castTemplate = castTemplate;
        }

        /** The C expression converted to the type {@link #printfConversion} expects. */
        String cast(String cExpression) {
            return castTemplate.formatted(cExpression);
        }

        /** Whether the text the probe printed denotes the Java value. */
        abstract boolean matches(String c, Object java);

        /** A value as mismatch messages show it. */
        String show(Object value) {
            return String.valueOf(value);
        }
    }
}
