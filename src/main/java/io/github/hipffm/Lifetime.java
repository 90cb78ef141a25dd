package io.github.hipffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The lifetime of one native resource: its own shared {@link Arena}, closed either by the resource's
 * {@code close()} or when the owner arena closes, whichever comes first, and exactly once.
 *
 * <p>Cleanups registered on the inner arena run in reverse order of registration, so what was derived from the
 * resource (mapped buffers, arrays) is released before the resource itself, whose release is registered first.
 * Segments handed out are scoped to the inner arena: after close, using one throws
 * {@link IllegalStateException}, and passing one to a native call is refused before the call.
 *
 * <p>The owner arena keeps one small cleanup entry per lifetime until it closes, also after an early
 * {@link #close()}: FFM arenas cannot forget a cleanup. Long-lived owner arenas (global, auto, application-wide)
 * that see many short-lived imports therefore grow by one entry each; give such imports an arena of their own.
 */
final class Lifetime {
    private static final System.Logger LOG = System.getLogger("io.github.hipffm");

    private final String what;
    private final Arena arena = Arena.ofShared();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile RuntimeException cleanupFailure;

    /** A lifetime that only {@link #close()} ends (used for short-lived objects such as a GL mapping). */
    Lifetime(String what) {
        this.what = what;
    }

    /**
     * @param owner the arena whose closing closes this lifetime too
     * @param what the resource's name for messages, e.g. {@code "ExternalMemory"}
     */
    Lifetime(Arena owner, String what) {
        this.what = what;
        try {
            MemorySegment.NULL.reinterpret(owner, s -> closeFromOwner());
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * The one creation protocol of a native resource: a new lifetime owned by {@code owner}, the native create,
     * the release registered, the resource made around the scoped handle. If the create fails, the lifetime is
     * closed and the exception rethrown; if the owner closed meanwhile, the new handle is released at once.
     *
     * @param owner the arena whose closing releases the resource
     * @param what the resource's name for messages
     * @param create the native create, returning the raw handle
     * @param release the native release of the raw handle
     * @param make makes the resource from its lifetime and its scoped handle
     * @param <R> the resource
     * @return the resource
     */
    static <R> R create(Arena owner, String what, Supplier<MemorySegment> create, Consumer<MemorySegment> release,
            BiFunction<Lifetime, MemorySegment, R> make) {
        Lifetime lifetime = new Lifetime(owner, what);
        MemorySegment raw;
        try {
            raw = create.get();
        } catch (RuntimeException e) {
            lifetime.close();
            throw e;
        }
        MemorySegment scoped = lifetime.scope(raw, 0, () -> release.accept(raw));
        return make.apply(lifetime, scoped);
    }

    /** The arena that scopes this resource's segments. */
    Arena arena() {
        return arena;
    }

    /**
     * Registers a release action; it runs at close, before those registered earlier. An exception it throws is
     * kept and rethrown by {@link #close()} after every other action has run.
     */
    void onClose(Runnable release) {
        MemorySegment.NULL.reinterpret(arena, (Consumer<MemorySegment>) s -> {
            try {
                release.run();
            } catch (RuntimeException e) {
                if (cleanupFailure == null) {
                    cleanupFailure = e;
                } else {
                    cleanupFailure.addSuppressed(e);
                }
            }
        });
    }

    /**
     * {@return a zero-length segment for a native handle, scoped to this lifetime} Passing it to a native call
     * is refused once this lifetime is closed, and keeps a concurrent {@link #close()} from releasing the handle
     * during the call (that close then fails with {@link IllegalStateException} and can be retried). Release
     * actions must use the raw handle: the arena is already closed when they run.
     */
    MemorySegment guard(MemorySegment handle) {
        return handle.reinterpret(arena, null);
    }

    /**
     * {@return {@code pointer} as a segment of {@code bytes}, scoped to this lifetime, with {@code release} run
     * at close like {@link #onClose}} If the lifetime closed meanwhile, releases at once and throws.
     */
    MemorySegment scope(MemorySegment pointer, long bytes, Runnable release) {
        try {
            MemorySegment s = pointer.reinterpret(bytes, arena, null);
            onClose(release);
            return s;
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
    }

    /** Throws {@link IllegalStateException} when closed. */
    void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException(what + " is closed");
        }
    }

    boolean isClosed() {
        return closed.get();
    }

    /**
     * Closes once; later calls do nothing. Rethrows the first failure of a release action. When a segment of
     * this lifetime is in use by another thread (a native call or I/O holds it), the arena refuses to close:
     * nothing is released, the {@link IllegalStateException} is thrown, and this lifetime stays open so that
     * close can be retried.
     */
    void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                arena.close();
            } catch (RuntimeException e) {
                if (arena.scope().isAlive()) {
                    closed.set(false);   // refused before any release action ran
                }
                throw e;
            }
            RuntimeException failure = cleanupFailure;
            if (failure != null) {
                throw failure;
            }
        }
    }

    private void closeFromOwner() {
        try {
            close();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "releasing " + what + " when its arena closed failed", e);
        }
    }
}
