// The classic GL interop loop: GL owns a vertex buffer, a HIP kernel moves every vertex in place each frame, GL
// uses the result. Headless (EGL device platform, no X server) on an NVIDIA GPU; the kernel is the test kernels'
// PTX (src/test/cuda/kernels.cu, built by nvcc). Run from the project root, JAVA_HOME set to a JDK 22+ (the README's
// Requirements), the first line once:
//   mvn -q test-compile dependency:copy-dependencies -DincludeScope=test -DoutputDirectory=target/deps
//   scripts/jshell examples/gl-vertex-loop.jsh
// The same loop as a Java program: src/test/java/io/github/hipffm/examples/GlVertexLoopExample.java.
/env --class-path target/hip-ffm.jar:target/test-classes:target/deps/lwjgl-3.3.6.jar:target/deps/lwjgl-3.3.6-natives-linux.jar:target/deps/lwjgl-egl-3.3.6.jar:target/deps/lwjgl-opengl-3.3.6.jar:target/deps/lwjgl-opengl-3.3.6-natives-linux.jar
import io.github.hipffm.gpu.HeadlessGl;
import static org.lwjgl.opengl.GL15C.*;
int floats = 1 << 16, frames = 100;
float step = 0.25f;
try (HeadlessGl gl = HeadlessGl.open(0); Arena arena = Arena.ofConfined()) {      // a GL context, current here
    System.out.println("GL: " + gl.description());
    float[] positions = new float[floats];
    for (int i = 0; i < floats; i++) positions[i] = i;
    int vbo = glGenBuffers();                                                     // GL owns the vertex buffer
    glBindBuffer(GL_ARRAY_BUFFER, vbo);
    glBufferData(GL_ARRAY_BUFFER, positions, GL_DYNAMIC_DRAW);

    Kernel scaleAdd = HipModule.load(arena, java.nio.file.Path.of("target/test-classes/io/github/hipffm/kernels.ptx"))
            .kernel("scale_add", Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.FLOAT, Kernel.Param.LONG);
    KernelArgs args = scaleAdd.newArgs(arena).set(1, 1.0f).set(2, step).set(3, (long) floats);   // x = x * 1 + step
    Stream stream = Stream.create(arena);
    GraphicsResource vertices = GraphicsResource.registerBuffer(arena, vbo, EnumSet.noneOf(GraphicsResource.Flag.class));

    for (int frame = 1; frame <= frames; frame++) {
        try (GraphicsResource.Mapping m = vertices.map(stream)) {                // HIP's turn
            scaleAdd.launch(Dim3.covering(floats, 256), Dim3.of(256), 0, stream, args.set(0, m.buffer(vertices)));
        }                                                                         // unmapped: GL's turn
        glGetBufferSubData(GL_ARRAY_BUFFER, 0, positions);                       // a renderer: glDrawArrays
        if (frame % 25 == 0) System.out.printf("frame %3d: first vertex (%.2f, %.2f)%n", frame, positions[0], positions[1]);
    }
    double sum = 0;
    for (float p : positions) sum += p;
    System.out.printf("%d frames over %d floats: checksum %.1f (expected %.1f)%n", frames, floats, sum,
            (double) floats * (floats - 1) / 2 + (double) floats * frames * step);
    vertices.close();                                                             // unregister before GL deletes it
    glDeleteBuffers(vbo);
} catch (HipException | IllegalStateException | LinkageError e) {   // no GPU, no EGL device, no EGL library
    System.out.println("failed: " + e.getMessage());
}
