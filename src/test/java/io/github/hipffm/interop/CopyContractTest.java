package io.github.hipffm.interop;

import io.github.hipffm.ArrayLevel;
import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.Memory;
import io.github.hipffm.MipmappedArray;
import io.github.hipffm.Stream;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.Raw;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The copy contract of {@link Memory} ("When a copy or fill has finished"): a call without {@code Async} in its name
 * has finished when it returns, so a reader that is not ordered with the runtime's streams sees the result at once.
 * Here that reader is the test itself, reading the imported memfd through its fd.
 *
 * <p>The test runtime models what makes this contract hip-ffm's own work: the runtimes' synchronous
 * {@code hipMemcpy}/{@code cudaMemcpy} device to device, {@code hipMemset}/{@code cudaMemset} of device memory and the
 * array copies from device memory return before the work is done. The double defers that work on the null stream
 * until something a real runtime would have finished it for (a null-stream synchronize, later null-stream work, a free
 * ...), and a read through the fd is none of those (src/test/native/README.md, "Deferred work").
 * {@link #theRuntimesOwnSynchronousCallsDoNotFinishTheWork} shows that on both platforms, so the other tests fail if
 * hip-ffm ever calls those functions again without waiting.
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class CopyContractTest {
    private static final int N = 4096;
    private static final long SIZE = 64 * 1024;

    @Test
    void fillHasFinishedWhenItReturns() {
        int fd = LinuxFds.memfd("hipffm-contract-fill", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            MemorySegment buffer = memory.mapBuffer(N, N);

            Memory.fill(buffer, (byte) 0x5a);

            assertFdReads(fd, N, filled(N, 0x5a), "Memory.fill of a mapped buffer");
            assertFdReads(fd, 0, new byte[N], "nothing before the buffer");
            Memory.fill(buffer.asSlice(0, 16), (byte) 0xc3);
            assertFdReads(fd, N, filled(16, 0xc3), "Memory.fill of a slice of a mapped buffer");
            assertEquals(0, TestRuntime.pendingWork(), "hip-ffm left no work behind");
        }
    }

    @Test
    void deviceToDeviceCopyHasFinishedWhenItReturns() {
        int fd = LinuxFds.memfd("hipffm-contract-copy", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            MemorySegment a = memory.mapBuffer(0, N);
            MemorySegment b = memory.mapBuffer(2 * N, N);
            MemorySegment device = Memory.allocateDevice(arena, N);
            byte[] expected = pattern(N, 11);
            LinuxFds.write(fd, 0, expected); // a holds the pattern, written by the other side

            Memory.copy(b, a);               // mapped -> mapped
            assertFdReads(fd, 2 * N, expected, "Memory.copy between two mapped buffers");

            Memory.fill(b, (byte) 0);
            Memory.copy(device, a);          // mapped -> device
            Memory.copy(b, device);          // device -> mapped
            assertFdReads(fd, 2 * N, expected, "Memory.copy from device memory into a mapped buffer");

            LinuxFds.write(fd, 0, pattern(N, 99));
            Memory.copy(b.asSlice(N - 100), a.asSlice(0, 100));
            byte[] tail = Arrays.copyOfRange(pattern(N, 99), 0, 100);
            assertFdReads(fd, 3 * N - 100, tail, "Memory.copy between slices of mapped buffers");
            assertEquals(0, TestRuntime.pendingWork(), "hip-ffm left no work behind");
        }
    }

    @Test
    void arrayCopiesFromDeviceMemoryHaveFinishedWhenTheyReturn() {
        ChannelFormat r8 = new ChannelFormat(8, 0, 0, 0, ChannelFormat.Kind.UNSIGNED);
        ChannelFormat rgba8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);
        int fd = LinuxFds.memfd("hipffm-contract-array", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            MemorySegment buffer = memory.mapBuffer(0, N);
            MemorySegment device = Memory.allocateDevice(arena, N);
            byte[] expected = pattern(N, 5);
            LinuxFds.write(fd, 0, expected);
            Memory.copy(device, buffer);

            // A 2D level (hipMemcpy2DToArray): 64 x 16 texels of 4 bytes, 4096 bytes at offset 8192 of the memory. In
            // the test runtime a level's rows lie packed at its offset, so the fd shows them.
            MipmappedArray flat = memory.mapMipmappedArray(2 * N, rgba8, Extent.of(64, 16), 1, 0);
            ArrayLevel level = flat.level(0);
            assertEquals(N, level.byteSize());
            level.copyFrom(device);
            assertFdReads(fd, 2 * N, expected, "ArrayLevel.copyFrom device memory (2D)");

            // A 3D level (hipMemcpy3D): 16 x 16 x 16 bytes at offset 16384.
            MipmappedArray cube = memory.mapMipmappedArray(4 * N, r8, new Extent(16, 16, 16), 1, 0);
            ArrayLevel volume = cube.level(0);
            assertEquals(N, volume.byteSize());
            volume.copyFrom(buffer);
            assertFdReads(fd, 4 * N, expected, "ArrayLevel.copyFrom a mapped buffer (3D)");

            // ... and back from a level into a mapped buffer (device to device too).
            byte[] other = pattern(N, 77);
            LinuxFds.write(fd, 2 * N, other);
            level.copyTo(buffer);
            assertFdReads(fd, 0, other, "ArrayLevel.copyTo a mapped buffer (2D)");
            LinuxFds.write(fd, 4 * N, expected);
            volume.copyTo(buffer);
            assertFdReads(fd, 0, expected, "ArrayLevel.copyTo a mapped buffer (3D)");
            assertEquals(0, TestRuntime.pendingWork(), "hip-ffm left no work behind");
        }
    }

    @Test
    void asyncWorkOnANonBlockingStreamHasFinishedOnceTheStreamIsSynchronized() {
        int fd = LinuxFds.memfd("hipffm-contract-async", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            MemorySegment a = memory.mapBuffer(0, N);
            MemorySegment b = memory.mapBuffer(N, N);
            Stream stream = Stream.create(arena, true);
            byte[] expected = pattern(N, 42);
            LinuxFds.write(fd, 0, expected);

            Memory.copyAsync(b, a, N, stream);
            Memory.fillAsync(a.asSlice(0, 64), (byte) 0x7e, stream);
            // Nothing is promised before the stream is synchronized, so nothing is read through the fd here (the
            // double happens to run async work at once; a GPU does not).
            stream.synchronize();

            assertFdReads(fd, N, expected, "Memory.copyAsync on a non-blocking stream, after Stream.synchronize");
            assertFdReads(fd, 0, filled(64, 0x7e), "Memory.fillAsync on a non-blocking stream, after Stream.synchronize");
        }
    }

    /**
     * The premise of the tests above: the runtime's own synchronous calls return before device work is done, and
     * only something ordered with the null stream finishes it. Were this not so, the tests above could not fail.
     */
    @Test
    void theRuntimesOwnSynchronousCallsDoNotFinishTheWork() {
        int fd = LinuxFds.memfd("hipffm-contract-premise", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            MemorySegment a = memory.mapBuffer(0, N);
            MemorySegment b = memory.mapBuffer(N, N);

            assertEquals(0, Raw.memset(a, 0x21, N));
            assertEquals(0, Raw.memcpy(b, a, N));
            assertEquals(2, TestRuntime.pendingWork(), "the fill and the copy are deferred");
            assertFdReads(fd, 0, new byte[2 * N], "nothing is done before the null stream is synchronized");
            assertEquals(0, Raw.streamSynchronize(MemorySegment.NULL));
            assertEquals(0, TestRuntime.pendingWork());
            assertFdReads(fd, 0, filled(2 * N, 0x21), "both done, in order, by hipStreamSynchronize(NULL)");
        }
    }

    /** Reads {@code expected.length} bytes at {@code offset} through the fd, past the runtime, and compares them. */
    private static void assertFdReads(int fd, long offset, byte[] expected, String what) {
        byte[] actual = LinuxFds.read(fd, offset, expected.length);
        int i = Arrays.mismatch(expected, actual);
        if (i >= 0) {
            HexFormat hex = HexFormat.of();
            fail(what + " returned before its work had finished: byte " + i + " of " + expected.length + " at offset "
                    + offset + ", read through the fd, is 0x" + hex.toHexDigits(actual[i]) + ", expected 0x"
                    + hex.toHexDigits(expected[i]) + " (the runtime's own synchronous copy or fill returns before the"
                    + " device has finished: hip-ffm must wait for the null stream)");
        }
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i * 31 + (i >> 8));
        }
        return b;
    }
}
