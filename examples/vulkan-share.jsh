// A Vulkan buffer and a timeline semaphore shared with a HIP kernel, through hip-ffm-vulkan (vulkan/).
// Run (from the repository root, after `mvn -q install -DskipTests`):
//   mvn -q -f vulkan/pom.xml package dependency:build-classpath -Dmdep.outputFile=target/cp.txt -DskipTests
//   jshell --class-path "vulkan/target/classes:$(cat vulkan/target/cp.txt)" -R--enable-native-access=ALL-UNNAMED \
//     --startup DEFAULT --startup scripts/jshell-startup.jsh examples/vulkan-share.jsh scripts/jshell-exit.jsh
// On a GPU the Vulkan device is the one with HIP device 0's UUID. CI runs it against hip-ffm's C test runtime and
// lavapipe (-Dhipffm.vulkan.device=first: the test runtime's UUID is made up), which cannot export semaphores:
// then the semaphore half says so and the buffer half still runs.
import io.github.hipffm.vulkan.*;
import io.github.hipffm.vulkan.VulkanInterop.SharedBuffer;
boolean testRuntime = SymbolLookup.libraryLookup(Hip.library(), Arena.global()).find("hipffmTest_isTestRuntime").isPresent();
String source = """
    extern "C" __global__ void scale_add(float* x, float a, float b, long long n) {
        long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) x[i] = x[i] * a + b;
    }""";
int n = 1024;
try (VulkanDevice vk = VulkanDevice.create(DeviceSelector.fromProperty(Hip.device(0)));
     ExportableBuffer buffer = vk.createBuffer(4L * n);
     Arena arena = Arena.ofConfined()) {
    vk.fill(buffer, 0, 4L * n, Float.floatToIntBits(1.5f));                  // Vulkan writes 1.5f everywhere
    SharedBuffer shared = VulkanInterop.importBuffer(arena, buffer);           // export, import, map: one call
    Kernel scaleAdd = HipModule.load(arena, testRuntime ? "hipffm-test-module\nscale_add\n".getBytes()
            : RuntimeCompiler.compile(source, "scale_add.hip").code())
            .kernel("scale_add", Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.FLOAT, Kernel.Param.LONG);
    Stream stream = Stream.create(arena);
    scaleAdd.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, shared.segment(), 2.0f, 1.0f, (long) n);
    stream.synchronize();
    float back = MemorySegment.ofArray(vk.read(buffer, 4L * (n - 1), 4)).get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0);
    System.out.println("Vulkan " + vk.name() + ": 1.5 * 2 + 1 = " + back + " (written by Vulkan, computed by HIP, read by Vulkan)");
    try (ExportableSemaphore timeline = vk.createSemaphore(SemaphoreType.TIMELINE); Arena sync = Arena.ofConfined()) {
        ExternalSemaphore done = VulkanInterop.importTimelineSemaphore(sync, timeline);
        done.signal(1, stream);                                                // HIP signals 1 after its work
        System.out.println("timeline semaphore: Vulkan saw HIP's 1: " + timeline.await(1, java.time.Duration.ofSeconds(5)));
    } catch (UnsupportedOperationException | HipException e) {
        System.out.println("timeline semaphore: not shared here: " + e.getMessage());
    }
}
