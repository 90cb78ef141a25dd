package io.github.hipffm.bench;

import io.github.hipffm.VirtualMemory;

import java.lang.foreign.Arena;
import java.util.Locale;

/**
 * VMM allocate + export + import + release, as a process that shares device memory makes it and another imports
 * it: {@link VirtualMemory#allocate}, {@link VirtualMemory#exportFd()}, {@link VirtualMemory#importFd} (in the same
 * process: the driver's path is the same, the fd crosses no socket; the import then owns the fd) and the
 * confined arena's close (both released, the import's fd closed). C twin: {@code native/vmm.c}, the same driver
 * calls. The twins' schedule ({@link TwinSchedule}). It prints, per size (default 2 MiB and 64 MiB):
 *
 * <pre>
 * J,vmm,&lt;bytes&gt;,&lt;median µs per round trip&gt;,us
 * J,vmm.alloc,&lt;bytes&gt;,&lt;bytes the thread allocated per round trip&gt;,B/op
 * </pre>
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar io.github.hipffm.bench.VmmRoundTrip [BYTES...]</pre>
 * Needs device 0 (fails at once with {@code no GPU: ...} without one).
 */
public final class VmmRoundTrip {
    private VmmRoundTrip() {
    }

    /** Runs it. @param args the sizes in bytes (default 2 MiB and 64 MiB) */
    public static void main(String[] args) throws Throwable {
        Gpu.require();
        long[] sizes = args.length == 0 ? new long[] {2L << 20, 64L << 20}
                : java.util.Arrays.stream(args).mapToLong(Long::parseLong).toArray();
        for (long size : sizes) {
            TwinSchedule.Result r = TwinSchedule.measure(1, () -> {
                try (Arena a = Arena.ofConfined()) {
                    VirtualMemory shared = VirtualMemory.allocate(a, size);
                    VirtualMemory.importFd(a, shared.exportFd(), shared.size());
                }
            });
            System.out.printf(Locale.ROOT, "J,vmm,%d,%.4f,us%n", size, r.nsPerOp() / 1e3);
            System.out.printf(Locale.ROOT, "J,vmm.alloc,%d,%.1f,B/op%n", size, r.bytesPerOp());
        }
    }
}
