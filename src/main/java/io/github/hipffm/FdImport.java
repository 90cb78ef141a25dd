package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.FdRule;
import io.github.hipffm.internal.Posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * The one fd rule of {@link ExternalMemory} and {@link ExternalSemaphore}, in one place: before any native call
 * the fd is checked ({@link FdRule#check}: open, and of a kind that can be a GPU export on this platform), and a
 * refusal leaves it as it was; on success the imported object owns the fd (open until it is closed, then closed
 * once, after the runtime's destroy); on failure the fd is still the caller's, open. A runtime that closes the fds
 * it imports (CUDA: on success, and on some failures) is handed a duplicate.
 */
final class FdImport {
    private FdImport() {
    }

    /**
     * The caller's fd of an import, and what it must be.
     *
     * @param number the caller's fd
     * @param handle what the import takes, for messages: "OPAQUE_FD memory"
     * @param size the bytes to import (memory), 0 for a semaphore
     * @param hint what an fd of this type must be, appended to refusals
     */
    record Fd(int number, String handle, long size, String hint) {
        /** Refuses the fd, naming it and what it is, when it cannot be this import's GPU export (no native call). */
        void check(Backend backend) {
            backend.fdRule().check(number, handle, size, hint);
        }
    }

    /**
     * Imports under the rule through {@link Lifetime#create}, whose release destroys the import and then closes
     * the fd.
     *
     * @param backend the runtime
     * @param owner the new object's owner arena
     * @param what the new object's name for messages
     * @param fd the caller's fd and what it must be; null when the handle is not an fd
     * @param importer the native import, given the fd to pass to the runtime (ignored for other handles)
     * @param destroy the native destroy of the imported handle
     * @param make makes the object from its lifetime and its scoped handle
     * @param <R> the imported object
     * @return the imported object
     * @throws IllegalArgumentException when the fd is not open or cannot be a GPU export here (the fd untouched)
     */
    static <R> R run(Backend backend, Arena owner, String what, Fd fd, IntFunction<MemorySegment> importer,
            Consumer<MemorySegment> destroy, BiFunction<Lifetime, MemorySegment, R> make) {
        if (fd != null) {
            fd.check(backend);
        }
        int callers = fd == null ? -1 : fd.number();
        try {
            return Lifetime.create(owner, what, () -> {
                int runtimeFd = fd != null && backend.importConsumesFd() ? Posix.dup(callers) : callers;
                try {
                    return importer.apply(runtimeFd);
                } catch (RuntimeException e) {
                    if (runtimeFd != callers) {
                        // CUDA closes the fd it was given on some refusals, and which ones it does not document: the
                        // duplicate is closed here only if its number is still a duplicate of the caller's fd (the
                        // same open file description), so a number CUDA freed and another thread reused is left
                        // alone even when it is the same file (every NVIDIA export is /dev/nvidiactl).
                        Posix.closeIfDuplicate(runtimeFd, callers);
                    }
                    throw e;
                }
            }, h -> {
                try {
                    destroy.accept(h);
                } finally {
                    if (fd != null) {
                        Posix.close(callers);
                    }
                }
            }, make);
        } catch (HipException e) {
            HipException failure = Handles.withNoDeviceHint(e, backend);
            throw fd != null ? Handles.withFdHint(failure, fd.hint()) : failure;
        }
    }

    /**
     * Checks the caller's fd, then imports a {@code dup} of it, so the caller keeps theirs; the duplicate is closed
     * if the import fails.
     *
     * @param backend the runtime
     * @param fd the caller's fd and what it must be
     * @param importer the import, given the duplicate
     * @param <T> the imported object
     * @return the imported object
     * @throws IllegalArgumentException when the fd is not open or cannot be a GPU export here (no duplicate made)
     */
    static <T> T copy(Backend backend, Fd fd, IntFunction<T> importer) {
        fd.check(backend);
        int copy = Posix.dup(fd.number());
        try {
            return importer.apply(copy);
        } catch (RuntimeException e) {
            Posix.close(copy);
            throw e;
        }
    }
}
