package io.github.hipffm.interop;

import io.github.hipffm.ArrayLevel;
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
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.Raw;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data moves where it should: host, pinned, device and mapped external memory through copies and fills,
 * synchronously and on streams; events time streams; mip levels keep their own data.
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class MemoryAndStreamsTest {
    private static final int N = 4096;

    @Test
    void hostToDeviceToHostRoundTripKeepsThePattern() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pinned = Memory.allocatePinned(arena, N);
            MemorySegment device = Memory.allocateDevice(arena, N);
            MemorySegment plainHost = arena.allocate(N);   // ordinary native memory works too
            assertEquals(N, device.byteSize());
            pattern(pinned, 17);

            Memory.copy(device, pinned);
            Memory.copy(plainHost, device);

            assertEquals(-1, pinned.mismatch(plainHost), "the pattern survived host -> device -> host");
            assertEquals(2, TestRuntime.calls("hipMemcpyAsync"), "synchronous copies queue on the null stream");
            assertEquals(2, TestRuntime.calls("hipStreamSynchronize"), "... and wait for it");
            assertEquals(0, TestRuntime.calls("hipMemcpy"), "the runtime's own hipMemcpy may return early");
            assertEquals(2, TestRuntime.live("memory"), "one device and one pinned allocation");
        }
        assertEquals(1, TestRuntime.calls("hipFree"));
        assertEquals(1, TestRuntime.calls("hipHostFree"));
    }

    @Test
    void copyAsyncAndFillAsyncOnAStreamThenSynchronize() {
        try (Arena arena = Arena.ofConfined()) {
            Stream stream = Stream.create(arena);
            MemorySegment source = Memory.allocatePinned(arena, N);
            MemorySegment device = Memory.allocateDevice(arena, N);
            MemorySegment result = Memory.allocatePinned(arena, N);
            pattern(source, 3);

            Memory.copyAsync(device, source, N, stream);
            Memory.fillAsync(device.asSlice(0, N / 2), (byte) 0x7f, stream);
            Memory.copyAsync(result, device, N, stream);
            stream.synchronize();

            assertTrue(stream.isIdle());
            for (int i = 0; i < N; i++) {
                byte expected = i < N / 2 ? (byte) 0x7f : source.get(ValueLayout.JAVA_BYTE, i);
                assertEquals(expected, result.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
            }
            assertEquals(2, TestRuntime.calls("hipMemcpyAsync"));
            assertEquals(1, TestRuntime.calls("hipMemsetAsync"));
            assertEquals(1, TestRuntime.calls("hipStreamSynchronize"));
        }
        assertEquals(1, TestRuntime.calls("hipStreamDestroy"));
    }

    @Test
    void eventsRecordSynchronizeAndTime() {
        try (Arena arena = Arena.ofConfined()) {
            Stream stream = Stream.create(arena);
            Event start = Event.create(arena);
            Event end = Event.create(arena);
            MemorySegment host = Memory.allocatePinned(arena, N);
            MemorySegment device = Memory.allocateDevice(arena, N);

            start.record(stream);
            Memory.copyAsync(device, host, N, stream);
            end.record(stream).synchronize();

            assertTrue(end.isComplete());
            assertTrue(Event.elapsedMillis(start, end) >= 0);
            stream.waitFor(end);

            assertEquals(2, TestRuntime.calls("hipEventRecord"));
            assertEquals(1, TestRuntime.calls("hipEventSynchronize"));
            assertEquals(1, TestRuntime.calls("hipEventQuery"));
            assertEquals(1, TestRuntime.calls("hipEventElapsedTime"));
            assertEquals(1, TestRuntime.calls("hipStreamWaitEvent"));
        }
        assertEquals(2, TestRuntime.calls("hipEventDestroy"));
    }

    @Test
    void eventsWithoutTimingCannotBeTimed() {
        try (Arena arena = Arena.ofConfined()) {
            Event start = Event.create(arena, false).record(Stream.defaultStream());
            Event end = Event.create(arena, false).record(Stream.defaultStream());
            HipException e = assertThrows(HipException.class, () -> Event.elapsedMillis(start, end));
            assertEquals("hipEventElapsedTime", e.call());
            assertEquals(HipError.INVALID_HANDLE, e.error());
        }
    }

    @Test
    void theDefaultStreamIsNeverDestroyed() {
        Stream stream = Stream.defaultStream();
        stream.close();
        stream.close();

        assertFalse(stream.isClosed());
        assertSame(stream, Stream.defaultStream());
        assertEquals(MemorySegment.NULL, stream.handle());
        stream.synchronize();   // still usable
        assertEquals(0, TestRuntime.calls("hipStreamDestroy"));
        assertEquals(1, TestRuntime.calls("hipStreamSynchronize"));
    }

    @Test
    void aMappedBufferAtAnOffsetIsThatPartOfTheFd() {
        long size = 16 * 1024;
        int offset = 4096;
        int fd = LinuxFds.memfd("hipffm-mapped", size);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, size));
            MemorySegment buffer = memory.mapBuffer(offset, N);
            MemorySegment pinned = Memory.allocatePinned(arena, N);

            // HIP writes, the fd sees it at the offset
            pattern(pinned, 101);
            Memory.copy(buffer, pinned);
            assertArrayEquals(pinned.toArray(ValueLayout.JAVA_BYTE), LinuxFds.read(fd, offset, N));
            assertArrayEquals(new byte[offset], LinuxFds.read(fd, 0, offset), "nothing before the offset");
            assertArrayEquals(new byte[(int) size - offset - N], LinuxFds.read(fd, offset + N, (int) size - offset - N),
                    "nothing after the buffer");

            // the fd writes, HIP sees it
            byte[] written = new byte[N];
            for (int i = 0; i < N; i++) {
                written[i] = (byte) (i * 7 + 1);
            }
            LinuxFds.write(fd, offset, written);
            Memory.copy(pinned, buffer);
            assertArrayEquals(written, pinned.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void aThreeDimensionalLevelRoundTripsSliceAfterSlice() {
        ChannelFormat r32 = new ChannelFormat(32, 0, 0, 0, ChannelFormat.Kind.FLOAT);
        long size = 8 * 1024;    // level 0: 8x4x6 of 4 bytes (768 bytes), level 1: 4x2x3 (96 bytes)
        int fd = LinuxFds.memfd("hipffm-3d", size);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, size));
            MipmappedArray array = memory.mapMipmappedArray(0, r32, new Extent(8, 4, 6), 2, 0);
            ArrayLevel level0 = array.level(0);
            ArrayLevel level1 = array.level(1);
            assertEquals(new Extent(4, 2, 3), level1.extent());
            assertEquals(8 * 4 * 6 * 4, level0.byteSize());
            assertEquals(4 * 2 * 3 * 4, level1.byteSize());

            MemorySegment pixels = Memory.allocatePinned(arena, level0.byteSize());
            pattern(pixels, 7);
            level0.copyFrom(pixels);
            MemorySegment small = arena.allocate(level1.byteSize());
            pattern(small, 90);
            level1.copyFrom(small);

            MemorySegment back = Memory.allocatePinned(arena, level0.byteSize());
            level0.copyTo(back);
            assertEquals(-1, pixels.mismatch(back), "level 0");
            MemorySegment smallBack = arena.allocate(level1.byteSize());
            level1.copyTo(smallBack);
            assertEquals(-1, small.mismatch(smallBack), "level 1");
            // In the test runtime a level is its slices one after another, level 1 right after level 0.
            assertArrayEquals(pixels.toArray(ValueLayout.JAVA_BYTE), LinuxFds.read(fd, 0, (int) level0.byteSize()));
            assertArrayEquals(small.toArray(ValueLayout.JAVA_BYTE),
                    LinuxFds.read(fd, level0.byteSize(), (int) level1.byteSize()));
            assertThrows(IllegalArgumentException.class, () -> level0.copyFrom(small), "too small for level 0");
        }
        assertEquals(4, TestRuntime.calls("hipMemcpy3D"));
        assertEquals(0, TestRuntime.calls("hipMemcpy2DToArray"));
    }

    @Test
    void eachMipLevelRoundTripsItsOwnPattern() {
        ChannelFormat rgba8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);
        long size = 32 * 1024;   // levels of 64x64, 32x32 and 16x16 RGBA8: 16384 + 4096 + 1024 bytes
        int fd = LinuxFds.memfd("hipffm-mipmap", size);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, size));
            MipmappedArray array = memory.mapMipmappedArray(0, rgba8, Extent.of(64, 64), 3, 0);
            assertEquals(3, array.levels());
            assertEquals(4, rgba8.bytesPerElement());

            ArrayLevel[] levels = new ArrayLevel[3];
            for (int i = 0; i < 3; i++) {
                levels[i] = array.level(i);
                long side = 64 >> i;
                assertEquals(Extent.of(side, side), levels[i].extent());
                assertEquals(Extent.of(side, side), runtimeExtent(levels[i]), "as the runtime sees level " + i);
                assertEquals(side * 4, levels[i].rowBytes());
                assertEquals(side * side * 4, levels[i].byteSize());
            }

            // write all levels first, then read them all: a level overwriting another would show
            for (int i = 0; i < 3; i++) {
                MemorySegment pixels = Memory.allocatePinned(arena, levels[i].byteSize());
                pattern(pixels, 50 * i + 1);
                levels[i].copyFrom(pixels);
            }
            for (int i = 0; i < 3; i++) {
                MemorySegment expected = arena.allocate(levels[i].byteSize());
                pattern(expected, 50 * i + 1);
                MemorySegment back = Memory.allocatePinned(arena, levels[i].byteSize());
                levels[i].copyTo(back);
                assertEquals(-1, expected.mismatch(back), "level " + i);
            }
            // In the test runtime, levels lie one after another in the memory: level 1 starts at 16384.
            MemorySegment level1 = arena.allocate(levels[1].byteSize());
            pattern(level1, 51);
            assertArrayEquals(level1.toArray(ValueLayout.JAVA_BYTE), LinuxFds.read(fd, 16384, (int) levels[1].byteSize()));
        }
        assertEquals(3, TestRuntime.calls("hipMemcpy2DToArray"));
        assertEquals(3, TestRuntime.calls("hipMemcpy2DFromArray"));
        assertEquals(1, TestRuntime.calls("hipFreeMipmappedArray"));
    }

    /** Fills {@code segment} with a pattern that differs per {@code seed} and per byte. */
    private static void pattern(MemorySegment segment, int seed) {
        for (long i = 0; i < segment.byteSize(); i++) {
            segment.set(ValueLayout.JAVA_BYTE, i, (byte) (seed + i * 31 + (i >> 8)));
        }
    }

    /** The level's extent according to the runtime's {@code hipArrayGetInfo} / {@code cudaArrayGetInfo}. */
    private static Extent runtimeExtent(ArrayLevel level) {
        long[] extent = Raw.arrayExtent(level.handle());
        return new Extent(extent[0], extent[1], extent[2]);
    }
}
