package io.github.hipffm.bench;

import io.github.hipffm.Device;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
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
import java.util.concurrent.TimeUnit;

/**
 * One import, map, release cycle of a Vulkan-exported allocation: {@code ExternalMemory.importCopy} (the caller
 * keeps its fd: hip-ffm imports a {@code dup}), {@code mapBuffer()} of the whole allocation, and the release
 * ({@code hipFree}, {@code hipDestroyExternalMemory}, the fd) by closing the owner arena ({@code lifetime=perOp}) or
 * the memory ({@code lifetime=longLived}), in a confined or shared owner arena ({@link OwnerArena}). The Vulkan
 * allocation and its exported fd are made once. C twin: {@code native/import.c} ({@code dup}, import, map, free,
 * destroy).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 400, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ImportBench {

    /** The exported allocation. */
    @State(Scope.Thread)
    public static class Exported {
        /** Allocation size: 1 MiB and 256 MiB. */
        @Param({"1048576", "268435456"})
        public long bytes;

        VulkanDevice vk;
        ExportableBuffer buffer;
        ExternalMemoryDescriptor descriptor;
        int fd;

        @Setup(Level.Trial)
        public void setup() {
            Device d = Gpu.requireNvidia();
            vk = Gpu.vulkan(d);
            buffer = Gpu.buffer(vk, bytes);
            fd = buffer.exportFd();
            descriptor = ExternalMemoryDescriptor.opaqueFd(fd, buffer.allocationSize());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            Gpu.closeFd(fd);
            buffer.close();
            vk.close();
        }
    }

    /** Import a copy of the fd, map all of it, release everything. */
    @Benchmark
    public long importMapRelease(Exported e, OwnerArena o) {
        return importMapRelease(e.descriptor, o.perOp, o.shared, o.longLived);
    }

    /**
     * The body, shared with ChurnCompare: import a copy of {@code descriptor}'s fd and map all of it in a new arena
     * per op ({@code perOp}: shared or confined), closed at once, or in {@code longLived}, then {@code close()}.
     */
    static long importMapRelease(ExternalMemoryDescriptor descriptor, boolean perOp, boolean shared, Arena longLived) {
        if (perOp) {
            try (Arena arena = OwnerArena.newArena(shared)) {
                ExternalMemory memory = ExternalMemory.importCopy(arena, descriptor);
                MemorySegment mapped = memory.mapBuffer();
                return mapped.address();
            }
        }
        ExternalMemory memory = ExternalMemory.importCopy(longLived, descriptor);
        long address = memory.mapBuffer().address();
        memory.close();
        return address;
    }
}
