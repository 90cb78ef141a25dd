package io.github.hipffm.gpu;

import io.github.hipffm.ArrayLevel;
import io.github.hipffm.Device;
import io.github.hipffm.Dim3;
import io.github.hipffm.GraphicsResource;
import io.github.hipffm.GraphicsResource.Flag;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.lwjgl.opengl.GL11C.GL_NO_ERROR;
import static org.lwjgl.opengl.GL11C.GL_RGBA;
import static org.lwjgl.opengl.GL11C.GL_RGBA8;
import static org.lwjgl.opengl.GL11C.GL_TEXTURE_2D;
import static org.lwjgl.opengl.GL11C.GL_UNSIGNED_BYTE;
import static org.lwjgl.opengl.GL11C.glBindTexture;
import static org.lwjgl.opengl.GL11C.glDeleteTextures;
import static org.lwjgl.opengl.GL11C.glFinish;
import static org.lwjgl.opengl.GL11C.glGenTextures;
import static org.lwjgl.opengl.GL11C.glGetError;
import static org.lwjgl.opengl.GL11C.glTexParameteri;
import static org.lwjgl.opengl.GL11C.nglGetTexImage;
import static org.lwjgl.opengl.GL11C.nglTexImage2D;
import static org.lwjgl.opengl.GL12C.GL_TEXTURE_MAX_LEVEL;
import static org.lwjgl.opengl.GL15C.GL_ARRAY_BUFFER;
import static org.lwjgl.opengl.GL15C.GL_DYNAMIC_DRAW;
import static org.lwjgl.opengl.GL15C.glBindBuffer;
import static org.lwjgl.opengl.GL15C.glBufferData;
import static org.lwjgl.opengl.GL15C.glDeleteBuffers;
import static org.lwjgl.opengl.GL15C.glGenBuffers;
import static org.lwjgl.opengl.GL15C.nglGetBufferSubData;

/**
 * The GL part of the soak, in a JVM of its own as the bundle runs every GL test ({@code gl} tag; its own phase of
 * {@code .bundle/run}, {@code HIPFFM_SOAK_GL} seconds, default 45, when {@code HIPFFM_SOAK} is set): on the thread
 * whose headless GL context is current, GL buffers and a texture are registered, mapped on a stream, filled,
 * incremented by a kernel, read back by HIP and by GL, unmapped and unregistered, in a confined arena per
 * operation or a long-lived one with {@code close()} (registering, mapping, unmapping and unregistering need the GL
 * context current, so these are not in the arenas another thread closes); meanwhile worker threads run the soak's
 * non-Vulkan kinds (kernels, copies, streams and events, module loads) with shared arenas closed mid-flight. Same
 * checks and figures as {@link SoakGpuTest}, into {@code soak-gl.txt}.
 */
@Tag("gpu")
@Tag("gl")
@Tag("soak")
class GlSoakGpuTest {
    private static final long KiB = 1024;

