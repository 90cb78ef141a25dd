package io.github.hipffm.interop;

import io.github.hipffm.Dim3;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Modules and launches end to end against the test runtime, whose built-in kernels run on the CPU: arguments
 * reach the kernel, grid and block are passed as given, argument mistakes are refused in Java before any
 * native call, and a module's kernels die with it.
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class KernelTest {
    private static final byte[] MODULE = "hipffm-test-module\nscale_add\nincrement\n".getBytes(StandardCharsets.US_ASCII);
    private static MethodHandle lastLaunch;
    private static long lastLaunch(int what) throws Throwable {
        if (lastLaunch == null) {     // after TestRuntime loaded the library
            lastLaunch = Linker.nativeLinker().downcallHandle(
                    SymbolLookup.loaderLookup().find("hipffmTest_lastLaunch").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        }
        return (long) lastLaunch.invokeExact(what);
    }

    private static Kernel scaleAdd(HipModule module) {
        return module.kernel("scale_add", Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.FLOAT, Kernel.Param.LONG);
    }

    @Test
    void argumentsGridAndBlockReachTheKernel() throws Throwable {
        int n = 1000;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = Memory.allocatePinned(arena, 4L * n);
            for (int i = 0; i < n; i++) {
                host.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
            }
            MemorySegment device = Memory.allocateDevice(arena, 4L * n);
            Memory.copy(device, host);
            Kernel k = scaleAdd(HipModule.load(arena, MODULE));
            // 3 blocks of 128 threads cover the first 384 elements only
            k.launch(Dim3.of(3), Dim3.of(128), 256, Stream.defaultStream(), device, 2.0f, 1.0f, (long) n);
            Memory.copy(host, device);
            assertEquals(1.0f, host.getAtIndex(ValueLayout.JAVA_FLOAT, 0));
            assertEquals(767.0f, host.getAtIndex(ValueLayout.JAVA_FLOAT, 383));
            assertEquals(384.0f, host.getAtIndex(ValueLayout.JAVA_FLOAT, 384), "outside the grid: untouched");
            long[] launch = new long[7];
            for (int i = 0; i < 7; i++) {
                launch[i] = lastLaunch(i);
            }
            assertEquals("[3, 1, 1, 128, 1, 1, 256]", java.util.Arrays.toString(launch));
        }
    }

    @Test
    void reusedArgumentsLaunchRepeatedly() {
        int n = 256;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 4L * n);
            Memory.fill(device, (byte) 0);
            Kernel inc = HipModule.load(arena, MODULE).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            KernelArgs args = inc.newArgs(arena).set(0, device).set(1, (long) n);
            Stream stream = Stream.create(arena);
            for (int i = 0; i < 100; i++) {
                inc.launch(Dim3.covering(n, 64), Dim3.of(64), 0, stream, args);
            }
            stream.synchronize();
            MemorySegment host = arena.allocate(4L * n);
            Memory.copy(host, device);
            for (int i = 0; i < n; i++) {
                assertEquals(100, host.getAtIndex(ValueLayout.JAVA_INT, i));
            }
            assertEquals(100, TestRuntime.calls("hipModuleLaunchKernel"));
        }
    }

    @Test
    void argumentMistakesAreRefusedInJava() {
        try (Arena arena = Arena.ofConfined()) {
            Kernel k = scaleAdd(HipModule.load(arena, MODULE));
            MemorySegment device = Memory.allocateDevice(arena, 64);
            KernelArgs args = k.newArgs(arena);
            var wrongType = assertThrows(IllegalArgumentException.class, () -> args.set(1, 2));
            assertEquals("kernel scale_add: argument 1 is declared FLOAT, not int", wrongType.getMessage());
            var outOfRange = assertThrows(IllegalArgumentException.class, () -> args.set(4, 1L));
            assertTrue(outOfRange.getMessage().contains("takes 4 argument(s)"), outOfRange.getMessage());
            args.set(0, device).set(1, 2f).set(2, 1f);
            var unset = assertThrows(IllegalArgumentException.class,
                    () -> k.launch(Dim3.of(1), Dim3.of(1), 0, Stream.defaultStream(), args));
            assertEquals("kernel scale_add: argument 3 (LONG) is not set", unset.getMessage());
            var count = assertThrows(IllegalArgumentException.class,
                    () -> k.launch(Dim3.of(1), Dim3.of(1), 0, Stream.defaultStream(), device, 2f));
            assertTrue(count.getMessage().contains("takes 4 argument(s)"), count.getMessage());
            var boxed = assertThrows(IllegalArgumentException.class,
                    () -> k.launch(Dim3.of(1), Dim3.of(1), 0, Stream.defaultStream(), device, 2.0, 1f, 4L));
            assertEquals("kernel scale_add: argument 1 is declared FLOAT, not double", boxed.getMessage());
            assertThrows(IllegalArgumentException.class, () -> args.set(0, arena.allocate(8).asReadOnly().reinterpret(8))
                    .set(0, MemorySegment.ofArray(new byte[8])));
            assertThrows(IllegalArgumentException.class, () -> new Dim3(0, 1, 1));
            assertThrows(IllegalArgumentException.class,
                    () -> k.launch(Dim3.of(1), Dim3.of(1), -1, Stream.defaultStream(), device, 2f, 1f, 4L));
            assertEquals(0, TestRuntime.calls("hipModuleLaunchKernel"), "no launch reached the runtime");
        }
    }

    @Test
    void aPointerIntoReleasedMemoryNeverReachesTheGpu() {
        try (Arena arena = Arena.ofConfined()) {
            Kernel k = scaleAdd(HipModule.load(arena, MODULE));
            KernelArgs args = k.newArgs(arena);
            try (Arena shortLived = Arena.ofConfined()) {
                args.set(0, Memory.allocateDevice(shortLived, 64)).set(1, 1f).set(2, 0f).set(3, 16L);
            }
            var e = assertThrows(IllegalStateException.class,
                    () -> k.launch(Dim3.of(1), Dim3.of(16), 0, Stream.defaultStream(), args));
            assertTrue(e.getMessage().contains("argument 0 points into memory that was released"), e.getMessage());
            assertEquals(0, TestRuntime.calls("hipModuleLaunchKernel"));
        }
    }

    /**
     * A set that throws changes nothing: the argument stays unset, or keeps the pointer it had, whose liveness the
     * launch still checks (found by KernelFuzzTest: a refused heap segment used to mark the argument set and forget the
     * earlier pointer, so a launch passed NULL, or a pointer into released memory, to the runtime).
     */
    @Test
    void aRefusedSetLeavesTheArgumentAsItWas() {
        try (Arena arena = Arena.ofConfined()) {
            Kernel k = scaleAdd(HipModule.load(arena, MODULE));
            KernelArgs args = k.newArgs(arena).set(1, 1f).set(2, 0f).set(3, 16L);
            MemorySegment heap = MemorySegment.ofArray(new byte[64]);
            assertThrows(IllegalArgumentException.class, () -> args.set(0, heap));
            var unset = assertThrows(IllegalArgumentException.class,
                    () -> k.launch(Dim3.of(1), Dim3.of(16), 0, Stream.defaultStream(), args));
            assertEquals("kernel scale_add: argument 0 (POINTER) is not set", unset.getMessage());

            try (Arena shortLived = Arena.ofConfined()) {
                args.set(0, Memory.allocateDevice(shortLived, 64));
                assertThrows(IllegalArgumentException.class, () -> args.set(0, heap));
            }
            var released = assertThrows(IllegalStateException.class,
                    () -> k.launch(Dim3.of(1), Dim3.of(16), 0, Stream.defaultStream(), args));
            assertTrue(released.getMessage().contains("argument 0 points into memory that was released"),
                    released.getMessage());
            assertEquals(0, TestRuntime.calls("hipModuleLaunchKernel"));
        }
    }

    @Test
    void kernelsDieWithTheirModule() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = Memory.allocateDevice(arena, 64);
            HipModule module = HipModule.load(arena, MODULE);
            Kernel k = scaleAdd(module);
            module.close();
            module.close();
            assertThrows(IllegalStateException.class,
                    () -> k.launch(Dim3.of(1), Dim3.of(16), 0, Stream.defaultStream(), device, 1f, 0f, 16L));
            assertThrows(IllegalStateException.class, () -> module.kernel("increment"));
            assertEquals(1, TestRuntime.calls("hipModuleUnload"));
        }
    }

    @Test
    void theRuntimesRefusalsAreHipExceptions() {
        try (Arena arena = Arena.ofConfined()) {
            HipException image = assertThrows(HipException.class, () -> HipModule.load(arena, "not a module".getBytes()));
            assertEquals(HipError.INVALID_IMAGE, image.error());
            assertEquals("hipModuleLoadData", image.call());
            HipModule module = HipModule.load(arena, MODULE);
            HipException missing = assertThrows(HipException.class, () -> module.kernel("nope"));
            assertEquals(HipError.NOT_FOUND, missing.error());
            assertThrows(IllegalArgumentException.class, () -> HipModule.load(arena, new byte[0]));
        }
    }
    /**
     * A kernel is loaded when it is looked up, not at its first launch: on NVIDIA {@code cudaFuncGetAttributes}
     * follows {@code cudaLibraryGetKernel} (CUDA's lazy loading could otherwise wait for the device at the first
     * launch); AMD's {@code hipModuleGetFunction} loads it itself. A failed load is the lookup's failure.
     */
    @Test
    void aKernelIsLoadedWhenLookedUp() {
        try (Arena arena = Arena.ofConfined()) {
            HipModule module = HipModule.load(arena, MODULE);
            TestRuntime.reset();
            scaleAdd(module);
            assertEquals(TestRuntime.nvidia() ? 1 : 0, TestRuntime.calls("hipFuncGetAttributes"));
            if (TestRuntime.nvidia()) {
                TestRuntime.failNext("hipFuncGetAttributes", HipError.OUT_OF_MEMORY, 0);
                HipException e = assertThrows(HipException.class, () -> module.kernel("increment"));
                assertEquals(HipError.OUT_OF_MEMORY, e.error());
                assertEquals("hipModuleGetFunction", e.call());
            }
            Kernel increment = module.kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            MemorySegment device = Memory.allocateDevice(arena, 4L * 16);
            Memory.fill(device, (byte) 0);
            increment.launch(Dim3.of(1), Dim3.of(16), 0, Stream.defaultStream(), device, 16L);
            MemorySegment host = arena.allocate(4L * 16);
            Memory.copy(host, device);
            assertEquals(1, host.getAtIndex(ValueLayout.JAVA_INT, 15));
        }
    }
}
