package io.github.hipffm.gpu;

import io.github.hipffm.ArrayLevel;
import io.github.hipffm.Device;
import io.github.hipffm.Dim3;
import io.github.hipffm.Extent;
import io.github.hipffm.GraphicsResource;
import io.github.hipffm.GraphicsResource.Flag;
import io.github.hipffm.Hip;
import io.github.hipffm.HipException;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.examples.GlVertexLoopExample;
import io.github.hipffm.testrt.LinuxFds;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lwjgl.opengl.GL11C.GL_NO_ERROR;
import static org.lwjgl.opengl.GL11C.GL_RGBA;
import static org.lwjgl.opengl.GL11C.GL_RGBA8;
import static org.lwjgl.opengl.GL11C.GL_TEXTURE_2D;
import static org.lwjgl.opengl.GL11C.GL_UNSIGNED_BYTE;
import static org.lwjgl.opengl.GL11C.glBindTexture;
import static org.lwjgl.opengl.GL11C.glDeleteTextures;
import static org.lwjgl.opengl.GL11C.glGenTextures;
import static org.lwjgl.opengl.GL11C.glGetError;
import static org.lwjgl.opengl.GL11C.glTexParameteri;
import static org.lwjgl.opengl.GL11C.nglGetTexImage;
import static org.lwjgl.opengl.GL11C.nglTexImage2D;
import static org.lwjgl.opengl.GL11C.nglTexSubImage2D;
import static org.lwjgl.opengl.GL12C.GL_TEXTURE_MAX_LEVEL;
import static org.lwjgl.opengl.GL15C.GL_ARRAY_BUFFER;
import static org.lwjgl.opengl.GL15C.GL_DYNAMIC_DRAW;
import static org.lwjgl.opengl.GL15C.glBindBuffer;
import static org.lwjgl.opengl.GL15C.glBufferData;
import static org.lwjgl.opengl.GL15C.glDeleteBuffers;
import static org.lwjgl.opengl.GL15C.glGenBuffers;
import static org.lwjgl.opengl.GL15C.glGetBufferSubData;
import static org.lwjgl.opengl.GL15C.nglBufferSubData;
import static org.lwjgl.opengl.GL15C.nglGetBufferSubData;

/**
 * Real GPU, real GL: a headless OpenGL context (EGL device platform, {@link HeadlessGl}) on the GPU that HIP's
 * device 0 is; GL buffers and textures registered with {@link GraphicsResource}, and GL and HIP check each
 * other's work. Skipped with the reason where there is no GPU.
 */
