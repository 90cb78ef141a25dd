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
 * it imports (CUDA: on success, and on some failures) is handed a duplicate. {@code importCopy} leaves the caller's
 * fd with the caller whatever happens: the object imports a duplicate (and on such a runtime owns no fd at all).
 * One import makes at most one duplicate.
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
     * the fd the object owns. Every import makes at most one {@code dup}: of the caller's fd for a runtime that
     * closes what it imports (CUDA), or for {@code copy}; a runtime that closes what it imports gets the copy
     * itself, so the object then owns no fd.
     *
     * @param backend the runtime
     * @param owner the new object's owner arena
     * @param what the new object's name for messages
     * @param fd the caller's fd and what it must be; null when the handle is not an fd
     * @param copy true to import a duplicate and leave the caller's fd with the caller whatever happens
     *     ({@code importCopy}); false to hand the object the caller's fd on success
     * @param importer the native import, given the fd to pass to the runtime (ignored for other handles)
     * @param destroy the native destroy of the imported handle
     * @param make makes the object from its lifetime and its scoped handle
     * @param <R> the imported object
     * @return the imported object
     * @throws IllegalArgumentException when the fd is not open or cannot be a GPU export here, or cannot be
     *     duplicated (the fd untouched)
     */
    static <R> R run(Backend backend, Arena owner, Device device, String what, Fd fd, boolean copy,
            IntFunction<MemorySegment> importer, Consumer<MemorySegment> destroy,
            BiFunction<Lifetime, MemorySegment, R> make) {
        return run(backend, owner, device, what, fd, copy, backend.importConsumesFd(), importer, destroy, make);
    }

    /**
     * {@link #run(Backend, Arena, Device, String, Fd, boolean, IntFunction, Consumer, BiFunction)} for an import
     * whose runtime call closes the fd it is given ({@code runtimeCloses}) or not, whatever the platform's external
     * memory import does: {@code hipMemImportFromShareableHandle} and {@code cuMemImportFromShareableHandle} leave
     * it open on both platforms.
     */
    static <R> R run(Backend backend, Arena owner, Device device, String what, Fd fd, boolean copy,
            boolean runtimeCloses, IntFunction<MemorySegment> importer, Consumer<MemorySegment> destroy,
            BiFunction<Lifetime, MemorySegment, R> make) {
        if (fd != null) {
            fd.check(backend);
        }
        int callers = fd == null ? -1 : fd.number();
        boolean consumes = fd != null && runtimeCloses;
        int[] owned = {-1};   // the fd the object closes after its destroy, known once imported
        try {
            return Lifetime.create(owner, device, what, () -> {
                int runtimeFd = consumes || (fd != null && copy) ? Posix.dup(callers) : callers;
                MemorySegment h;
                try {
                    h = importer.apply(runtimeFd);
                } catch (RuntimeException e) {
                    if (runtimeFd != callers) {
                        if (consumes) {
                            // CUDA closes the fd it was given on some refusals, and which ones it does not document:
                            // the duplicate is closed here only if its number is still a duplicate of the caller's fd
                            // (the same open file description), so a number CUDA freed and another thread reused is
                            // left alone even when it is the same file (every NVIDIA export is /dev/nvidiactl).
                            Posix.closeIfDuplicate(runtimeFd, callers);
                        } else {
                            Posix.close(runtimeFd);
                        }
                    }
                    throw e;
                }
                owned[0] = fd == null ? -1 : copy ? (consumes ? -1 : runtimeFd) : callers;
                return h;
            }, h -> {
                try {
                    destroy.accept(h);
                } finally {
                    if (owned[0] >= 0) {
                        Posix.close(owned[0]);
                    }
                }
            }, make);
        } catch (HipException e) {
            HipException failure = Handles.withNoDeviceHint(e, backend);
            if (fd == null) {
                throw failure;
            }
            String otherGpu = Handles.otherGpuHint(backend, device, what);
            throw Handles.withFdHint(failure, otherGpu != null ? otherGpu : fd.hint());
        }
    }
}
