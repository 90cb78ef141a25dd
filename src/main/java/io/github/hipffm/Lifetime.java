package io.github.hipffm;

import io.github.hipffm.internal.Releases;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The lifetime of one native resource: an {@link Arena} of its own, closed by the resource's {@code close()}, by
 * its owner arena's close or by its parent's close, whichever comes first; released exactly once.
 *
 * <h2>Threads</h2>
 * The inner arena has the owner's kind. Under a confined owner arena it is confined too (creating and closing one
 * costs well under a microsecond): the resource, and every segment it hands out, belongs to the owner's thread,
 * and {@link #close()} from another thread throws {@link WrongThreadException}. Under a shared, global or automatic
 * owner it is shared (closing one is a handshake with every thread: tens of microseconds): any thread may use
 * and close the resource.
 *
 * <h2>Release</h2>
 * Closing releases the children first (lifetimes made from this one: mipmapped arrays of a memory, the mapping of a
 * GL resource), then runs the release actions registered on the inner arena in reverse order of registration (what
 * was derived from the resource, such as mapped buffers, before the resource itself, whose release is registered
 * first). Segments handed out are scoped to the inner arena: after close, using one throws
 * {@link IllegalStateException}, and passing one to a native call is refused before the call.
 *
 * <p>A call in flight on another thread is never pulled from under the native code: while one of this lifetime's
 * segments is passed to a native call, the shared arena refuses to close. Then {@link #close()} marks the lifetime
 * closed (new uses throw {@link IllegalStateException}), returns, and the release happens as soon as the last
 * such call has ended ({@link Releases}); a parent whose child waits waits with it. A release never depends on a
 * second {@code close()}.
 *
 * <p>The owner arena keeps one small cleanup entry per lifetime until it closes, also after an early
 * {@link #close()}: FFM arenas cannot forget a cleanup. The entry is an {@link OwnerLink} that lets go of the
 * lifetime when it is released, so what stays behind is the entry alone (72 bytes per closed resource, measured on
 * JDK 25: the link, FFM's list node and cleanup action; 240 when it held the lifetime), not the resource.
 * Long-lived owner arenas (global, auto, application-wide) that see many short-lived resources still grow by one
 * entry each; give such resources an arena of their own.
 */
final class Lifetime {
    private static final System.Logger LOG = System.getLogger("io.github.hipffm");
    /** A thread that owns no arena: a segment is accessible by it only when its arena is not confined. */
    private static final Thread NOBODY = Thread.ofVirtual().unstarted(() -> { });
    private static final Lifetime[] NO_PARENTS = {};
    private static final VarHandle CLOSED;
    private static final VarHandle RELEASED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            CLOSED = l.findVarHandle(Lifetime.class, "closed", boolean.class);
            RELEASED = l.findVarHandle(Lifetime.class, "released", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String what;
    private final Arena arena;
    /** What the owner arena's cleanup holds, cleared at release; null for a child or an ownerless lifetime. */
    private final OwnerLink ownerLink;
    /** The thread of a confined lifetime, null for a shared one. */
    private final Thread thread;
    /** The lifetimes this one was made from, told when it is released; empty for a top-level resource. */
    private final Lifetime[] parents;
    private volatile boolean closed;
    /** Children attached and not yet released; guarded by {@code this}; null until the first. */
    private List<Lifetime> children;
    /** True while {@link #close()} closes the children: it then releases this one itself. */
    private volatile boolean closingChildren;
    private volatile RuntimeException cleanupFailure;
    /** The resource's own raw handle and release, run after the arena's release actions; null until created. */
    private volatile MemorySegment raw;
    private volatile Consumer<MemorySegment> release;
    /** Whether {@link #release} has run (or has been taken by the thread running it). */
    private volatile boolean released;
    /** The device the resource was made on (a child's: its first parent's); null for the default stream. */
    Device device;

    /** A shared lifetime that only {@link #close()} ends (the default stream, which is never closed). */
    Lifetime(String what) {
        this.what = what;
        this.arena = Arena.ofShared();
        this.thread = null;
        this.parents = NO_PARENTS;
        this.ownerLink = null;
    }

    /**
     * @param owner the arena whose closing closes this lifetime too
     * @param what the resource's name for messages, e.g. {@code "ExternalMemory"}
     * @throws IllegalStateException when {@code owner} is closed
     * @throws WrongThreadException when {@code owner} is confined to another thread
     */
    Lifetime(Arena owner, String what) {
        this.what = what;
        this.parents = NO_PARENTS;
        boolean confined = !MemorySegment.NULL.reinterpret(owner, null).isAccessibleBy(NOBODY);
        this.thread = confined ? Thread.currentThread() : null;
        this.arena = confined ? Arena.ofConfined() : Arena.ofShared();
        this.ownerLink = new OwnerLink(this);
        try {
            MemorySegment.NULL.reinterpret(owner, ownerLink);   // the owner closes
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * A child of {@code parents}: closed (and released) before each of them; confined when one of them is.
     *
     * @throws IllegalStateException when a parent is closed
     */
    private Lifetime(String what, Lifetime... parents) {
        this.what = what;
        this.parents = parents.clone();
        this.ownerLink = null;
        Thread t = null;
        for (Lifetime p : parents) {
            p.checkThread();
            t = t != null ? t : p.thread;
        }
        this.thread = t;
        this.device = parents.length > 0 ? parents[0].device : null;
        this.arena = t != null ? Arena.ofConfined() : Arena.ofShared();
        try {
            for (Lifetime p : parents) {
                p.attach(this);
            }
        } catch (RuntimeException e) {
            if (CLOSED.compareAndSet(this, false, true)) {
                release(false);   // detaches from the parents it was attached to
            }
            throw e;
        }
    }

    /** {@return a new lifetime that closes before each of {@code parents}} */
    static Lifetime childOf(String what, Lifetime... parents) {
        return new Lifetime(what, parents);
    }

    /**
     * The one creation protocol of a native resource: a new lifetime owned by {@code owner}, the native create,
     * the release registered, the resource made around the scoped handle. If the create fails, the lifetime is
     * closed and the exception rethrown; if the owner closed meanwhile (another thread), the new handle is released
     * at once and the resource is returned closed: once the create succeeded, nothing throws.
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
        return create(owner, null, what, create, release, make);
    }

    /**
     * {@link #create(Arena, String, Supplier, Consumer, BiFunction)} for a resource of {@code device}: the create
     * runs with {@code device} current (switched only if it is not, and restored after, also on failure); a null
     * {@code device} means the calling thread's current device, which the resource then records.
     */
    static <R> R create(Arena owner, Device device, String what, Supplier<MemorySegment> create,
            Consumer<MemorySegment> release, BiFunction<Lifetime, MemorySegment, R> make) {
        Lifetime lifetime = new Lifetime(owner, what);
        if (device == null) {
            R resource = create(lifetime, create, release, make);
            lifetime.device = Device.currentOrNull(io.github.hipffm.internal.Runtimes.current());   // it exists now
            return resource;
        }
        lifetime.device = device;
        int entered;
        try {
            entered = device.enter();
        } catch (RuntimeException e) {
            lifetime.close();
            throw e;
        }
        R resource;
        try {                                      // Device.callEntered, without a capturing lambda per create
            resource = create(lifetime, create, release, make);
        } catch (Throwable t) {
            device.exitAfterFailure(entered, t);
            throw t;
        }
        device.exit(entered);
        return resource;
    }

    /**
     * {@link #create(Arena, String, Supplier, Consumer, BiFunction)} for a resource made from another one, whose
     * lifetime is {@code parent}: released before it.
     */
    static <R> R create(Lifetime parent, String what, Supplier<MemorySegment> create, Consumer<MemorySegment> release,
            BiFunction<Lifetime, MemorySegment, R> make) {
        return create(childOf(what, parent), create, release, make);
    }

    private static <R> R create(Lifetime lifetime, Supplier<MemorySegment> create, Consumer<MemorySegment> release,
            BiFunction<Lifetime, MemorySegment, R> make) {
        MemorySegment raw;
        try {
            raw = create.get();
        } catch (RuntimeException e) {
            lifetime.close();
            throw e;
        }
        // Once the native create succeeded nothing throws: the resource exists, and its release (for an import:
        // the fd's close) is the lifetime's business, not the caller's.
        lifetime.release = release;
        lifetime.raw = raw;
        MemorySegment scoped;
        try {
            scoped = raw.reinterpret(lifetime.arena, null);
        } catch (IllegalStateException closedMeanwhile) {
            scoped = raw;   // never used: the lifetime is closed, every use checks that first
        }
        R resource = make.apply(lifetime, scoped);
        if (!lifetime.arena.scope().isAlive()) {
            lifetime.releaseResource();   // the owner closed it meanwhile, before it knew the handle: returned closed
        }
        return resource;
    }

    /** Runs the resource's own release once, whichever of its creator and its closer gets here first. */
    private void releaseResource() {
        MemorySegment h = raw;
        if (h != null && RELEASED.compareAndSet(this, false, true)) {
            try {
                release.accept(h);
            } catch (RuntimeException e) {
                recordFailure(e);
            }
        }
    }

    /** Keeps the first failure of a release action, the later ones suppressed in it. */
    private synchronized void recordFailure(RuntimeException e) {
        if (cleanupFailure == null) {
            cleanupFailure = e;
        } else {
            cleanupFailure.addSuppressed(e);
        }
    }

    /** The arena that scopes this resource's segments. */
    Arena arena() {
        return arena;
    }

    /**
     * Registers a release action; it runs at close, before those registered earlier. An exception it throws is
     * kept and rethrown by {@link #close()} (or logged, for a release that was not the caller's) after every other
     * action has run.
     */
    void onClose(Runnable release) {
        MemorySegment.NULL.reinterpret(arena, (Consumer<MemorySegment>) s -> {
            try {
                release.run();
            } catch (RuntimeException e) {
                recordFailure(e);
            }
        });
    }

    /**
     * {@return a zero-length segment for a native handle, scoped to this lifetime} Passing it to a native call
     * is refused once this lifetime is closed, and keeps a concurrent close from releasing the handle during the
     * call (the release then waits for the call's end). Release actions must use the raw handle: the arena is
     * already closed when they run.
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
        if (closed) {
            throw new IllegalStateException(what + " is closed");
        }
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * Closes once; later calls do nothing. Releases now, rethrowing the first failure of a release action, or,
     * when another thread's call still holds one of its segments, as soon as that call has ended (then a failure
     * is logged).
     *
     * @throws WrongThreadException for a confined lifetime, from another thread than its own
     */
    void close() {
        checkThread();
        if (CLOSED.compareAndSet(this, false, true)) {
            closeChildren();
            if (!hasChildren()) {
                release(true);
            }
        }
    }

    private void checkThread() {
        if (thread != null && thread != Thread.currentThread()) {
            throw new WrongThreadException(what + " belongs to a confined arena of thread " + thread.getName()
                    + "; close it, or its arena, there");
        }
    }

    private void closeChildren() {
        List<Lifetime> kids;
        synchronized (this) {
            kids = children == null || children.isEmpty() ? null : List.copyOf(children);
        }
        if (kids != null) {
            closingChildren = true;
            try {
                for (Lifetime kid : kids) {
                    kid.closeFromParent();
                }
            } finally {
                closingChildren = false;
            }
        }
    }

    /**
     * Closes the arena, which runs the release actions, unless a call in flight holds it: then the attempt is
     * made again when a call ends. Exactly one attempt succeeds; after it, the parents learn that this child is
     * gone.
     *
     * @param callers whether the caller of {@link #close()} gets a failure thrown (else it is logged)
     */
    private void release(boolean callers) {
        try {
            arena.close();
        } catch (IllegalStateException e) {
            if (!arena.scope().isAlive()) {
                return;   // released by another attempt
            }
            if (thread != null) {
                // Confined: only this thread's own call further down the stack (an upcall) can hold it, and no
                // other thread may release it: the close is refused, as the FFM API refuses it.
                CLOSED.setVolatile(this, false);
                throw e;
            }
            Releases.retryLater(() -> release(false));   // held by another thread's call in flight
            return;
        }
        releaseResource();   // after what the arena released: the resource itself
        if (ownerLink != null) {
            ownerLink.lifetime = null;   // the owner's entry no longer keeps this lifetime, its arena, its handles
        }
        for (Lifetime p : parents) {
            p.detach(this);
        }
        RuntimeException failure = cleanupFailure;
        if (failure != null) {
            if (callers) {
                throw failure;
            }
            LOG.log(System.Logger.Level.WARNING, "releasing " + what + " failed", failure);
        }
    }

    private void attach(Lifetime child) {
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException(what + " is closed");
            }
            if (children == null) {
                children = new ArrayList<>(2);
            }
            children.add(child);
        }
    }

    private synchronized boolean hasChildren() {
        return children != null && !children.isEmpty();
    }

    /**
     * A child was released (or never made it): forget it, and release this one if it is closed and was only
     * waiting for it. Does nothing for a lifetime that is not this one's child.
     */
    private void detach(Lifetime child) {
        boolean wasLast;
        synchronized (this) {
            wasLast = children != null && children.remove(child) && children.isEmpty();
        }
        if (wasLast && closed && !closingChildren) {
            release(false);
        }
    }

    private void closeFromParent() {
        if (CLOSED.compareAndSet(this, false, true)) {
            closeChildren();
            if (!hasChildren()) {
                release(false);
            }
        }
    }

    /** The owner arena closes: closes this lifetime. */
    private void ownerClosed() {
        try {
            close();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "releasing " + what + " when its arena closed failed", e);
        }
    }

    /**
     * The owner arena's cleanup entry for one lifetime: closes it when the owner closes, unless it was released
     * before, in which case the link no longer refers to it (so that a long-lived owner does not keep every
     * resource it ever had).
     */
    private static final class OwnerLink implements Consumer<MemorySegment> {
        volatile Lifetime lifetime;

        OwnerLink(Lifetime lifetime) {
            this.lifetime = lifetime;
        }

        @Override
        public void accept(MemorySegment unused) {
            Lifetime l = lifetime;
            if (l != null) {
                l.ownerClosed();
            }
        }
    }
}
