package io.github.hipffm.interop;

import io.github.hipffm.HipException;

import java.util.List;
import java.util.function.Supplier;

/**
 * Calls of the public API under the fuzzing properties' first rule: an entry point throws only what its javadoc
 * (or the package's, {@code io.github.hipffm}: {@link IllegalArgumentException} for bad arguments,
 * {@link IllegalStateException} for a released object or segment, {@link HipException} for a runtime failure)
 * documents. Anything else (a {@link NullPointerException}, an {@link IndexOutOfBoundsException}, an
 * {@link ArithmeticException}, an {@link UnsupportedOperationException} nobody documented, an {@link Error}) fails
 * the property at once, naming the call.
 */
final class Calls {
    /** Value types (records, their factories, {@code KernelArgs.set}): bad values only. */
    static final List<Class<? extends RuntimeException>> VALUE = List.of(IllegalArgumentException.class);
    /** A call that may reach the runtime, on objects that may be released. */
    static final List<Class<? extends RuntimeException>> NATIVE = List.of(IllegalArgumentException.class,
            IllegalStateException.class, HipException.class);
    /** {@code close()} of a resource ({@code NativeResource.close}): a release the runtime refused. */
    static final List<Class<? extends RuntimeException>> CLOSE = List.of(HipException.class);
    /** A call that creates a resource in an owner arena used from a thread that does not own it. */
    static final List<Class<? extends RuntimeException>> OWNED = List.of(IllegalArgumentException.class,
            IllegalStateException.class, HipException.class, WrongThreadException.class);

    private Calls() {
    }

    /**
     * What one call did: returned {@code value}, or threw {@code thrown}, an exception its javadoc documents.
     *
     * @param call what was called, for messages
     * @param value the result, null when it threw
     * @param thrown the exception, null when it returned
     * @param <T> the result type
     */
    record Result<T>(String call, T value, RuntimeException thrown) {
        /**
         * {@return the value}
         * @throws AssertionError when the call threw
         */
        T get() {
            if (thrown != null) {
                throw new AssertionError(call + " threw " + thrown, thrown);
            }
            return value;
        }

        boolean ok() {
            return thrown == null;
        }

        /**
         * {@return this, after checking it returned ({@code expected} null) or threw exactly {@code expected}}
         * @param expected the exception's class, or null for success
         * @throws AssertionError otherwise
         */
        Result<T> expect(Class<? extends RuntimeException> expected) {
            if (expected == null && thrown != null) {
                throw new AssertionError(call + ": expected to succeed, threw " + thrown, thrown);
            }
            if (expected != null && (thrown == null || thrown.getClass() != expected)) {
                throw new AssertionError(call + ": expected " + expected.getSimpleName() + ", "
                        + (thrown == null ? "returned " + value : "threw " + thrown), thrown);
            }
            return this;
        }

        /**
         * {@return the HipException it threw}
         * @throws AssertionError when it threw none
         */
        HipException hipException() {
            expect(HipException.class);
            return (HipException) thrown;
        }
    }

    /**
     * {@return what {@code call} did} An exception outside {@code documented} is an {@link AssertionError} at once.
     * @param what the call, for messages
     * @param documented the exceptions its javadoc documents
     * @param call the call
     * @param <T> its result
     */
    static <T> Result<T> call(String what, List<Class<? extends RuntimeException>> documented, Supplier<T> call) {
        try {
            return new Result<>(what, call.get(), null);
        } catch (RuntimeException e) {
            for (Class<? extends RuntimeException> c : documented) {
                if (c.isInstance(e)) {
                    return new Result<>(what, null, e);
                }
            }
            throw new AssertionError(what + " threw " + e.getClass().getName() + ", which its javadoc does not"
                    + " document (" + documented.stream().map(Class::getSimpleName).toList() + ")", e);
        }
    }

    /**
     * {@return what {@code call} did, as {@link #call(String, List, Supplier)} for a void call}
     * @param what the call, for messages
     * @param documented the exceptions its javadoc documents
     * @param call the call
     */
    static Result<Void> run(String what, List<Class<? extends RuntimeException>> documented, Runnable call) {
        return call(what, documented, () -> {
            call.run();
            return null;
        });
    }
}
