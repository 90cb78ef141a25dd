package io.github.hipffm.bench;

import io.github.hipffm.Device;
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
 * {@link Memory#copyPeer} from device 0's memory to device 1's (synchronous: finished on the GPU when it returns):
 * time per copy, which {@code report.py} turns into GB/s (10^9 bytes/s), without and with peer access
 * ({@link Device#enablePeerAccess} both ways; each parameter set runs in its own JVM, so "off" is a process that never
 * enabled it). The source holds random bytes ({@link CopyBench#fillRandom}, the same seed). C twin:
 * {@code native/peercopy.c}, whose copies are {@code cudaMemcpyPeerAsync} on the NULL stream with the source's device
 * current, followed by {@code cudaStreamSynchronize}, which is what {@code Memory.copyPeer} does on NVIDIA, and what
 * {@link #copyPeerRaw} does through the generated binding. Fails its setup with "needs 2 GPUs" on one GPU.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 400, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PeerCopyBench {

    /** Device memory of {@code bytes} on each of the two devices, the source (device 0's) random. */
    @State(Scope.Thread)
    public static class Peers {
        /** 1 MiB, 16 MiB, 256 MiB, 1 GiB. */
        @Param({"1048576", "16777216", "268435456", "1073741824"})
        public long bytes;

        /** {@code off}: no peer access (the runtime stages the copy); {@code on}: enabled both ways first. */
        @Param({"off", "on"})
        public String peerAccess;

        Arena arena;
        MemorySegment src;
        MemorySegment dst;

        @Setup(Level.Trial)
        public void setup() {
            Device[] d = Gpu.requireTwo();
            switch (peerAccess) {
                case "on" -> {
                    d[0].enablePeerAccess(d[1]);
                    d[1].enablePeerAccess(d[0]);
                }
                case "off" -> { }
                default -> throw new IllegalArgumentException("peerAccess must be on or off: " + peerAccess);
            }
            arena = Arena.ofConfined();
            src = Memory.allocateDevice(d[0], arena, bytes);
            dst = Memory.allocateDevice(d[1], arena, bytes);
            CopyBench.fillRandom(src, CopyBench.FILL_SEED);
            Memory.copyPeer(dst, src, bytes);          // untimed first touch of both
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** Device 0 to device 1 by hip-ffm (device 0, the source's, is current: no switch). */
    @Benchmark
    public MemorySegment copyPeer(Peers s) {
        Memory.copyPeer(s.dst, s.src, s.bytes);
        return s.dst;
    }

    /**
     * The same copy through the generated binding: {@code cudaMemcpyPeerAsync} on the NULL stream, then
     * {@code cudaStreamSynchronize(NULL)}, as the C twin; the first error, else 0.
     */
    @Benchmark
    public int copyPeerRaw(Peers s) {
        int e = CudaRuntime.cudaMemcpyPeerAsync(s.dst, 1, s.src, 0, s.bytes, MemorySegment.NULL);
        return e != 0 ? e : CudaRuntime.cudaStreamSynchronize(MemorySegment.NULL);
    }
}
