package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * The one fd rule of {@link ExternalMemory} and {@link ExternalSemaphore}, in one place: on success the imported
 * object owns the fd (open until it is closed, then closed once, after the runtime's destroy); on failure the fd
 * is still the caller's, open. A runtime that closes the fds it imports (CUDA: on success, and on some failures)
 * is handed a duplicate.
 */
final class FdImport {
    private FdImport() {
    }

    /**
     * Imports under the rule through {@link Lifetime#create}, whose release destroys the import and then closes
     * the fd.
     *
     * @param backend the runtime
     * @param owner the new object's owner arena
     * @param what the new object's name for messages
     * @param isFd whether the handle is an fd
     * @param fd the caller's fd (ignored unless {@code isFd})
     * @param importer the native import, given the fd to pass to the runtime
     * @param destroy the native destroy of the imported handle
     * @param hint what an fd of this type must be, appended to the runtime's refusal
     * @param make makes the object from its lifetime and its scoped handle
     * @param <R> the imported object
     * @return the imported object
     */
    static <R> R run(Backend backend, Arena owner, String what, boolean isFd, int fd,
            IntFunction<MemorySegment> importer, Consumer<MemorySegment> destroy, String hint,
            BiFunction<Lifetime, MemorySegment, R> make) {
        try {
            return Lifetime.create(owner, what, () -> {
                int runtimeFd = isFd && backend.importConsumesFd() ? Posix.dup(fd) : fd;
                try {
                    return importer.apply(runtimeFd);
                } catch (RuntimeException e) {
                    if (runtimeFd != fd) {
                        Posix.closeIfSameFile(runtimeFd, fd);
                    }
                    throw e;
                }
            }, h -> {
                try {
                    destroy.accept(h);
                } finally {
                    if (isFd) {
                        Posix.close(fd);
                    }
                }
            }, make);
        } catch (HipException e) {
            HipException failure = Handles.withNoDeviceHint(e, backend);
            throw isFd ? Handles.withFdHint(failure, hint) : failure;
        }
    }

    /**
     * Imports a {@code dup} of {@code fd}, so the caller keeps theirs; the duplicate is closed if the import fails.
     *
     * @param fd the caller's fd
     * @param importer the import, given the duplicate
     * @param <T> the imported object
     * @return the imported object
     */
    static <T> T copy(int fd, IntFunction<T> importer) {
        int copy = Posix.dup(fd);
        try {
            return importer.apply(copy);
        } catch (RuntimeException e) {
            Posix.close(copy);
            throw e;
        }
    }
}
