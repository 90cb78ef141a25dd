package io.github.hipffm.bench;

import io.github.hipffm.Device;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.Memory;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * {@link Memory#copy(MemorySegment, MemorySegment, long)} (synchronous {@code hipMemcpy}, direction from the
 * pointers): time per copy, which {@code report.py} turns into GB/s (10^9 bytes/s). Pinned host to device, device
 * to pinned host, and device to device from a mapped Vulkan-exported buffer to a device allocation. C twin:
 * {@code native/memcpy.c}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 400, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class CopyBench {

    /** Pinned host memory and device memory of the same size, filled, for the host/device copies. */
    abstract static class PinnedAndDevice {
        Arena arena;
        MemorySegment pinned;
        MemorySegment device;

        void open(long bytes) {
            arena = Arena.ofConfined();
            pinned = Memory.allocatePinned(arena, bytes);
            pinned.fill((byte) 1);
            device = Memory.allocateDevice(arena, bytes);
            Memory.copy(device, pinned);
        }
    }

    /** Pinned host memory and device memory of {@code bytes} each. */
    @State(Scope.Thread)
    public static class HostDevice extends PinnedAndDevice {
        /** 4 KiB, 64 KiB, 1 MiB, 16 MiB, 256 MiB, 1 GiB. */
        @Param({"4096", "65536", "1048576", "16777216", "268435456", "1073741824"})
        public long bytes;

        @Setup(Level.Trial)
        public void setup() {
            Gpu.require();
            open(bytes);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** Pinned host to device. */
    @Benchmark
    public MemorySegment hostToDevice(HostDevice s) {
        Memory.copy(s.device, s.pinned, s.bytes);
        return s.device;
    }

    /** Device to pinned host. */
    @Benchmark
    public MemorySegment deviceToHost(HostDevice s) {
        Memory.copy(s.pinned, s.device, s.bytes);
        return s.pinned;
    }

    /**
     * Pinned host memory and device memory for the raw-binding copies (64 KiB, 1 MiB, 16 MiB): the generated
     * binding's {@code cudaMemcpy} in the same JVM as {@link #hostToDevice}, to tell hip-ffm's own cost from the
     * JVM's in a difference to C.
     */
    @State(Scope.Thread)
    public static class RawHostDevice extends PinnedAndDevice {
        /** 64 KiB, 1 MiB, 16 MiB. */
        @Param({"65536", "1048576", "16777216"})
        public long bytes;

        @Setup(Level.Trial)
        public void setup() {
            Gpu.requireNvidia();
            open(bytes);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** Pinned host to device through the generated binding (one FFM downcall, no hip-ffm code). */
    @Benchmark
    public int hostToDeviceRaw(RawHostDevice s) {
        return CudaRuntime.cudaMemcpy(s.device, s.pinned, s.bytes, CudaRuntime.cudaMemcpyDefault());
    }

    /** Device to pinned host through the generated binding. */
    @Benchmark
    public int deviceToHostRaw(RawHostDevice s) {
        return CudaRuntime.cudaMemcpy(s.pinned, s.device, s.bytes, CudaRuntime.cudaMemcpyDefault());
    }

    /** A 256 MiB Vulkan-exported buffer, imported and mapped, and a device allocation as large. */
    @State(Scope.Thread)
    public static class Mapped {
        static final long SIZE = 256L << 20;

        /** 1 MiB, 16 MiB, 256 MiB. */
        @Param({"1048576", "16777216", "268435456"})
        public long bytes;

        VulkanExporter vk;
        VulkanExporter.Buffer buffer;
        Arena arena;
        MemorySegment mapped;
        MemorySegment device;

        @Setup(Level.Trial)
        public void setup() {
            Device d = Gpu.requireNvidia();
            vk = VulkanExporter.open(d.uuidBytes());
            buffer = vk.createBuffer(SIZE);
            arena = Arena.ofConfined();
            ExternalMemory memory = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(buffer.exportFd(), buffer.allocationSize));
            mapped = memory.mapBuffer(0, SIZE);
            Memory.fill(mapped, (byte) 1);
            device = Memory.allocateDevice(arena, SIZE);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
            buffer.close();
            vk.close();
        }
    }

    /** Mapped external buffer to device memory. */
    @Benchmark
    public MemorySegment deviceToDeviceMapped(Mapped s) {
        Memory.copy(s.device, s.mapped, s.bytes);
        return s.device;
    }

    /** Mapped external buffer to device memory through the generated binding. */
    @Benchmark
    public int deviceToDeviceMappedRaw(Mapped s) {
        return CudaRuntime.cudaMemcpy(s.device, s.mapped, s.bytes, CudaRuntime.cudaMemcpyDefault());
    }
}
