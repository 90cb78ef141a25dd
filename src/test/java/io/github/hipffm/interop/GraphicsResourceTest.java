package io.github.hipffm.interop;

import io.github.hipffm.ArrayLevel;
import io.github.hipffm.Extent;
import io.github.hipffm.GraphicsResource;
import io.github.hipffm.GraphicsResource.Flag;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.Raw;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GraphicsResource} end to end against the C test runtime's fake GL objects: argument checks before any
 * native call, map and unmap as one call each, lifetime (close unmaps, then unregisters), the GL context hint,
 * data round trips through buffers and texture levels, and injected failures that leave nothing behind.
 */
@Tag("testrt")
class GraphicsResourceTest {
    private static final int GL_TEXTURE_2D = 0x0DE1;
    private static final int GL_TEXTURE_1D = 0x0DE0;
    private static final int GL_RENDERBUFFER = 0x8D41;
    private static final Set<Flag> NONE = EnumSet.noneOf(Flag.class);
    private static final long SIZE = 4096;
    private static final AtomicInteger NAMES = new AtomicInteger(1000);

    private final List<Integer> glObjects = new ArrayList<>();

    /** A reset before and after each test; then nothing registered or mapped, then {@link #glObjectsDeleted}. */
    @RegisterExtension
    final NoLeaks noLeaks = new NoLeaks().withoutFdCount().resettingBeforeTheChecks()
            .counting("graphicsResource", "registered graphics resources")
            .counting("graphicsMapping", "mapped graphics resources")
            .then(this::glObjectsDeleted);

    @BeforeEach
    void start() {
        GlHooks.setContext(true);
        Raw.getLastError();                     // start with no last error on this thread
    }

    /** Every fake GL object of the test deletes (so none is still registered); no GL context is current. */
    private void glObjectsDeleted() {
        for (int name : glObjects) {
            assertEquals(0, GlHooks.delete(name), "GL object " + name + " deleted (so it was not registered)");
        }
        GlHooks.setContext(false);
    }

    /** {@return a new fake GL buffer of {@code size} zero bytes} */
    private int buffer(long size) {
        int name = NAMES.incrementAndGet();
        assertEquals(0, GlHooks.defineBuffer(name, size));
        glObjects.add(name);
        return name;
    }

    /** {@return a new fake GL_TEXTURE_2D, 4 bytes a texel} */
    private int texture(int width, int height, int levels) {
        int name = NAMES.incrementAndGet();
        assertEquals(0, GlHooks.defineTexture(name, GL_TEXTURE_2D, width, height, levels, 4));
        glObjects.add(name);
        return name;
    }

