package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.Event;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.FdChannel;
import io.github.hipffm.Hip;
import io.github.hipffm.IpcEventHandle;
import io.github.hipffm.IpcMemoryHandle;
import io.github.hipffm.Memory;
import io.github.hipffm.ReceivedMemory;
import io.github.hipffm.Stream;
import io.github.hipffm.VirtualMemory;
import io.github.hipffm.testrt.LinuxFds;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sharing device memory and events between this JVM and a child JVM on the GPU: (a) {@link VirtualMemory} sent as
 * fds over an {@link FdChannel}, imported by the child as {@link ExternalMemory} ({@code OPAQUE_FD}) and as
 * {@code VirtualMemory}; (b) an {@link IpcMemoryHandle} and an {@link IpcEventHandle} passed as bytes; (c) in both
 * processes the open fds back where they were after a first round (the driver opens some for good on first use),
 * and the device's free memory recorded. The child is this class's {@link #main} in a JVM of this JVM's runtime
 * and class path ({@code ProcessHandle.current().info().command()}, {@code java.class.path}), so it runs the same
 * in the jlinked GPU bundle as under Maven. Each side reads what the other wrote.
 */
@Tag("gpu")
class ProcessSharingGpuTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final HexFormat HEX = HexFormat.of();
    private static final Pattern FDS = Pattern.compile("fds (\\d+) (\\d+)");
    private static final long MiB = 1L << 20;

    @TempDir
    Path dir;

    @BeforeEach
    void gpu() {
        Gpu.require();
    }

    // ---- the two sides' shared steps ----------------------------------------------------------------------------

    /** {@return the NUL-terminated text at the start of device memory (at most 64 bytes)} */
    static String read(MemorySegment device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(64);
            Memory.copy(host, device, 64);
            return host.getString(0);
        }
    }

    /** Writes {@code text}, NUL-terminated, at the start of device memory. */
    static void write(MemorySegment device, String text) {
        try (Arena a = Arena.ofConfined()) {
            Memory.copy(device, a.allocateFrom(text));
        }
    }

    /**
     * {@return the child's command: this JVM's launcher, native access, class path and hip-ffm properties} The class
     * path names the test classes' and hip-ffm's own locations first: in the GPU bundle the JUnit console launcher
     * loads them from its {@code --class-path}, and {@code java.class.path} is only its own jar.
     */
    private static List<String> childCommand(String... args) {
        String launcher = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String classPath = String.join(File.pathSeparator, location(ProcessSharingGpuTest.class),
                location(Hip.class), System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(launcher, "--enable-native-access=ALL-UNNAMED", "-cp", classPath));
        for (String p : List.of("hipffm.library", "hipffm.platform", "hipffm.fdCheck")) {
            if (System.getProperty(p) != null) {
                cmd.add("-D" + p + "=" + System.getProperty(p));
            }
        }
        cmd.add(ProcessSharingGpuTest.class.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** {@return the jar or directory {@code c} was loaded from} */
    private static String location(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A running child and its output, collected as it comes. */
    private record Child(Process process, CompletableFuture<String> output) {
        static Child start(String... args) throws IOException {
            Process p = new ProcessBuilder(childCommand(args)).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            return new Child(p, CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "(output lost: " + e + ")";
                }
            }));
        }

        /**
         * {@return the output once the child has ended with status 0 and its open fds at the end were no more than
         * after its first round} Kills it after 120 s.
         */
        String finish() throws InterruptedException, IOException {
            try {
                if (!process.waitFor(120, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                    throw new AssertionError("the child did not end within 120 s: " + output.getNow("(no output)"));
                }
                String out = output.join();
                assertEquals(0, process.exitValue(), "the child failed:\n" + out);
                Matcher m = FDS.matcher(out);
                assertTrue(m.find(), "the child reported no fd count:\n" + out);
                assertTrue(Long.parseLong(m.group(2)) <= Long.parseLong(m.group(1)),
                        "the child's open fds after its first round and at the end:\n" + out);
                return out;
            } finally {
                process.destroyForcibly();
                process.getInputStream().close();
                process.getOutputStream().close();
                process.getErrorStream().close();
            }
        }
    }

    /** Runs {@code round} twice; {@return this process's open fds after the first round and after the second} */
    private static long[] twoRounds(String what, ThrowingRunnable round) throws Exception {
        Device gpu = Hip.device(0);
        round.run();
        long fds = LinuxFds.count();
        long free = gpu.memoryInfo().free();
        round.run();
        long[] counts = {fds, LinuxFds.count()};
        Gpu.record(what + ": fds after round 1 " + counts[0] + ", after round 2 " + counts[1] + "; device memory free "
                + free / MiB + " MiB -> " + gpu.memoryInfo().free() / MiB + " MiB");
        return counts;
    }

    /** A round of work that may throw anything. */
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    // ---- (a) VirtualMemory by fd --------------------------------------------------------------------------------

    @Test
    void virtualMemorySentAsAnFdIsImportedByAChildJvmBothWays() throws Exception {
        Path socket = dir.resolve("vmm.sock");
        long[] fds = twoRounds("VirtualMemory to a child JVM", () -> {
            try (Arena arena = Arena.ofConfined(); FdChannel.Server server = FdChannel.listen(socket)) {
                VirtualMemory shared = VirtualMemory.allocate(arena, 3 * MiB);
                write(shared.segment(), "vmm from the test JVM");
                int probe = shared.exportFd();
                Gpu.record("VirtualMemory " + shared.size() + " bytes (granularity "
                        + VirtualMemory.granularity(Hip.device(0)) + "), an exported fd: " + LinuxFds.link(probe));
                LinuxFds.close(probe);
                Child child = Child.start("vmm", socket.toString());
                String out;
                try (FdChannel channel = server.accept(WAIT)) {
                    for (int i = 0; i < 4; i++) {   // the child imports two per round, two rounds
                        shared.send(channel);
                    }
                    out = child.finish();
                }
                assertTrue(out.contains("external reads: vmm from the test JVM"), out);
                assertTrue(out.contains("virtual reads: vmm from the test JVM"), out);
                assertEquals("vmm from the child", read(shared.segment()));
                Gpu.record("VirtualMemory: child " + out.lines().filter(l -> l.startsWith("fds")).findFirst().orElse(""));
            }
        });
        assertEquals(fds[0], fds[1], "this JVM's open fds after the first and the second round");
    }

    // ---- (b) IPC handles ------------------------------------------------------------------------------------------

    @Test
    void ipcMemoryAndEventHandlesAreOpenedByAChildJvm() throws Exception {
        long[] fds = twoRounds("IPC handles to a child JVM", () -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment memory = Memory.allocateDevice(arena, 3 * MiB);
                Memory.fill(memory, (byte) 0);
                write(memory, "ipc from the test JVM");
                Stream stream = Stream.create(arena);
                Event done = Event.createInterprocess(arena);
                Memory.fillAsync(memory.asSlice(MiB, MiB), (byte) 7, stream);
                done.record(stream);
                IpcMemoryHandle handle = IpcMemoryHandle.of(memory);
                assertEquals(IpcMemoryHandle.BYTES, handle.toBytes().length);
                String out = Child.start("ipc", HEX.formatHex(handle.toBytes()),
                        HEX.formatHex(IpcEventHandle.of(done).toBytes())).finish();
                assertTrue(out.contains("child opened " + 3 * MiB + " bytes: ipc from the test JVM"), out);
                assertTrue(out.contains("child sees the fill after the event: 7"), out);
                assertTrue(out.contains("child event complete: true"), out);
                assertEquals("ipc from the child", read(memory));
                assertTrue(done.isComplete());
                Gpu.record("IPC handles: child " + out.lines().filter(l -> l.startsWith("fds")).findFirst().orElse(""));
            }
        });
        assertEquals(fds[0], fds[1], "this JVM's open fds after the first and the second round");
    }

    // ---- the child --------------------------------------------------------------------------------------------------

    /**
     * The child JVM: {@code vmm SOCKET} (two rounds: receive two fds, import one as ExternalMemory and one as
     * VirtualMemory, print what each reads, write "vmm from the child") or {@code ipc MEMORY EVENT} (two rounds: open
     * both handles, wait for the event, print what it reads, write "ipc from the child"); then "fds START END", its
     * open fds after the first round and at the end.
     *
     * @param args the mode and its arguments
     */
    public static void main(String[] args) {
        long start = -1;
        FdChannel channel = args[0].equals("vmm") ? FdChannel.connect(Path.of(args[1]), WAIT) : null;
        try {
            for (int round = 0; round < 2; round++) {
                if (channel != null) {
                    vmmRound(channel);
                } else {
                    ipcRound(IpcMemoryHandle.fromBytes(HEX.parseHex(args[1])), IpcEventHandle.fromBytes(HEX.parseHex(args[2])));
                }
                if (round == 0) {
                    start = LinuxFds.count();
                }
            }
        } finally {
            if (channel != null) {
                channel.close();
            }
        }
        System.out.println("fds " + start + " " + LinuxFds.count());
    }

    private static void vmmRound(FdChannel channel) {
        try (Arena arena = Arena.ofConfined()) {
            try (ReceivedMemory received = channel.receiveMemory(WAIT)) {
                ExternalMemory external = received.importMemory(arena);
                System.out.println("external reads: " + read(external.mapBuffer()));
            }
            try (ReceivedMemory received = channel.receiveMemory(WAIT)) {
                VirtualMemory memory = received.importVirtualMemory(arena);
                System.out.println("virtual reads: " + read(memory.segment()));
                write(memory.segment(), "vmm from the child");
            }
        }
    }

    private static void ipcRound(IpcMemoryHandle memoryHandle, IpcEventHandle eventHandle) {
        try (Arena arena = Arena.ofConfined()) {
            Event done = eventHandle.open(arena);
            done.synchronize();
            MemorySegment shared = memoryHandle.open(arena);
            System.out.println("child opened " + shared.byteSize() + " bytes: " + read(shared));
            MemorySegment host = arena.allocate(1);
            Memory.copy(host, shared.asSlice(MiB + 5, 1), 1);
            System.out.println("child sees the fill after the event: " + host.get(ValueLayout.JAVA_BYTE, 0));
            write(shared, "ipc from the child");
            Stream stream = Stream.create(arena);
            done.record(stream).synchronize();
            System.out.println("child event complete: " + done.isComplete());
        }
    }
}
