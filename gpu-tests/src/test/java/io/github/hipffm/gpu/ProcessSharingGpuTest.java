package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.Event;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.FdChannel;
import io.github.hipffm.Dim3;
import io.github.hipffm.Hip;
import io.github.hipffm.HipModule;
import io.github.hipffm.IpcEventHandle;
import io.github.hipffm.IpcMemoryHandle;
import io.github.hipffm.Kernel;
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
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
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

    // ---- (c) frames between the processes ---------------------------------------------------------------------------

    /**
     * 10,000 frames ping-pong over hip-ffm's own producer side: this JVM allocates {@link VirtualMemory}, sends it
     * to a child JVM over an {@link FdChannel}, and then each frame this JVM runs {@code increment} over the whole
     * buffer and waits for it, tells the child (a byte over a Unix socket), the child runs {@code increment} and
     * waits, and answers; each side checks the first word (2f+1 after its own kernel in frame f for this JVM, 2f+2
     * for the child) and at the end this JVM checks every word.
     */
    @Test
    void tenThousandFramesPingPongBetweenTwoJvmsOnVirtualMemory() throws Exception {
        int frames = 10_000;
        long words = MiB / 4;
        Path socket = dir.resolve("frames.sock");
        Path sync = dir.resolve("frames.sync");
        try (Arena arena = Arena.ofConfined(); FdChannel.Server server = FdChannel.listen(socket);
                ServerSocketChannel syncServer = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            syncServer.bind(UnixDomainSocketAddress.of(sync));
            VirtualMemory shared = VirtualMemory.allocate(arena, MiB);
            Memory.fill(shared.segment(), (byte) 0);
            Kernel increment = HipModule.load(arena, KernelGpuTest.ptx()).kernel("increment", Kernel.Param.POINTER,
                    Kernel.Param.LONG);
            Stream stream = Stream.create(arena);
            MemorySegment first = arena.allocate(4);
            Peers.Peer child = child("frames", socket.toString(), sync.toString(), Integer.toString(frames));
            long errors = 0;
            long[] ns = new long[frames];
            String out;
            try (FdChannel channel = server.accept(WAIT); SocketChannel peer = syncServer.accept()) {
                shared.send(channel);
                ByteBuffer token = ByteBuffer.allocate(1);
                for (int f = 0; f < frames; f++) {
                    long t0 = System.nanoTime();
                    increment.launch(Dim3.covering(words, 256), Dim3.of(256), 0, stream, shared.segment(), words);
                    Memory.copyAsync(first, shared.segment().asSlice(0, 4), 4, stream);
                    stream.synchronize();
                    if (first.get(ValueLayout.JAVA_INT, 0) != 2 * f + 1) {
                        errors++;
                    }
                    token.clear().put((byte) 1).flip();
                    peer.write(token);
                    token.clear();
                    if (peer.read(token) != 1) {
                        throw new IllegalStateException("the child left at frame " + f);
                    }
                    ns[f] = System.nanoTime() - t0;
                }
                out = child.finishCleanly();
            } catch (Throwable t) {
                child.kill();
                child.close();
                throw t;
            }
            MemorySegment all = arena.allocate(MiB);
            Memory.copy(all, shared.segment().asSlice(0, MiB));   // the allocation is rounded up to the granularity
            for (long i = 0; i < words; i++) {
                if (all.getAtIndex(ValueLayout.JAVA_INT, i) != 2 * frames) {
                    errors++;
                }
            }
            java.util.Arrays.sort(ns);
            String childErrors = out.lines().filter(l -> l.startsWith("frame errors")).findFirst().orElse("(no count)");
            Gpu.record(String.format(java.util.Locale.ROOT, "VirtualMemory frames between two JVMs: %d frames of"
                    + " increment over 1 MiB in each process, a byte each way over a Unix socket per frame; this JVM's"
                    + " errors %d (first word after its kernel, every word at the end = %d), child %s; round trip p50"
                    + " %.1f us, p99 %.1f us", frames, errors, 2 * frames, childErrors, ns[frames / 2] / 1e3,
                    ns[frames * 99 / 100] / 1e3));
            assertEquals(0, errors, "this JVM's frame errors");
            assertTrue(out.contains("frame errors 0"), out);
        }
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
    public static void main(String[] args) throws Exception {
        if (args[0].equals("frames")) {
            frames(Path.of(args[1]), Path.of(args[2]), Integer.parseInt(args[3]));
            return;
        }
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

    /**
     * The child of (c): imports the memory, then per frame waits for a byte, runs increment, checks, answers; prints
     * its errors and "fds START END" (after the first frame, at the end).
     */
    private static void frames(Path socket, Path sync, int frames) throws Exception {
        long words = MiB / 4;
        long errors = 0;
        long start = -1;
        try (Arena arena = Arena.ofConfined(); FdChannel channel = FdChannel.connect(socket, WAIT);
                SocketChannel peer = SocketChannel.open(UnixDomainSocketAddress.of(sync))) {
            VirtualMemory shared;
            try (ReceivedMemory received = channel.receiveMemory(WAIT)) {
                shared = received.importVirtualMemory(arena);
            }
            Kernel increment = HipModule.load(arena, KernelGpuTest.ptx()).kernel("increment", Kernel.Param.POINTER,
                    Kernel.Param.LONG);
            Stream stream = Stream.create(arena);
            MemorySegment first = arena.allocate(4);
            ByteBuffer token = ByteBuffer.allocate(1);
            for (int f = 0; f < frames; f++) {
                token.clear();
                if (peer.read(token) != 1) {
                    throw new IllegalStateException("the parent left at frame " + f);
                }
                increment.launch(Dim3.covering(words, 256), Dim3.of(256), 0, stream, shared.segment(), words);
                Memory.copyAsync(first, shared.segment().asSlice(0, 4), 4, stream);
                stream.synchronize();
                if (first.get(ValueLayout.JAVA_INT, 0) != 2 * f + 2) {
                    errors++;
                }
                token.flip();
                peer.write(token);
                if (f == 0) {
                    start = LinuxFds.count();
                }
            }
        }
        System.out.println("frame errors " + errors);
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
