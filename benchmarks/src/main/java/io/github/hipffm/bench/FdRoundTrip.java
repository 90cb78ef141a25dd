package io.github.hipffm.bench;

import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.FdChannel;
import io.github.hipffm.FdMessage;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The fd channel's round trip: {@link FdChannel#send(ExternalMemoryDescriptor)} of one fd (a 1 MiB memfd, so no
 * GPU is needed) on one end of a connection, {@link FdChannel#receive(Duration) receive} of it on the other end
 * and {@link FdMessage#close()} (which closes the received fd), both ends in the calling thread, so that the figure
 * is the calls' cost and not a thread's wake-up. C twin: {@code native/fdroundtrip.c} (the same 48-byte record and
 * one fd over a {@code SOCK_SEQPACKET} socketpair: sendmsg, recvmsg, close). The schedule is the twins'
 * ({@code native/bench.h}: 2 warm-up rounds of 0.3 s, 5 rounds of 0.4 s, the median round). It prints
 *
 * <pre>
 * J,fdroundtrip,48,&lt;median ns per send + receive + close&gt;,ns
 * J,fdroundtrip.alloc,48,&lt;bytes the thread allocated per round trip, last round&gt;,B/op
 * </pre>
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar io.github.hipffm.bench.FdRoundTrip</pre>
 *
 * With {@code --lib PATH/libfdloop.so [--alternations N]} it then also runs the twin's own round trip
 * ({@code native/inproc/fdloop.c}, the code {@code fdroundtrip.c} includes) in this JVM, alternating rounds of C and
 * of hip-ffm in this thread (the first variant rotating, about 0.2 s a round), and prints the median of the
 * per-alternation ratios, so that the comparison is not made of two processes run at different times (on the GPU
 * machine the separate twin moved by more than the target between runs):
 *
 * <pre>
 * P,fdroundtrip,C,&lt;median C round, us per round trip&gt;,1.0000,1.0000,1.0000,&lt;alternations&gt;
 * P,fdroundtrip,J,&lt;median hip-ffm round, us&gt;,&lt;J/C paired ratio median&gt;,&lt;min&gt;,&lt;max&gt;,&lt;alternations&gt;
 * Q,fdroundtrip,C|J,&lt;alternation&gt;,&lt;round, us per round trip&gt;
 * </pre>
 */
public final class FdRoundTrip {
    private static final long SIZE = 1L << 20;

    private FdRoundTrip() {
    }

    /** Runs it. @param args none, or {@code --lib PATH [--alternations N]} */
    public static void main(String[] args) throws Throwable {
        Path lib = null;
        int alternations = 15;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--lib" -> lib = Path.of(args[i + 1]);
                case "--alternations" -> alternations = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--lib, --alternations)");
            }
        }
        if (args.length % 2 != 0) {
            throw new IllegalArgumentException("usage: FdRoundTrip [--lib PATH/libfdloop.so] [--alternations N]");
        }
        Path dir = Files.createTempDirectory("hipffm-fdrt");
        Path socket = dir.resolve("s");
        int memfd = memfd();
        try (FdChannel.Server server = FdChannel.listen(socket);
                FdChannel client = FdChannel.connect(socket, Duration.ofSeconds(5));
                FdChannel peer = server.accept(Duration.ofSeconds(5))) {
            ExternalMemoryDescriptor d = ExternalMemoryDescriptor.opaqueFd(memfd, SIZE);
            TwinSchedule.Body roundTrip = () -> {
                client.send(d);
                try (FdMessage m = peer.receive(Duration.ZERO)) {
                    if (!m.ownsFd()) {
                        throw new IllegalStateException("received " + m + " without its fd");
                    }
                }
            };
            TwinSchedule.Result r = TwinSchedule.measure(64, roundTrip);
            System.out.printf(Locale.ROOT, "J,fdroundtrip,48,%.4f,ns%n", r.nsPerOp());
            System.out.printf(Locale.ROOT, "J,fdroundtrip.alloc,48,%.1f,B/op%n", r.bytesPerOp());
            if (lib != null) {
                paired(lib, alternations, Math.max(1000, (long) (0.2e9 / r.nsPerOp())), roundTrip);
            }
        } finally {
            Gpu.closeFd(memfd);
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * Alternating rounds of {@code n} round trips: C ({@code fdloop_run} in {@code lib}) and {@code roundTrip}, the
     * first variant rotating; prints the P and Q lines of the class documentation.
     */
    private static void paired(Path lib, int alternations, long n, TwinSchedule.Body roundTrip) throws Throwable {
        Linker linker = Linker.nativeLinker();
        SymbolLookup loop = SymbolLookup.libraryLookup(lib, Arena.global());
        MethodHandle open = linker.downcallHandle(loop.find("fdloop_open").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT));
        MethodHandle run = linker.downcallHandle(loop.find("fdloop_run").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        MethodHandle close = linker.downcallHandle(loop.find("fdloop_close").orElseThrow(), FunctionDescriptor.ofVoid());
        if ((int) open.invokeExact() != 0) {
            throw new IllegalStateException("fdloop_open failed (socketpair or memfd_create)");
        }
        double[] c = new double[alternations];
        double[] j = new double[alternations];
        double[] ratios = new double[alternations];
        try {
            for (int a = -1; a < alternations; a++) {             // alternation -1: a warm-up of both
                double cUs = 0;
                double jUs = 0;
                for (int k = 0; k < 2; k++) {
                    if ((k + Math.max(a, 0)) % 2 == 0) {
                        long ns = (long) run.invokeExact(n);
                        if (ns < 0) {
                            throw new IllegalStateException("fdloop_run failed (see stderr)");
                        }
                        cUs = ns / 1e3 / n;
                    } else {
                        long t0 = System.nanoTime();
                        for (long i = 0; i < n; i++) {
                            roundTrip.run();
                        }
                        jUs = (System.nanoTime() - t0) / 1e3 / n;
                    }
                }
                if (a >= 0) {
                    c[a] = cUs;
                    j[a] = jUs;
                    ratios[a] = jUs / cUs;
                    System.out.printf(Locale.ROOT, "Q,fdroundtrip,C,%d,%.4f%nQ,fdroundtrip,J,%d,%.4f%n", a, cUs, a,
                            jUs);
                }
            }
        } finally {
            close.invokeExact();
        }
        double[] sorted = ratios.clone();
        java.util.Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "P,fdroundtrip,C,%.4f,1.0000,1.0000,1.0000,%d%n", median(c), alternations);
        System.out.printf(Locale.ROOT, "P,fdroundtrip,J,%.4f,%.4f,%.4f,%.4f,%d%n", median(j), median(ratios),
                sorted[0], sorted[alternations - 1], alternations);
        System.err.printf(Locale.ROOT, "fd-roundtrip: C %.3f us, hip-ffm %.3f us, J/C paired %.4f (%.4f-%.4f), %d"
                + " alternations of %d round trips%n", median(c), median(j), median(ratios), sorted[0],
                sorted[alternations - 1], alternations, n);
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        java.util.Arrays.sort(s);
        int k = s.length;
        return k % 2 == 1 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
    }

    /** {@return a new 1 MiB memfd} */
    private static int memfd() throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle create = linker.downcallHandle(linker.defaultLookup().find("memfd_create").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        MethodHandle truncate = linker.downcallHandle(linker.defaultLookup().find("ftruncate").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
        try (Arena a = Arena.ofConfined()) {
            int fd = (int) create.invokeExact(a.allocateFrom("fdroundtrip"), 1);   // MFD_CLOEXEC
            if (fd < 0 || (int) truncate.invokeExact(fd, SIZE) != 0) {
                throw new IllegalStateException("memfd_create or ftruncate failed");
            }
            return fd;
        }
    }
}