    private static MemorySegment pattern(Arena arena, long size, int salt) {
        MemorySegment p = arena.allocate(size);
        for (long i = 0; i < size; i++) {
            p.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + salt));
        }
        return p;
    }

    private static long calls(String... functions) {
        return Arrays.stream(functions).mapToLong(TestRuntime::calls).sum();
    }

    private static final String[] ALL = {"hipGraphicsGLRegisterBuffer", "hipGraphicsGLRegisterImage",
        "hipGraphicsMapResources", "hipGraphicsUnmapResources", "hipGraphicsResourceGetMappedPointer",
        "hipGraphicsSubResourceGetMappedArray", "hipGraphicsUnregisterResource", "hipArrayGetInfo"};

    // ---- validation before any native call ----------------------------------------------------------------

    @Test
    void registrationArgumentsAreCheckedBeforeAnyNativeCall() {
        int buffer = buffer(SIZE);
        int texture = texture(16, 16, 1);
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> GraphicsResource.registerBuffer(arena, 0, NONE));
            assertThrows(IllegalArgumentException.class, () -> GraphicsResource.registerBuffer(arena, -5, NONE));
            assertThrows(IllegalArgumentException.class, () -> GraphicsResource.registerBuffer(null, buffer, NONE));
            assertThrows(IllegalArgumentException.class, () -> GraphicsResource.registerBuffer(arena, buffer, null));
            IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                    () -> GraphicsResource.registerBuffer(arena, buffer, EnumSet.of(Flag.READ_ONLY, Flag.WRITE_DISCARD)));
            assertTrue(both.getMessage().contains("READ_ONLY"), both.getMessage());
            IllegalArgumentException surface = assertThrows(IllegalArgumentException.class,
                    () -> GraphicsResource.registerBuffer(arena, buffer, EnumSet.of(Flag.SURFACE_LOAD_STORE)));
            assertTrue(surface.getMessage().contains("images"), surface.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> GraphicsResource.registerBuffer(arena, buffer, EnumSet.of(Flag.TEXTURE_GATHER)));

            assertThrows(IllegalArgumentException.class,
                    () -> GraphicsResource.registerImage(arena, 0, GL_TEXTURE_2D, NONE));
            assertThrows(IllegalArgumentException.class,
                    () -> GraphicsResource.registerImage(arena, -1, GL_TEXTURE_2D, NONE));
            IllegalArgumentException target = assertThrows(IllegalArgumentException.class,
                    () -> GraphicsResource.registerImage(arena, texture, GL_TEXTURE_1D, NONE));
            assertTrue(target.getMessage().contains("0xde0"), target.getMessage());
            assertThrows(IllegalArgumentException.class, () -> GraphicsResource.registerImage(arena, texture, 0, NONE));
            assertThrows(IllegalArgumentException.class, () -> GraphicsResource.registerImage(arena, texture,
                    GL_TEXTURE_2D, EnumSet.of(Flag.READ_ONLY, Flag.WRITE_DISCARD)));
            assertThrows(IllegalArgumentException.class,
                    () -> GraphicsResource.registerImage(null, texture, GL_TEXTURE_2D, NONE));
            assertThrows(IllegalArgumentException.class,
                    () -> GraphicsResource.registerImage(arena, texture, GL_TEXTURE_2D, null));
        }
        assertEquals(0, calls(ALL), "no native call");
    }

    @Test
    void mapArgumentsAreCheckedBeforeAnyNativeCall() {
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource a = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            GraphicsResource b = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            Stream stream = Stream.create(arena);
            assertThrows(IllegalArgumentException.class, () -> GraphicsResource.map(List.of(), stream));
            assertThrows(IllegalArgumentException.class, () -> GraphicsResource.map(null, stream));
            assertThrows(IllegalArgumentException.class, () -> GraphicsResource.map(Arrays.asList(a, null), stream));
            IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                    () -> GraphicsResource.map(List.of(a, b, a), stream));
            assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
            assertThrows(IllegalArgumentException.class, () -> a.map(null));
            assertThrows(IllegalArgumentException.class, () -> GraphicsResource.map(List.of(a), null));

            Stream closedStream = Stream.create(arena);
            closedStream.close();
            assertThrows(IllegalStateException.class, () -> a.map(closedStream));

            b.close();
            assertThrows(IllegalStateException.class, () -> b.map(stream), "map of a closed resource");
            assertThrows(IllegalStateException.class, () -> GraphicsResource.map(List.of(a, b), stream));
            assertFalse(a.isMapped(), "a refused list maps none of them");
            assertEquals(0, calls("hipGraphicsMapResources"));
        }
    }

    @Test
    void mappingTwiceIsRefusedInJava() {
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource a = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            GraphicsResource b = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            try (GraphicsResource.Mapping m = a.map(Stream.defaultStream())) {
                assertTrue(a.isMapped());
                IllegalStateException again = assertThrows(IllegalStateException.class, () -> a.map(Stream.defaultStream()));
                assertTrue(again.getMessage().contains("already mapped"), again.getMessage());
                assertThrows(IllegalStateException.class, () -> GraphicsResource.map(List.of(b, a), Stream.defaultStream()));
                assertFalse(b.isMapped());
                assertEquals(List.of(a), m.resources());
            }
            assertEquals(1, calls("hipGraphicsMapResources"));
            assertEquals(1, calls("hipGraphicsUnmapResources"));
            a.map(Stream.defaultStream()).close();            // unmapped: may be mapped again
            assertEquals(2, calls("hipGraphicsMapResources"));
        }
    }

    @Test
    void mappingAccessorsCheckTheKindOfResourceBeforeAnyNativeCall() {
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource buf = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            GraphicsResource tex = GraphicsResource.registerImage(arena, texture(16, 16, 2), GL_TEXTURE_2D, NONE);
            GraphicsResource other = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            assertFalse(buf.isImage());
            assertTrue(tex.isImage());
            try (GraphicsResource.Mapping m = GraphicsResource.map(List.of(buf, tex), Stream.defaultStream())) {
                IllegalArgumentException image = assertThrows(IllegalArgumentException.class, () -> m.buffer(tex));
                assertTrue(image.getMessage().contains("array()"), image.getMessage());
                IllegalArgumentException buffer = assertThrows(IllegalArgumentException.class, () -> m.array(buf, 0, 0));
                assertTrue(buffer.getMessage().contains("buffer()"), buffer.getMessage());
                IllegalArgumentException notHere = assertThrows(IllegalArgumentException.class, () -> m.buffer(other));
                assertTrue(notHere.getMessage().contains("not part of this mapping"), notHere.getMessage());
                assertThrows(IllegalArgumentException.class, () -> m.array(other, 0, 0));
                assertThrows(IllegalArgumentException.class, () -> m.buffer(null));
                assertThrows(IllegalArgumentException.class, () -> m.array(tex, -1, 0));
                assertThrows(IllegalArgumentException.class, () -> m.array(tex, 0, -1));
                assertEquals(0, calls("hipGraphicsResourceGetMappedPointer", "hipGraphicsSubResourceGetMappedArray"));

                HipException level = assertThrows(HipException.class, () -> m.array(tex, 0, 2));
                assertEquals(HipError.INVALID_VALUE, level.error(), "the texture has levels 0 and 1");
            }
        }
    }

    // ---- lifetime -----------------------------------------------------------------------------------------

    @Test
    void closingTheArenaUnmapsThenUnregisters() {
        GraphicsResource resource;
        GraphicsResource.Mapping m;
        MemorySegment mapped;
        try (Arena arena = Arena.ofConfined()) {
            resource = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            m = resource.map(Stream.defaultStream());
            mapped = m.buffer(resource);
            assertEquals(1, TestRuntime.live("graphicsResource"));
            assertEquals(1, TestRuntime.live("graphicsMapping"));
        }
        assertTrue(m.isClosed());
        assertTrue(resource.isClosed());
        assertFalse(resource.isMapped());
        assertEquals(1, calls("hipGraphicsUnmapResources"));
        assertEquals(1, calls("hipGraphicsUnregisterResource"));
        assertEquals(0, Raw.getLastError(), "neither call failed (an unmap after the unregister would have)");
        assertEquals(0, TestRuntime.live("graphicsResource"));
        assertEquals(0, TestRuntime.live("graphicsMapping"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(SIZE);
            assertThrows(IllegalStateException.class, () -> Memory.copy(host, mapped));
        }
        assertThrows(IllegalStateException.class, resource::handle);
    }

    @Test
    void closeUnmapsTheWholeMappingThenUnregistersAndIsIdempotent() {
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource a = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            GraphicsResource b = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            GraphicsResource.Mapping m = GraphicsResource.map(List.of(a, b), Stream.defaultStream());
            assertDoesNotThrow(a::close, "an unmap after the unregister would fail and be rethrown");
            assertTrue(m.isClosed(), "closing one resource closes its mapping");
            assertTrue(a.isClosed());
            assertFalse(b.isMapped());
            assertFalse(b.isClosed(), "the other resource stays registered");
            assertEquals(1, calls("hipGraphicsUnmapResources"));
            assertEquals(1, calls("hipGraphicsUnregisterResource"));
            assertEquals(1, TestRuntime.live("graphicsResource"));
            assertEquals(0, TestRuntime.live("graphicsMapping"));
            a.close();
            m.close();
            assertEquals(1, calls("hipGraphicsUnmapResources"), "closing twice does nothing");
            assertEquals(1, calls("hipGraphicsUnregisterResource"));
            b.map(Stream.defaultStream()).close();
            b.close();
            b.close();
            assertEquals(2, calls("hipGraphicsUnregisterResource"));
            assertEquals(0, TestRuntime.live("graphicsResource"));
        }
        assertEquals(2, calls("hipGraphicsUnregisterResource"), "the arena's close did not unregister again");
    }

    @Test
    void segmentsAndArraysAreInvalidAfterUnmap() {
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource buf = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            GraphicsResource tex = GraphicsResource.registerImage(arena, texture(16, 16, 1), GL_TEXTURE_2D, NONE);
            MemorySegment host = arena.allocate(SIZE);
            GraphicsResource.Mapping m = GraphicsResource.map(List.of(buf, tex), Stream.defaultStream());
            MemorySegment mapped = m.buffer(buf);
            ArrayLevel level = m.array(tex, 0, 0);
            Memory.copy(host, mapped);
            level.copyTo(host);
            m.close();
            assertThrows(IllegalStateException.class, () -> Memory.copy(host, mapped));
            assertThrows(IllegalStateException.class, () -> Memory.fill(mapped, (byte) 1));
            assertThrows(IllegalStateException.class, () -> level.copyTo(host));
            assertThrows(IllegalStateException.class, () -> level.copyFrom(host));
            assertThrows(IllegalStateException.class, level::handle);
            assertThrows(IllegalStateException.class, () -> m.buffer(buf));
            assertThrows(IllegalStateException.class, () -> m.array(tex, 0, 0));
            assertEquals(1, calls("hipMemcpyAsync"), "only the copy while mapped reached the runtime");
            assertEquals(1, calls("hipMemcpy2DFromArray"));
            assertEquals(0, calls("hipMemcpy2DToArray", "hipMemset", "hipMemsetAsync", "hipMemcpy"));
        }
    }

    /**
     * The unmap is ordered on the map's stream, so closing that stream first unmaps, then destroys the stream (found
     * by GlFuzzTest: the mapping's close later handed the destroyed stream to hipGraphicsUnmapResources, which refused
     * it, and the resource stayed mapped).
     */
    @Test
    void closingTheStreamOfAMappingUnmapsFirst() {
        int name = buffer(SIZE);
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource resource = GraphicsResource.registerBuffer(arena, name, NONE);
            Stream stream = Stream.create(arena, true);
            GraphicsResource.Mapping mapping = resource.map(stream);
            MemorySegment buffer = mapping.buffer(resource);
            stream.close();
            assertTrue(mapping.isClosed());
            assertFalse(resource.isMapped());
            assertFalse(buffer.scope().isAlive());
            assertEquals(0, TestRuntime.live("graphicsMapping"));
            assertEquals(1, calls("hipGraphicsUnmapResources"));
            mapping.close();
            assertEquals(1, calls("hipGraphicsUnmapResources"), "unmapped once");
            resource.map(Stream.defaultStream()).close();   // mapped again, on another stream
        }
    }

    // ---- the GL context -----------------------------------------------------------------------------------

    @Test
    void withNoGlContextCurrentRegisteringFailsWithTheHint() {
        int buffer = buffer(SIZE);
        int texture = texture(16, 16, 1);
        GlHooks.setContext(false);
        try (Arena arena = Arena.ofConfined()) {
            HipException e = assertThrows(HipException.class, () -> GraphicsResource.registerBuffer(arena, buffer, NONE));
            assertEquals(HipError.INVALID_VALUE, e.error());
            assertTrue(e.getMessage().contains("GL context"), e.getMessage());
            assertTrue(e.getMessage().contains("hipGraphicsGLRegisterBuffer"), e.getMessage());
            HipException image = assertThrows(HipException.class,
                    () -> GraphicsResource.registerImage(arena, texture, GL_TEXTURE_2D, NONE));
            assertTrue(image.getMessage().contains("GL context"), image.getMessage());
            assertThrows(HipException.class, GraphicsResource::glDevices);
        }
        assertEquals(0, TestRuntime.live("graphicsResource"));
        GlHooks.setContext(true);
        assertEquals(List.of(io.github.hipffm.Hip.device(0)), GraphicsResource.glDevices());
    }

    @Test
    void anUnknownGlObjectIsTheRuntimesToRefuse() {
        try (Arena arena = Arena.ofConfined()) {
            HipException e = assertThrows(HipException.class,
                    () -> GraphicsResource.registerBuffer(arena, 999_999, NONE));
            assertEquals(HipError.INVALID_VALUE, e.error());
            int texture = texture(16, 16, 1);
            assertThrows(HipException.class, () -> GraphicsResource.registerBuffer(arena, texture, NONE),
                    "a texture is not a buffer");
            assertThrows(HipException.class, () -> GraphicsResource.registerImage(arena, texture, GL_RENDERBUFFER, NONE),
                    "the test runtime has only GL_TEXTURE_2D textures");
        }
        assertEquals(1, calls("hipGraphicsGLRegisterImage"), "GL_RENDERBUFFER passed the Java checks");
    }

    // ---- data ---------------------------------------------------------------------------------------------

    @Test
    void aBufferRoundTripsThroughHip() {
        int name = buffer(SIZE);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fromGl = pattern(arena, SIZE, 1);
            assertEquals(SIZE, GlHooks.writeBuffer(name, fromGl));
            GraphicsResource resource = GraphicsResource.registerBuffer(arena, name, NONE);
            assertEquals(name, resource.glName());
            Stream stream = Stream.create(arena);
            MemorySegment fromHip = pattern(arena, SIZE, 2);
            MemorySegment back = Memory.allocatePinned(arena, SIZE);
            try (GraphicsResource.Mapping m = resource.map(stream)) {
                MemorySegment mapped = m.buffer(resource);
                assertEquals(SIZE, mapped.byteSize(), "the size the runtime reports");
                assertTrue(mapped.isReadOnly(), "Java must not write GPU memory directly");
                assertThrows(IllegalArgumentException.class, () -> mapped.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
                Memory.copy(back, mapped);
                assertEquals(-1, back.mismatch(fromGl), "HIP reads what GL wrote");
                Memory.copy(mapped, fromHip);
            }
            assertEquals(-1, GlHooks.readBuffer(arena, name, SIZE).mismatch(fromHip), "GL sees what HIP wrote");
        }
    }

    @Test
    void resourcesAndMappingsDescribeThemselves() {
        int bufferName = buffer(SIZE);
        int textureName = texture(64, 64, 2);
        GraphicsResource.Mapping mapping;
        ArrayLevel level;
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource buffer = GraphicsResource.registerBuffer(arena, bufferName, NONE);
            GraphicsResource image = GraphicsResource.registerImage(arena, textureName, GL_TEXTURE_2D, NONE);
            assertEquals("GraphicsResource[buffer " + bufferName + "]", buffer.toString());
            mapping = GraphicsResource.map(List.of(buffer, image), Stream.defaultStream());
            assertEquals("GraphicsResource[buffer " + bufferName + ", mapped]", buffer.toString());
            assertEquals("GraphicsResource.Mapping[buffer " + bufferName + ", image " + textureName + "]",
                    mapping.toString());
            level = mapping.array(image, 0, 1);
            assertEquals("ArrayLevel[level 1, 32x32x0, 4 B/element]", level.toString());
            mapping.close();
            assertEquals("GraphicsResource[buffer " + bufferName + "]", buffer.toString());
            buffer.close();
            assertEquals("GraphicsResource[buffer " + bufferName + ", closed]", buffer.toString());
        }
        assertEquals("GraphicsResource.Mapping[buffer " + bufferName + ", image " + textureName + ", closed]",
                mapping.toString());
        assertEquals("ArrayLevel[level 1, 32x32x0, 4 B/element, closed]", level.toString());
    }

    @Test
    void eachTextureLevelRoundTripsThroughHip() {
        int name = texture(64, 64, 2);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment level1FromGl = pattern(arena, 32 * 32 * 4, 5);
            assertEquals(level1FromGl.byteSize(), GlHooks.writeTexture(name, 1, level1FromGl));
            GraphicsResource texture = GraphicsResource.registerImage(arena, name, GL_TEXTURE_2D,
                    EnumSet.of(Flag.SURFACE_LOAD_STORE));
            MemorySegment level0FromHip = pattern(arena, 64 * 64 * 4, 6);
            try (GraphicsResource.Mapping m = texture.map(Stream.defaultStream())) {
                ArrayLevel level0 = m.array(texture, 0, 0);
                ArrayLevel level1 = m.array(texture, 0, 1);
                assertEquals(Extent.of(64, 64), level0.extent());
                assertEquals(Extent.of(32, 32), level1.extent());
                assertEquals(4, level0.bytesPerElement());
                assertEquals(1, level1.level());
                assertEquals(32 * 4, level1.rowBytes());
                MemorySegment back = Memory.allocatePinned(arena, level1.byteSize());
                level1.copyTo(back);
                assertEquals(-1, back.mismatch(level1FromGl), "HIP reads level 1 as GL wrote it");
                level0.copyFrom(level0FromHip);
                assertThrows(IllegalArgumentException.class, () -> level0.copyFrom(back), "too small for level 0");
            }
            assertEquals(-1, GlHooks.readTexture(arena, name, 0, 64 * 64 * 4).mismatch(level0FromHip),
                    "GL sees level 0 as HIP wrote it");
            assertEquals(-1, GlHooks.readTexture(arena, name, 1, 32 * 32 * 4).mismatch(level1FromGl),
                    "level 1 untouched");
        }
    }

    @Test
    void theFlagsReachTheRuntime() {
        int name = buffer(SIZE);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fromGl = pattern(arena, SIZE, 9);
            GlHooks.writeBuffer(name, fromGl);
            MemorySegment back = arena.allocate(SIZE);
            GraphicsResource readOnly = GraphicsResource.registerBuffer(arena, name, EnumSet.of(Flag.READ_ONLY));
            try (GraphicsResource.Mapping m = readOnly.map(Stream.defaultStream())) {
                Memory.copy(back, m.buffer(readOnly));
            }
            assertEquals(-1, back.mismatch(fromGl), "READ_ONLY keeps the contents");
            readOnly.close();

            // The test runtime makes WRITE_DISCARD's "contents undefined" visible: 0xDD everywhere after the map.
            GraphicsResource discard = GraphicsResource.registerBuffer(arena, name, EnumSet.of(Flag.WRITE_DISCARD));
            try (GraphicsResource.Mapping m = discard.map(Stream.defaultStream())) {
                Memory.copy(back, m.buffer(discard));
            }
            MemorySegment dd = arena.allocate(SIZE);
            dd.fill((byte) 0xDD);
            assertEquals(-1, back.mismatch(dd), "WRITE_DISCARD was passed as hipGraphicsRegisterFlagsWriteDiscard");
        }
    }

    @Test
    void mappingThreeResourcesIsOneNativeCallAndSoIsUnmapping() {
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource a = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            GraphicsResource b = GraphicsResource.registerBuffer(arena, buffer(2 * SIZE), NONE);
            GraphicsResource t = GraphicsResource.registerImage(arena, texture(8, 8, 1), GL_TEXTURE_2D, NONE);
            Stream stream = Stream.create(arena);
            GraphicsResource.Mapping m = GraphicsResource.map(List.of(a, b, t), stream);
            assertEquals(1, calls("hipGraphicsMapResources"));
            assertEquals(3, TestRuntime.live("graphicsMapping"));
            assertTrue(a.isMapped() && b.isMapped() && t.isMapped());
            assertEquals(List.of(a, b, t), m.resources());
            assertEquals(SIZE, m.buffer(a).byteSize());
            assertEquals(2 * SIZE, m.buffer(b).byteSize());
            assertEquals(Extent.of(8, 8), m.array(t, 0, 0).extent());
            m.close();
            assertEquals(1, calls("hipGraphicsUnmapResources"));
            assertEquals(0, TestRuntime.live("graphicsMapping"));
            assertFalse(a.isMapped() || b.isMapped() || t.isMapped());
        }
        assertEquals(3, calls("hipGraphicsUnregisterResource"));
        assertEquals(1, calls("hipGraphicsUnmapResources"), "nothing was mapped when the arena closed");
    }

    // ---- injected failures --------------------------------------------------------------------------------

    @Test
    void aFailedRegistrationLeavesNothing() {
        int name = buffer(SIZE);
        try (Arena arena = Arena.ofConfined()) {
            TestRuntime.failNext("hipGraphicsGLRegisterBuffer", HipError.OUT_OF_MEMORY, 0);
            HipException e = assertThrows(HipException.class, () -> GraphicsResource.registerBuffer(arena, name, NONE));
            assertEquals(HipError.OUT_OF_MEMORY, e.error());
            assertTrue(!e.getMessage().contains("GL context"), "out of memory gets no GL-context hint: " + e.getMessage());
            assertEquals(0, TestRuntime.live("graphicsResource"));
        }
        assertEquals(0, calls("hipGraphicsUnregisterResource"), "nothing to unregister");
    }

    @Test
    void aFailedMapLeavesNothingMapped() {
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource a = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            GraphicsResource b = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            TestRuntime.failNext("hipGraphicsMapResources", HipError.UNKNOWN, 0);
            HipException e = assertThrows(HipException.class,
                    () -> GraphicsResource.map(List.of(a, b), Stream.defaultStream()));
            assertTrue(e.getMessage().contains("GL context"), "the hint: " + e.getMessage());
            assertFalse(a.isMapped() || b.isMapped());
            assertEquals(0, TestRuntime.live("graphicsMapping"));
            GraphicsResource.map(List.of(a, b), Stream.defaultStream()).close();   // and they can be mapped
        }
        assertEquals(1, calls("hipGraphicsUnmapResources"));
        assertEquals(2, calls("hipGraphicsUnregisterResource"));
    }

    @Test
    void aFailedUnmapIsReportedAndCloseStillLeavesNothingMappedOrRegistered() {
        GraphicsResource.Mapping m;
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource a = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            GraphicsResource t = GraphicsResource.registerImage(arena, texture(8, 8, 1), GL_TEXTURE_2D, NONE);
            m = GraphicsResource.map(List.of(a, t), Stream.defaultStream());
            MemorySegment mapped = m.buffer(a);
            TestRuntime.failNext("hipGraphicsUnmapResources", HipError.UNKNOWN, 0);
            HipException e = assertThrows(HipException.class, m::close);
            assertEquals(HipError.UNKNOWN, e.error());
            assertTrue(m.isClosed(), "the mapping is closed in Java even though the runtime refused the unmap");
            assertThrows(IllegalStateException.class, () -> Memory.fill(mapped, (byte) 0));
            assertEquals(2, TestRuntime.live("graphicsMapping"), "still mapped in the runtime");
        }
        // The arena unregistered both, and unregistering a mapped resource unmaps it.
        assertEquals(0, TestRuntime.live("graphicsMapping"));
        assertEquals(0, TestRuntime.live("graphicsResource"));
        assertEquals(2, calls("hipGraphicsUnregisterResource"));
    }

    @Test
    void aFailedMappedPointerOrArrayKeepsTheMappingUsableAndCloseCleansUp() {
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource a = GraphicsResource.registerBuffer(arena, buffer(SIZE), NONE);
            GraphicsResource t = GraphicsResource.registerImage(arena, texture(8, 8, 1), GL_TEXTURE_2D, NONE);
            try (GraphicsResource.Mapping m = GraphicsResource.map(List.of(a, t), Stream.defaultStream())) {
                TestRuntime.failNext("hipGraphicsResourceGetMappedPointer", HipError.INVALID_VALUE, 0);
                HipException e = assertThrows(HipException.class, () -> m.buffer(a));
                assertEquals("hipGraphicsResourceGetMappedPointer", e.call());
                assertEquals(SIZE, m.buffer(a).byteSize(), "the next try works");

                TestRuntime.failNext("hipGraphicsSubResourceGetMappedArray", HipError.INVALID_VALUE, 0);
                assertThrows(HipException.class, () -> m.array(t, 0, 0));
                TestRuntime.failNext("hipArrayGetInfo", HipError.INVALID_VALUE, 0);
                assertThrows(HipException.class, () -> m.array(t, 0, 0));
                assertEquals(Extent.of(8, 8), m.array(t, 0, 0).extent());
            }
            assertEquals(0, TestRuntime.live("graphicsMapping"));
            TestRuntime.failNext("hipGraphicsResourceGetMappedPointer", HipError.INVALID_VALUE, 0);
            try (GraphicsResource.Mapping m = a.map(Stream.defaultStream())) {
                assertThrows(HipException.class, () -> m.buffer(a));
            }
            assertFalse(a.isMapped());
        }
        assertEquals(0, TestRuntime.live("graphicsResource"));
    }

    @Test
    void aFailedUnregisterIsReportedOnceAndNotRetried() {
        int name = buffer(SIZE);
        GraphicsResource resource;
        long raw;
        try (Arena arena = Arena.ofConfined()) {
            resource = GraphicsResource.registerBuffer(arena, name, NONE);
            raw = resource.handle().address();
            resource.map(Stream.defaultStream());
            TestRuntime.failNext("hipGraphicsUnregisterResource", HipError.UNKNOWN, 0);
            HipException e = assertThrows(HipException.class, resource::close);
            assertEquals("hipGraphicsUnregisterResource", e.call());
            assertTrue(resource.isClosed());
            assertFalse(resource.isMapped(), "the unmap before it went through");
            assertEquals(0, TestRuntime.live("graphicsMapping"));
            assertEquals(1, TestRuntime.live("graphicsResource"), "the refused unregister left it registered");
        }
        assertEquals(1, calls("hipGraphicsUnregisterResource"), "the arena did not try again");
        // Clean up behind the refused unregister, so that the fake GL object can be deleted.
        assertEquals(0, Raw.graphicsUnregisterResource(MemorySegment.ofAddress(raw)));
    }

    /** The test runtime's GL hooks ({@code hipffmTest_gl*}), bound through FFM. */
    static final class GlHooks {
        private static final MethodHandle SET_CONTEXT;
        private static final MethodHandle DEFINE_BUFFER;
        private static final MethodHandle DEFINE_TEXTURE;
        private static final MethodHandle DELETE;
        private static final MethodHandle BUFFER_DATA;
        private static final MethodHandle WRITE_BUFFER;
        private static final MethodHandle TEXTURE_DATA;
        private static final MethodHandle WRITE_TEXTURE;

        static {
            TestRuntime.calls("hipInit");       // loads the test runtime and checks it is the test runtime
            Linker linker = Linker.nativeLinker();
            SymbolLookup l = SymbolLookup.loaderLookup();
            ValueLayout i = ValueLayout.JAVA_INT;
            ValueLayout j = ValueLayout.JAVA_LONG;
            ValueLayout p = ValueLayout.ADDRESS;
            SET_CONTEXT = linker.downcallHandle(l.find("hipffmTest_glSetContext").orElseThrow(),
                    FunctionDescriptor.ofVoid(i));
            DEFINE_BUFFER = linker.downcallHandle(l.find("hipffmTest_glDefineBuffer").orElseThrow(),
                    FunctionDescriptor.of(i, i, j));
            DEFINE_TEXTURE = linker.downcallHandle(l.find("hipffmTest_glDefineTexture").orElseThrow(),
                    FunctionDescriptor.of(i, i, i, i, i, i, i));
            DELETE = linker.downcallHandle(l.find("hipffmTest_glDelete").orElseThrow(), FunctionDescriptor.of(i, i));
            BUFFER_DATA = linker.downcallHandle(l.find("hipffmTest_glBufferData").orElseThrow(),
                    FunctionDescriptor.of(j, i, j, p, j));
            WRITE_BUFFER = linker.downcallHandle(l.find("hipffmTest_glWriteBuffer").orElseThrow(),
                    FunctionDescriptor.of(j, i, j, p, j));
            TEXTURE_DATA = linker.downcallHandle(l.find("hipffmTest_glTextureData").orElseThrow(),
                    FunctionDescriptor.of(j, i, i, p, j));
            WRITE_TEXTURE = linker.downcallHandle(l.find("hipffmTest_glWriteTexture").orElseThrow(),
                    FunctionDescriptor.of(j, i, i, p, j));
        }

        private GlHooks() {
        }

        /** "A GL context is current" on the calling thread, or not. */
        static void setContext(boolean current) {
            try {
                SET_CONTEXT.invokeExact(current ? 1 : 0);
            } catch (Throwable t) {
                throw LinuxFds.propagate(t);
            }
        }

        static int defineBuffer(int name, long size) {
            try {
                return (int) DEFINE_BUFFER.invokeExact(name, size);
            } catch (Throwable t) {
                throw LinuxFds.propagate(t);
            }
        }

        static int defineTexture(int name, int target, int width, int height, int levels, int bytesPerTexel) {
            try {
                return (int) DEFINE_TEXTURE.invokeExact(name, target, width, height, levels, bytesPerTexel);
            } catch (Throwable t) {
                throw LinuxFds.propagate(t);
            }
        }

        static int delete(int name) {
            try {
                return (int) DELETE.invokeExact(name);
            } catch (Throwable t) {
                throw LinuxFds.propagate(t);
            }
        }

        static long writeBuffer(int name, MemorySegment src) {
            try {
                return (long) WRITE_BUFFER.invokeExact(name, 0L, src, src.byteSize());
            } catch (Throwable t) {
                throw LinuxFds.propagate(t);
            }
        }

        static MemorySegment readBuffer(Arena arena, int name, long size) {
            MemorySegment dst = arena.allocate(size);
            try {
                assertEquals(size, (long) BUFFER_DATA.invokeExact(name, 0L, dst, size));
            } catch (Throwable t) {
                throw LinuxFds.propagate(t);
            }
            return dst;
        }

        static long writeTexture(int name, int level, MemorySegment src) {
            try {
                return (long) WRITE_TEXTURE.invokeExact(name, level, src, src.byteSize());
            } catch (Throwable t) {
                throw LinuxFds.propagate(t);
            }
        }

        static MemorySegment readTexture(Arena arena, int name, int level, long size) {
            MemorySegment dst = arena.allocate(size);
            try {
                assertEquals(size, (long) TEXTURE_DATA.invokeExact(name, level, dst, size));
            } catch (Throwable t) {
                throw LinuxFds.propagate(t);
            }
            return dst;
        }

    }
}
