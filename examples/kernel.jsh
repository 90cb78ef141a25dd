// Compile a kernel at run time and launch it on an imported buffer. Run: scripts/jshell examples/kernel.jsh
// AMD: hiprtc compiles the source; NVIDIA: NVRTC. hip-ffm's CI test runtime has no compiler: it runs the same
// kernel, built in, on the CPU from a module that names it. The buffer is imported from an fd: here a memfd,
// which the test runtime accepts (on NVIDIA's with -Dhipffm.fdCheck=open); a real GPU runtime wants an fd
// exported by a GPU API (vkGetMemoryFdKHR), and hip-ffm or the runtime says so.
String source = """
    extern "C" __global__ void scale_add(float* x, float a, float b, long long n) {
        long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) x[i] = x[i] * a + b;
    }""";
// hip-ffm's test doubles (the test runtime, the cudart double over it) say so:
boolean testRuntime = SymbolLookup.libraryLookup(Hip.library(), Arena.global()).find("hipffmTest_isTestRuntime").isPresent();
int n = 1024;
var linker = Linker.nativeLinker();
var memfdCreate = linker.downcallHandle(linker.defaultLookup().find("memfd_create").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
var ftruncate = linker.downcallHandle(linker.defaultLookup().find("ftruncate").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
int fd;
try (Arena a = Arena.ofConfined()) {
    fd = (int) memfdCreate.invokeWithArguments(a.allocateFrom("hipffm-kernel-jsh"), 0);
    ftruncate.invokeWithArguments(fd, 4L * n);
}
try (Arena arena = Arena.ofConfined()) {
    byte[] code = testRuntime ? "hipffm-test-module\nscale_add\n".getBytes()
            : RuntimeCompiler.compile(source, "scale_add.hip").code();
    Kernel scaleAdd = HipModule.load(arena, code)
            .kernel("scale_add", Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.FLOAT, Kernel.Param.LONG);
    ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, 4L * n));
    MemorySegment x = memory.mapBuffer(0, 4L * n);                    // the imported buffer, as a device segment
    MemorySegment host = Memory.allocatePinned(arena, 4L * n);
    for (int i = 0; i < n; i++) host.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
    Memory.copy(x, host);
    Stream stream = Stream.create(arena);
    scaleAdd.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, x, 2.0f, 1.0f, (long) n);
    stream.synchronize();
    Memory.copy(host, x);
    System.out.println("x[0..3] = " + host.getAtIndex(ValueLayout.JAVA_FLOAT, 0) + " " + host.getAtIndex(ValueLayout.JAVA_FLOAT, 1)
            + " " + host.getAtIndex(ValueLayout.JAVA_FLOAT, 2) + " " + host.getAtIndex(ValueLayout.JAVA_FLOAT, 3));
} catch (HipException | CompilationException | IllegalArgumentException e) {
    System.out.println("failed: " + e.getMessage());
}
