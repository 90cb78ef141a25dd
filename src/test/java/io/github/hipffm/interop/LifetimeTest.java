package io.github.hipffm.interop;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Event;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Memory;
import io.github.hipffm.MipmappedArray;
import io.github.hipffm.Stream;
import io.github.hipffm.testrt.CapturedLog;
import io.github.hipffm.testrt.InFlight;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.Raw;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Who releases what, and when: everything belongs to an arena; closing the arena, or the resource first,
 * releases what was derived from it (mapped buffers, mipmapped arrays) before the resource itself, each exactly
 * once, and a failing release does not stop the others.
 */
@Tag("testrt")
class LifetimeTest {
    private static final long SIZE = 64 * 1024;
    private static final ChannelFormat RGBA8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);

    @RegisterExtension
    final NoLeaks noLeaks = new NoLeaks();

    /**
     * NIO opens one fd of its own, for good, the first time a channel is used (the fd it dup2()s over closing
     * fds). Open it before any fd counting, so that the pipe in {@link #aCloseRefusedBecauseASegmentIsInUseCanBeRetried}
     * does not count as a leak.
     */
    @BeforeAll
    static void initialiseNio() throws java.io.IOException {
        Pipe pipe = Pipe.open();
        pipe.sink().close();
        pipe.source().close();
    }

    @Test
    void closingTheOwnerArenaReleasesBuffersArraysAndTheMemory() {
        int fd = LinuxFds.memfd("hipffm-lifetime", SIZE);
        ExternalMemory memory;
        MipmappedArray first;
        MipmappedArray second;
        MemorySegment buffer;
        try (Arena arena = Arena.ofConfined()) {
            memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            buffer = memory.mapBuffer(0, 4096);
            memory.mapBuffer(4096, 4096);
            memory.mapBuffer();
            first = memory.mapMipmappedArray(0, RGBA8, Extent.of(64, 64), 1, 0);
            second = memory.mapMipmappedArray(16384, RGBA8, Extent.of(32, 32), 2, 0);

            assertEquals(3, TestRuntime.live("mappedBuffer"));
            assertEquals(2, TestRuntime.live("mipmappedArray"));
            assertEquals(1, TestRuntime.live("externalMemory"));
            assertEquals(0, TestRuntime.calls("hipFree"));
        }
        assertEquals(3, TestRuntime.calls("hipFree"), "one per mapped buffer");
        assertEquals(2, TestRuntime.calls("hipFreeMipmappedArray"), "one per mipmapped array");
        assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"));
        assertTrue(memory.isClosed());
        assertTrue(first.isClosed());
        assertTrue(second.isClosed());
        assertFalse(buffer.scope().isAlive(), "the mapped segment died with its memory");
        assertFalse(LinuxFds.isOpen(fd));
    }

    @Test
    void anExplicitCloseMakesTheArenaCloseANoOp() {
        int fd = LinuxFds.memfd("hipffm-lifetime", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            memory.mapBuffer(0, 4096);
            memory.mapMipmappedArray(4096, RGBA8, Extent.of(16, 16), 1, 0);
            memory.close();

            assertEquals(1, TestRuntime.calls("hipFree"));
            assertEquals(1, TestRuntime.calls("hipFreeMipmappedArray"));
            assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"));
            assertEquals(0, TestRuntime.liveAll());
        }
        assertEquals(1, TestRuntime.calls("hipFree"), "not again at the arena close");
        assertEquals(1, TestRuntime.calls("hipFreeMipmappedArray"), "not again at the arena close");
        assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"), "not again at the arena close");
    }

    @Test
    void aMipmappedArrayClosedEarlyIsNotFreedAgainWithItsMemory() {
        int fd = LinuxFds.memfd("hipffm-lifetime", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            MipmappedArray array = memory.mapMipmappedArray(0, RGBA8, Extent.of(64, 64), 3, 0);
            array.close();
            assertTrue(array.isClosed());
            assertEquals(1, TestRuntime.calls("hipFreeMipmappedArray"));
            assertEquals(0, TestRuntime.live("mipmappedArray"));

            // the memory is unaffected: it maps and releases as usual
            assertFalse(memory.isClosed());
            Memory.fill(memory.mapBuffer(0, 4096), (byte) 3);
        }
        assertEquals(1, TestRuntime.calls("hipFreeMipmappedArray"));
        assertEquals(1, TestRuntime.calls("hipFree"));
        assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"));
    }

    @Test
    void streamsEventsAndAllocationsAreReleasedWithTheirArena() {
        try (Arena arena = Arena.ofConfined()) {
            Stream.create(arena);
            Stream.create(arena, true);
            Event.create(arena);
            Event.create(arena, false);
            Memory.allocateDevice(arena, 4096);
            Memory.allocatePinned(arena, 4096);
            assertEquals(2, TestRuntime.live("stream"));
            assertEquals(2, TestRuntime.live("event"));
            assertEquals(2, TestRuntime.live("memory"));
        }
        assertEquals(2, TestRuntime.calls("hipStreamDestroy"));
        assertEquals(2, TestRuntime.calls("hipEventDestroy"));
        assertEquals(1, TestRuntime.calls("hipFree"));
        assertEquals(1, TestRuntime.calls("hipHostFree"));
    }

    @Test
    void aFailingDestroyIsRethrownAfterTheBuffersAndTheFdWereReleased() {
        int fd = LinuxFds.memfd("hipffm-lifetime", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            MemorySegment buffer = memory.mapBuffer(0, 4096);
            MemorySegment raw = MemorySegment.ofAddress(memory.handle().address());   // handle() is scoped to the memory

            TestRuntime.failNext("hipDestroyExternalMemory", HipError.INVALID_VALUE, 0);
            HipException e = assertThrows(HipException.class, memory::close);
            assertEquals(HipError.INVALID_VALUE, e.error());
            assertEquals("hipDestroyExternalMemory", e.call());

            assertTrue(memory.isClosed());
            assertEquals(1, TestRuntime.calls("hipFree"), "the buffer was freed first");
            assertEquals(0, TestRuntime.live("mappedBuffer"));
            assertFalse(buffer.scope().isAlive());
            assertFalse(LinuxFds.isOpen(fd), "the fd was closed although the destroy failed");

            memory.close();   // closed is closed: no second attempt
            assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"));

            // The injected failure had no effect, so the runtime still holds the memory: release it by hand.
            assertEquals(1, TestRuntime.live("externalMemory"));
            assertEquals(0, Raw.destroyExternalMemory(raw));
        }
        assertEquals(2, TestRuntime.calls("hipDestroyExternalMemory"), "the arena close did not try again");
    }

    @Test
    void aFailingBufferReleaseStillDestroysTheMemoryAndClosesTheFd() {
        int fd = LinuxFds.memfd("hipffm-lifetime", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            long address = memory.mapBuffer(0, 4096).address();

            TestRuntime.failNext("hipFree", HipError.INVALID_DEVICE_POINTER, 0);
            HipException e = assertThrows(HipException.class, memory::close);
            assertEquals("hipFree", e.call());
            assertEquals(HipError.INVALID_DEVICE_POINTER, e.error());

            assertTrue(memory.isClosed());
            assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"), "destroyed although a buffer failed");
            assertEquals(0, TestRuntime.live("externalMemory"));
            assertFalse(LinuxFds.isOpen(fd));

            // The runtime still has the buffer (and so its mapping): free it by hand.
            assertEquals(1, TestRuntime.live("mappedBuffer"));
            assertEquals(0, Raw.free(MemorySegment.ofAddress(address)));
        }
    }

    @Test
    void aFailingReleaseWhenTheArenaClosesDoesNotStopTheArenaClose() {
        int fd = LinuxFds.memfd("hipffm-lifetime", SIZE);
        MemorySegment raw;
        ExternalMemory memory;
        Arena arena = Arena.ofConfined();
        String logged;
        try (CapturedLog log = CapturedLog.of("io.github.hipffm")) {   // the warning, here instead of the console
            try {
                memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
                memory.mapBuffer();
                raw = MemorySegment.ofAddress(memory.handle().address());   // handle() is scoped to the memory
                TestRuntime.failNext("hipDestroyExternalMemory", HipError.INVALID_VALUE, 0);
            } finally {
                arena.close();   // logs the failure (a WARNING of logger io.github.hipffm) and does not throw
            }
            logged = log.text();
        }
        assertEquals(1, logged.split("when its arena closed failed", -1).length - 1, "one warning:\n" + logged);
        assertTrue(logged.contains("WARNING: releasing ExternalMemory when its arena closed failed"), logged);
        assertTrue(logged.contains("io.github.hipffm.HipException: hipDestroyExternalMemory failed: "
                + "hipErrorInvalidValue (1)"), "the failure and its stack trace:\n" + logged);
        assertTrue(memory.isClosed());
        assertFalse(arena.scope().isAlive());
        assertEquals(1, TestRuntime.calls("hipFree"));
        assertFalse(LinuxFds.isOpen(fd));
        assertEquals(1, TestRuntime.live("externalMemory"));
        assertEquals(0, Raw.destroyExternalMemory(raw));
    }

    /**
     * A close while another thread still uses a mapped segment (here: a blocking write of the segment into a
     * full pipe, which holds the segment the way a native call does) must neither pull the memory from under that
     * use nor lose it: close returns, the memory counts as closed at once (new uses are refused), and it is
     * released, exactly once, as soon as the other thread is done, without a second close.
     */
    @Test
    void aCloseWhileASegmentIsInUseReleasesWhenTheUseEnds() throws Exception {
        long size = 1 << 20;   // far more than a pipe holds, so the writer blocks inside write(2)
        int fd = LinuxFds.memfd("hipffm-in-use", size);
        ExecutorService writerThread = Executors.newSingleThreadExecutor();
        Pipe pipe = Pipe.open();
        Arena arena = Arena.ofShared();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink();
                CapturedLog log = CapturedLog.of("io.github.hipffm")) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, size));
            MemorySegment buffer = memory.mapBuffer();
            Future<Integer> writer = writerThread.submit(() -> sink.write(buffer.asByteBuffer()));
            ByteBuffer drained = ByteBuffer.allocate((int) size);
            readAtLeast(source, drained, 1);   // the writer is inside write(2) now, holding the segment

            memory.close();                    // returns: the release waits for the writer
            assertTrue(memory.isClosed());
            assertThrows(IllegalStateException.class, memory::mapBuffer);
            assertEquals(0, TestRuntime.calls("hipFree"));
            assertEquals(0, TestRuntime.calls("hipDestroyExternalMemory"));
            assertTrue(LinuxFds.isOpen(fd));

            readAtLeast(source, drained, (int) size);
            assertEquals(size, (long) writer.get(10, TimeUnit.SECONDS));
            awaitCalls("hipDestroyExternalMemory", 1);   // NIO's end is no runtime call: retried every millisecond
            awaitClosed(fd);                              // the release closes it right after the destroy
            assertEquals(1, TestRuntime.calls("hipFree"));
            assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"));
            assertFalse(LinuxFds.isOpen(fd));
            memory.close();                    // a second close does nothing
            arena.close();
            assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"));
            assertEquals("", log.text(), "nothing logged");
        } finally {
            writerThread.shutdownNow();
        }
    }

    /**
     * Under a confined owner arena, the resource is confined too: another thread can neither use its segments nor
     * close it, and the owner's thread still can.
     */
    @Test
    void aResourceOfAConfinedArenaBelongsToItsThread() throws Exception {
        int fd = LinuxFds.memfd("hipffm-confined", SIZE);
        ExecutorService other = Executors.newSingleThreadExecutor();
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            MemorySegment buffer = memory.mapBuffer();
            ExecutionException closing = assertThrows(ExecutionException.class,
                    () -> other.submit(memory::close).get(10, TimeUnit.SECONDS));
            assertInstanceOf(WrongThreadException.class, closing.getCause());
            ExecutionException filling = assertThrows(ExecutionException.class,
                    () -> other.submit(() -> Memory.fill(buffer, (byte) 1)).get(10, TimeUnit.SECONDS));
            assertInstanceOf(WrongThreadException.class, filling.getCause());
            assertFalse(memory.isClosed());
            Memory.fill(buffer, (byte) 2);
            memory.close();
            assertTrue(memory.isClosed());
            assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"));
        } finally {
            other.shutdownNow();
        }
    }

    /**
     * A mipmapped array in use by another thread's call keeps its memory too: closing the memory closes both, and
     * the memory is destroyed only after the array was freed, once that call has ended.
     */
    @Test
    void aMemoryWaitsForItsArrayInUse() throws Exception {
        int fd = LinuxFds.memfd("hipffm-array-in-use", SIZE);
        try (Arena arena = Arena.ofShared(); CapturedLog log = CapturedLog.of("io.github.hipffm")) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            MipmappedArray array = memory.mapMipmappedArray(0, RGBA8, Extent.of(64, 64), 1, 0);
            MemorySegment buffer = memory.mapBuffer();
            try (InFlight call = InFlight.hold(array.level(0).handle())) {
                memory.close();
                assertTrue(memory.isClosed());
                assertTrue(array.isClosed());
                assertThrows(IllegalStateException.class, memory::mapBuffer);
                Memory.fill(buffer, (byte) 0);   // a segment handed out before works until the release
                assertEquals(0, TestRuntime.calls("hipFreeMipmappedArray"));
                assertEquals(0, TestRuntime.calls("hipFree"));
                assertEquals(0, TestRuntime.calls("hipDestroyExternalMemory"));
                assertTrue(LinuxFds.isOpen(fd));
            }
            awaitCalls("hipDestroyExternalMemory", 1);
            awaitClosed(fd);                              // the release closes it right after the destroy
            assertEquals(1, TestRuntime.calls("hipFreeMipmappedArray"));
            assertEquals(1, TestRuntime.calls("hipFree"));
            assertFalse(LinuxFds.isOpen(fd));
            assertEquals("", log.text(), "nothing logged");
        }
    }

    /** The same when the owner arena closes while a call holds the memory's handle: nothing logged, nothing lost. */
    @Test
    void anArenaClosedWhileACallHoldsItsMemoryReleasesItWhenTheCallEnds() throws Exception {
        int fd = LinuxFds.memfd("hipffm-arena-in-use", SIZE);
        Arena arena = Arena.ofShared();
        try (CapturedLog log = CapturedLog.of("io.github.hipffm")) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            memory.mapBuffer();
            try (InFlight call = InFlight.hold(memory.handle())) {
                arena.close();
                assertTrue(memory.isClosed());
                assertEquals(0, TestRuntime.calls("hipDestroyExternalMemory"));
            }
            awaitCalls("hipDestroyExternalMemory", 1);
            awaitClosed(fd);                              // the release closes it right after the destroy
            assertEquals(1, TestRuntime.calls("hipFree"));
            assertFalse(LinuxFds.isOpen(fd));
            assertEquals("", log.text(), "nothing logged");
        }
    }

    /** Waits up to 10 s for {@code fd} to be closed (the last step of a release, after the destroy). */
    private static void awaitClosed(int fd) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (LinuxFds.isOpen(fd) && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertFalse(LinuxFds.isOpen(fd), "fd " + fd + " closed by the release");
    }

    /** Waits up to 10 s for {@code function} to have been called {@code n} times (a release after a call's end). */
    private static void awaitCalls(String function, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (TestRuntime.calls(function) < n && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(n, TestRuntime.calls(function), function + " calls");
    }

    @Test
    void eightThreadsImportMapAndCloseOnOneSharedArena() throws Exception {
        int threads = 8;
        int cycles = 200;
        Arena shared = Arena.ofShared();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        int leftOpen = 0;
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    start.await();
                    int open = 0;
                    for (int i = 0; i < cycles; i++) {
                        int fd = LinuxFds.memfd("hipffm-concurrent", SIZE);
                        ExternalMemory memory = ExternalMemory.importMemory(shared, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
                        Memory.fill(memory.mapBuffer(0, SIZE), (byte) i);
                        if (i % 4 == 0) {
                            open++;            // left for the arena to release
                        } else {
                            memory.close();
                        }
                    }
                    return open;
                }));
            }
            start.countDown();
            for (Future<Integer> w : workers) {
                leftOpen += w.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(threads * cycles / 4, leftOpen);
        assertEquals(leftOpen, TestRuntime.live("externalMemory"));
        assertEquals(leftOpen, TestRuntime.live("mappedBuffer"));
        assertEquals(noLeaks.fdsAtStart() + leftOpen, LinuxFds.count());

        shared.close();
        int total = threads * cycles;
        assertEquals(total, TestRuntime.calls("hipImportExternalMemory"));
        assertEquals(total, TestRuntime.calls("hipFree"));
        assertEquals(total, TestRuntime.calls("hipDestroyExternalMemory"));
        // NoLeaks, after the test: nothing live, fd count back to the start
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /** Reads from {@code source} into {@code into} until it holds at least {@code total} bytes. */
    private static void readAtLeast(Pipe.SourceChannel source, ByteBuffer into, int total) throws java.io.IOException {
        while (into.position() < total) {
            if (source.read(into) < 0) {
                throw new java.io.EOFException();
            }
        }
    }
}
