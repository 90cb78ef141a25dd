package io.github.hipffm.examples;

import io.github.hipffm.Dim3;
import io.github.hipffm.GraphicsResource;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Stream;
import io.github.hipffm.gpu.HeadlessGl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;

import static org.lwjgl.opengl.GL15C.GL_ARRAY_BUFFER;
import static org.lwjgl.opengl.GL15C.GL_DYNAMIC_DRAW;
import static org.lwjgl.opengl.GL15C.glBindBuffer;
import static org.lwjgl.opengl.GL15C.glBufferData;
import static org.lwjgl.opengl.GL15C.glDeleteBuffers;
import static org.lwjgl.opengl.GL15C.glGenBuffers;
import static org.lwjgl.opengl.GL15C.glGetBufferSubData;

/**
 * The classic GL interop loop: GL owns a vertex buffer, a HIP kernel updates it in place every frame, GL uses it.
 *
 * <pre>
 *   register the GL buffer once
 *   every frame:  map (HIP's turn) -> launch the kernel on the mapped pointer -> unmap (GL's turn) -> GL draws
 * </pre>
 *
 * The kernel is {@code scale_add(float* x, float a, float b, long long n)}: {@code x[i] = x[i] * a + b}, from the
 * test kernels' PTX ({@code src/test/cuda/kernels.cu}, NVIDIA). Each frame moves every coordinate by
 * {@link #STEP}; GL then reads the buffer back (where a renderer would call {@code glDrawArrays}). A GL context
 * must be current on the calling thread; {@link #main} makes a headless one.
 */
public final class GlVertexLoopExample {
    /** How far each frame moves every coordinate. */
    public static final float STEP = 0.25f;

    private GlVertexLoopExample() {
    }

    /**
     * Runs the loop on a new GL vertex buffer of {@code floats} floats, initially {@code 0, 1, 2, ...}.
     *
     * @param floats the vertex buffer's size in floats (e.g. 2 per 2D vertex)
     * @param frames how many frames
     * @return the buffer's final contents, as GL reads them
     */
    public static float[] run(int floats, int frames) {
        // GL: a vertex buffer with the initial positions
        float[] initial = new float[floats];
        for (int i = 0; i < floats; i++) {
            initial[i] = i;
        }
        int vbo = glGenBuffers();
        glBindBuffer(GL_ARRAY_BUFFER, vbo);
        glBufferData(GL_ARRAY_BUFFER, initial, GL_DYNAMIC_DRAW);
        try {
            try (Arena arena = Arena.ofConfined()) {
                // HIP: the kernel, a stream, and the GL buffer registered once (unregistered when the arena closes)
                Kernel scaleAdd = HipModule.load(arena, ptx()).kernel("scale_add",
                        Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.FLOAT, Kernel.Param.LONG);
                KernelArgs args = scaleAdd.newArgs(arena).set(1, 1.0f).set(2, STEP).set(3, (long) floats);
                Stream stream = Stream.create(arena);
                GraphicsResource vertices = GraphicsResource.registerBuffer(arena, vbo,
                        EnumSet.noneOf(GraphicsResource.Flag.class));
                float[] firstVertex = new float[2];
                for (int frame = 1; frame <= frames; frame++) {
                    try (GraphicsResource.Mapping m = vertices.map(stream)) {           // HIP's turn
                        MemorySegment x = m.buffer(vertices);        // the pointer may change from map to map
                        scaleAdd.launch(Dim3.covering(floats, 256), Dim3.of(256), 0, stream, args.set(0, x));
                    }                                                 // unmapped: GL's turn
                    glGetBufferSubData(GL_ARRAY_BUFFER, 0, firstVertex);           // a renderer: glDrawArrays
                    if (frame % 25 == 0 || frame == frames) {
                        System.out.printf("frame %3d: first vertex (%.2f, %.2f)%n", frame, firstVertex[0],
                                firstVertex[1]);
                    }
                }
            }
            float[] result = new float[floats];
            glGetBufferSubData(GL_ARRAY_BUFFER, 0, result);
            return result;
        } finally {
            glDeleteBuffers(vbo);
        }
    }

    /** {@return the sum of the values, as a checksum} @param values the buffer's contents */
    public static double checksum(float[] values) {
        double sum = 0;
        for (float v : values) {
            sum += v;
        }
        return sum;
    }

    /** {@return the test kernels' PTX, from the class path} */
    static byte[] ptx() {
        try (InputStream in = GlVertexLoopExample.class.getResourceAsStream("/io/github/hipffm/kernels.ptx")) {
            if (in == null) {
                throw new IllegalStateException("kernels.ptx is not on the class path (src/test/cuda/build.sh builds it)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Makes a headless GL context on GPU 0, runs 100 frames over 64 Ki floats and prints a checksum. @param args unused */
    public static void main(String[] args) {
        int floats = 1 << 16;
        int frames = 100;
        try (HeadlessGl gl = HeadlessGl.open(0)) {
            System.out.println("GL: " + gl.description());
            float[] result = run(floats, frames);
            double expected = (double) floats * (floats - 1) / 2 + (double) floats * frames * STEP;
            System.out.printf("%d frames over %d floats: checksum %.1f (expected %.1f)%n", frames, floats,
                    checksum(result), expected);
        }
    }
}
