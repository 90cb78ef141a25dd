// Compile a kernel at run time and launch it on an imported buffer. Run: scripts/jshell examples/kernel.jsh
// AMD: hiprtc compiles the source; NVIDIA: NVRTC (where available). hip-ffm's CI test runtime has no compiler:
// it runs the same kernel, built in, on the CPU from a module that names it.
String source = """
    extern "C" __global__ void scale_add(float* x, float a, float b, long long n) {
        long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) x[i] = x[i] * a + b;
    }""";
boolean testRuntime = Hip.library().getFileName().toString().contains("testrt");
int n = 1024;
try (Arena arena = Arena.ofConfined()) {
    byte[] code = testRuntime ? "hipffm-test-module\nscale_add\n".getBytes()
            : RuntimeCompiler.compile(source, "scale_add.hip").code();
    HipModule module = HipModule.load(arena, code);
    Kernel scaleAdd = module.kernel("scale_add", Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.FLOAT, Kernel.Param.LONG);
    MemorySegment host = Memory.allocatePinned(arena, 4L * n);
    for (int i = 0; i < n; i++) host.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
    MemorySegment device = Memory.allocateDevice(arena, 4L * n);     // an imported mapBuffer() works the same way
    Memory.copy(device, host);
    Stream stream = Stream.create(arena);
    scaleAdd.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, device, 2.0f, 1.0f, (long) n);
    stream.synchronize();
    Memory.copy(host, device);
    System.out.println("x[0..3] = " + host.getAtIndex(ValueLayout.JAVA_FLOAT, 0) + " " + host.getAtIndex(ValueLayout.JAVA_FLOAT, 1)
            + " " + host.getAtIndex(ValueLayout.JAVA_FLOAT, 2) + " " + host.getAtIndex(ValueLayout.JAVA_FLOAT, 3));
} catch (HipException | CompilationException e) {
    System.out.println("failed: " + e.getMessage());
}
/exit
