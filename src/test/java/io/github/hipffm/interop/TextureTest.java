package io.github.hipffm.interop;

import io.github.hipffm.ArrayLevel;
import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Dim3;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.GraphicsResource;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.MipmappedArray;
import io.github.hipffm.Stream;
import io.github.hipffm.SurfaceObject;
import io.github.hipffm.TextureDescriptor;
import io.github.hipffm.TextureDescriptor.AddressMode;
import io.github.hipffm.TextureDescriptor.FilterMode;
import io.github.hipffm.TextureDescriptor.ReadMode;
import io.github.hipffm.TextureObject;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.Raw;
import io.github.hipffm.testrt.TestRuntime;
import io.github.hipffm.testrt.TestRuntime.Texel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Texture and surface objects on the test runtime (both doubles): creation over each kind of resource (a mip level,
 * a whole mipmapped array, a mapped GL texture's level, linear and pitched device memory), what a kernel would
 * sample (the double's CPU sampler: point and linear filtering, the address modes, element and normalised reads,
 * the border colour) and read and write through a surface, every refusal before the native call, injected faults
 * on each new native call, use after close, the release order (a view before what it views: the double counts a
 * view that outlived its array as an "orphanedView") and arena ownership. {@link NoLeaks} checks that nothing is
 * left.
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class TextureTest {
    private static final long SIZE = 1 << 16;
    private static final ChannelFormat RGBA8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);
    private static final ChannelFormat R32F = new ChannelFormat(32, 0, 0, 0, ChannelFormat.Kind.FLOAT);
    private static final ChannelFormat R32I = new ChannelFormat(32, 0, 0, 0, ChannelFormat.Kind.SIGNED);
    private static final String CREATE = "hipCreateTextureObject";
    private static final String DESTROY = "hipDestroyTextureObject";
    private static final String CREATE_SURFACE = "hipCreateSurfaceObject";
    private static final String DESTROY_SURFACE = "hipDestroySurfaceObject";
    private static final int GL_TEXTURE_2D = 0x0DE1;

    /** External memory over a fresh memfd, owned by {@code arena} (which then owns the fd). */
    private static ExternalMemory memory(Arena arena) {
        int fd = LinuxFds.memfd("hipffm-texture", SIZE);
        return ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
    }

    /** Texel (x, y) of an 8x8 RGBA8 pattern: channel c is {@code 16 * y + 2 * x + c}. */
    private static MemorySegment rgbaPattern(Arena arena, int w, int h) {
        MemorySegment p = Memory.allocatePinned(arena, 4L * w * h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 4; c++) {
                    p.set(ValueLayout.JAVA_BYTE, 4L * (y * w + x) + c, (byte) (16 * y + 2 * x + c));
                }
            }
        }
        return p;
    }

    private static int texel(int x, int y, int c) {
        return 16 * y + 2 * x + c;
    }

    private static void assertRgba(int x, int y, Texel t) {
        assertFalse(t.floats(), "element-type reads of an integer format are integers");
        for (int c = 0; c < 4; c++) {
            assertEquals(texel(x, y, c), t.i(c), "texel " + x + "," + y + " channel " + c);
        }
    }

    // ---- each kind of resource ----------------------------------------------------------------------------

    @Test
    void aTextureOverAMipLevelSamplesTheLevelPointAndClamped() {
        try (Arena arena = Arena.ofConfined()) {
            MipmappedArray array = memory(arena).mapMipmappedArray(0, RGBA8, Extent.of(8, 8), 2, 0);
            ArrayLevel level = array.level(0);
            level.copyFrom(rgbaPattern(arena, 8, 8));
            TextureObject texture = TextureObject.of(level, TextureDescriptor.defaults());
            assertEquals(TextureObject.ResourceKind.ARRAY, texture.resourceKind());
            assertEquals(RGBA8, texture.format());
            assertEquals(1, TestRuntime.live("textureObject"));
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    assertRgba(x, y, TestRuntime.fetch(texture.value(), x + 0.5f, y + 0.5f, 0, 0));
                }
            }
            assertRgba(0, 7, TestRuntime.fetch(texture.value(), -3.5f, 42f, 0, 0));   // clamped to the edges
            assertRgba(7, 0, TestRuntime.fetch(texture.value(), 8.9f, -0.1f, 0, 0));
            assertTrue(texture.toString().startsWith("TextureObject[0x"), texture.toString());
        }
        assertEquals(0, TestRuntime.live("orphanedView"));
        assertEquals(1, TestRuntime.calls(DESTROY));
    }

    @Test
    void normalisedCoordinatesWrapMirrorBorderAndNormalisedReads() {
        try (Arena arena = Arena.ofConfined()) {
            ArrayLevel level = memory(arena).mapMipmappedArray(0, RGBA8, Extent.of(8, 8), 1, 0).level(0);
            level.copyFrom(rgbaPattern(arena, 8, 8));
            TextureObject wrapped = TextureObject.of(level, TextureDescriptor.builder().normalizedCoordinates(true)
                    .addressMode(0, AddressMode.WRAP).addressMode(1, AddressMode.MIRROR).build());
            assertRgba(1, 2, TestRuntime.fetch(wrapped.value(), (8 + 1.5f) / 8, 2.5f / 8, 0, 0));
            assertRgba(1, 6, TestRuntime.fetch(wrapped.value(), 1.5f / 8, (8 + 1.5f) / 8, 0, 0));   // mirrored
            TextureObject bordered = TextureObject.of(level, TextureDescriptor.builder()
                    .addressMode(AddressMode.BORDER).borderColor(1.5f, 0, 0, 0).build());
            Texel border = TestRuntime.fetch(bordered.value(), -1, 3, 0, 0);
            assertEquals(Float.floatToRawIntBits(1.5f), border.i(0), "the border colour's bits, as CUDA");
            assertRgba(2, 3, TestRuntime.fetch(bordered.value(), 2.5f, 3.5f, 0, 0));
            TextureObject normalised = TextureObject.of(level, TextureDescriptor.builder()
                    .readMode(ReadMode.NORMALIZED_FLOAT).build());
            Texel n = TestRuntime.fetch(normalised.value(), 3.5f, 4.5f, 0, 0);
            assertTrue(n.floats());
            assertEquals(texel(3, 4, 2) / 255f, n.f(2), 1e-6f);
        }
    }

    @Test
    void linearFilteringInterpolatesFloatsAndNormalisedIntegers() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = memory(arena);
            ArrayLevel floats = memory.mapMipmappedArray(0, R32F, Extent.of(4, 4), 1, 0).level(0);
            MemorySegment host = Memory.allocatePinned(arena, 64);
            for (int i = 0; i < 16; i++) {
                host.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);   // (x, y) holds 4y + x
            }
            floats.copyFrom(host);
            TextureObject bilinear = TextureObject.of(floats, TextureDescriptor.builder().filter(FilterMode.LINEAR)
                    .build());
            assertEquals(5f, TestRuntime.fetch(bilinear.value(), 1.5f, 1.5f, 0, 0).f(0), 1e-6f, "a texel centre");
            assertEquals(7.5f, TestRuntime.fetch(bilinear.value(), 2f, 2f, 0, 0).f(0), 1e-6f, "between four texels");
            assertEquals(0f, TestRuntime.fetch(bilinear.value(), -5f, 0f, 0, 0).f(0), 1e-6f, "clamped");

            ArrayLevel bytes = memory.mapMipmappedArray(8192, RGBA8, Extent.of(8, 8), 1, 0).level(0);
            bytes.copyFrom(rgbaPattern(arena, 8, 8));
            TextureObject normalised = TextureObject.of(bytes, TextureDescriptor.builder().filter(FilterMode.LINEAR)
                    .readMode(ReadMode.NORMALIZED_FLOAT).build());
            assertEquals((texel(1, 1, 0) + texel(2, 1, 0)) / 2f / 255f,
                    TestRuntime.fetch(normalised.value(), 2f, 1.5f, 0, 0).f(0), 1e-6f);
        }
    }

    @Test
    void aTextureOverAWholeMipmappedArraySamplesItsLevels() {
        try (Arena arena = Arena.ofConfined()) {
            MipmappedArray array = memory(arena).mapMipmappedArray(0, R32F, Extent.of(8, 8), 3, 0);
            for (int l = 0; l < 3; l++) {
                ArrayLevel level = array.level(l);
                MemorySegment host = Memory.allocatePinned(arena, level.byteSize());
                for (long i = 0; i < level.byteSize() / 4; i++) {
                    host.setAtIndex(ValueLayout.JAVA_FLOAT, i, 100 * l + i);
                }
                level.copyFrom(host);
            }
            TextureObject texture = TextureObject.of(array, TextureDescriptor.builder().normalizedCoordinates(true)
                    .mipmaps(FilterMode.POINT, 0, 0, 2).build());
            assertEquals(TextureObject.ResourceKind.MIPMAPPED_ARRAY, texture.resourceKind());
            assertEquals(0f, TestRuntime.fetch(texture.value(), 0.01f, 0.01f, 0, 0).f(0));
            assertEquals(100f + 2 * 4 + 3, TestRuntime.fetch(texture.value(), 3.5f / 4, 2.5f / 4, 0, 1).f(0));
            assertEquals(200f + 3, TestRuntime.fetch(texture.value(), 0.99f, 0.99f, 0, 2).f(0));
            assertEquals(200f, TestRuntime.fetch(texture.value(), 0.01f, 0.01f, 0, 7).f(0), "clamped to level 2");
        }
        assertEquals(0, TestRuntime.live("orphanedView"));
    }

    /**
     * Over device memory a texture belongs to an arena and does not keep the memory alive: here an arena of its own,
     * closed first (FFM promises no order among one arena's releases: a confined arena runs its first one first).
     */
    @Test
    void linearAndPitchedDeviceMemory() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 4096);
            MemorySegment host = Memory.allocatePinned(arena, 4096);
            for (int i = 0; i < 1024; i++) {
                host.setAtIndex(ValueLayout.JAVA_INT, i, i * 3 - 500);
            }
            Memory.copy(device, host);
            try (Arena textures = Arena.ofConfined()) {
                TextureObject linear = TextureObject.linear(textures, device, R32I, TextureDescriptor.defaults());
                assertEquals(TextureObject.ResourceKind.LINEAR, linear.resourceKind());
                assertEquals(7 * 3 - 500, TestRuntime.fetch(linear.value(), 7, 0, 0, 0).i(0));
                assertEquals(1023 * 3 - 500, TestRuntime.fetch(linear.value(), 1023, 0, 0, 0).i(0));
                assertEquals(0, TestRuntime.fetch(linear.value(), 1024, 0, 0, 0).i(0), "tex1Dfetch out of range: 0");

                // 5 x 3 ints at a pitch of 128 bytes (32 ints): (x, y) is int 32y + x.
                TextureObject pitched = TextureObject.pitch2D(textures, device, R32I, 5, 3, 128,
                        TextureDescriptor.defaults());
                assertEquals(TextureObject.ResourceKind.PITCH_2D, pitched.resourceKind());
                assertEquals((32 * 2 + 4) * 3 - 500, TestRuntime.fetch(pitched.value(), 4.5f, 2.5f, 0, 0).i(0));
                assertEquals((32 * 2 + 4) * 3 - 500, TestRuntime.fetch(pitched.value(), 9f, 9f, 0, 0).i(0),
                        "clamped");
                assertEquals(2, TestRuntime.live("textureObject"));
            }
            assertEquals(0, TestRuntime.live("textureObject"), "its arena destroyed both");
            assertEquals(0, TestRuntime.live("orphanedView"));
        }
    }

    @Test
    void aSurfaceReadsAndWritesItsArray() {
        try (Arena arena = Arena.ofConfined()) {
            ArrayLevel level = memory(arena).mapMipmappedArray(0, RGBA8, Extent.of(8, 8), 1,
                    MipmappedArray.SURFACE_LOAD_STORE).level(0);
            assertTrue(level.surfaceLoadStore());
            level.copyFrom(rgbaPattern(arena, 8, 8));
            SurfaceObject surface = SurfaceObject.of(level);
            assertEquals(level, surface.level());
            assertEquals(1, TestRuntime.live("surfaceObject"));
            MemorySegment element = arena.allocate(4);
            assertEquals(0, TestRuntime.surfaceRead(surface.value(), 4 * 3, 5, 0, element));
            assertEquals(texel(3, 5, 1), element.get(ValueLayout.JAVA_BYTE, 1));
            element.set(ValueLayout.JAVA_INT, 0, 0x01020304);
            assertEquals(0, TestRuntime.surfaceWrite(surface.value(), 4 * 6, 7, 0, element));
            assertEquals(-3, TestRuntime.surfaceWrite(surface.value(), 4 * 8, 0, 0, element), "out of range");
            MemorySegment back = Memory.allocatePinned(arena, level.byteSize());
            level.copyTo(back);
            assertEquals(0x01020304, back.get(ValueLayout.JAVA_INT, 4L * (7 * 8 + 6)));
            TextureObject texture = TextureObject.of(level, TextureDescriptor.defaults());
            assertEquals(4, TestRuntime.fetch(texture.value(), 6.5f, 7.5f, 0, 0).i(0), "the texture sees the write");
        }
        assertEquals(1, TestRuntime.calls(DESTROY_SURFACE));
        assertEquals(0, TestRuntime.live("orphanedView"));
    }

    @Test
    void aMappedGlTexturesLevel() {
        GraphicsResourceTest.GlHooks.setContext(true);
        int name = 4242;
        assertEquals(0, GraphicsResourceTest.GlHooks.defineTexture(name, GL_TEXTURE_2D, 8, 8, 1, 4));
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource image = GraphicsResource.registerImage(arena, name, GL_TEXTURE_2D,
                    EnumSet.of(GraphicsResource.Flag.SURFACE_LOAD_STORE));
            Stream stream = Stream.create(arena);
            GraphicsResource.Mapping mapping = image.map(stream);
            ArrayLevel level = mapping.array(image, 0, 0);
            assertEquals(RGBA8, level.format(), "the runtime's format (the double: unsigned 8-bit channels)");
            assertTrue(level.surfaceLoadStore());
            level.copyFrom(rgbaPattern(arena, 8, 8));
            TextureObject texture = TextureObject.of(level, TextureDescriptor.defaults());
            SurfaceObject surface = SurfaceObject.of(level);
            assertRgba(5, 6, TestRuntime.fetch(texture.value(), 5.5f, 6.5f, 0, 0));
            mapping.close();                                    // unmapping destroys both first
            assertTrue(texture.isClosed());
            assertTrue(surface.isClosed());
            assertEquals(0, TestRuntime.live("textureObject") + TestRuntime.live("surfaceObject"));
            assertEquals(0, TestRuntime.live("orphanedView"));
        } finally {
            assertEquals(0, GraphicsResourceTest.GlHooks.delete(name));
            GraphicsResourceTest.GlHooks.setContext(false);
        }
    }

    // ---- lifetimes ------------------------------------------------------------------------------------------

    @Test
    void aTextureClosesBeforeItsArrayAndAloneLeavesTheArrayOpen() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = memory(arena);
            MipmappedArray array = memory.mapMipmappedArray(0, RGBA8, Extent.of(8, 8), 2,
                    MipmappedArray.SURFACE_LOAD_STORE);
            TextureObject alone = TextureObject.of(array.level(1), TextureDescriptor.defaults());
            alone.close();
            alone.close();                                      // harmless
            assertFalse(array.isClosed());
            assertEquals(1, TestRuntime.calls(DESTROY));

            TextureObject level = TextureObject.of(array.level(0), TextureDescriptor.defaults());
            TextureObject whole = TextureObject.of(array, TextureDescriptor.builder().normalizedCoordinates(true)
                    .build());
            SurfaceObject surface = SurfaceObject.of(array.level(0));
            memory.close();                                     // memory -> array -> its views first
            assertTrue(level.isClosed());
            assertTrue(whole.isClosed());
            assertTrue(surface.isClosed());
            assertEquals(0, TestRuntime.live("orphanedView"), "no view outlived its array");
            assertEquals(0, TestRuntime.live("textureObject") + TestRuntime.live("surfaceObject"));
        }
    }

    @Test
    void useAfterCloseThrowsAndNothingReachesTheRuntime() {
        byte[] module = "hipffm-test-module\nincrement\n".getBytes(StandardCharsets.US_ASCII);
        ArrayLevel gone;
        try (Arena arena = Arena.ofConfined()) {
            ArrayLevel level = memory(arena).mapMipmappedArray(0, RGBA8, Extent.of(8, 8), 1,
                    MipmappedArray.SURFACE_LOAD_STORE).level(0);
            gone = level;
            Kernel kernel = HipModule.load(arena, module).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            MemorySegment device = Memory.allocateDevice(arena, 64);
            TextureObject texture = TextureObject.of(level, TextureDescriptor.defaults());
            SurfaceObject surface = SurfaceObject.of(level);
            KernelArgs args = kernel.newArgs(arena).set(0, device).set(1, texture);
            kernel.newArgs(arena).set(0, texture);              // a POINTER parameter takes it too (AMD: a pointer)
            texture.close();
            surface.close();
            assertThrows(IllegalStateException.class, texture::value);
            assertThrows(IllegalStateException.class, texture::handle);
            assertThrows(IllegalStateException.class, surface::value);
            assertThrows(IllegalStateException.class, () -> args.set(1, surface));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> kernel.launch(Dim3.of(1), Dim3.of(1), 0, Stream.defaultStream(), args));
            assertTrue(e.getMessage().contains("argument 1 is a texture or surface object that was closed"),
                    e.getMessage());
            assertTrue(texture.toString().endsWith(", closed]"), texture.toString());
            assertEquals(TextureDescriptor.defaults(), texture.descriptor(), "a plain getter works after close");
            assertEquals(0, TestRuntime.calls("hipModuleLaunchKernel"));
        }
        assertThrows(IllegalStateException.class, () -> TextureObject.of(gone, TextureDescriptor.defaults()));
        assertThrows(IllegalStateException.class, () -> SurfaceObject.of(gone));
        assertEquals(1, TestRuntime.calls(CREATE), "only the texture that was made");
    }

    // ---- refusals before any native call ----------------------------------------------------------------------

    private static void refused(String expected, Executable create) {
        long before = TestRuntime.calls(CREATE) + TestRuntime.calls(CREATE_SURFACE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, create);
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertEquals(before, TestRuntime.calls(CREATE) + TestRuntime.calls(CREATE_SURFACE), "no native call");
    }

    @Test
    void descriptorsInvalidForTheFormatAreRefusedNamingTheValue() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = memory(arena);
            ArrayLevel rgba = memory.mapMipmappedArray(0, RGBA8, Extent.of(8, 8), 1, 0).level(0);
            ArrayLevel ints = memory.mapMipmappedArray(4096, R32I, Extent.of(8, 8), 1, 0).level(0);
            ArrayLevel floats = memory.mapMipmappedArray(8192, R32F, Extent.of(8, 8), 1, 0).level(0);
            MipmappedArray mipmapped = memory.mapMipmappedArray(16384, RGBA8, Extent.of(8, 8), 2, 0);
            TextureDescriptor linear = TextureDescriptor.builder().filter(FilterMode.LINEAR).build();
            TextureDescriptor normalised = TextureDescriptor.builder().readMode(ReadMode.NORMALIZED_FLOAT).build();
            refused("filter LINEAR needs a texture that returns floats, but 8,8,8,8 UNSIGNED is read as ELEMENT_TYPE",
                    () -> TextureObject.of(rgba, linear));
            refused("readMode NORMALIZED_FLOAT applies to 8- and 16-bit integer formats only, not to 32,0,0,0 SIGNED",
                    () -> TextureObject.of(ints, normalised));
            refused("not to 32,0,0,0 FLOAT", () -> TextureObject.of(floats, normalised));
            refused("addressMode WRAP of dimension x needs normalizedCoordinates true",
                    () -> TextureObject.of(rgba, TextureDescriptor.builder().addressMode(0, AddressMode.WRAP).build()));
            refused("addressMode MIRROR of dimension y",
                    () -> TextureObject.of(rgba, TextureDescriptor.builder().addressMode(1, AddressMode.MIRROR).build()));
            refused("needs normalizedCoordinates true (hipResourceTypeMipmappedArray), got false",
                    () -> TextureObject.of(mipmapped, TextureDescriptor.defaults()));
            refused("mipmapFilter LINEAR needs a texture that returns floats",
                    () -> TextureObject.of(mipmapped, TextureDescriptor.builder().normalizedCoordinates(true)
                            .mipmaps(FilterMode.LINEAR, 0, 0, 1).build()));
            refused("hipArraySurfaceLoadStore", () -> SurfaceObject.of(rgba));
            // Allowed: what the rules do not cover reaches the runtime.
            TextureObject.of(floats, linear).close();
            TextureObject.of(rgba, TextureDescriptor.builder().addressMode(2, AddressMode.WRAP).build()).close();
            TextureObject.of(rgba, linear.toBuilder().readMode(ReadMode.NORMALIZED_FLOAT).build()).close();
        }
    }

    @Test
    void memoryLayoutsInvalidForTheDeviceAreRefusedNamingTheValue() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 4096);
            TextureDescriptor d = TextureDescriptor.defaults();
            refused("is not aligned to the device's texture alignment 256 (TEXTURE_ALIGNMENT)",
                    () -> TextureObject.linear(arena, device.asSlice(4), R32F, d));
            refused("is not aligned to the device's texture alignment 256",
                    () -> TextureObject.pitch2D(arena, device.asSlice(64), R32F, 4, 4, 128, d));
            refused("pitchBytes 192 is not a multiple of the device's texture pitch alignment 128",
                    () -> TextureObject.pitch2D(arena, device, R32F, 4, 4, 192, d));
            refused("pitchBytes 128 is shorter than a row of 64 elements (256 bytes)",
                    () -> TextureObject.pitch2D(arena, device, R32F, 64, 4, 128, d));
            refused("memory has 4096 bytes, 40 rows of 4 elements at pitch 128 need 5008",
                    () -> TextureObject.pitch2D(arena, device, R32F, 4, 40, 128, d));
            refused("width 0 and height 4 must be > 0", () -> TextureObject.pitch2D(arena, device, R32F, 0, 4, 128, d));
            refused("memory has 2 bytes, less than one 4-byte element",
                    () -> TextureObject.linear(arena, device.asSlice(0, 2), R32F, d));
            refused("readMode NORMALIZED_FLOAT", () -> TextureObject.linear(arena, device, R32F,
                    TextureDescriptor.builder().readMode(ReadMode.NORMALIZED_FLOAT).build()));
            refused("memory must not be null", () -> TextureObject.linear(arena, null, R32F, d));
            refused("descriptor must not be null", () -> TextureObject.linear(arena, device, R32F, null));
            // Linear memory ignores the filter and the address modes: not refused.
            TextureObject.linear(arena, device, R32I, TextureDescriptor.builder().filter(FilterMode.LINEAR)
                    .addressMode(AddressMode.WRAP).build()).close();
        }
    }

    @Test
    void descriptorValuesAreCheckedWhenBuilt() {
        assertThrows(IllegalArgumentException.class, () -> TextureDescriptor.builder().maxAnisotropy(17).build());
        assertThrows(IllegalArgumentException.class, () -> TextureDescriptor.builder().addressMode(3, AddressMode.WRAP));
        assertThrows(IllegalArgumentException.class, () -> TextureDescriptor.builder().filter(null).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TextureDescriptor.builder().addressMode(1, null).build());
        assertEquals("addressModes[1] must not be null", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TextureDescriptor(List.of(AddressMode.CLAMP),
                FilterMode.POINT, ReadMode.ELEMENT_TYPE, false, false, TextureDescriptor.BorderColor.TRANSPARENT_BLACK,
                0, FilterMode.POINT, 0, 0, 0));
        TextureDescriptor d = TextureDescriptor.builder().sRGB(true).maxAnisotropy(4).borderColor(1, 2, 3, 4).build();
        assertEquals(d, d.toBuilder().build());
        assertEquals(new TextureDescriptor.BorderColor(1, 2, 3, 4), d.borderColor());
    }

    // ---- injected faults on each new native call --------------------------------------------------------------

    private static void assertFails(HipError error, String call, Executable executable) {
        HipException e = assertThrows(HipException.class, executable);
        assertEquals(error, e.error(), "error");
        assertEquals(call, e.call(), "call");
    }

    @Test
    void injectedFaultsOnCreateLeaveNothingBehind() {
        try (Arena arena = Arena.ofConfined()) {
            ArrayLevel level = memory(arena).mapMipmappedArray(0, RGBA8, Extent.of(8, 8), 1,
                    MipmappedArray.SURFACE_LOAD_STORE).level(0);
            MemorySegment device = Memory.allocateDevice(arena, 4096);
            TestRuntime.failNext(CREATE, HipError.OUT_OF_MEMORY, 0);
            assertFails(HipError.OUT_OF_MEMORY, CREATE, () -> TextureObject.of(level, TextureDescriptor.defaults()));
            TestRuntime.failNext(CREATE, HipError.INVALID_VALUE, 0);
            assertFails(HipError.INVALID_VALUE, CREATE,
                    () -> TextureObject.linear(arena, device, R32F, TextureDescriptor.defaults()));
            TestRuntime.failNext(CREATE_SURFACE, HipError.INVALID_VALUE, 0);
            assertFails(HipError.INVALID_VALUE, CREATE_SURFACE, () -> SurfaceObject.of(level));
            assertEquals(0, TestRuntime.live("textureObject") + TestRuntime.live("surfaceObject"));
            TextureObject.of(level, TextureDescriptor.defaults());
            SurfaceObject.of(level);
        }
        assertEquals(1, TestRuntime.calls(DESTROY));
        assertEquals(1, TestRuntime.calls(DESTROY_SURFACE));
    }

    @Test
    void injectedFaultsOnDestroyAreThrownAndTheResourceCountsAsClosed() {
        try (Arena arena = Arena.ofConfined()) {
            ArrayLevel level = memory(arena).mapMipmappedArray(0, RGBA8, Extent.of(8, 8), 1,
                    MipmappedArray.SURFACE_LOAD_STORE).level(0);
            TextureObject texture = TextureObject.of(level, TextureDescriptor.defaults());
            SurfaceObject surface = SurfaceObject.of(level);
            long t = texture.value();
            long s = surface.value();
            TestRuntime.failNext(DESTROY, HipError.INVALID_VALUE, 0);
            assertFails(HipError.INVALID_VALUE, DESTROY, texture::close);
            TestRuntime.failNext(DESTROY_SURFACE, HipError.INVALID_VALUE, 0);
            assertFails(HipError.INVALID_VALUE, DESTROY_SURFACE, surface::close);
            assertTrue(texture.isClosed());
            assertTrue(surface.isClosed());
            texture.close();                                    // not released twice
            assertEquals(1, TestRuntime.live("textureObject"), "the runtime kept it: the test cleans up");
            assertEquals(0, Raw.destroyTextureObject(t));
            assertEquals(0, Raw.destroySurfaceObject(s));
        }
    }
}