@Tag("gpu")
@Tag("gl")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GlInteropGpuTest {
    private static final long MiB = 1L << 20;
    private static final Set<Flag> NONE = EnumSet.noneOf(Flag.class);
    private static Device device;
    private static HeadlessGl gl;

    @BeforeAll
    static void open() {
        if (Gpu.unavailableReason() != null) {
            return;                         // each test is skipped with the reason in @BeforeEach
        }
        device = Gpu.require();
        gl = HeadlessGl.open(device.ordinal());
        String devices;
        try {
            devices = GraphicsResource.glDevices().toString();
        } catch (HipException e) {
            devices = "failed: " + e.getMessage();      // glDevicesNamesHipDeviceZero fails on it
        }
        Gpu.record("GL context: " + gl.description() + "; EGL device " + gl.eglDevice() + " of "
                + gl.eglDeviceCount() + "; hipGLGetDevices: " + devices);
    }

    @AfterAll
    static void close() {
        if (gl != null) {
            gl.makeCurrent();
            gl.close();
        }
    }

    @BeforeEach
    void gpu() {
        Gpu.require();
        if (!gl.isCurrent()) {
            gl.makeCurrent();               // JUnit may run a test on another thread than @BeforeAll's
        }
        glGetError();                       // start each test with no GL error pending
    }

    @AfterEach
    void noGlError() {
        if (gl != null && gl.isCurrent()) {
            assertEquals(GL_NO_ERROR, glGetError(), "GL error after the test");
        }
    }

    /** {@return a new GL buffer of {@code size} bytes, bound to GL_ARRAY_BUFFER, holding {@code data}} */
    private static int glBuffer(long size, MemorySegment data) {
        int buffer = glGenBuffers();
        glBindBuffer(GL_ARRAY_BUFFER, buffer);
        glBufferData(GL_ARRAY_BUFFER, size, GL_DYNAMIC_DRAW);
        if (data != null) {
            glWrite(buffer, data);
        }
        return buffer;
    }

    private static void glWrite(int buffer, MemorySegment data) {
        glBindBuffer(GL_ARRAY_BUFFER, buffer);
        nglBufferSubData(GL_ARRAY_BUFFER, 0, data.byteSize(), data.address());
    }

    /** {@return what GL sees in the first {@code size} bytes of {@code buffer}} */
    private static MemorySegment glRead(Arena arena, int buffer, long size) {
        MemorySegment out = arena.allocate(size);
        glBindBuffer(GL_ARRAY_BUFFER, buffer);
        nglGetBufferSubData(GL_ARRAY_BUFFER, 0, size, out.address());
        return out;
    }

    private static MemorySegment pattern(Arena arena, long size, int salt) {
        return VulkanInteropGpuTest.pattern(arena, size, salt);
    }

    @Test
    void aBufferRoundTripsBetweenGlAndHip() {
        long size = MiB;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fromGl = pattern(arena, size, 11);
            int buffer = glBuffer(size, fromGl);
            try {
                GraphicsResource resource = GraphicsResource.registerBuffer(arena, buffer, NONE);
                Stream stream = Stream.create(arena);
                MemorySegment fromHip = pattern(arena, size, 77);
                try (GraphicsResource.Mapping m = resource.map(stream)) {
                    MemorySegment mapped = m.buffer(resource);
                    Gpu.record("GL buffer of " + size + " bytes mapped: " + mapped.byteSize() + " bytes at 0x"
                            + Long.toHexString(mapped.address()));
                    assertTrue(mapped.byteSize() >= size, "mapped size " + mapped.byteSize());
                    MemorySegment back = Memory.allocatePinned(arena, size);
                    Memory.copy(back, mapped, size);
                    assertEquals(-1, back.mismatch(fromGl), "first byte where HIP sees something else than GL wrote");
                    Memory.copy(mapped, fromHip, size);
                }
                assertEquals(-1, glRead(arena, buffer, size).mismatch(fromHip),
                        "first byte where GL sees something else than HIP wrote");
                resource.close();
            } finally {
                glDeleteBuffers(buffer);
            }
        }
    }

    @Test
    void eachLevelOfATextureRoundTripsBetweenGlAndHip() {
        int[] sizes = {64, 32};
        int tex = glGenTextures();
        glBindTexture(GL_TEXTURE_2D, tex);
        for (int level = 0; level < sizes.length; level++) {
            nglTexImage2D(GL_TEXTURE_2D, level, GL_RGBA8, sizes[level], sizes[level], 0, GL_RGBA, GL_UNSIGNED_BYTE, 0L);
        }
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAX_LEVEL, sizes.length - 1);
        assertEquals(GL_NO_ERROR, glGetError(), "GL texture set up");
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource texture = GraphicsResource.registerImage(arena, tex, GL_TEXTURE_2D, NONE);
            assertTrue(texture.isImage());
            Stream stream = Stream.create(arena);
            MemorySegment[] fromHip = new MemorySegment[sizes.length];
            try (GraphicsResource.Mapping m = texture.map(stream)) {
                for (int level = 0; level < sizes.length; level++) {
                    ArrayLevel array = m.array(texture, 0, level);
                    Gpu.record("GL texture level " + level + " mapped: " + array);
                    assertEquals(Extent.of(sizes[level], sizes[level]), array.extent(), "level " + level);
                    assertEquals(4, array.bytesPerElement(), "GL_RGBA8: 4 bytes per texel");
                    fromHip[level] = pattern(arena, array.byteSize(), 20 + level);
                    array.copyFrom(fromHip[level]);
                }
            }
            for (int level = 0; level < sizes.length; level++) {
                MemorySegment seen = arena.allocate(4L * sizes[level] * sizes[level]);
                nglGetTexImage(GL_TEXTURE_2D, level, GL_RGBA, GL_UNSIGNED_BYTE, seen.address());
                assertEquals(-1, seen.mismatch(fromHip[level]), "level " + level + ": first byte where GL sees"
                        + " something else than HIP wrote");
            }

            // The other way: GL writes each level, HIP reads it.
            MemorySegment[] fromGl = new MemorySegment[sizes.length];
            for (int level = 0; level < sizes.length; level++) {
                fromGl[level] = pattern(arena, 4L * sizes[level] * sizes[level], 60 + level);
                nglTexSubImage2D(GL_TEXTURE_2D, level, 0, 0, sizes[level], sizes[level], GL_RGBA, GL_UNSIGNED_BYTE,
                        fromGl[level].address());
            }
            assertEquals(GL_NO_ERROR, glGetError(), "glTexSubImage2D");
            try (GraphicsResource.Mapping m = texture.map(stream)) {
                for (int level = 0; level < sizes.length; level++) {
                    ArrayLevel array = m.array(texture, 0, level);
                    MemorySegment back = Memory.allocatePinned(arena, array.byteSize());
                    array.copyTo(back);
                    assertEquals(-1, back.mismatch(fromGl[level]), "level " + level + ": first byte where HIP sees"
                            + " something else than GL wrote");
                }
            }
            texture.close();
        } finally {
            glDeleteTextures(tex);
        }
    }

    @Test
    void aThousandMapUnmapCyclesLeakNothing() {
        long size = MiB;
        int buffer = glBuffer(size, null);
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource resource = GraphicsResource.registerBuffer(arena, buffer, NONE);
            Stream stream = Stream.create(arena);
            for (int i = 0; i < 100; i++) {
                cycle(resource, stream);    // warm up: lazily created runtime state is not a leak
            }
            // Free memory every 100 cycles, 2,000 cycles: a leak grows with the cycles, a driver pool that grows
            // once does not (the H200 run showed one 64 KiB step within the first thousand).
            long[] free = new long[21];
            long fdsBefore = LinuxFds.count();
            long start = System.nanoTime();
            free[0] = device.memoryInfo().free();
            for (int k = 1; k < free.length; k++) {
                for (int i = 0; i < 100; i++) {
                    cycle(resource, stream);
                }
                free[k] = device.memoryInfo().free();
            }
            long micros = (System.nanoTime() - start) / 1000 / 2000;
            long fdsAfter = LinuxFds.count();
            Gpu.record("leak-check 2000 GL map->buffer->unmap cycles after 100 warm-up (1 MiB buffer, " + micros
                    + " us per cycle): free memory " + free[0] + " -> " + free[10] + " (1000) -> " + free[20]
                    + " (2000) bytes, steps every 100 cycles " + steps(free) + ", open fds " + fdsBefore + " -> "
                    + fdsAfter);
            assertEquals(fdsBefore, fdsAfter, "open fds");
            assertEquals(free[10], free[20], "free device memory over the second 1000 cycles");
            assertTrue(free[0] - free[20] < size, "2000 cycles took " + (free[0] - free[20])
                    + " bytes of device memory: a mapping's worth or more");

            // Registering and unregistering each time leaks nothing either.
            for (int i = 0; i < 10; i++) {
                register(buffer);
            }
            long[] reg = new long[3];
            fdsBefore = LinuxFds.count();
            reg[0] = device.memoryInfo().free();
            for (int k = 1; k < reg.length; k++) {
                for (int i = 0; i < 200; i++) {
                    register(buffer);
                }
                reg[k] = device.memoryInfo().free();
            }
            fdsAfter = LinuxFds.count();
            Gpu.record("leak-check 400 GL register->map->unmap->unregister cycles after 10 warm-up (1 MiB buffer): "
                    + "free memory " + reg[0] + " -> " + reg[1] + " (200) -> " + reg[2] + " (400) bytes, open fds "
                    + fdsBefore + " -> " + fdsAfter);
            assertEquals(fdsBefore, fdsAfter, "open fds");
            assertEquals(reg[1], reg[2], "free device memory over the second 200 cycles");
            assertTrue(reg[0] - reg[2] < size, "400 registrations took " + (reg[0] - reg[2]) + " bytes");
        } finally {
            glDeleteBuffers(buffer);
        }
    }

    /** {@return the changes between successive free-memory samples that are not 0, as "index:delta"} */
    private static String steps(long[] free) {
        StringBuilder b = new StringBuilder("[");
        for (int k = 1; k < free.length; k++) {
            if (free[k] != free[k - 1]) {
                b.append(b.length() > 1 ? ", " : "").append(k * 100).append(": ").append(free[k] - free[k - 1]);
            }
        }
        return b.append(']').toString();
    }

    private static void cycle(GraphicsResource resource, Stream stream) {
        try (GraphicsResource.Mapping m = resource.map(stream)) {
            m.buffer(resource);
        }
    }

    private static void register(int buffer) {
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource resource = GraphicsResource.registerBuffer(arena, buffer, NONE);
            resource.map(Stream.defaultStream()).buffer(resource);
        }                                   // unmapped, then unregistered
    }

    @Test
    void writeDiscardLetsHipOverwriteTheWholeBuffer() {
        long size = MiB;
        try (Arena arena = Arena.ofConfined()) {
            int buffer = glBuffer(size, pattern(arena, size, 1));
            try {
                GraphicsResource resource = GraphicsResource.registerBuffer(arena, buffer, EnumSet.of(Flag.WRITE_DISCARD));
                MemorySegment fromHip = pattern(arena, size, 2);
                try (GraphicsResource.Mapping m = resource.map(Stream.defaultStream())) {
                    Memory.copy(m.buffer(resource), fromHip, size);
                }
                assertEquals(-1, glRead(arena, buffer, size).mismatch(fromHip), "GL sees what HIP wrote");
                resource.close();
            } finally {
                glDeleteBuffers(buffer);
            }
        }
    }

    @Test
    void readOnlyLetsHipReadWhatGlWrote() {
        long size = MiB;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fromGl = pattern(arena, size, 3);
            int buffer = glBuffer(size, fromGl);
            try {
                GraphicsResource resource = GraphicsResource.registerBuffer(arena, buffer, EnumSet.of(Flag.READ_ONLY));
                for (int round = 0; round < 2; round++) {
                    try (GraphicsResource.Mapping m = resource.map(Stream.defaultStream())) {
                        MemorySegment back = Memory.allocatePinned(arena, size);
                        Memory.copy(back, m.buffer(resource), size);
                        assertEquals(-1, back.mismatch(fromGl), "round " + round + ": HIP reads what GL wrote");
                    }
                    fromGl = pattern(arena, size, 4);
                    glWrite(buffer, fromGl);                // GL changes it between two maps
                }
                resource.close();
            } finally {
                glDeleteBuffers(buffer);
            }
        }
    }

    /**
     * Writing into a READ_ONLY resource is undefined (CUDA's documentation), so this only records what happens.
     * It runs last in this class: should the write fault, the CUDA context would be unusable afterwards.
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void whatAWriteIntoAReadOnlyBufferDoesIsRecorded() {
        long size = MiB;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fromGl = pattern(arena, size, 3);
            int buffer = glBuffer(size, fromGl);
            try {
                GraphicsResource resource = GraphicsResource.registerBuffer(arena, buffer, EnumSet.of(Flag.READ_ONLY));
                String write;
                GraphicsResource.Mapping m = resource.map(Stream.defaultStream());
                try {
                    MemorySegment mapped = m.buffer(resource);
                    MemorySegment back = Memory.allocatePinned(arena, size);
                    Memory.copy(back, mapped, size);
                    assertEquals(-1, back.mismatch(fromGl), "HIP reads what GL wrote");
                    Memory.fill(mapped, (byte) 0x77);
                    Stream.defaultStream().synchronize();
                    write = "hipMemset succeeded";
                } catch (HipException e) {
                    write = "hipMemset failed: " + e.getMessage();
                }
                try {
                    m.close();
                    write += ", unmap succeeded";
                } catch (HipException e) {
                    write += ", unmap failed: " + e.getMessage();
                }
                MemorySegment seen = glRead(arena, buffer, size);
                long sevens = 0;
                for (long i = 0; i < size; i++) {
                    sevens += seen.get(ValueLayout.JAVA_BYTE, i) == 0x77 ? 1 : 0;
                }
                String outcome = seen.mismatch(fromGl) == -1 ? "GL still sees its own data (the write was dropped)"
                        : sevens == size ? "GL sees HIP's 0x77 everywhere (the write went through)"
                        : "GL sees a mix: " + sevens + " of " + size + " bytes are 0x77";
                Gpu.record("READ_ONLY GL buffer, HIP wrote 0x77 into it: " + write + "; then " + outcome);
                resource.close();
            } finally {
                glDeleteBuffers(buffer);
            }
        }
    }

    @Test
    void segmentsDieWithTheirMappingAndCloseUnmapsFirst() {
        long size = 64 * 1024;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = pattern(arena, size, 5);
            int buffer = glBuffer(size, data);
            try {
                GraphicsResource resource = GraphicsResource.registerBuffer(arena, buffer, NONE);
                MemorySegment back = Memory.allocatePinned(arena, size);
                GraphicsResource.Mapping m = resource.map(Stream.defaultStream());
                MemorySegment mapped = m.buffer(resource);
                m.close();
                assertFalse(resource.isMapped());
                assertThrows(IllegalStateException.class, () -> Memory.copy(back, mapped, size),
                        "a segment of a closed mapping");
                assertThrows(IllegalStateException.class, () -> m.buffer(resource));

                GraphicsResource.Mapping again = resource.map(Stream.defaultStream());
                MemorySegment mappedAgain = again.buffer(resource);
                resource.close();            // mapped: unmaps, then unregisters
                assertTrue(again.isClosed(), "closing the resource closed its mapping");
                assertTrue(resource.isClosed());
                assertThrows(IllegalStateException.class, () -> Memory.copy(back, mappedAgain, size));
                assertThrows(IllegalStateException.class, () -> resource.map(Stream.defaultStream()));
                resource.close();            // harmless
                assertEquals(-1, glRead(arena, buffer, size).mismatch(data), "GL still has its buffer");

                // Registered again after all that: the runtime let go of it.
                GraphicsResource second = GraphicsResource.registerBuffer(arena, buffer, NONE);
                try (GraphicsResource.Mapping m2 = second.map(Stream.defaultStream())) {
                    Memory.copy(back, m2.buffer(second), size);
                }
                assertEquals(-1, back.mismatch(data));
            } finally {
                glDeleteBuffers(buffer);
            }
        }
    }

    @Test
    void glDevicesNamesHipDeviceZero() {
        List<Device> devices = GraphicsResource.glDevices();
        Gpu.record("hipGLGetDevices: " + devices + " (EGL device " + gl.eglDevice() + ", CUDA device "
                + gl.cudaDevice() + ")");
        assertTrue(devices.contains(Hip.device(0)), "the GL context is on HIP device 0: " + devices);
    }

    @Test
    void registeringWithNoGlContextCurrentFailsWithTheHint() {
        int buffer = glBuffer(4096, null);
        try {
            gl.release();
            HipException e;
            try (Arena arena = Arena.ofConfined()) {
                e = assertThrows(HipException.class, () -> GraphicsResource.registerBuffer(arena, buffer, NONE));
            } finally {
                gl.makeCurrent();
            }
            Gpu.record("hipGraphicsGLRegisterBuffer with no GL context current: " + e.getMessage());
            assertTrue(e.getMessage().contains("GL context"), e.getMessage());
        } finally {
            glDeleteBuffers(buffer);
        }
    }

    @Test
    void aKernelUpdatesAGlVertexBufferEveryFrame() throws IOException {
        int n = 1 << 16;
        int frames = 100;
        float[] initial = new float[n];
        for (int i = 0; i < n; i++) {
            initial[i] = i;
        }
        int vbo = glGenBuffers();
        glBindBuffer(GL_ARRAY_BUFFER, vbo);
        glBufferData(GL_ARRAY_BUFFER, initial, GL_DYNAMIC_DRAW);
        try (Arena arena = Arena.ofConfined()) {
            Kernel scaleAdd = HipModule.load(arena, KernelGpuTest.ptx()).kernel("scale_add", Kernel.Param.POINTER,
                    Kernel.Param.FLOAT, Kernel.Param.FLOAT, Kernel.Param.LONG);
            KernelArgs args = scaleAdd.newArgs(arena).set(1, 1.0f).set(3, (long) n);
            Stream stream = Stream.create(arena);
            GraphicsResource vertices = GraphicsResource.registerBuffer(arena, vbo, NONE);
            float[] first = new float[1];
            for (int frame = 0; frame < frames; frame++) {
                try (GraphicsResource.Mapping m = vertices.map(stream)) {
                    scaleAdd.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream,
                            args.set(0, m.buffer(vertices)).set(2, (float) frame));
                }
                glGetBufferSubData(GL_ARRAY_BUFFER, 0, first);        // GL uses it between frames
                assertEquals(frame * (frame + 1) / 2f, first[0], "x[0] after frame " + frame);
            }
            vertices.close();
            float[] seen = new float[n];
            glGetBufferSubData(GL_ARRAY_BUFFER, 0, seen);
            float[] expected = new float[n];
            float added = frames * (frames - 1) / 2f;        // 0 + 1 + ... + 99: exact in float, like every sum
            for (int i = 0; i < n; i++) {
                expected[i] = i + added;
            }
            assertArrayEquals(expected, seen, "GL sees x[i] = i + sum of the frame numbers");
        } finally {
            glDeleteBuffers(vbo);
        }
    }

    @Test
    void theVertexLoopExampleRuns() {
        int floats = 4096;
        int frames = 100;
        float[] result = GlVertexLoopExample.run(floats, frames);
        double expected = (double) floats * (floats - 1) / 2 + (double) floats * frames * GlVertexLoopExample.STEP;
        Gpu.record("GlVertexLoopExample: " + frames + " frames over " + floats + " floats, checksum "
                + GlVertexLoopExample.checksum(result) + " (expected " + expected + ")");
        for (int i = 0; i < floats; i++) {
            assertEquals(i + frames * GlVertexLoopExample.STEP, result[i], "x[" + i + "]");
        }
        assertEquals(expected, GlVertexLoopExample.checksum(result));
    }
}
