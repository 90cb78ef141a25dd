package io.github.hipffm.gpu;

import io.github.hipffm.Dim3;
import io.github.hipffm.Event;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.vulkan.VulkanDevice;
import io.github.hipffm.vulkan.ExportableBuffer;
import io.github.hipffm.vulkan.ExportableSemaphore;
import io.github.hipffm.vulkan.SemaphoreType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The soak's mixed workload, one operation at a time per worker thread: imports of Vulkan-exported memory of
 * random sizes (a pool, and now and then a fresh allocation), maps, fills, copies, kernels, frames on an imported
 * timeline semaphore, streams and events, module loads; each in an owner arena of one of three kinds
 * ({@link Mode}). Every result is checked (a window of bytes read back through pinned memory, Vulkan's view of a
 * semaphore). Without a {@link VulkanDevice} (the GL soak's JVM) the Vulkan kinds are left out.
 *
 * <p>Work queued on the GPU must have finished before what it uses is released (the library's contract), so the
 * asynchronous kinds (kernels, frames, module loads) use confined owners only; the synchronous ones (imports,
 * maps, fills, copies, stream and event churn) also use the shared arenas that the {@link Churn.Closer} closes at
 * any moment. There, an {@link IllegalStateException} once the owner is closed is an expected outcome ("cut
 * short by a close"); any other exception, anywhere, is an error.
 */
final class SoakWorkload {
    /** Where a resource of one operation lives. */
    enum Mode {
        /** {@code try (Arena a = Arena.ofConfined())} around the operation: the arena's close releases. */
        PER_OP,
        /** The worker's long-lived confined arena; each resource released by its own {@code close()}. */
        LONG_LIVED,
        /** A shared arena of the {@link Churn.Closer}, which another thread closes at random moments. */
        SHARED
    }

    private static final long KiB = 1024;
    private static final long MiB = 1024 * KiB;

    /** Makes what the imports import: Vulkan on the GPU ({@link #vulkan}); memfds on the C test runtime. */
    interface Exporter {
        /** {@return a new exportable allocation of {@code size} bytes} */
        Exported buffer(long size);

        /** {@return a new exportable timeline semaphore, or null where there is none (no frames then)} */
        Timeline timeline();
    }

    /** An exportable allocation. */
    interface Exported extends AutoCloseable {
        long size();

        long allocationSize();

        /** {@return a new fd for it; the caller (or the import) owns it} */
        int exportFd();

        @Override
        void close();
    }

    /** An exportable timeline semaphore that the host signals and waits on. */
    interface Timeline extends AutoCloseable {
        int exportFd();

        void hostSignal(long value);

        boolean hostWait(long value, Duration timeout);

        @Override
        void close();
    }

    /** {@return the Vulkan exporter: buffers and timeline semaphores of {@code vk}, made under its lock} */
    static Exporter vulkan(VulkanDevice vk) {
        return new Exporter() {
            @Override
            public Exported buffer(long size) {
                ExportableBuffer b;
                synchronized (vk) {
                    b = Gpu.buffer(vk, size, false);
                }
                return new Exported() {
                    @Override
                    public long size() {
                        return b.size();
                    }

                    @Override
                    public long allocationSize() {
                        return b.allocationSize();
                    }

                    @Override
                    public int exportFd() {
                        return b.exportFd();
                    }

                    @Override
                    public void close() {
                        synchronized (vk) {
                            b.close();
                        }
                    }
                };
            }

            @Override
            public Timeline timeline() {
                ExportableSemaphore s;
                synchronized (vk) {
                    s = vk.createSemaphore(SemaphoreType.TIMELINE);
                }
                return new Timeline() {
                    @Override
                    public int exportFd() {
                        return s.exportFd();
                    }

                    @Override
                    public void hostSignal(long value) {
                        s.signal(value);
                    }

                    @Override
                    public boolean hostWait(long value, Duration timeout) {
                        return s.await(value, timeout);
                    }

                    @Override
                    public void close() {
                        synchronized (vk) {
                            s.close();
                        }
                    }
                };
            }
        };
    }

    /** An allocation of the pool and its fd (kept by the soak; imports take a {@code dup}). */
    record Pooled(Exported buffer, int fd) {
    }

    private final Exporter vk;
    private final Kernel increment;
    private final byte[] ptx;
    private final Churn.Closer closer;
    final Churn.Counts counts = new Churn.Counts();
    final Churn.Errors errors;

    /**
     * @param vk what makes the imported memory and semaphores, or null for no imports and no frames
     * @param increment the {@code increment(unsigned*, long long)} kernel, loaded for the whole soak
     * @param ptx the kernels' PTX, for the module-load kind
     */
    SoakWorkload(Exporter vk, Kernel increment, byte[] ptx, Churn.Closer closer, Churn.Errors errors) {
        this.vk = vk;
        this.increment = increment;
        this.ptx = ptx;
        this.closer = closer;
        this.errors = errors;
    }

    /**
     * A bound on how many resources of one kind the workload keeps alive at once. CUDA keeps device memory for as
     * many streams as were ever alive at once, and reuses it (benchmarks/native/streamprobe.c on the H200: 20,000
     * streams alive at once cost 8.6 GB that destroying them does not give back, and a second 20,000 cost nothing
     * more); the soak's imports lost 64 KiB once in a run, most likely the same kind of high-water mark. Resources
     * left to shared owner arenas pile up between the closer's closes, so the soak bounds them, and
     * {@link #warmPools} makes CUDA reach twice the bound before the baseline.
     */
    static final class Bound {
        final String what;
        final int cap;
        private final Semaphore permits;
        /** The permit-return of each resource alive, for {@link #closed}. */
        private final Map<Object, Runnable> returns = new ConcurrentHashMap<>();
        private final AtomicInteger live = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();

        Bound(String what, int cap) {
            this.what = what;
            this.cap = cap;
            this.permits = new Semaphore(cap);
        }

        /**
         * {@return a new resource made by {@code create} in {@code arena}, once fewer than {@link #cap} are alive}
         * Its permit comes back when it is closed ({@link #closed}) or when its arena releases it.
         */
        <T> T make(Arena arena, Supplier<T> create) {
            try {
                if (!permits.tryAcquire(60, TimeUnit.SECONDS)) {
                    throw new AssertionError(cap + " " + what + " alive for 60 s: none released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for a permit of " + what, e);
            }
            AtomicBoolean returned = new AtomicBoolean();
            Object[] made = {null};
            Runnable giveBack = () -> {
                if (returned.compareAndSet(false, true)) {
                    if (made[0] != null) {
                        returns.remove(made[0]);
                    }
                    live.decrementAndGet();
                    permits.release();
                }
            };
            peak.accumulateAndGet(live.incrementAndGet(), Math::max);
            T resource;
            try {
                // Registered before the resource: an arena runs its cleanups last-registered first, so this one
                // runs after the resource's release.
                MemorySegment.NULL.reinterpret(arena, s -> giveBack.run());
                resource = create.get();
            } catch (RuntimeException | Error e) {
                giveBack.run();
                throw e;
            }
            made[0] = resource;
            returns.put(resource, giveBack);
            return resource;
        }

        /** Gives the permit of a resource of {@link #make} back, after its {@code close()}. */
        void closed(Object resource) {
            Runnable giveBack = returns.remove(resource);
            if (giveBack != null) {
                giveBack.run();
            }
        }

        @Override
        public String toString() {
            return peak.get() + " (at most " + cap + "; " + 2 * cap + " alive at once before the baseline)";
        }
    }

    /** Streams alive at once, at most. */
    final Bound streams = new Bound("streams", 256);
    /** Imported memories alive at once, at most. */
    final Bound imports = new Bound("imports", 128);

    private Stream stream(Arena arena, boolean blocking) {
        return streams.make(arena, () -> Stream.create(arena, blocking));
    }

    private void closeStream(Stream stream) {
        stream.close();
        streams.closed(stream);
    }

    private void closeImport(ExternalMemory memory) {
        memory.close();
        imports.closed(memory);
    }

    /**
     * Makes CUDA reach twice the workload's bounds before the baseline: as many streams (of both kinds, with three
     * events each) alive at once, recorded, then all closed; and, with an exporter, as many imports of one
     * allocation, each mapped, alive at once, then all closed.
     */
    void warmPools() {
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < 2 * streams.cap; i++) {
                Stream s = Stream.create(arena, i % 2 == 0);
                for (int k = 0; k < 3; k++) {
                    Event.create(arena, k != 1).record(s);
                }
            }
            Stream.defaultStream().synchronize();
        }
        if (vk != null) {
            try (Exported buffer = vk.buffer(MiB)) {
                int fd = buffer.exportFd();
                try (Arena arena = Arena.ofConfined()) {
                    for (int i = 0; i < 2 * imports.cap; i++) {
                        ExternalMemory.importCopy(arena, ExternalMemoryDescriptor.opaqueFd(fd, buffer.allocationSize()))
                                .mapBuffer();
                    }
                } finally {
                    LinuxFds.close(fd);
                }
            }
        }
    }

    /** {@return a size of 64 KiB to {@code max}, log-uniform, a multiple of 64 KiB} */
    static long randomSize(SplittableRandom random, long max) {
        double lo = Math.log(64 * KiB);
        double hi = Math.log(max);
        long s = (long) Math.exp(lo + random.nextDouble() * (hi - lo));
        return Math.max(64 * KiB, s / (64 * KiB) * (64 * KiB));
    }

    /**
     * One worker thread's own things, alive from its warm-up to after the end measurement: among them its pool of
     * allocations to import (each thread its own: two threads filling one allocation would overwrite each other's
     * bytes), 4 of 64 KiB to 64 MiB.
     */
    final class Worker implements AutoCloseable {
        final SplittableRandom random;
        final List<Pooled> pool = new ArrayList<>();
        final Arena own = Arena.ofConfined();
        final MemorySegment host;             // 4 KiB pinned, for reading windows back
        final MemorySegment scratch;          // 1 MiB device, for asynchronous fills
        final Exported frameBuffer;
        final int frameFd;
        final Timeline timeline;
        long timelineValue;
        Arena longLived = Arena.ofConfined();
        int longLivedUses;

        Worker(long seed) {
            random = new SplittableRandom(seed);
            host = Memory.allocatePinned(own, 4 * KiB);
            scratch = Memory.allocateDevice(own, MiB);
            if (vk != null) {
                for (int i = 0; i < 4; i++) {
                    Exported b = vk.buffer(randomSize(random, 64 * MiB));
                    pool.add(new Pooled(b, b.exportFd()));
                }
                frameBuffer = vk.buffer(MiB);
                timeline = vk.timeline();
                frameFd = frameBuffer.exportFd();
            } else {
                frameBuffer = null;
                timeline = null;
                frameFd = -1;
            }
        }

        /** The long-lived arena, replaced every 2,000 uses (it keeps a small entry per resource until closed). */
        Arena longLived() {
            if (++longLivedUses % 2000 == 0) {
                longLived.close();
                longLived = Arena.ofConfined();
            }
            return longLived;
        }

        @Override
        public void close() {
            longLived.close();
            own.close();
            for (Pooled p : pool) {
                LinuxFds.close(p.fd());
                p.buffer().close();
            }
            if (frameBuffer != null) {
                LinuxFds.close(frameFd);
                frameBuffer.close();
            }
            if (timeline != null) {
                timeline.close();
            }
        }
    }

    /** The kinds of operation, with their weights. */
    private static final String[] KINDS = {"import", "kernel", "frame", "copy", "stream+event", "module"};
    private static final int[] WEIGHTS = {30, 15, 15, 20, 15, 5};

    /** {@return whether this workload can run {@code kind}: imports need an exporter, frames its timelines} */
    boolean can(Worker w, String kind) {
        return switch (kind) {
            case "import", "vulkan" -> vk != null;
            case "frame" -> w.timeline != null;
            default -> true;
        };
    }

    /** {@return the kinds of operation} */
    static String[] kinds() {
        return KINDS.clone();
    }

    /** For {@link SoakGpuTest#perKind}: the one kind of operation {@link #runOne} runs, or null for all. */
    static volatile String only;

    /**
     * For {@link SoakGpuTest#perKind}, to find where device memory goes: the parts of the import kind that run
     * (fresh Vulkan allocations, the copy to device memory, the kernel on the import); all of them by default.
     */
    static volatile boolean importFresh = true;
    static volatile boolean importCopy = true;
    static volatile boolean importKernel = true;

    /** Runs one random operation; counts it, or its error. */
    void runOne(Worker w) {
        String one = only;
        if (one != null) {
            run(w, one, null);
            return;
        }
        String kind;
        do {
            int r = w.random.nextInt(100);
            int k = 0;
            while (r >= WEIGHTS[k]) {
                r -= WEIGHTS[k++];
            }
            kind = KINDS[k];
        } while (!can(w, kind));
        run(w, kind, null);
    }

    /** {@return whether {@code kind} may run in {@code mode}} */
    static boolean allowed(String kind, Mode mode) {
        return switch (kind) {
            case "kernel", "frame", "module" -> mode != Mode.SHARED;      // asynchronous: not in arenas closed mid-flight
            case "copy" -> mode != Mode.LONG_LIVED;                        // allocations: nothing to close()
            default -> true;
        };
    }

    /** Runs one operation of {@code kind} ({@code mode} null: a random one that the kind allows). */
    void run(Worker w, String kind, Mode mode) {
        while (mode == null || !allowed(kind, mode)) {
            mode = Mode.values()[w.random.nextInt(Mode.values().length)];
        }
        Churn.Owner owner = mode == Mode.SHARED ? closer.pick(w.random) : null;
        Arena perOp = mode == Mode.PER_OP ? Arena.ofConfined() : null;
        Arena arena = switch (mode) {
            case PER_OP -> perOp;
            case LONG_LIVED -> w.longLived();
            case SHARED -> owner.arena;
        };
        if (owner != null) {
            owner.inFlight.incrementAndGet();
        }
        // Device and pinned allocations have no close(): in a long-lived arena they go to one of the operation's own.
        Arena data = Arena.ofConfined();
        Arena alloc = mode == Mode.LONG_LIVED ? data : arena;
        String[] stage = {kind};
        try {
            switch (kind) {
                case "import" -> importMapFill(w, arena, alloc, mode, stage);
                case "kernel" -> kernel(w, arena, data, mode, stage);
                case "frame" -> frames(w, arena, mode, stage);
                case "copy" -> copies(w, alloc, data, stage);
                case "stream+event" -> streamAndEvents(w, arena, mode, stage);
                case "module" -> module(w, arena, data, mode, stage);
                case "vulkan" -> vulkanOnly(w, stage);
                default -> throw new IllegalArgumentException(kind);
            }
            counts.add(kind);
        } catch (IllegalStateException e) {
            if (owner != null && !owner.isAlive()) {
                counts.add("cut short by a close");
            } else {
                errors.add(kind + "/" + stage[0] + " (" + mode + ")", e);
            }
        } catch (Throwable t) {
            errors.add(kind + "/" + stage[0] + " (" + mode + ")", t);
        } finally {
            if (owner != null) {
                owner.inFlight.decrementAndGet();
            }
            for (Arena a : new Arena[] {perOp, data}) {
                if (a != null) {
                    try {
                        a.close();
                    } catch (Throwable t) {
                        errors.add(kind + "/arena close (" + mode + ")", t);
                    }
                }
            }
        }
    }

    /** Throws unless every 4-byte word of the first {@code bytes} of {@code host} is {@code expected}. */
    static void check(MemorySegment host, long bytes, int expected, String what) {
        for (long i = 0; i + 4 <= bytes; i += 4) {
            int seen = host.get(ValueLayout.JAVA_INT_UNALIGNED, i);
            if (seen != expected) {
                throw new AssertionError(what + ": word at " + i + " is 0x" + Integer.toHexString(seen) + ", expected 0x"
                        + Integer.toHexString(expected));
            }
        }
    }

    /** A word whose four bytes are {@code v}. */
    private static int word(byte v) {
        int b = v & 0xff;
        return b | b << 8 | b << 16 | b << 24;
    }

    /** Reads {@code bytes} (at most 4 KiB) at a random offset of {@code device} into the worker's pinned buffer. */
    private static long readBack(Worker w, MemorySegment device, long bytes) {
        long at = w.random.nextLong((device.byteSize() - bytes) / 4 + 1) * 4;
        Memory.copy(w.host, device.asSlice(at, bytes), bytes);
        return at;
    }

    private void importMapFill(Worker w, Arena arena, Arena alloc, Mode mode, String[] stage) {
        boolean fresh = importFresh && mode != Mode.SHARED && w.random.nextInt(10) == 0;
        Exported buffer;
        ExternalMemory memory;
        if (fresh) {
            stage[0] = "vulkan allocation";
            buffer = vk.buffer(randomSize(w.random, 256 * MiB));
            stage[0] = "import (fresh)";
            int fd = buffer.exportFd();
            try {
                memory = imports.make(arena, () -> ExternalMemory.importMemory(arena,
                        ExternalMemoryDescriptor.opaqueFd(fd, buffer.allocationSize())));
            } catch (RuntimeException e) {
                LinuxFds.close(fd);                  // a failed import leaves the fd the caller's
                buffer.close();
                throw e;
            }
            counts.add("vulkan allocations");
        } else {
            Pooled p = w.pool.get(w.random.nextInt(w.pool.size()));
            buffer = p.buffer();
            stage[0] = "import";
            memory = imports.make(arena, () -> ExternalMemory.importCopy(arena,
                    ExternalMemoryDescriptor.opaqueFd(p.fd(), buffer.allocationSize())));
        }
        try {
            stage[0] = "map";
            long offset = w.random.nextLong(Math.max(1, buffer.size() / 2 / (64 * KiB))) * 64 * KiB;
            long size = 4 * KiB * (1 + w.random.nextLong((buffer.size() - offset) / (4 * KiB)));
            MemorySegment mapped = memory.mapBuffer(offset, size);
            counts.add("maps");
            stage[0] = "fill";
            byte v = (byte) (w.random.nextInt(255) + 1);
            Memory.fill(mapped, v);
            counts.add("fills");
            stage[0] = "read back";
            long window = Math.min(4 * KiB, mapped.byteSize());
            readBack(w, mapped, window);
            check(w.host, window, word(v), "mapped import after a fill");
            if (importCopy && w.random.nextBoolean()) {
                stage[0] = "copy to device";
                MemorySegment device = Memory.allocateDevice(alloc, mapped.byteSize());
                Memory.copy(device, mapped);
                counts.add("copies");
                readBack(w, device, window);
                check(w.host, window, word(v), "device copy of a mapped import");
            }
            if (importKernel && mode != Mode.SHARED && w.random.nextBoolean()) {
                stage[0] = "kernel on the import";
                Stream stream = stream(arena, false);
                long n = mapped.byteSize() / 4;
                increment.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, mapped, n);
                stream.synchronize();
                counts.add("kernels");
                readBack(w, mapped, window);
                check(w.host, window, word(v) + 1, "mapped import after the increment kernel");
                if (mode == Mode.LONG_LIVED) {
                    closeStream(stream);
                }
            }
            stage[0] = "release";
            if (mode == Mode.LONG_LIVED || fresh || (mode == Mode.SHARED && w.random.nextBoolean())) {
                closeImport(memory);
            }
        } finally {
            if (fresh) {
                closeImport(memory);                 // HIP's import released before Vulkan frees the memory
                buffer.close();
            }
        }
    }

    /**
     * The import kind's fresh Vulkan allocation without HIP: allocate, export an fd, close it, free. Not in the
     * mixed workload; {@link SoakGpuTest#perKind} runs it alone, to tell Vulkan's share of device memory apart.
     */
    private void vulkanOnly(Worker w, String[] stage) {
        stage[0] = "vulkan allocation";
        Exported buffer = vk.buffer(randomSize(w.random, 256 * MiB));
        try {
            stage[0] = "export";
            LinuxFds.close(buffer.exportFd());
            counts.add("vulkan allocations");
        } finally {
            buffer.close();
        }
    }

    private void kernel(Worker w, Arena arena, Arena data, Mode mode, String[] stage) {
        long n = 1024 + w.random.nextLong(1 << 20);
        stage[0] = "allocate";
        MemorySegment device = Memory.allocateDevice(data, 4 * n);
        Memory.fill(device, (byte) 0);
        stage[0] = "stream";
        Stream stream = stream(arena, w.random.nextBoolean());
        int launches = 1 + w.random.nextInt(8);
        stage[0] = "launch";
        for (int i = 0; i < launches; i++) {
            increment.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, device, n);
        }
        stream.synchronize();
        counts.add("kernels");
        stage[0] = "read back";
        readBack(w, device, Math.min(4 * KiB, 4 * n));
        check(w.host, Math.min(4 * KiB, 4 * n), launches, "device memory after " + launches + " increments");
        if (mode == Mode.LONG_LIVED) {
            closeStream(stream);
        }
    }

    private void frames(Worker w, Arena arena, Mode mode, String[] stage) {
        stage[0] = "semaphore import";
        int semFd = w.timeline.exportFd();
        ExternalSemaphore semaphore;
        try {
            semaphore = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(semFd));
        } catch (RuntimeException e) {
            LinuxFds.close(semFd);
            throw e;
        }
        counts.add("semaphore imports");
        stage[0] = "buffer import";
        ExternalMemory memory = imports.make(arena, () -> ExternalMemory.importCopy(arena,
                ExternalMemoryDescriptor.opaqueFd(w.frameFd, w.frameBuffer.allocationSize())));
        MemorySegment mapped = memory.mapBuffer(0, w.frameBuffer.size());
        Memory.fill(mapped, (byte) 0);
        Stream stream = stream(arena, false);
        int frames = 1 + w.random.nextInt(16);
        long n = mapped.byteSize() / 4;
        for (int f = 0; f < frames; f++) {
            stage[0] = "frame " + f;
            long v = w.timelineValue;
            w.timeline.hostSignal(v + 1);                       // Vulkan signals v + 1
            w.timelineValue = v + 1;                            // (a later batch signals above it, whatever fails)
            semaphore.wait(v + 1, stream);                      // HIP waits for it
            increment.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, mapped, n);
            semaphore.signal(v + 2, stream);                    // HIP signals v + 2
            if (!w.timeline.hostWait(v + 2, Gpu.VK_TIMEOUT)) {
                throw new AssertionError("Vulkan did not see HIP's signal " + (v + 2) + " within the timeout");
            }
            w.timelineValue = v + 2;
            counts.add("frames");
        }
        stream.synchronize();
        stage[0] = "read back";
        readBack(w, mapped, 4 * KiB);
        check(w.host, 4 * KiB, frames, "frame buffer after " + frames + " frames");
        if (mode == Mode.LONG_LIVED) {
            closeStream(stream);
            closeImport(memory);
            semaphore.close();
        }
    }

    private void copies(Worker w, Arena arena, Arena host, String[] stage) {
        long bytes = 4 * KiB * (1 + w.random.nextLong(1024));            // 4 KiB to 4 MiB
        stage[0] = "allocate";
        MemorySegment src = Memory.allocatePinned(host, bytes);
        MemorySegment back = Memory.allocatePinned(host, bytes);
        int salt = w.random.nextInt();
        for (long i = 0; i < bytes; i += 4) {
            src.set(ValueLayout.JAVA_INT_UNALIGNED, i, (int) (i * 0x9E3779B1L) ^ salt);
        }
        MemorySegment a = Memory.allocateDevice(arena, bytes);
        MemorySegment b = Memory.allocateDevice(arena, bytes);
        stage[0] = "host to device";
        Memory.copy(a, src);
        stage[0] = "device to device";
        Memory.copy(b, a);
        stage[0] = "device to host";
        Memory.copy(back, b);
        counts.add("copies");
        long mismatch = back.mismatch(src);
        if (mismatch >= 0) {
            throw new AssertionError("copy of " + bytes + " bytes host -> device -> device -> host differs at byte "
                    + mismatch);
        }
    }

    private void streamAndEvents(Worker w, Arena arena, Mode mode, String[] stage) {
        stage[0] = "create";
        Stream stream = stream(arena, w.random.nextBoolean());
        Event start = Event.create(arena);
        Event end = Event.create(arena, w.random.nextInt(4) != 0);
        Event timed = Event.create(arena, true);
        stage[0] = "record";
        start.record(stream);
        Memory.fillAsync(w.scratch, (byte) w.random.nextInt(256), stream);
        timed.record(stream);
        end.record(stream);
        stage[0] = "synchronize";
        end.synchronize();
        float ms = Event.elapsedMillis(start, timed);
        if (!(ms >= 0)) {
            throw new AssertionError("elapsed time " + ms + " ms");
        }
        counts.add("streams");
        counts.add("events");
        if (mode != Mode.PER_OP) {
            stage[0] = "close";
            if (mode == Mode.LONG_LIVED || w.random.nextBoolean()) {
                end.close();
                timed.close();
                start.close();
                closeStream(stream);
            }
        }
    }

    private void module(Worker w, Arena arena, Arena data, Mode mode, String[] stage) {
        stage[0] = "load";
        HipModule module = HipModule.load(arena, ptx);
        Kernel k = module.kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
        long n = 4096;
        MemorySegment device = Memory.allocateDevice(data, 4 * n);
        Memory.fill(device, (byte) 0);
        Stream stream = stream(arena, false);
        stage[0] = "launch";
        k.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, device, n);
        stream.synchronize();
        readBack(w, device, 4 * KiB);
        check(w.host, 4 * KiB, 1, "device memory after one increment of a freshly loaded module");
        counts.add("module loads");
        if (mode == Mode.LONG_LIVED) {
            closeStream(stream);
            module.close();
        }
    }
}
