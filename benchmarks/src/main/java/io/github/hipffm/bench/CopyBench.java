package io.github.hipffm.bench;

import io.github.hipffm.Device;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.Memory;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.vulkan.ExportableBuffer;
import io.github.hipffm.vulkan.VulkanDevice;
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
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * {@link Memory#copy(MemorySegment, MemorySegment, long)} (synchronous: complete on the GPU when it returns;
 * direction from the pointers): time per copy, which {@code report.py} turns into GB/s (10^9 bytes/s). Pinned host
 * to device, device to pinned host, and device to device from a mapped Vulkan-exported buffer to a device
 * allocation. The mapped buffer holds random bytes ({@code data=random}, incompressible: the headline figure) or
 * one value ({@code data=uniform}, a labelled extra: Vulkan's exported memory is compressible, so this one measures
 * the GPU's compression, and can exceed what HBM can move). C twin: {@code native/memcpy.c}, whose copies are
 * {@code cudaMemcpyAsync} on the NULL stream followed by {@code cudaStreamSynchronize}, as are the {@code *Raw}
 * benchmarks here.
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

    /**
     * {@code cudaMemcpyAsync} (cudaMemcpyDefault) on the NULL stream, then {@code cudaStreamSynchronize(NULL)}: the
     * synchronous copy as the C twin makes it; the first error, else 0.
     */
    static int rawCopySync(MemorySegment dst, MemorySegment src, long bytes) {
        int e = CudaRuntime.cudaMemcpyAsync(dst, src, bytes, CudaRuntime.cudaMemcpyDefault(), MemorySegment.NULL);
        return e != 0 ? e : CudaRuntime.cudaStreamSynchronize(MemorySegment.NULL);
    }

    /** Pinned host to device through the generated binding (two FFM downcalls, no hip-ffm code). */
    @Benchmark
    public int hostToDeviceRaw(RawHostDevice s) {
        return rawCopySync(s.device, s.pinned, s.bytes);
    }

    /** Device to pinned host through the generated binding. */
    @Benchmark
    public int deviceToHostRaw(RawHostDevice s) {
        return rawCopySync(s.pinned, s.device, s.bytes);
    }

    /** The seed of the random fill; {@code native/memcpy.c} uses the same seed and generator (splitmix64). */
    static final long FILL_SEED = 0x5eed2026L;

    /**
     * A 256 MiB Vulkan-exported buffer, imported and mapped, filled with {@code data}, and a device allocation as
     * large.
     */
    abstract static class MappedBuffers {
        static final long SIZE = 256L << 20;

        VulkanDevice vk;
        ExportableBuffer buffer;
        Arena arena;
        MemorySegment mapped;
        MemorySegment device;

        void open(String data) {
            Device d = Gpu.requireNvidia();
            vk = Gpu.vulkan(d);
            buffer = Gpu.buffer(vk, SIZE);
            arena = Arena.ofConfined();
            ExternalMemory memory = ExternalMemory.importMemory(arena,
                    ExternalMemoryDescriptor.opaqueFd(buffer.exportFd(), buffer.allocationSize()));
            mapped = memory.mapBuffer(0, SIZE);
            switch (data) {
                case "random" -> fillRandom(mapped, FILL_SEED);
                case "uniform" -> Memory.fill(mapped, (byte) 1);
                default -> throw new IllegalArgumentException("data must be random or uniform: " + data);
            }
            device = Memory.allocateDevice(arena, SIZE);
            Memory.copy(device, mapped, SIZE);      // untimed first touch of both, after the fill
        }

        void close() {
            arena.close();
            buffer.close();
            vk.close();
        }
    }

    /**
     * Fills device memory with random (incompressible) bytes: splitmix64 from {@code seed} in pinned host memory,
     * copied in once.
     */
    static void fillRandom(MemorySegment device, long seed) {
        try (Arena host = Arena.ofConfined()) {
            MemorySegment pinned = Memory.allocatePinned(host, device.byteSize());
            long x = seed;
            for (long i = 0; i < device.byteSize() / 8; i++) {
                long z = (x += 0x9e3779b97f4a7c15L);
                z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
                z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
                pinned.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, z ^ (z >>> 31));
            }
            Memory.copy(device, pinned);
        }
    }

    /** The mapped buffers for {@link #deviceToDeviceMapped}: random data (the headline) and uniform (the extra). */
    @State(Scope.Thread)
    public static class Mapped extends MappedBuffers {
        /** 1 MiB, 16 MiB, 256 MiB. */
        @Param({"1048576", "16777216", "268435456"})
        public long bytes;

        /** {@code random}: incompressible bytes; {@code uniform}: one value (measures compression). */
        @Param({"random", "uniform"})
        public String data;

        @Setup(Level.Trial)
        public void setup() {
            open(data);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            close();
        }
    }

    /** The mapped buffers for {@link #deviceToDeviceMappedRaw}: random data only. */
    @State(Scope.Thread)
    public static class MappedRaw extends MappedBuffers {
        /** 1 MiB, 16 MiB, 256 MiB. */
        @Param({"1048576", "16777216", "268435456"})
        public long bytes;

        /** Random bytes only (the raw binding is compared on the headline figure). */
        @Param({"random"})
        public String data;

        @Setup(Level.Trial)
        public void setup() {
            open(data);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            close();
        }
    }

    /** Mapped external buffer to device memory. */
    @Benchmark
    public MemorySegment deviceToDeviceMapped(Mapped s) {
        Memory.copy(s.device, s.mapped, s.bytes);
        return s.device;
    }

    /** Mapped external buffer to device memory through the generated binding (random data). */
    @Benchmark
    public int deviceToDeviceMappedRaw(MappedRaw s) {
        return rawCopySync(s.device, s.mapped, s.bytes);
    }
}
