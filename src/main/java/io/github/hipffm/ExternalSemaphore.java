package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A semaphore that another API (Vulkan, another process) created and exported as a handle, imported into HIP
 * ({@code hipImportExternalSemaphore}), to order HIP work against the other API's work.
 *
 * <p>{@link #signal} and {@link #wait} queue the operation on a stream: the GPU, not the calling thread, waits.
 * For timeline semaphores the value is the fence value to signal or reach; binary semaphores ignore it. The
 * batch forms {@link #signal(List, Stream)} and {@link #wait(List, Stream)} take several semaphores with a
 * value each in one native call.
 *
 * <h2>Platforms</h2>
 * The CUDA runtime (NVIDIA platform) supports fd semaphores. The AMD HIP runtime does not on Linux: ROCm's
 * {@code importExtSemaphore} ends in {@code ShouldNotReachHere()}, which aborts the process, so hip-ffm never
 * calls it there and {@link #importSemaphore} throws {@link HipException} with {@link HipError#NOT_SUPPORTED}.
 *
 * <h2>Lifetime and the fd</h2>
 * As for {@link ExternalMemory}: owned by an arena or closed by {@link #close()}, closing twice is harmless, use
 * after close throws {@link IllegalStateException}; on success the semaphore owns the fd and closes it exactly once,
 * after {@code hipDestroyExternalSemaphore}; on failure the caller keeps it, open (on NVIDIA, CUDA is handed a
 * {@code dup}, since it closes what it imports); {@link #importCopy} imports a {@code dup}. The fd is checked
 * before any native call, as {@link ExternalMemory}'s ({@link ExternalSemaphoreHandleType} says what is caught). Close a semaphore only after the streams that signal or
 * wait on it have finished. {@link #handle()} is the raw {@code hipExternalSemaphore_t}.
 *
 * {@snippet :
 * try (Arena arena = Arena.ofConfined()) {
 *     ExternalSemaphore timeline = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(fd));
 *     Stream stream = Stream.create(arena);
 *     timeline.wait(1, stream);      // the GPU waits until Vulkan signalled 1
 *     Memory.fillAsync(buffer, (byte) 0, stream);
 *     timeline.signal(2, stream);    // Vulkan may now wait for 2
 *     stream.synchronize();
 * }
 * }
 */
public final class ExternalSemaphore extends NativeResource {
    private static final String FD_HINT = "an OPAQUE_FD or TIMELINE_SEMAPHORE_FD handle must be a semaphore exported"
            + " by Vulkan (vkGetSemaphoreFdKHR, VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT; a timeline semaphore"
            + " for TIMELINE_SEMAPHORE_FD) or another GPU API; a plain file or memfd fd is not one; the fd is still yours";
    private final ExternalSemaphoreHandleType type;

    private ExternalSemaphore(Backend backend, Lifetime lifetime, MemorySegment handle, ExternalSemaphoreHandleType type) {
        super(backend, lifetime, handle);
        this.type = type;
    }

    /**
     * Imports an external semaphore, taking ownership of its fd on success.
     *
     * @param arena the owner
     * @param descriptor what to import
     * @return the semaphore
     * @throws IllegalArgumentException for a null argument, a handle type that cannot work on this OS and
     *     platform, an fd that is not open or cannot be a GPU export here ({@link ExternalSemaphoreHandleType} has
     *     the table), all checked before any native call, the fd left with the caller
     * @throws HipException {@link HipError#NOT_SUPPORTED} on the AMD runtime (see above), or the runtime's error
     */
    public static ExternalSemaphore importSemaphore(Arena arena, ExternalSemaphoreDescriptor descriptor) {
        return importing(null, arena, descriptor, false);
    }

    /**
     * Imports an external semaphore on {@code device} (the current device switched for the import only if it is
     * another one, and restored); it can then be signalled and waited on by that device's streams only.
     *
     * @param device the device
     * @param arena the owner
     * @param descriptor what to import
     * @return the semaphore, of {@code device}
     */
    public static ExternalSemaphore importSemaphore(Device device, Arena arena, ExternalSemaphoreDescriptor descriptor) {
        Checks.notNull(device, "device");
        return importing(device, arena, descriptor, false);
    }

    /**
     * Imports a {@code dup} of the descriptor's fd; the caller keeps its own.
     *
     * @param arena the owner
     * @param descriptor what to import
     * @return the semaphore
     * @throws IllegalArgumentException as {@link #importSemaphore}, or when the fd cannot be duplicated
     */
    public static ExternalSemaphore importCopy(Arena arena, ExternalSemaphoreDescriptor descriptor) {
        return importing(null, arena, descriptor, true);
    }

    /**
     * Imports a {@code dup} of the descriptor's fd on {@code device}; the caller keeps its own.
     *
     * @param device the device
     * @param arena the owner
     * @param descriptor what to import
     * @return the semaphore, of {@code device}
     */
    public static ExternalSemaphore importCopy(Device device, Arena arena, ExternalSemaphoreDescriptor descriptor) {
        Checks.notNull(device, "device");
        return importing(device, arena, descriptor, true);
    }

    /** The imports, on {@code device} (null: the current one); {@code copy} imports a duplicate of the fd. */
    private static ExternalSemaphore importing(Device device, Arena arena, ExternalSemaphoreDescriptor descriptor,
            boolean copy) {
        Checks.notNull(arena, "arena");
        Checks.notNull(descriptor, "descriptor");
        Backend b = Runtimes.current();
        descriptor.type().checkSupported(b.platform());
        return FdImport.run(b, arena, device, "ExternalSemaphore", fd(descriptor), copy && descriptor.type().isFd(),
                fd -> b.importExternalSemaphore(descriptor, fd), b::destroyExternalSemaphore,
                (lifetime, h) -> new ExternalSemaphore(b, lifetime, h, descriptor.type()));
    }

    /** {@return the descriptor's fd and what it must be, or null when its handle is not an fd} */
    private static FdImport.Fd fd(ExternalSemaphoreDescriptor d) {
        return d.type().isFd() ? new FdImport.Fd(d.fd(), d.type() + " semaphore", 0, FD_HINT) : null;
    }

    /**
     * Queues a signal of {@code value} on {@code stream} ({@code hipSignalExternalSemaphoresAsync}).
     *
     * @param value the fence value (timeline semaphores; binary semaphores ignore it), &gt;= 0
     * @param stream the stream
     */
    public void signal(long value, Stream stream) {
        checkPart(this, value, 0, 0);
        Checks.notNull(stream, "stream");
        MemorySegment h = handle();
        MemorySegment s = stream.handle();
        DeviceChecks.sameDevice(lifetime.device, stream, "the semaphore");
        stream.checkNotCapturing("a semaphore signal");
        backend.signalExternalSemaphore(h, value, s);   // no per-call allocation
    }

    /**
     * Queues a wait for {@code value} on {@code stream} ({@code hipWaitExternalSemaphoresAsync}): work queued
     * after it runs once the semaphore reached the value. (Not {@link Object#wait(long)}: this takes a stream.)
     *
     * @param value the fence value to reach (timeline semaphores; binary semaphores ignore it), &gt;= 0
     * @param stream the stream
     */
    public void wait(long value, Stream stream) {
        checkPart(this, value, 0, 0);
        Checks.notNull(stream, "stream");
        MemorySegment h = handle();
        MemorySegment s = stream.handle();
        DeviceChecks.sameDevice(lifetime.device, stream, "the semaphore");
        stream.checkNotCapturing("a semaphore wait");
        backend.waitExternalSemaphore(h, value, s);     // no per-call allocation
    }

    /**
     * Signals several semaphores in one native call.
     *
     * @param signals one per semaphore, non-empty
     * @param stream the stream
     */
    public static void signal(List<Signal> signals, Stream stream) {
        Checks.notNull(signals, "signals");
        Checks.notNull(stream, "stream");
        int n = signals.size();
        if (n == 0) {
            throw new IllegalArgumentException("signals must not be empty");
        }
        Batch batch = Batch.take(n);
        try {
            Backend b = null;
            for (int i = 0; i < n; i++) {
                Signal s = signals.get(i);
                if (s == null) {
                    throw new IllegalArgumentException("signals[" + i + "] must not be null");
                }
                batch.handles[i] = s.semaphore().handle();
                DeviceChecks.sameDevice(s.semaphore().lifetime.device, stream, "a semaphore of the batch");
                batch.values[i] = s.value();
                batch.keys[i] = s.keyedMutexKey();
                b = s.semaphore().backend;
            }
            stream.checkNotCapturing("a semaphore signal");
            b.signalExternalSemaphores(n, batch.handles, batch.values, batch.keys, stream.handle());
        } finally {
            batch.give(n);
        }
    }

    /**
     * Waits on several semaphores in one native call.
     *
     * @param waits one per semaphore, non-empty
     * @param stream the stream
     */
    public static void wait(List<Wait> waits, Stream stream) {
        Checks.notNull(waits, "waits");
        Checks.notNull(stream, "stream");
        int n = waits.size();
        if (n == 0) {
            throw new IllegalArgumentException("waits must not be empty");
        }
        Batch batch = Batch.take(n);
        try {
            Backend b = null;
            for (int i = 0; i < n; i++) {
                Wait w = waits.get(i);
                if (w == null) {
                    throw new IllegalArgumentException("waits[" + i + "] must not be null");
                }
                batch.handles[i] = w.semaphore().handle();
                batch.values[i] = w.value();
                batch.keys[i] = w.keyedMutexKey();
                batch.timeouts[i] = w.keyedMutexTimeoutMs();
                b = w.semaphore().backend;
            }
            stream.checkNotCapturing("a semaphore wait");
            b.waitExternalSemaphores(n, batch.handles, batch.values, batch.keys, batch.timeouts, stream.handle());
        } finally {
            batch.give(n);
        }
    }

    /**
     * Per-thread arrays for the batch calls, so that a batch allocates nothing once a thread has made one of its
     * size. Taken for one call and given back after it; a nested call on the same thread (a {@code List} whose
     * {@code get} signals) gets fresh arrays.
     */
    private static final class Batch {
        private static final ThreadLocal<Batch> CURRENT = ThreadLocal.withInitial(() -> new Batch(8));
        final MemorySegment[] handles;
        final long[] values;
        final long[] keys;
        final int[] timeouts;
        private boolean inUse;

        private Batch(int capacity) {
            handles = new MemorySegment[capacity];
            values = new long[capacity];
            keys = new long[capacity];
            timeouts = new int[capacity];
        }

        static Batch take(int n) {
            Batch b = CURRENT.get();
            if (b.inUse) {
                return new Batch(n);
            }
            if (b.handles.length < n) {
                b = new Batch(Math.max(n, 2 * b.handles.length));
                CURRENT.set(b);
            }
            b.inUse = true;
            return b;
        }

        /** Drops the handle references (the segments must not be kept reachable) and frees the arrays. */
        void give(int n) {
            java.util.Arrays.fill(handles, 0, n, null);
            inUse = false;
        }
    }

    /** {@return the handle type it was imported from} */
    public ExternalSemaphoreHandleType handleType() {
        return type;
    }

    @Override
    String describe() {
        return type.toString();
    }

    /**
     * One semaphore's part of a batch signal.
     *
     * @param semaphore the semaphore
     * @param value the fence value, &gt;= 0
     * @param keyedMutexKey the key to release (keyed-mutex types only, else 0)
     */
    public record Signal(ExternalSemaphore semaphore, long value, long keyedMutexKey) {
        /**
         * Checks the values.
         * @throws IllegalArgumentException for a null semaphore, a negative value, a misused key
         */
        public Signal {
            checkPart(semaphore, value, keyedMutexKey, 0);
        }

        /**
         * {@return a signal of {@code value}}
         * @param semaphore it
         * @param value the fence value
         */
        public static Signal of(ExternalSemaphore semaphore, long value) {
            return new Signal(semaphore, value, 0);
        }
    }

    /**
     * One semaphore's part of a batch wait.
     *
     * @param semaphore the semaphore
     * @param value the fence value to reach, &gt;= 0
     * @param keyedMutexKey the key to acquire (keyed-mutex types only, else 0)
     * @param keyedMutexTimeoutMs the acquire timeout (keyed-mutex types only, else 0)
     */
    public record Wait(ExternalSemaphore semaphore, long value, long keyedMutexKey, int keyedMutexTimeoutMs) {
        /**
         * Checks the values.
         * @throws IllegalArgumentException for a null semaphore, a negative value, a misused key
         */
        public Wait {
            checkPart(semaphore, value, keyedMutexKey, keyedMutexTimeoutMs);
        }

        /**
         * {@return a wait for {@code value}}
         * @param semaphore it
         * @param value the fence value
         */
        public static Wait of(ExternalSemaphore semaphore, long value) {
            return new Wait(semaphore, value, 0, 0);
        }
    }

    private static void checkPart(ExternalSemaphore semaphore, long value, long key, int timeoutMs) {
        Checks.notNull(semaphore, "semaphore");
        if (value < 0) {
            throw new IllegalArgumentException("fence value must be >= 0, got " + value);
        }
        if (!semaphore.type.isKeyedMutex() && (key != 0 || timeoutMs != 0)) {
            throw new IllegalArgumentException("keyed-mutex key/timeout given for a " + semaphore.type + " semaphore");
        }
        if (timeoutMs < 0) {
            throw new IllegalArgumentException("keyed-mutex timeout must be >= 0 ms, got " + timeoutMs);
        }
    }
}
