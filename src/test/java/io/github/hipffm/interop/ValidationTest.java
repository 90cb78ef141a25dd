package io.github.hipffm.interop;

import io.github.hipffm.ArrayLevel;
import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Event;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalMemoryHandleType;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.ExternalSemaphoreHandleType;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Memory;
import io.github.hipffm.MipmappedArray;
import io.github.hipffm.Stream;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad arguments are refused in Java, before any native call, with a message that names the bad value.
 *
 * <p>ROCm/hip-tests ({@code catch/unit/vulkan_interop/}) has negative-parameter sections for these APIs, but
 * most of them are compiled only {@code #if HT_NVIDIA} ("Disabled due to defect - EXSWHTEC-18x") because the
 * AMD runtime does not check the value and misbehaves instead. hip-ffm checks them itself, identically on both
 * platforms. Each test below asserts the exception type, that the message names the value, and that the
 * native function was never called ({@link TestRuntime#calls}).
 *
 * <table>
 * <caption>hip-tests sections and the Java tests that cover them</caption>
 * <tr><th>hip-tests TEST_CASE / SECTION</th><th>Java test</th></tr>
 * <tr><td>{@code Unit_hipImportExternalMemory_Vulkan_Negative_Parameters} / "extMem_out == nullptr"</td>
 *     <td>not expressible: the result is the return value</td></tr>
 * <tr><td>... / "memHandleDesc == nullptr"</td><td>{@link #importMemoryRefusesANullDescriptor}</td></tr>
 * <tr><td>... / "memHandleDesc.size == 0"</td><td>{@link #memoryDescriptorRefusesASizeBelowOne}</td></tr>
 * <tr><td>... / "Invalid memHandleDesc.flags"</td>
 *     <td>not expressible: the only flag is the boolean {@code dedicated}</td></tr>
 * <tr><td>... / "Invalid memHandleDesc.type" ({@code -1})</td>
 *     <td>{@link #invalidMemoryHandleTypeValuesHaveNoType}</td></tr>
 * <tr><td>... / "memHandleDesc.handle == NULL" ({@code _WIN32})</td>
 *     <td>{@link #memoryDescriptorRefusesFdZeroAndNegative}, {@link #windowsMemoryHandlesMustNotBeNull}</td></tr>
 * <tr><td>{@code Unit_hipExternalMemoryGetMappedBuffer_Vulkan_Negative_Parameters} / "devPtr == nullptr",
 *     "bufferDesc == nullptr", "bufferDesc.flags != 0"</td>
 *     <td>not expressible: the pointer is returned, offset and size are plain arguments, there are no flags</td></tr>
 * <tr><td>... / "bufferDesc.offset + bufferDesc.size &gt; hipExternalMemHandleDesc.size"</td>
 *     <td>{@link #mapBufferRefusesRangesOutsideTheMemory}</td></tr>
 * <tr><td>{@code Unit_hipExternalMemoryGetMappedMipmappedArray_Vulkan_Negative_Parameters} /
 *     "Nullptr_Array"</td><td>not expressible</td></tr>
 * <tr><td>... / "Nullptr_ExternalMemory"</td><td>{@link #memoryCannotBeUsedAfterClose}</td></tr>
 * <tr><td>... / "Nullptr_ArrayDescription"</td><td>{@link #mipmappedArrayRefusesANullFormatOrExtent}</td></tr>
 * <tr><td>... / "Invalid_Offset"</td><td>{@link #mipmappedArrayRefusesAnOffsetOutsideTheMemory}</td></tr>
 * <tr><td>{@code Unit_hipDestroyExternalMemory_Vulkan_Negative_Parameters} / "extMem == nullptr"</td>
 *     <td>not expressible (there is no null {@code ExternalMemory} to close)</td></tr>
 * <tr><td>... / "Double free" (commented out: segfaults in CUDA)</td>
 *     <td>{@link #closingMemoryTwiceDestroysItOnce}</td></tr>
 * <tr><td>{@code Unit_hipImportExternalSemaphore_Vulkan_Negative_Parameters} / "extSem_out == nullptr"</td>
 *     <td>not expressible</td></tr>
 * <tr><td>... / "semHandleDesc == nullptr"</td><td>{@link #importSemaphoreRefusesANullDescriptor}</td></tr>
 * <tr><td>... / "Invalid semHandleDesc.type"</td><td>{@link #invalidSemaphoreHandleTypeValuesHaveNoType}</td></tr>
 * <tr><td>... / "semHandleDesc.handle == NULL" ({@code _WIN32})</td>
 *     <td>{@link #semaphoreDescriptorRefusesFdZeroAndNegative}</td></tr>
 * <tr><td>{@code Unit_hipSignalExternalSemaphoresAsync_Vulkan_Negative_Parameters} and
 *     {@code Unit_hipWaitExternalSemaphoresAsync_Vulkan_Negative_Parameters} / "extSemArray == nullptr",
 *     "paramsArray == nullptr"</td>
 *     <td>{@link #batchesMustNotBeNullOrEmpty}, {@link #batchesMustNotContainNull}</td></tr>
 * <tr><td>... / "Wait params flags != 0"</td><td>not expressible: hip-ffm always passes 0</td></tr>
 * <tr><td>... / "Invalid stream" (a destroyed stream)</td>
 *     <td>{@link #signalAndWaitRefuseAClosedOrNullStream}</td></tr>
 * <tr><td>{@code Unit_hipDestroyExternalSemaphore_Vulkan_Negative_Parameters} / "Double free" (disabled:
 *     segfaults on both)</td><td>{@link #closingSemaphoreTwiceDestroysItOnce}</td></tr>
 * </table>
 *
 * <p>Checks of hip-ffm's own that go beyond hip-tests: handle types that cannot exist on this OS or platform,
 * mip levels, array flags, channel formats, extents, negative fence values, keyed-mutex keys on other types,
 * use after close, and device segments in the wrong place.
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class ValidationTest {
    private static final long SIZE = 64 * 1024;
    private static final MemorySegment SOME_WINDOWS_HANDLE = MemorySegment.ofAddress(0x1234);
    private static final String OS = System.getProperty("os.name");
    private static final ChannelFormat RGBA8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);
    private static final Extent SQUARE_64 = Extent.of(64, 64);

    // ---- importing memory -------------------------------------------------------------------------------

    @Test
    void importMemoryRefusesANullDescriptor() {
        try (Arena arena = Arena.ofConfined()) {
            assertRefused(IllegalArgumentException.class, () -> ExternalMemory.importMemory(arena, null),
                    "descriptor must not be null");
            assertRefused(IllegalArgumentException.class, () -> ExternalMemory.importCopy(arena, null),
                    "descriptor must not be null");
        }
        assertNotCalled("hipImportExternalMemory");
    }

    @Test
    void importMemoryRefusesANullArena() {
        int fd = LinuxFds.memfd("hipffm-validation", SIZE);
        try {
            var descriptor = ExternalMemoryDescriptor.opaqueFd(fd, SIZE);
            assertRefused(IllegalArgumentException.class, () -> ExternalMemory.importMemory(null, descriptor),
                    "arena must not be null");
            assertRefused(IllegalArgumentException.class, () -> ExternalMemory.importCopy(null, descriptor),
                    "arena must not be null");
        } finally {
            LinuxFds.close(fd);
        }
        assertNotCalled("hipImportExternalMemory");
    }

    @Test
    void importMemoryRefusesAClosedArena() {
        int fd = LinuxFds.memfd("hipffm-validation", SIZE);
        try {
            Arena arena = Arena.ofConfined();
            arena.close();
            assertThrows(IllegalStateException.class,
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE)));
        } finally {
            LinuxFds.close(fd);
        }
        assertNotCalled("hipImportExternalMemory");
    }

    @ParameterizedTest(name = "size {0}")
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void memoryDescriptorRefusesASizeBelowOne(long size) {
        int fd = LinuxFds.memfd("hipffm-validation", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            assertRefused(IllegalArgumentException.class,
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, size)),
                    "size must be > 0, got " + size);
        } finally {
            LinuxFds.close(fd);
        }
        assertNotCalled("hipImportExternalMemory");
    }

    @ParameterizedTest(name = "fd {0}")
    @ValueSource(ints = {0, -1})
    void memoryDescriptorRefusesFdZeroAndNegative(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            assertRefused(IllegalArgumentException.class,
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE)),
                    "OPAQUE_FD", "got fd " + fd);
        }
        assertNotCalled("hipImportExternalMemory");
    }

    @ParameterizedTest(name = "hipExternalMemoryHandleType {0}")
    @ValueSource(ints = {99, -1})
    void invalidMemoryHandleTypeValuesHaveNoType(int value) {
        assertRefused(IllegalArgumentException.class, () -> ExternalMemoryHandleType.ofValue(value),
                "invalid hipExternalMemoryHandleType " + value);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = ExternalMemoryHandleType.class, mode = EnumSource.Mode.EXCLUDE, names = {"OPAQUE_FD", "NVSCIBUF"})
    void windowsMemoryHandleTypesAreRefusedOnLinux(ExternalMemoryHandleType type) {
        var descriptor = ExternalMemoryDescriptor.win32(type, SOME_WINDOWS_HANDLE, SIZE);
        try (Arena arena = Arena.ofConfined()) {
            assertRefused(IllegalArgumentException.class, () -> ExternalMemory.importMemory(arena, descriptor),
                    type.name(), "only on Windows", "this is " + OS);
            assertRefused(IllegalArgumentException.class, () -> ExternalMemory.importCopy(arena, descriptor),
                    type.name(), "only on Windows", "this is " + OS);
        }
        assertNotCalled("hipImportExternalMemory");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = ExternalMemoryHandleType.class, mode = EnumSource.Mode.EXCLUDE, names = {"OPAQUE_FD", "NVSCIBUF"})
    void windowsMemoryHandlesMustNotBeNull(ExternalMemoryHandleType type) {
        assertRefused(IllegalArgumentException.class,
                () -> ExternalMemoryDescriptor.win32(type, MemorySegment.NULL, SIZE), type.name(), "non-NULL handle");
    }

    /**
     * NvSciBuf is a CUDA handle type: refused in Java on AMD; on NVIDIA handed to the runtime, which decides (the
     * cudart double, like CUDA without NvSci on x86, refuses it as not supported).
     */
    @Test
    void nvSciBufIsRefusedOnTheAmdPlatformAndLeftToTheRuntimeOnNvidia() {
        var descriptor = ExternalMemoryDescriptor.nvSciBuf(MemorySegment.ofAddress(0x1000), SIZE);
        try (Arena arena = Arena.ofConfined()) {
            if (TestRuntime.nvidia()) {
                HipException e = assertThrows(HipException.class, () -> ExternalMemory.importMemory(arena, descriptor));
                assertEquals(HipError.NOT_SUPPORTED, e.error());
                assertEquals("hipImportExternalMemory", e.call());
                assertEquals(1, TestRuntime.calls("hipImportExternalMemory"));
                return;
            }
            assertRefused(IllegalArgumentException.class, () -> ExternalMemory.importMemory(arena, descriptor),
                    "NVSCIBUF", "only on the NVIDIA platform", "this is amd");
        }
        assertNotCalled("hipImportExternalMemory");
    }

    @Test
    void importAndImportCopyRefuseAnFdThatIsNotOpen() {
        int notOpen = 1_000_000;   // above any fd limit: fstat fails with EBADF
        try (Arena arena = Arena.ofConfined()) {
            assertRefused(IllegalArgumentException.class,
                    () -> ExternalMemory.importCopy(arena, ExternalMemoryDescriptor.opaqueFd(notOpen, SIZE)),
                    "fd " + notOpen + " is not open");
            assertRefused(IllegalArgumentException.class,
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(notOpen, SIZE)),
                    "fd " + notOpen + " is not open");
            assertRefused(IllegalArgumentException.class,
                    () -> ExternalSemaphore.importCopy(arena, ExternalSemaphoreDescriptor.opaqueFd(notOpen)),
                    "fd " + notOpen + " is not open");
            assertRefused(IllegalArgumentException.class,
                    () -> ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(notOpen)),
                    "fd " + notOpen + " is not open");
        }
        assertNotCalled("hipImportExternalMemory", "hipImportExternalSemaphore");
    }

    // ---- importing semaphores ---------------------------------------------------------------------------

    @Test
    void importSemaphoreRefusesANullDescriptor() {
        try (Arena arena = Arena.ofConfined()) {
            assertRefused(IllegalArgumentException.class, () -> ExternalSemaphore.importSemaphore(arena, null),
                    "descriptor must not be null");
            assertRefused(IllegalArgumentException.class, () -> ExternalSemaphore.importCopy(arena, null),
                    "descriptor must not be null");
        }
        assertNotCalled("hipImportExternalSemaphore");
    }

    @Test
    void importSemaphoreRefusesANullArena() {
        int fd = LinuxFds.memfd("hipffm-validation", 0);
        try {
            assertRefused(IllegalArgumentException.class,
                    () -> ExternalSemaphore.importSemaphore(null, ExternalSemaphoreDescriptor.timelineFd(fd)),
                    "arena must not be null");
        } finally {
            LinuxFds.close(fd);
        }
        assertNotCalled("hipImportExternalSemaphore");
    }

    @ParameterizedTest(name = "fd {0}")
    @ValueSource(ints = {0, -1})
    void semaphoreDescriptorRefusesFdZeroAndNegative(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            assertRefused(IllegalArgumentException.class,
                    () -> ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.opaqueFd(fd)),
                    "OPAQUE_FD", "got fd " + fd);
            assertRefused(IllegalArgumentException.class,
                    () -> ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(fd)),
                    "TIMELINE_SEMAPHORE_FD", "got fd " + fd);
        }
        assertNotCalled("hipImportExternalSemaphore");
    }

    @ParameterizedTest(name = "hipExternalSemaphoreHandleType {0}")
    @ValueSource(ints = {99, -1})
    void invalidSemaphoreHandleTypeValuesHaveNoType(int value) {
        assertRefused(IllegalArgumentException.class, () -> ExternalSemaphoreHandleType.ofValue(value),
                "invalid hipExternalSemaphoreHandleType " + value);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = ExternalSemaphoreHandleType.class, mode = EnumSource.Mode.EXCLUDE,
            names = {"OPAQUE_FD", "TIMELINE_SEMAPHORE_FD", "NVSCISYNC"})
    void windowsSemaphoreHandleTypesAreRefusedOnLinux(ExternalSemaphoreHandleType type) {
        var descriptor = ExternalSemaphoreDescriptor.win32(type, SOME_WINDOWS_HANDLE);
        try (Arena arena = Arena.ofConfined()) {
            assertRefused(IllegalArgumentException.class, () -> ExternalSemaphore.importSemaphore(arena, descriptor),
                    type.name(), "only on Windows", "this is " + OS);
            assertRefused(IllegalArgumentException.class, () -> ExternalSemaphore.importCopy(arena, descriptor),
                    type.name(), "only on Windows", "this is " + OS);
        }
        assertNotCalled("hipImportExternalSemaphore");
    }

    /** NvSciSync, likewise: refused in Java on AMD, left to the runtime on NVIDIA (the double refuses it). */
    @Test
    void nvSciSyncIsRefusedOnTheAmdPlatformAndLeftToTheRuntimeOnNvidia() {
        var descriptor = ExternalSemaphoreDescriptor.nvSciSync(MemorySegment.ofAddress(0x1000));
        try (Arena arena = Arena.ofConfined()) {
            if (TestRuntime.nvidia()) {
                HipException e = assertThrows(HipException.class,
                        () -> ExternalSemaphore.importSemaphore(arena, descriptor));
                assertEquals(HipError.NOT_SUPPORTED, e.error());
                assertEquals("hipImportExternalSemaphore", e.call());
                assertEquals(1, TestRuntime.calls("hipImportExternalSemaphore"));
                return;
            }
            assertRefused(IllegalArgumentException.class, () -> ExternalSemaphore.importSemaphore(arena, descriptor),
                    "NVSCISYNC", "only on the NVIDIA platform", "this is amd");
        }
        assertNotCalled("hipImportExternalSemaphore");
    }

    // ---- mapping a buffer -------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}: offset {1}, size {2}")
    @CsvSource({
        "offset beyond the size,         65537,                1, 'mapped buffer [offset 65537, size 1] exceeds the 65536 bytes'",
        "offset at the end,              65536,                1, 'mapped buffer [offset 65536, size 1] exceeds the 65536 bytes'",
        "offset + size beyond the size,      1,            65536, 'mapped buffer [offset 1, size 65536] exceeds the 65536 bytes'",
        "size 0,                             0,                0, 'mapped buffer size must be > 0, got 0'",
        "negative size,                      0,               -1, 'mapped buffer size must be > 0, got -1'",
        "negative offset,                   -1,               16, 'mapped buffer offset must be >= 0, got -1'",
        "offset + size overflows,  9223372036854775807,        1, 'mapped buffer [offset 9223372036854775807, size 1] exceeds'",
        "size + offset overflows,            1, 9223372036854775807, 'mapped buffer [offset 1, size 9223372036854775807] exceeds'",
    })
    void mapBufferRefusesRangesOutsideTheMemory(String what, long offset, long size, String message) {
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = importMemory(arena);
            assertRefused(IllegalArgumentException.class, () -> memory.mapBuffer(offset, size), message);
        }
        assertNotCalled("hipExternalMemoryGetMappedBuffer");
    }

    // ---- mapping a mipmapped array ----------------------------------------------------------------------

    @ParameterizedTest(name = "levels {0}")
    @ValueSource(ints = {0, -1, 8, Integer.MAX_VALUE})
    void mipmappedArrayRefusesLevelCountsTheExtentCannotHave(int levels) {
        // 64x64 has floor(log2(64)) + 1 = 7 levels: 64, 32, 16, 8, 4, 2, 1
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = importMemory(arena);
            assertRefused(IllegalArgumentException.class,
                    () -> memory.mapMipmappedArray(0, RGBA8, SQUARE_64, levels, 0),
                    "levels must be 1 to 7 for extent 64x64x0, got " + levels);
        }
        assertNotCalled("hipExternalMemoryGetMappedMipmappedArray");
    }

    @ParameterizedTest(name = "flags 0x{0}")
    @ValueSource(strings = {"100", "80000000", "ffffffff"})
    void mipmappedArrayRefusesUnknownFlags(String hexFlags) {
        int flags = Integer.parseUnsignedInt(hexFlags, 16);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = importMemory(arena);
            assertRefused(IllegalArgumentException.class,
                    () -> memory.mapMipmappedArray(0, RGBA8, SQUARE_64, 1, flags), "invalid array flags 0x" + hexFlags);
        }
        assertNotCalled("hipExternalMemoryGetMappedMipmappedArray");
    }

    @Test
    void mipmappedArrayRefusesANullFormatOrExtent() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = importMemory(arena);
            assertRefused(IllegalArgumentException.class, () -> memory.mapMipmappedArray(0, null, SQUARE_64, 1, 0),
                    "format must not be null");
            assertRefused(IllegalArgumentException.class, () -> memory.mapMipmappedArray(0, RGBA8, null, 1, 0),
                    "extent must not be null");
        }
        assertNotCalled("hipExternalMemoryGetMappedMipmappedArray");
    }

    @ParameterizedTest(name = "offset {0}")
    @ValueSource(longs = {-1, SIZE, SIZE + 1, Long.MAX_VALUE})
    void mipmappedArrayRefusesAnOffsetOutsideTheMemory(long offset) {
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = importMemory(arena);
            assertRefused(IllegalArgumentException.class,
                    () -> memory.mapMipmappedArray(offset, RGBA8, SQUARE_64, 1, 0),
                    "mipmapped array offset " + offset + " outside the " + SIZE + "-byte memory");
        }
        assertNotCalled("hipExternalMemoryGetMappedMipmappedArray");
    }

    @ParameterizedTest(name = "{0},{1},{2},{3} {4}")
    @CsvSource({
        "12, 0,  0,  0, UNSIGNED",   // not 8, 16 or 32 bits
        "0,  0,  0,  0, UNSIGNED",   // no channel at all
        "8,  16, 0,  0, SIGNED",     // channels of different sizes
        "8,  0,  8,  0, UNSIGNED",   // a gap: z without y
        "0,  8,  0,  0, UNSIGNED",   // does not start at x
        "8,  8,  8,  8, FLOAT",      // 8-bit floats do not exist
        "64, 0,  0,  0, FLOAT",      // too wide
    })
    void channelFormatsMustBeOneToFourEqualChannels(int x, int y, int z, int w, ChannelFormat.Kind kind) {
        assertRefused(IllegalArgumentException.class, () -> new ChannelFormat(x, y, z, w, kind),
                "invalid channel format " + x + "," + y + "," + z + "," + w + " " + kind);
    }

    @Test
    void channelFormatsNeedAKind() {
        assertRefused(IllegalArgumentException.class, () -> new ChannelFormat(8, 0, 0, 0, null),
                "channel kind must not be null");
    }

    @ParameterizedTest(name = "{0}x{1}x{2}")
    @CsvSource({
        "0,  64, 0",    // no width
        "-1, 64, 0",    // negative width
        "64, -1, 0",    // negative height
        "64, 64, -1",   // negative depth
    })
    void extentsMustHaveAWidthAndNoNegativeDimension(long width, long height, long depth) {
        assertRefused(IllegalArgumentException.class, () -> new Extent(width, height, depth),
                "invalid extent " + width + "x" + height + "x" + depth);
    }

    @Test
    void mipLevelsOutsideTheArrayAreRefused() {
        try (Arena arena = Arena.ofConfined()) {
            MipmappedArray array = importMemory(arena).mapMipmappedArray(0, RGBA8, SQUARE_64, 3, 0);
            assertRefused(IllegalArgumentException.class, () -> array.level(3), "mip level 3 out of range: 3 level(s)");
            assertRefused(IllegalArgumentException.class, () -> array.level(-1), "mip level -1 out of range");
        }
        assertNotCalled("hipGetMipmappedArrayLevel");
    }

    @Test
    void mipLevelCopiesRefuseTooSmallOrHeapBuffers() {
        try (Arena arena = Arena.ofConfined()) {
            ArrayLevel level0 = importMemory(arena).mapMipmappedArray(0, RGBA8, SQUARE_64, 1, 0).level(0);
            MemorySegment tooSmall = Memory.allocatePinned(arena, level0.byteSize() - 1);
            assertRefused(IllegalArgumentException.class, () -> level0.copyFrom(tooSmall),
                    "src has " + (level0.byteSize() - 1) + " bytes, level 0 needs " + level0.byteSize());
            assertRefused(IllegalArgumentException.class, () -> level0.copyTo(tooSmall),
                    "dst has " + (level0.byteSize() - 1) + " bytes");
            assertRefused(IllegalArgumentException.class,
                    () -> level0.copyFrom(MemorySegment.ofArray(new byte[(int) level0.byteSize()])), "src is a heap segment");
        }
        assertNotCalled("hipMemcpy2DToArray", "hipMemcpy2DFromArray");
    }

    // ---- signal and wait ----------------------------------------------------------------------------------

    @Test
    void signalAndWaitRefuseANegativeFenceValue() {
        withSemaphore(ExternalSemaphoreDescriptor::timelineFd, semaphore -> {
            Stream stream = Stream.defaultStream();
            assertRefused(IllegalArgumentException.class, () -> semaphore.signal(-1, stream),
                    "fence value must be >= 0, got -1");
            assertRefused(IllegalArgumentException.class, () -> semaphore.wait(Long.MIN_VALUE, stream),
                    "fence value must be >= 0, got " + Long.MIN_VALUE);
        });
        assertNotCalled("hipSignalExternalSemaphoresAsync", "hipWaitExternalSemaphoresAsync");
    }

    @Test
    void keyedMutexKeysAreRefusedForOtherSemaphoreTypes() {
        withSemaphore(ExternalSemaphoreDescriptor::opaqueFd, semaphore -> {
            assertRefused(IllegalArgumentException.class, () -> new ExternalSemaphore.Signal(semaphore, 1, 42),
                    "keyed-mutex key/timeout given for a OPAQUE_FD semaphore");
            assertRefused(IllegalArgumentException.class, () -> new ExternalSemaphore.Wait(semaphore, 1, 42, 0),
                    "keyed-mutex key/timeout given for a OPAQUE_FD semaphore");
            assertRefused(IllegalArgumentException.class, () -> new ExternalSemaphore.Wait(semaphore, 1, 0, 100),
                    "keyed-mutex key/timeout given for a OPAQUE_FD semaphore");
        });
        assertNotCalled("hipSignalExternalSemaphoresAsync", "hipWaitExternalSemaphoresAsync");
    }

    @Test
    void batchesMustNotBeNullOrEmpty() {
        Stream stream = Stream.defaultStream();
        assertRefused(IllegalArgumentException.class, () -> ExternalSemaphore.signal(List.of(), stream),
                "signals must not be empty");
        assertRefused(IllegalArgumentException.class, () -> ExternalSemaphore.wait(List.of(), stream),
                "waits must not be empty");
        assertRefused(IllegalArgumentException.class, () -> ExternalSemaphore.signal(null, stream),
                "signals must not be null");
        assertRefused(IllegalArgumentException.class, () -> ExternalSemaphore.wait(null, stream),
                "waits must not be null");
        assertNotCalled("hipSignalExternalSemaphoresAsync", "hipWaitExternalSemaphoresAsync");
    }

    @Test
    void batchesMustNotContainNull() {
        withSemaphore(ExternalSemaphoreDescriptor::timelineFd, semaphore -> {
            Stream stream = Stream.defaultStream();
            assertRefused(IllegalArgumentException.class,
                    () -> ExternalSemaphore.signal(Arrays.asList(ExternalSemaphore.Signal.of(semaphore, 1), null), stream),
                    "signals[1] must not be null");
            assertRefused(IllegalArgumentException.class,
                    () -> ExternalSemaphore.wait(Arrays.asList(null, ExternalSemaphore.Wait.of(semaphore, 1)), stream),
                    "waits[0] must not be null");
            assertRefused(IllegalArgumentException.class, () -> ExternalSemaphore.Signal.of(null, 1),
                    "semaphore must not be null");
        });
        assertNotCalled("hipSignalExternalSemaphoresAsync", "hipWaitExternalSemaphoresAsync");
    }

    @Test
    void signalAndWaitRefuseAClosedOrNullStream() {
        withSemaphore(ExternalSemaphoreDescriptor::timelineFd, semaphore -> {
            try (Arena arena = Arena.ofConfined()) {
                Stream destroyed = Stream.create(arena);
                destroyed.close();
                assertRefused(IllegalStateException.class, () -> semaphore.signal(1, destroyed), "Stream is closed");
                assertRefused(IllegalStateException.class, () -> semaphore.wait(1, destroyed), "Stream is closed");
                assertRefused(IllegalArgumentException.class, () -> semaphore.signal(1, null), "stream must not be null");
                assertRefused(IllegalArgumentException.class, () -> semaphore.wait(1, null), "stream must not be null");
            }
        });
        assertNotCalled("hipSignalExternalSemaphoresAsync", "hipWaitExternalSemaphoresAsync");
    }

    // ---- closing twice, use after close ---------------------------------------------------------------

    @Test
    void closingMemoryTwiceDestroysItOnce() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = importMemory(arena);
            memory.close();
            memory.close();
        }   // and the arena closing is a third chance to destroy it
        assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"));
    }

    @Test
    void closingSemaphoreTwiceDestroysItOnce() {
        int fd = LinuxFds.memfd("hipffm-validation", 0);
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore semaphore = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.opaqueFd(fd));
            semaphore.close();
            semaphore.close();
        }
        assertEquals(1, TestRuntime.calls("hipDestroyExternalSemaphore"));
    }

    @Test
    void closingStreamsEventsAndArraysTwiceReleasesThemOnce() {
        try (Arena arena = Arena.ofConfined()) {
            Stream stream = Stream.create(arena);
            Event event = Event.create(arena);
            MipmappedArray array = importMemory(arena).mapMipmappedArray(0, RGBA8, SQUARE_64, 1, 0);
            for (int i = 0; i < 2; i++) {
                stream.close();
                event.close();
                array.close();
            }
        }
        assertEquals(1, TestRuntime.calls("hipStreamDestroy"));
        assertEquals(1, TestRuntime.calls("hipEventDestroy"));
        assertEquals(1, TestRuntime.calls("hipFreeMipmappedArray"));
    }

    @Test
    void memoryCannotBeUsedAfterClose() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = importMemory(arena);
            memory.close();
            assertRefused(IllegalStateException.class, () -> memory.mapBuffer(0, 16), "ExternalMemory is closed");
            assertRefused(IllegalStateException.class, memory::mapBuffer, "ExternalMemory is closed");
            assertRefused(IllegalStateException.class, () -> memory.mapMipmappedArray(0, RGBA8, SQUARE_64, 1, 0),
                    "ExternalMemory is closed");
            assertRefused(IllegalStateException.class, memory::handle, "ExternalMemory is closed");
        }
        assertNotCalled("hipExternalMemoryGetMappedBuffer", "hipExternalMemoryGetMappedMipmappedArray");
    }

    @Test
    void semaphoreCannotBeUsedAfterClose() {
        int fd = LinuxFds.memfd("hipffm-validation", 0);
        int other = LinuxFds.memfd("hipffm-validation", 0);
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore closed = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(fd));
            ExternalSemaphore open = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(other));
            closed.close();
            Stream stream = Stream.defaultStream();
            assertRefused(IllegalStateException.class, () -> closed.signal(1, stream), "ExternalSemaphore is closed");
            assertRefused(IllegalStateException.class, () -> closed.wait(1, stream), "ExternalSemaphore is closed");
            assertRefused(IllegalStateException.class, closed::handle, "ExternalSemaphore is closed");
            // one closed semaphore in a batch spoils the whole batch, before the native call
            assertRefused(IllegalStateException.class, () -> ExternalSemaphore.signal(
                    List.of(ExternalSemaphore.Signal.of(open, 1), ExternalSemaphore.Signal.of(closed, 1)), stream),
                    "ExternalSemaphore is closed");
        }
        assertNotCalled("hipSignalExternalSemaphoresAsync", "hipWaitExternalSemaphoresAsync");
    }

    @Test
    void mipmappedArrayAndItsLevelsCannotBeUsedAfterClose() {
        try (Arena arena = Arena.ofConfined()) {
            MipmappedArray array = importMemory(arena).mapMipmappedArray(0, RGBA8, SQUARE_64, 2, 0);
            ArrayLevel level = array.level(0);
            MemorySegment pixels = Memory.allocatePinned(arena, level.byteSize());
            array.close();
            assertRefused(IllegalStateException.class, () -> array.level(1), "MipmappedArray is closed");
            assertRefused(IllegalStateException.class, array::handle, "MipmappedArray is closed");
            assertRefused(IllegalStateException.class, () -> level.copyFrom(pixels), "MipmappedArray is closed");
            assertRefused(IllegalStateException.class, () -> level.copyTo(pixels), "MipmappedArray is closed");
            assertRefused(IllegalStateException.class, level::handle, "MipmappedArray is closed");
        }
        assertEquals(1, TestRuntime.calls("hipGetMipmappedArrayLevel"), "only the level taken before close");
        assertNotCalled("hipMemcpy2DToArray", "hipMemcpy2DFromArray");
    }

    // ---- segments in the wrong place --------------------------------------------------------------------

    @Test
    void aMappedSegmentCannotBeCopiedAfterItsMemoryIsClosed() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = importMemory(arena);
            MemorySegment buffer = memory.mapBuffer(0, 4096);
            MemorySegment host = Memory.allocatePinned(arena, 4096);
            memory.close();
            assertRefused(IllegalStateException.class, () -> Memory.copy(host, buffer), "closed");
            assertRefused(IllegalStateException.class, () -> Memory.copy(buffer, host), "closed");
            assertRefused(IllegalStateException.class, () -> Memory.fill(buffer, (byte) 0), "closed");
        }
        assertNotCalled("hipMemcpy", "hipMemcpyAsync", "hipMemset", "hipMemsetAsync", "hipStreamSynchronize");
    }

    @Test
    void heapSegmentsAreRefusedByCopiesAndFills() {
        MemorySegment heap = MemorySegment.ofArray(new byte[4096]);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 4096);
            assertRefused(IllegalArgumentException.class, () -> Memory.copy(device, heap), "src is a heap segment");
            assertRefused(IllegalArgumentException.class, () -> Memory.copy(heap, device), "dst is a heap segment");
            assertRefused(IllegalArgumentException.class, () -> Memory.copyAsync(device, heap, 16, Stream.defaultStream()),
                    "src is a heap segment");
            assertRefused(IllegalArgumentException.class, () -> Memory.fill(heap, (byte) 0), "dst is a heap segment");
        }
        assertNotCalled("hipMemcpy", "hipMemcpyAsync", "hipMemset", "hipMemsetAsync", "hipStreamSynchronize");
    }

    @Test
    void copiesMustFitBothSegments() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 4096);
            MemorySegment big = Memory.allocatePinned(arena, 8192);
            assertRefused(IllegalArgumentException.class, () -> Memory.copy(device, big),
                    "cannot copy 8192 bytes from a 8192-byte source to a 4096-byte destination");
            assertRefused(IllegalArgumentException.class, () -> Memory.copy(big, device, -1), "cannot copy -1 bytes");
        }
        assertNotCalled("hipMemcpy", "hipMemcpyAsync");
    }

    @Test
    void deviceSegmentsCannotBeWrittenFromJava() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 4096);
            MemorySegment mapped = importMemory(arena).mapBuffer(0, 4096);
            for (MemorySegment segment : List.of(device, mapped)) {
                assertTrue(segment.isReadOnly());
                // Since Java 22 the FFM API reports writes to read-only segments with IllegalArgumentException
                // (it was UnsupportedOperationException in the preview APIs).
                String readOnly = "Attempt to write a read-only segment";
                assertRefused(IllegalArgumentException.class, () -> segment.set(ValueLayout.JAVA_BYTE, 0, (byte) 1), readOnly);
                assertRefused(IllegalArgumentException.class, () -> segment.fill((byte) 1), readOnly);
                assertRefused(IllegalArgumentException.class,
                        () -> MemorySegment.copy(MemorySegment.ofArray(new byte[16]), 0, segment, 0, 16), readOnly);
                assertRefused(IllegalArgumentException.class,
                        () -> segment.copyFrom(MemorySegment.ofArray(new byte[16])), readOnly);
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /** Imports a fresh 64 KiB memfd; the memory owns the fd from then on. */
    private static ExternalMemory importMemory(Arena arena) {
        int fd = LinuxFds.memfd("hipffm-validation", SIZE);
        try {
            return ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
        } catch (RuntimeException e) {
            LinuxFds.close(fd);
            throw e;
        }
    }

    private interface SemaphoreUse {
        void accept(ExternalSemaphore semaphore);
    }

    /** Runs {@code use} with a semaphore imported from a fresh memfd, then releases both. */
    private static void withSemaphore(java.util.function.IntFunction<ExternalSemaphoreDescriptor> descriptor,
            SemaphoreUse use) {
        int fd = LinuxFds.memfd("hipffm-validation", 0);
        try (Arena arena = Arena.ofConfined()) {
            use.accept(ExternalSemaphore.importSemaphore(arena, descriptor.apply(fd)));
        }
    }

    private static <T extends Throwable> T assertRefused(Class<T> type, Executable call, String... messageParts) {
        T e = assertThrows(type, call);
        for (String part : messageParts) {
            assertTrue(String.valueOf(e.getMessage()).contains(part),
                    () -> "message '" + e.getMessage() + "' should contain '" + part + "'");
        }
        return e;
    }

    private static void assertNotCalled(String... functions) {
        for (String f : functions) {
            assertEquals(0, TestRuntime.calls(f), f + " must not have been called");
        }
    }
}
