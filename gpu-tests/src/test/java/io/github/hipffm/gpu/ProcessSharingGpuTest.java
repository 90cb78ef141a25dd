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
import io.github.hipffm.channel.IpcPeer;
import io.github.hipffm.channel.Peers;
import io.github.hipffm.testrt.LinuxFds;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sharing device memory and events between this JVM and a child JVM on the GPU: (a) {@link VirtualMemory} sent as
 * fds over an {@link FdChannel}, imported by the child as {@link ExternalMemory} ({@code OPAQUE_FD}) and as
 * {@code VirtualMemory}; (b) an {@link IpcMemoryHandle} and an {@link IpcEventHandle} passed as bytes; (c) in both
 * processes the open fds back where they were after a first round (the driver opens some for good on first use),
 * and the device's free memory recorded. The child is this class's {@link #main} in a JVM of this JVM's runtime
 * and class path ({@code Peers.jvmCommand}: {@code java.home}'s launcher, and the locations of the test classes
 * and of hip-ffm before {@code java.class.path}), so it runs the same in the jlinked GPU bundle, whose JUnit console
 * launcher loads them from its {@code --class-path}, as under Maven. Each side reads what the other wrote.
 */
@Tag("gpu")
class ProcessSharingGpuTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final HexFormat HEX = HexFormat.of();
    private static final long MiB = 1L << 20;

    @TempDir
    Path dir;

    @BeforeEach
    void gpu() {
        Gpu.require();
    }

    /**
     * {@return the child ({@link #main}) started with {@code args}, in a JVM of this JVM's runtime and class path}
     * Its output is the test's once it ended with status 0 and its open fds were no more than after its first round.
     */
    private static Peers.Peer child(String... args) {
        return Peers.start(Peers.jvmCommand(ProcessSharingGpuTest.class, List.of(args)));
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
                IpcPeer.write(shared.segment(), "vmm from the test JVM");
                int probe = shared.exportFd();
                Gpu.record("VirtualMemory " + shared.size() + " bytes (granularity "
                        + VirtualMemory.granularity(Hip.device(0)) + "), an exported fd: " + LinuxFds.link(probe));
                LinuxFds.close(probe);
                Peers.Peer child = child("vmm", socket.toString());
                String out;
                try (FdChannel channel = server.accept(WAIT)) {
                    for (int i = 0; i < 4; i++) {   // the child imports two per round, two rounds
                        shared.send(channel);
                    }
                    out = child.finishCleanly();
                } catch (Throwable t) {
                    child.kill();
                    child.close();
                    throw t;
                }
                assertTrue(out.contains("external reads: vmm from the test JVM"), out);
                assertTrue(out.contains("virtual reads: vmm from the test JVM"), out);
                assertEquals("vmm from the child", IpcPeer.read(shared.segment()));
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
                IpcPeer.write(memory, "ipc from the test JVM");
                Stream stream = Stream.create(arena);
                Event done = Event.createInterprocess(arena);
                Memory.fillAsync(memory.asSlice(MiB, MiB), (byte) 7, stream);
                done.record(stream);
                IpcMemoryHandle handle = IpcMemoryHandle.of(memory);
                assertEquals(IpcMemoryHandle.BYTES, handle.toBytes().length);
                String out = child("ipc", HEX.formatHex(handle.toBytes()),
                        HEX.formatHex(IpcEventHandle.of(done).toBytes())).finishCleanly();
                assertTrue(out.contains("child opened " + 3 * MiB + " bytes: ipc from the test JVM"), out);
                assertTrue(out.contains("child sees the fill after the event: 7"), out);
                assertTrue(out.contains("child event complete: true"), out);
                assertEquals("ipc from the child", IpcPeer.read(memory));
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
                System.out.println("external reads: " + IpcPeer.read(external.mapBuffer()));
            }
            try (ReceivedMemory received = channel.receiveMemory(WAIT)) {
                VirtualMemory memory = received.importVirtualMemory(arena);
                System.out.println("virtual reads: " + IpcPeer.read(memory.segment()));
                IpcPeer.write(memory.segment(), "vmm from the child");
            }
        }
    }

    private static void ipcRound(IpcMemoryHandle memoryHandle, IpcEventHandle eventHandle) {
        try (Arena arena = Arena.ofConfined()) {
            Event done = eventHandle.open(arena);
            done.synchronize();
            MemorySegment shared = memoryHandle.open(arena);
            System.out.println("child opened " + shared.byteSize() + " bytes: " + IpcPeer.read(shared));
            MemorySegment host = arena.allocate(1);
            Memory.copy(host, shared.asSlice(MiB + 5, 1), 1);
            System.out.println("child sees the fill after the event: " + host.get(ValueLayout.JAVA_BYTE, 0));
            IpcPeer.write(shared, "ipc from the child");
            Stream stream = Stream.create(arena);
            done.record(stream).synchronize();
            System.out.println("child event complete: " + done.isComplete());
        }
    }
}