    @Test
    void glRegistrationsBesideAMixedWorkloadLeaveNothingBehind() throws Exception {
        Device device = Gpu.require();
        long soak = Churn.setting("hipffm.soak.seconds", "HIPFFM_SOAK", 0);
        long seconds = Churn.setting("hipffm.soak.glSeconds", "HIPFFM_SOAK_GL", soak > 0 ? 45 : 0);
        assumeTrue(seconds > 0, "no soak asked for: HIPFFM_SOAK=SECONDS (GL phase: HIPFFM_SOAK_GL, default 45) or "
                + "-Dhipffm.soak.seconds / -Dhipffm.soak.glSeconds");
        int threads = (int) Churn.setting("hipffm.soak.glThreads", "HIPFFM_SOAK_GL_THREADS", 3);
        long seed = Churn.setting("hipffm.soak.seed", "HIPFFM_SOAK_SEED", System.nanoTime());
        try (HeadlessGl gl = HeadlessGl.open(device.ordinal())) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("test", "GlSoakGpuTest: GL buffer and texture registrations, maps, fills, kernels, reads by HIP and GL"
                    + " on the GL thread; kernels, copies, streams and events, module loads with shared owner arenas"
                    + " closed mid-flight on the other threads");
            f.put("machine", Churn.machine(device) + "; GL: " + gl.description());
            f.put("seed", seed);
            f.put("threads", "1 GL + " + threads + " workers + 1 closing shared owner arenas");
            Loop loop = new Loop(seed);
            try {
                SoakGpuTest.soak(device, seconds, threads, seed, f, null, KernelGpuTest.ptx(), loop, "soak-gl.txt");
            } finally {
                loop.deleteGlObjects();
            }
        }
    }

    /** The GL thread's operations; its GL objects are made once, before the baseline, and deleted at the end. */
    private static final class Loop implements SoakGpuTest.GlLoop {
        private static final int TEXTURE_SIZE = 64;
        private final SplittableRandom random;
        private final int[] buffers = new int[6];
        private final long[] sizes = new long[buffers.length];
        private int texture;
        private Arena longLived;
        private Arena own;
        private MemorySegment host;
        private Kernel increment;
        private int uses;

        Loop(long seed) {
            random = new SplittableRandom(seed ^ 0x6c);
        }

        private void setUp() throws Exception {
            own = Arena.ofConfined();
            longLived = Arena.ofConfined();
            host = Memory.allocatePinned(own, 4 * KiB);
            increment = HipModule.load(own, KernelGpuTest.ptx()).kernel("increment", Kernel.Param.POINTER,
                    Kernel.Param.LONG);
            for (int i = 0; i < buffers.length; i++) {
                sizes[i] = SoakWorkload.randomSize(random, 16L << 20);
                buffers[i] = glGenBuffers();
                glBindBuffer(GL_ARRAY_BUFFER, buffers[i]);
                glBufferData(GL_ARRAY_BUFFER, sizes[i], GL_DYNAMIC_DRAW);
            }
            texture = glGenTextures();
            glBindTexture(GL_TEXTURE_2D, texture);
            nglTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, TEXTURE_SIZE, TEXTURE_SIZE, 0, GL_RGBA, GL_UNSIGNED_BYTE, 0L);
            glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAX_LEVEL, 0);
            glFinish();
            int error = glGetError();
            if (error != GL_NO_ERROR) {
                throw new IllegalStateException("GL error 0x" + Integer.toHexString(error) + " setting up the soak's GL objects");
            }
        }

        @Override
        public void run(long deadline, SoakWorkload work, boolean warmUp) throws Exception {
            if (own == null) {
                setUp();
            }
            if (warmUp) {
                for (int i = 0; i < 2 * buffers.length + 4; i++) {
                    one(work, i % 2 == 0, i % 5 == 4);
                }
                return;
            }
            while (System.nanoTime() < deadline) {
                one(work, random.nextBoolean(), random.nextInt(10) == 0);
            }
        }

        private void one(SoakWorkload work, boolean perOp, boolean image) {
            String[] stage = {"register"};
            Arena op = Arena.ofConfined();
            Arena owner = perOp ? op : longLived();
            try {
                Stream stream = Stream.create(op);
                if (image) {
                    imageRoundTrip(owner, op, stream, perOp, stage);
                } else {
                    bufferRoundTrip(work, owner, op, stream, perOp, stage);
                }
                int error = glGetError();
                if (error != GL_NO_ERROR) {
                    throw new AssertionError("GL error 0x" + Integer.toHexString(error));
                }
                work.counts.add("gl");
            } catch (Throwable t) {
                work.errors.add("gl/" + stage[0] + (perOp ? " (PER_OP)" : " (LONG_LIVED)"), t);
            } finally {
                try {
                    op.close();
                } catch (Throwable t) {
                    work.errors.add("gl/arena close", t);
                }
            }
        }

        private Arena longLived() {
            if (++uses % 2000 == 0) {
                longLived.close();
                longLived = Arena.ofConfined();
            }
            return longLived;
        }

        private void bufferRoundTrip(SoakWorkload work, Arena owner, Arena op, Stream stream, boolean perOp, String[] stage) {
            int i = random.nextInt(buffers.length);
            Set<Flag> flags = random.nextBoolean() ? EnumSet.noneOf(Flag.class) : EnumSet.of(Flag.WRITE_DISCARD);
            GraphicsResource resource = GraphicsResource.registerBuffer(owner, buffers[i], flags);
            work.counts.add("gl registrations");
            byte v = (byte) (random.nextInt(255) + 1);
            int b = v & 0xff;
            int word = b | b << 8 | b << 16 | b << 24;
            long window = Math.min(4 * KiB, sizes[i]);
            stage[0] = "map";
            try (GraphicsResource.Mapping m = resource.map(stream)) {
                MemorySegment buffer = m.buffer(resource);
                work.counts.add("gl maps");
                stage[0] = "fill";
                Memory.fill(buffer, v);
                stage[0] = "kernel";
                long n = buffer.byteSize() / 4;
                increment.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, buffer, n);
                stream.synchronize();
                stage[0] = "read back";
                long at = random.nextLong((buffer.byteSize() - window) / 4 + 1) * 4;
                Memory.copy(host, buffer.asSlice(at, window), window);
                SoakWorkload.check(host, window, word + 1, "GL buffer mapped by HIP after fill + increment");
                stage[0] = "unmap";
            }
            stage[0] = "read by GL";
            MemorySegment seen = op.allocate(window);
            glBindBuffer(GL_ARRAY_BUFFER, buffers[i]);
            nglGetBufferSubData(GL_ARRAY_BUFFER, 0, window, seen.address());
            SoakWorkload.check(seen, window, word + 1, "what GL reads after HIP unmapped");
            stage[0] = "unregister";
            if (!perOp) {
                resource.close();
            }
        }

        private void imageRoundTrip(Arena owner, Arena op, Stream stream, boolean perOp, String[] stage) {
            GraphicsResource resource = GraphicsResource.registerImage(owner, texture, GL_TEXTURE_2D,
                    EnumSet.noneOf(Flag.class));
            long bytes = 4L * TEXTURE_SIZE * TEXTURE_SIZE;
            MemorySegment written = Memory.allocatePinned(op, bytes);
            int salt = random.nextInt();
            for (long i = 0; i < bytes; i += 4) {
                written.set(ValueLayout.JAVA_INT_UNALIGNED, i, (int) (i * 0x9E3779B1L) ^ salt);
            }
            stage[0] = "map image";
            try (GraphicsResource.Mapping m = resource.map(stream)) {
                ArrayLevel level = m.array(resource, 0, 0);
                level.copyFrom(written);
                MemorySegment back = Memory.allocatePinned(op, bytes);
                level.copyTo(back);
                long mismatch = back.mismatch(written);
                if (mismatch >= 0) {
                    throw new AssertionError("texture level read back by HIP differs at byte " + mismatch);
                }
            }
            stage[0] = "read image by GL";
            MemorySegment seen = op.allocate(bytes);
            glBindTexture(GL_TEXTURE_2D, texture);
            nglGetTexImage(GL_TEXTURE_2D, 0, GL_RGBA, GL_UNSIGNED_BYTE, seen.address());
            long mismatch = seen.mismatch(written);
            if (mismatch >= 0) {
                throw new AssertionError("what GL reads of the texture differs from what HIP wrote at byte " + mismatch);
            }
            stage[0] = "unregister image";
            if (!perOp) {
                resource.close();
            }
        }

        @Override
        public void finish() {
            longLived.close();
            longLived = Arena.ofConfined();
        }

        void deleteGlObjects() {
            if (own != null) {
                longLived.close();
                own.close();
                glDeleteBuffers(buffers);
                glDeleteTextures(texture);
            }
        }
    }
}
