package io.github.hipffm.interop;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalMemoryHandleType;
import io.github.hipffm.Memory;
import io.github.hipffm.fuzz.Gen;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzing {@link ExternalMemoryDescriptor} and {@link ExternalMemory#importMemory}/{@link ExternalMemory#importCopy}:
 * every handle type and handle shape, fds of every kind ({@link FuzzFds.Kind}), sizes around the file's size and
 * far off, dedicated or not, owner arenas open, closed, or confined to another thread. Each case has exactly one
 * expected outcome (success or one exception class), from the javadoc; on success the fd rule holds (the memory
 * owns the fd until it is released, then the fd is closed; {@code importCopy} leaves the caller's), the memory
 * works (mapped, filled, read back through the fd), and after release every method throws
 * {@link IllegalStateException}.
 */
@Tag("testrt")
class MemoryImportFuzzTest {
    private static final ExecutorService OTHER_THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "hipffm-fuzz-other-thread");
        t.setDaemon(true);
        return t;
    });

    /** How the descriptor carries its handle. */
    enum Shape { FD, HANDLE, NAME, NVSCI, FD_AND_HANDLE, HANDLE_AND_NAME, NOTHING }

    /** The owner arena of the import. */
    enum Owner { CONFINED, SHARED, CLOSED, CONFINED_TO_ANOTHER_THREAD }

    /** How the imported memory is released. */
    enum Release { CLOSE, ARENA, CLOSE_THEN_ARENA, CLOSE_TWICE }

    /**
     * One import.
     *
     * @param type the handle type
     * @param shape which handle fields are set
     * @param kind the fd's kind (for {@link Shape#FD} and {@link Shape#FD_AND_HANDLE})
     * @param literalFd an fd number used instead of one of {@code kind}, when not null (0 or negative)
     * @param fileSize the file's size
     * @param size the descriptor's size
     * @param dedicated the dedicated flag
     * @param copy importCopy instead of importMemory
     * @param owner the owner arena
     * @param release how it is released on success
     * @param fill the byte written through a mapping of the whole memory on success (null: not mapped)
     */
    record Case(ExternalMemoryHandleType type, Shape shape, FuzzFds.Kind kind, Integer literalFd, long fileSize,
            long size, boolean dedicated, boolean copy, Owner owner, Release release, Byte fill) {
    }

    Gen<Case> cases() {
        Gen<ExternalMemoryHandleType> types = Gen.frequencyOf(
                Gen.w(6, Gen.just(ExternalMemoryHandleType.OPAQUE_FD)),
                Gen.w(2, Gen.of(ExternalMemoryHandleType.class)));
        Gen<Shape> shapes = Gen.frequencyOf(
                Gen.w(6, Gen.just(Shape.FD)),
                Gen.w(3, Gen.of(Shape.class)));
        Gen<Long> fileSizes = Gen.oneOf(Gen.of(0L, 1L, 4095L, 4096L, 65536L),
                Gen.longs(1, 256 * 1024));
        List<Gen<?>> fields = List.of(
                types,
                shapes,
                Gen.of(FuzzFds.Kind.class),
                Gen.frequencyOf(
                        Gen.w(20, Gen.just((Integer) null)),
                        Gen.w(1, Gen.of(0, -1, Integer.MIN_VALUE))),
                fileSizes,
                Gen.oneOf(Gen.of(0L, -1L, 1L, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE),
                        Gen.longs(-2, 2), Gen.longs(1, 256 * 1024)),
                Gen.of(true, false),
                Gen.of(true, false),
                Gen.frequency(Gen.w(5, Owner.CONFINED), Gen.w(3, Owner.SHARED),
                        Gen.w(1, Owner.CLOSED), Gen.w(1, Owner.CONFINED_TO_ANOTHER_THREAD)),
                Gen.of(Release.class),
                Gen.frequencyOf(Gen.w(1, Gen.just((Byte) null)),
                        Gen.w(2, Gen.bytes())));
        return c -> {
            Object[] b = new Object[fields.size()];
            for (int i = 0; i < b.length; i++) {
                b[i] = fields.get(i).generate(c);
            }
            return toCase(b);
        };
    }

    /** The descriptor's size: small ones relative to the file (exact, one off), the rest as generated. */
    private static Case toCase(Object[] b) {
        long fileSize = (Long) b[4];
        long sizeChoice = (Long) b[5];
        long size = sizeChoice >= -2 && sizeChoice <= 2 ? fileSize + sizeChoice : sizeChoice;
        return new Case((ExternalMemoryHandleType) b[0], (Shape) b[1], (FuzzFds.Kind) b[2], (Integer) b[3], fileSize,
                size, (Boolean) b[6], (Boolean) b[7], (Owner) b[8], (Release) b[9], (Byte) b[10]);
    }

    @Test
    @FuzzHook.Cases(2500)
    void importsHaveOneDocumentedOutcomeAndKeepTheFdRule() {
        FuzzHook.check(cases(), this::importsHaveOneDocumentedOutcomeAndKeepTheFdRule);
    }

    private void importsHaveOneDocumentedOutcomeAndKeepTheFdRule(Case c) throws Exception {
        boolean usesFd = c.shape == Shape.FD || c.shape == Shape.FD_AND_HANDLE;
        FuzzFds.Fd fd = usesFd && c.literalFd == null ? FuzzFds.open(c.kind, Math.max(0, c.fileSize), (int) c.size) : null;
        int fdNumber = usesFd ? (c.literalFd != null ? c.literalFd : fd.fd()) : -1;
        boolean hasHandle = c.shape == Shape.HANDLE || c.shape == Shape.FD_AND_HANDLE || c.shape == Shape.HANDLE_AND_NAME;
        boolean hasName = c.shape == Shape.NAME || c.shape == Shape.HANDLE_AND_NAME;
        boolean hasNvSci = c.shape == Shape.NVSCI;
        MemorySegment handle = hasHandle ? MemorySegment.ofAddress(0x1000 + (c.size & 0xfff0)) : null;
        MemorySegment nvSci = hasNvSci ? MemorySegment.ofAddress(0x2000) : null;
        String name = hasName ? "Local\\hipffm-fuzz" : null;
        AtomicBoolean taken = new AtomicBoolean();   // whether a successful importMemory took the fd
        try {
            var descriptor = Calls.call("new ExternalMemoryDescriptor", Calls.VALUE, () -> {
                var d = new ExternalMemoryDescriptor(c.type, fdNumber, handle, name, nvSci, c.size, false);
                return c.dedicated ? d.asDedicated() : d;
            }).expect(descriptorValid(c, fdNumber, hasHandle, hasName, hasNvSci) ? null : IllegalArgumentException.class);
            if (!descriptor.ok()) {
                return;
            }
            ExternalMemoryDescriptor d = descriptor.get();
            assertEquals(c.dedicated, d.dedicated());
            importAndUse(c, d, fd, taken);
        } finally {
            if (fd != null && !taken.get()) {
                fd.close();     // still the caller's: after a failed import, after importCopy
            }
        }
    }

    private static boolean descriptorValid(Case c, int fd, boolean hasHandle, boolean hasName, boolean hasNvSci) {
        if (c.size <= 0) {
            return false;
        }
        return switch (c.type) {
            case OPAQUE_FD -> fd > 0 && !hasHandle && !hasName && !hasNvSci;
            case NVSCIBUF -> hasNvSci;
            case OPAQUE_WIN32, D3D12_HEAP, D3D12_RESOURCE -> fd == -1 && hasHandle != hasName;
            default -> fd == -1 && hasHandle && !hasName;
        };
    }

    /**
     * Imports, checks the outcome and, on success, uses and releases the memory. {@code fd} (null for other handles)
     * stays the test's to close when the import failed or copied it; a successful importMemory takes it.
     */
    private static void importAndUse(Case c, ExternalMemoryDescriptor d, FuzzFds.Fd fd, AtomicBoolean taken)
            throws Exception {
        Arena arena = c.owner == Owner.SHARED ? Arena.ofShared() : Arena.ofConfined();
        if (c.owner == Owner.CLOSED) {
            arena.close();
        }
        try {
            Supplier<ExternalMemory> importer = () -> c.copy ? ExternalMemory.importCopy(arena, d)
                    : ExternalMemory.importMemory(arena, d);
            Calls.Result<ExternalMemory> imported = c.owner == Owner.CONFINED_TO_ANOTHER_THREAD
                    ? onAnotherThread(() -> Calls.call("import", Calls.OWNED, importer))
                    : Calls.call(c.copy ? "importCopy" : "importMemory", Calls.NATIVE, importer);
            taken.set(imported.ok() && !c.copy && fd != null);
            imported.expect(expectedImport(c, fd));
            if (fd != null && fd.isOpen()) {
                assertTrue(LinuxFds.isOpen(fd.fd()), "the caller's fd is open after the import, whatever happened");
            }
            if (imported.ok()) {
                use(c, imported.get(), arena, fd);
            }
        } finally {
            if (arena.scope().isAlive()) {
                arena.close();
            }
        }
    }

    /** The one documented outcome of the import (null: success). */
    private static Class<? extends RuntimeException> expectedImport(Case c, FuzzFds.Fd fd) {
        boolean nvidia = TestRuntime.nvidia();
        boolean supported = c.type == ExternalMemoryHandleType.OPAQUE_FD
                || (c.type == ExternalMemoryHandleType.NVSCIBUF && nvidia);
        if (!supported) {
            return IllegalArgumentException.class;                 // refused for this OS and platform
        }
        boolean isFd = c.type.isFd();
        boolean open = fd != null && fd.isOpen();
        if (isFd && !open) {
            return IllegalArgumentException.class;                 // checked first: the fd must be open
        }
        if (c.type.isFd() && FuzzFds.notAnExport(fd.kind())) {
            return IllegalArgumentException.class;       // checked first: on NVIDIA, of a kind a GPU export can be
        }
        if (c.owner == Owner.CLOSED) {
            return IllegalStateException.class;
        }
        if (c.owner == Owner.CONFINED_TO_ANOTHER_THREAD) {
            return WrongThreadException.class;
        }
        if (!isFd) {
            return io.github.hipffm.HipException.class;           // NvSciBuf: the runtime does not support it
        }
        if (fd.kind().mappable && c.size <= fd.size()) {
            return null;
        }
        return io.github.hipffm.HipException.class;               // the runtime refuses the fd
    }

    private static void use(Case c, ExternalMemory memory, Arena arena, FuzzFds.Fd fd) {
        assertEquals(c.size, memory.size());
        assertEquals(c.type, memory.handleType());
        assertFalse(memory.isClosed());
        assertTrue(memory.toString().startsWith("ExternalMemory[OPAQUE_FD, " + c.size + " bytes"), memory::toString);
        MemorySegment whole = null;
        if (c.fill != null && c.size <= 256 * 1024) {
            whole = Calls.call("mapBuffer()", Calls.NATIVE, memory::mapBuffer).get();
            assertEquals(c.size, whole.byteSize());
            assertTrue(whole.isReadOnly());
            byte v = c.fill;
            Calls.run("Memory.fill", Calls.NATIVE, () -> Memory.fill(memory.mapBuffer(), v)).get();
            int n = (int) Math.min(64, c.size);
            byte[] expected = new byte[n];
            Arrays.fill(expected, v);
            assertArrayEquals(expected, LinuxFds.read(fd.fd(), 0, n), "the fill reached the file at its start");
            assertArrayEquals(expected, LinuxFds.read(fd.fd(), c.size - n, n), "the fill reached the file at its end");
        }
        assertTrue(LinuxFds.isOpen(fd.fd()), "the memory keeps the fd open");
        switch (c.release) {
            case CLOSE -> Calls.run("close", Calls.CLOSE, memory::close).get();
            case ARENA -> arena.close();
            case CLOSE_THEN_ARENA -> {
                Calls.run("close", Calls.CLOSE, memory::close).get();
                arena.close();
            }
            case CLOSE_TWICE -> {
                Calls.run("close", Calls.CLOSE, memory::close).get();
                Calls.run("close again", Calls.CLOSE, memory::close).get();
            }
        }
        assertTrue(memory.isClosed());
        assertEquals(c.copy, LinuxFds.isOpen(fd.fd()), "importMemory's fd is closed with the memory, importCopy's not");
        assertThrows(IllegalStateException.class, memory::mapBuffer);
        assertThrows(IllegalStateException.class, () -> memory.mapBuffer(0, 1));
        assertThrows(IllegalStateException.class, memory::handle);
        assertThrows(IllegalStateException.class, () -> memory.mapMipmappedArray(0,
                new ChannelFormat(8, 0, 0, 0, ChannelFormat.Kind.UNSIGNED), Extent.of(1, 1), 1, 0));
        if (whole != null) {
            MemorySegment w = whole;
            assertFalse(w.scope().isAlive());
            assertThrows(IllegalStateException.class, () -> Memory.fill(w, (byte) 0));
        }
        assertTrue(memory.toString().endsWith(", closed]"), memory::toString);
    }

    private static <T> T onAnotherThread(java.util.concurrent.Callable<T> call) throws Exception {
        try {
            return OTHER_THREAD.submit(call).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }
}
