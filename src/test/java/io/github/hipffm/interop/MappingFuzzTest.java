package io.github.hipffm.interop;

import io.github.hipffm.ArrayLevel;
import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.HipException;
import io.github.hipffm.Memory;
import io.github.hipffm.MipmappedArray;
import io.github.hipffm.fuzz.Gen;
import io.github.hipffm.testrt.LinuxFds;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzing what is mapped from {@link ExternalMemory}: {@link ExternalMemory#mapBuffer(long, long)} with ranges at
 * and across the memory's edges, and {@link ExternalMemory#mapMipmappedArray} with every format, extents, levels,
 * flags and offsets, then {@link ArrayLevel} copies of every size and kind of segment. The outcome of each call is
 * predicted from the javadoc; what succeeds is written and read back (through the fd, or by a copy round trip).
 */
@Tag("testrt")
class MappingFuzzTest {

    /** How the memory is released at the end. */
    enum Release { CLOSE, ARENA }

    record Range(FuzzGen.Pick offset, FuzzGen.Pick size, byte fill) {
    }

    Gen<List<Range>> ranges() {
        return Gen.combine(FuzzGen.picks(), FuzzGen.picks(), Gen.bytes()).as(Range::new)
                .list().ofMinSize(1).ofMaxSize(8);
    }

    Gen<Long> memorySizes() {
        return FuzzGen.sizes(128 * 1024);
    }

    /** A case of {@link #mappedBuffersAreExactlyTheRangesThatFit()}. */
    record MapCase(long size, List<Range> ranges, Release release) {
    }

    @Test
    @FuzzHook.Cases(1200)
    void mappedBuffersAreExactlyTheRangesThatFit() {
        FuzzHook.check(Gen.combine(memorySizes(), ranges(), Gen.of(Release.class)).as(MapCase::new),
                c -> mappedBuffersAreExactlyTheRangesThatFit(c.size, c.ranges, c.release));
    }

    private void mappedBuffersAreExactlyTheRangesThatFit(long size, List<Range> ranges, Release release) {
        int fd = LinuxFds.memfd("hipffm-fuzz-map", size);
        Arena arena = Arena.ofConfined();
        List<MemorySegment> mapped = new ArrayList<>();
        try {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, size));
            for (Range r : ranges) {
                long offset = r.offset.of(size);
                long length = r.size.of(size);
                boolean fits = offset >= 0 && length > 0 && offset <= size && length <= size - offset;
                var result = Calls.call("mapBuffer(" + offset + ", " + length + ")", Calls.NATIVE,
                        () -> memory.mapBuffer(offset, length)).expect(fits ? null : IllegalArgumentException.class);
                if (!fits) {
                    continue;
                }
                MemorySegment buffer = result.get();
                mapped.add(buffer);
                assertEquals(length, buffer.byteSize());
                assertTrue(buffer.isReadOnly());
                Calls.run("a Java write to a device segment", List.of(IllegalArgumentException.class),
                        () -> buffer.set(ValueLayout.JAVA_BYTE, 0, (byte) 1)).expect(IllegalArgumentException.class);
                Calls.run("Memory.fill", Calls.NATIVE, () -> Memory.fill(buffer, r.fill)).get();
                int n = (int) Math.min(length, 256);
                byte[] expected = new byte[n];
                java.util.Arrays.fill(expected, r.fill);
                assertArrayEquals(expected, LinuxFds.read(fd, offset, n), "the fill reached the file at the range's start");
                assertArrayEquals(expected, LinuxFds.read(fd, offset + length - n, n), "and at its end");
            }
            if (release == Release.CLOSE) {
                Calls.run("close", Calls.CLOSE, memory::close).get();
            }
        } finally {
            arena.close();
        }
        for (MemorySegment buffer : mapped) {
            assertFalse(buffer.scope().isAlive(), "a mapped segment dies with its memory");
            assertThrows(IllegalStateException.class, () -> Memory.fill(buffer, (byte) 0));
        }
        assertFalse(LinuxFds.isOpen(fd), "the memory closed its fd");
    }

    // ---- mipmapped arrays ---------------------------------------------------------------------------------------

    /**
     * One mipmapped array.
     *
     * @param memorySize the imported memory's size
     * @param offset the array's offset
     * @param bits the format's channel bits, x to w
     * @param kind the format's kind
     * @param width the extent's width
     * @param height its height
     * @param depth its depth
     * @param levels the levels asked for
     * @param flags the array flags
     * @param copies which levels are copied, and how
     */
    record ArrayCase(long memorySize, FuzzGen.Pick offset, List<Integer> bits, ChannelFormat.Kind kind, long width,
            long height, long depth, int levels, int flags, List<LevelCopy> copies) {
    }

    /** Where the source and destination of a level copy live. */
    enum Side { HOST, PINNED, DEVICE, MAPPED, HEAP }

    /**
     * A copy into a level and back out.
     *
     * @param level the level (may be out of range)
     * @param side where the buffers live
     * @param extra bytes beyond the level's size (negative: too small)
     * @param salt varies the data
     */
    record LevelCopy(int level, Side side, long extra, int salt) {
    }

    Gen<ArrayCase> arrays() {
        Gen<Long> widths = Gen.frequencyOf(Gen.w(10, Gen.longs(1, 64)),
                Gen.w(1, Gen.of(0L, -1L, 1L << 31, 1L << 40, 1L << 62, Long.MAX_VALUE)));
        Gen<Long> heights = Gen.frequencyOf(Gen.w(3, Gen.just(0L)),
                Gen.w(8, Gen.longs(1, 64)),
                Gen.w(1, Gen.of(-1L, 1L << 33, Long.MAX_VALUE)));
        Gen<Long> depths = Gen.frequencyOf(Gen.w(6, Gen.just(0L)),
                Gen.w(4, Gen.longs(1, 8)), Gen.w(1, Gen.of(6L, -1L, 1L << 32)));
        Gen<Integer> levels = Gen.frequencyOf(Gen.w(8, Gen.ints(1, 7)),
                Gen.w(1, Gen.of(0, -1, 8, 64, Integer.MAX_VALUE)));
        Gen<Integer> flags = Gen.frequencyOf(Gen.w(8, Gen.subsetOf(MipmappedArray.LAYERED,
                        MipmappedArray.SURFACE_LOAD_STORE, MipmappedArray.CUBEMAP, MipmappedArray.TEXTURE_GATHER)
                        .map(s -> s.stream().mapToInt(Integer::intValue).reduce(0, (a, b) -> a | b))),
                Gen.w(1, Gen.ints()));
        Gen<List<Integer>> bits = Gen.frequencyOf(
                Gen.w(6, Gen.of(FuzzGen.FORMATS).map(f -> List.of(f.x(), f.y(), f.z(), f.w()))),
                Gen.w(1, FuzzGen.channelBits().list().ofSize(4)));
        Gen<LevelCopy> copies = Gen.combine(Gen.frequencyOf(
                        Gen.w(8, Gen.ints(0, 6)), Gen.w(1, Gen.of(-1, 7, 100))),
                Gen.frequency(Gen.w(3, Side.HOST), Gen.w(2, Side.PINNED), Gen.w(3, Side.DEVICE),
                        Gen.w(2, Side.MAPPED), Gen.w(1, Side.HEAP)),
                Gen.frequencyOf(Gen.w(4, Gen.just(0L)), Gen.w(2, Gen.longs(1, 64)),
                        Gen.w(1, Gen.of(-1L))),
                Gen.ints()).as(LevelCopy::new);
        return Gen.combine(FuzzGen.sizes(256 * 1024), FuzzGen.picks(), bits,
                Gen.of(ChannelFormat.Kind.class), widths, heights, depths, levels)
                .as((size, offset, b, kind, w, h, d, l) -> new Object[] {size, offset, b, kind, w, h, d, l})
                .flatMap(o -> Gen.combine(flags, copies.list().ofMaxSize(4)).as((f, c) -> new ArrayCase(
                        (Long) o[0], (FuzzGen.Pick) o[1], castList(o[2]), (ChannelFormat.Kind) o[3], (Long) o[4],
                        (Long) o[5], (Long) o[6], (Integer) o[7], f, c)));
    }

    @SuppressWarnings("unchecked")
    private static List<Integer> castList(Object o) {
        return (List<Integer>) o;
    }

    @Test
    @FuzzHook.Cases(1200)
    void mipmappedArraysAndTheirLevelsBehaveAsDocumented() {
        FuzzHook.check(arrays(), this::mipmappedArraysAndTheirLevelsBehaveAsDocumented);
    }

    private void mipmappedArraysAndTheirLevelsBehaveAsDocumented(ArrayCase c) {
        int fd = LinuxFds.memfd("hipffm-fuzz-array", c.memorySize);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, c.memorySize));
            List<Integer> b = c.bits;
            var format = Calls.call("new ChannelFormat" + b, Calls.VALUE,
                    () -> new ChannelFormat(b.get(0), b.get(1), b.get(2), b.get(3), c.kind))
                    .expect(formatValid(b, c.kind) ? null : IllegalArgumentException.class);
            boolean extentValid = c.width > 0 && c.height >= 0 && c.depth >= 0;
            var extent = Calls.call("new Extent", Calls.VALUE, () -> new Extent(c.width, c.height, c.depth))
                    .expect(extentValid ? null : IllegalArgumentException.class);
            if (!format.ok() || !extent.ok()) {
                return;
            }
            long offset = c.offset.of(c.memorySize);
            var mapped = Calls.call("mapMipmappedArray", Calls.NATIVE, () -> memory.mapMipmappedArray(offset,
                    format.get(), extent.get(), c.levels, c.flags));
            mapped.expect(expectedMap(c, offset, format.get()));
            if (!mapped.ok()) {
                return;
            }
            MipmappedArray array = mapped.get();
            assertEquals(c.levels, array.levels());
            assertEquals(format.get(), array.format());
            assertEquals(extent.get(), array.extent());
            boolean layered = (c.flags & (MipmappedArray.LAYERED | MipmappedArray.CUBEMAP)) != 0;
            List<ArrayLevel> levels = new ArrayList<>();
            for (LevelCopy copy : c.copies) {
                var level = Calls.call("level(" + copy.level + ")", Calls.NATIVE, () -> array.level(copy.level))
                        .expect(copy.level >= 0 && copy.level < c.levels ? null : IllegalArgumentException.class);
                if (level.ok()) {
                    levels.add(level.get());
                    roundTrip(c, level.get(), copy, layered, arena, memory);
                }
            }
            if (c.copies.size() % 2 == 0) {
                Calls.run("MipmappedArray.close", Calls.CLOSE, array::close).get();
                assertTrue(array.isClosed());
                assertFalse(memory.isClosed(), "the memory outlives its array");
            } else {
                Calls.run("ExternalMemory.close", Calls.CLOSE, memory::close).get();
                assertTrue(array.isClosed(), "the array is released with its memory");
            }
            assertThrows(IllegalStateException.class, () -> array.level(0));
            assertThrows(IllegalStateException.class, array::handle);
            for (ArrayLevel level : levels) {
                assertThrows(IllegalStateException.class, () -> level.copyFrom(arena.allocate(level.byteSize() + 1)));
                assertThrows(IllegalStateException.class, () -> level.copyTo(arena.allocate(level.byteSize() + 1)));
                assertThrows(IllegalStateException.class, level::handle);
                assertTrue(level.toString().endsWith(", closed]"), level::toString);
            }
        }
    }

    /** The documented rule of {@link ChannelFormat}: 1 to 4 channels of the same 8, 16 or 32 bits (float: 16, 32), from x on. */
    private static boolean formatValid(List<Integer> bits, ChannelFormat.Kind kind) {
        int x = bits.get(0);
        if (x != 8 && x != 16 && x != 32 || kind == ChannelFormat.Kind.FLOAT && x == 8) {
            return false;
        }
        boolean ended = false;
        for (int i = 1; i < 4; i++) {
            int v = bits.get(i);
            if (v == 0) {
                ended = true;
            } else if (ended || v != x) {
                return false;
            }
        }
        return true;
    }

    /** The documented outcome of mapMipmappedArray; null: success. */
    private static Class<? extends RuntimeException> expectedMap(ArrayCase c, long offset, ChannelFormat format) {
        int allFlags = MipmappedArray.LAYERED | MipmappedArray.SURFACE_LOAD_STORE | MipmappedArray.CUBEMAP
                | MipmappedArray.TEXTURE_GATHER;
        boolean layered = (c.flags & (MipmappedArray.LAYERED | MipmappedArray.CUBEMAP)) != 0;
        long largest = Math.max(c.width, Math.max(c.height, layered ? 0 : c.depth));
        int maxLevels = 64 - Long.numberOfLeadingZeros(largest);
        if (offset < 0 || offset >= c.memorySize || (c.flags & ~allFlags) != 0 || c.levels < 1 || c.levels > maxLevels) {
            return IllegalArgumentException.class;
        }
        return fits(c, offset, format.bytesPerElement(), layered) ? null : HipException.class;
    }

    /**
     * {@return whether the levels fit the memory from {@code offset}, one after another, tightly packed (the test
     * runtime's layout)} Only a layered 1D array has a depth; a size that overflows does not fit.
     */
    private static boolean fits(ArrayCase c, long offset, int elementBytes, boolean layered) {
        if (c.height == 0 && c.depth != 0 && !layered) {
            return false;
        }
        long cursor = offset;
        for (int i = 0; i < c.levels; i++) {
            long[] e = levelExtent(c, i, layered);
            long bytes;
            try {
                bytes = Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(e[0], elementBytes),
                        Math.max(1, e[1])), Math.max(1, e[2]));
            } catch (ArithmeticException overflow) {
                return false;
            }
            if (bytes > c.memorySize - cursor) {
                return false;
            }
            cursor += bytes;
        }
        return true;
    }

    /** Level {@code i}'s extent as documented ({@code Extent.level}): halved, at least 1; layers stay. */
    private static long[] levelExtent(ArrayCase c, int i, boolean layered) {
        return new long[] {Math.max(1, c.width >> i), c.height == 0 ? 0 : Math.max(1, c.height >> i),
            c.depth == 0 || layered ? c.depth : Math.max(1, c.depth >> i)};
    }

    /** Copies a pattern into the level and back out, from and to buffers of the case's side and size. */
    private static void roundTrip(ArrayCase c, ArrayLevel level, LevelCopy copy, boolean layered, Arena arena,
            ExternalMemory memory) {
        long[] e = levelExtent(c, copy.level, layered);
        assertEquals(new Extent(e[0], e[1], e[2]), level.extent(), "level " + copy.level + "'s extent");
        assertEquals(copy.level, level.level());
        int bpe = level.bytesPerElement();
        assertEquals((c.bits.get(0) + c.bits.get(1) + c.bits.get(2) + c.bits.get(3)) / 8, bpe);
        long bytes = level.byteSize();
        assertEquals(e[0] * bpe * Math.max(1, e[1]) * Math.max(1, e[2]), bytes);
        long size = bytes + copy.extra;
        if (size <= 0) {
            return;
        }
        MemorySegment host = arena.allocate(size);
        for (long i = 0; i < size; i++) {
            host.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7 + copy.salt));
        }
        MemorySegment src = segment(copy.side, size, arena, host);
        MemorySegment dst = segment(copy.side == Side.MAPPED ? Side.DEVICE : copy.side, size, arena, null);
        Class<? extends RuntimeException> expected = copy.side == Side.HEAP || copy.extra < 0
                ? IllegalArgumentException.class : null;
        Calls.run("copyFrom", Calls.NATIVE, () -> level.copyFrom(src)).expect(expected);
        Calls.run("copyTo", Calls.NATIVE, () -> level.copyTo(dst)).expect(expected);
        if (expected == null) {
            MemorySegment back = arena.allocate(size);
            Memory.copy(back, dst);
            assertEquals(-1, back.asSlice(0, bytes).mismatch(host.asSlice(0, bytes)),
                    "level " + copy.level + " gives back what was copied in");
        }
    }

    /** {@return a segment of {@code size} bytes on {@code side}, holding {@code data} when given} */
    private static MemorySegment segment(Side side, long size, Arena arena, MemorySegment data) {
        MemorySegment s = switch (side) {
            case HOST -> arena.allocate(size);
            case PINNED -> Memory.allocatePinned(arena, size);
            case DEVICE -> Memory.allocateDevice(arena, size);
            case MAPPED -> {
                int fd = LinuxFds.memfd("hipffm-fuzz-level", size);
                yield ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, size)).mapBuffer();
            }
            case HEAP -> MemorySegment.ofArray(new byte[(int) size]);
        };
        if (data != null && side != Side.HEAP) {
            Memory.copy(s, data);
        }
        return s;
    }
}
