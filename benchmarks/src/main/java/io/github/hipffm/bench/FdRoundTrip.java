package io.github.hipffm.bench;

import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.FdChannel;
import io.github.hipffm.FdMessage;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
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
 */
public final class FdRoundTrip {
    private static final long SIZE = 1L << 20;

    private FdRoundTrip() {
    }

    /** Runs it. @param args none */
    public static void main(String[] args) throws Throwable {
        Path dir = Files.createTempDirectory("hipffm-fdrt");
        Path socket = dir.resolve("s");
        int memfd = memfd();
        try (FdChannel.Server server = FdChannel.listen(socket);
                FdChannel client = FdChannel.connect(socket, Duration.ofSeconds(5));
                FdChannel peer = server.accept(Duration.ofSeconds(5))) {
            ExternalMemoryDescriptor d = ExternalMemoryDescriptor.opaqueFd(memfd, SIZE);
            TwinSchedule.Result r = TwinSchedule.measure(64, () -> {
                client.send(d);
                try (FdMessage m = peer.receive(Duration.ZERO)) {
                    if (!m.ownsFd()) {
                        throw new IllegalStateException("received " + m + " without its fd");
                    }
                }
            });
            System.out.printf(Locale.ROOT, "J,fdroundtrip,48,%.4f,ns%n", r.nsPerOp());
            System.out.printf(Locale.ROOT, "J,fdroundtrip.alloc,48,%.1f,B/op%n", r.bytesPerOp());
        } finally {
            Gpu.closeFd(memfd);
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
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
