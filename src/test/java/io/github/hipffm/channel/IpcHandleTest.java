package io.github.hipffm.channel;

import io.github.hipffm.Event;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.FdChannel;
import io.github.hipffm.Hip;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.IpcEventHandle;
import io.github.hipffm.IpcMemoryHandle;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.VirtualMemory;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.Raw;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link IpcMemoryHandle} and {@link IpcEventHandle} on the test runtime (both doubles), between this JVM and a
 * second one ({@link IpcPeer}): the peer's memory and event opened here and this JVM's opened there (with a
 * {@link VirtualMemory} fd sent over an {@link FdChannel} alongside), the same bytes seen on both sides; the bytes
 * round trip; every refusal before any native call; a fault in every new native call with nothing left behind
 * ({@link NoLeaks}: objects and fds, here and in the peer).
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class IpcHandleTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final HexFormat HEX = HexFormat.of();
    /** The serving peer, its output so far, and the handles it printed. */
    private static Process peer;
    private static BufferedReader peerOut;
    private static final StringBuilder PEER_LOG = new StringBuilder();
    private static IpcMemoryHandle peerMemory;
    private static IpcEventHandle peerEvent;

    /** A field, made before NoLeaks counts the fds (the first temporary directory opens /dev/random for good). */
    @TempDir
    Path dir;

    @BeforeAll
    static void startThePeer() throws IOException {
        peer = new ProcessBuilder(Peers.jvmCommand(IpcPeer.class, List.of("serve"))).redirectErrorStream(true).start();
        peerOut = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8));
        for (String line = peerLine(); line != null && !line.equals("ready"); line = peerLine()) {
            if (line.startsWith("memory ")) {
                peerMemory = IpcMemoryHandle.fromBytes(HEX.parseHex(line.substring(7)));
            } else if (line.startsWith("event ")) {
                peerEvent = IpcEventHandle.fromBytes(HEX.parseHex(line.substring(6)));
            }
        }
        assertNotNull(peerMemory, () -> "the peer printed no memory handle:\n" + PEER_LOG);
        assertNotNull(peerEvent, () -> "the peer printed no event handle:\n" + PEER_LOG);
    }

    @AfterAll
    static void stopThePeer() throws IOException {
        peer.getOutputStream().write("exit\n".getBytes(StandardCharsets.UTF_8));
        peer.getOutputStream().close();
        while (peerLine() != null) {
            // the rest of its output, into the log
        }
        String out = new Peers.Peer(peer, CompletableFuture.completedFuture(PEER_LOG.toString())).finishCleanly();
        assertTrue(out.contains("live 0"), out);
    }

    private static String peerLine() throws IOException {
        String line = peerOut.readLine();
        if (line != null) {
            PEER_LOG.append(line).append('\n');
        }
        return line;
    }

    /** Sends the serving peer {@code command}; {@return its answer} */
    private static String ask(String command) throws IOException {
        peer.getOutputStream().write((command + "\n").getBytes(StandardCharsets.UTF_8));
        peer.getOutputStream().flush();
        return peerLine();
    }

    private static void assertRefused(String says, Executable call) {
        long before = TestRuntime.calls("hipIpcGetMemHandle");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(says), e.getMessage());
        assertEquals(before, TestRuntime.calls("hipIpcGetMemHandle"), "refused before any native call");
    }

    @Test
    void thePeersMemoryOpensHereAndBothSidesSeeTheSameBytes() throws IOException {
        MemorySegment shared;
        try (Arena arena = Arena.ofConfined()) {
            shared = peerMemory.open(arena);
            assertEquals(IpcPeer.SIZE, shared.byteSize());
            assertTrue(shared.isReadOnly());
            assertEquals(1, TestRuntime.live("ipcMemory"));
            assertTrue(IpcPeer.read(shared).startsWith("from peer "));
            IpcPeer.write(shared, "from the test JVM");
            assertEquals("peer reads: from the test JVM", ask("read"));
            MemorySegment again = peerMemory.open(Hip.currentDevice(), arena);   // a second mapping of it
            assertEquals("from the test JVM", IpcPeer.read(again));
            assertRefused("opened from an IpcMemoryHandle", () -> IpcMemoryHandle.of(again));
        }
        assertEquals(2, TestRuntime.calls("hipIpcCloseMemHandle"), "closing the arena closed both");
        MemorySegment closed = shared;
        assertThrows(IllegalStateException.class, () -> IpcPeer.read(closed));
    }

    @Test
    void thePeersEventOpensAsAnInterprocessEventWithoutTiming() {
        try (Arena arena = Arena.ofConfined()) {
            Event event = peerEvent.open(arena);
            Event onDevice = peerEvent.open(Hip.currentDevice(), arena);
            assertTrue(event.isInterprocess());
            assertTrue(event.toString().contains("no timing, interprocess"), event.toString());
            event.synchronize();
            assertTrue(event.isComplete());
            onDevice.record(Stream.create(arena)).synchronize();
            assertThrows(HipException.class, () -> Event.elapsedMillis(event, onDevice));
            event.close();
            assertThrows(IllegalStateException.class, event::synchronize);
        }
        assertEquals(2, TestRuntime.calls("hipEventDestroy"));
    }

    /** A handle opened in the process that made it: the runtimes refuse it (CUDA: invalid context), nothing opened. */
    @Test
    void aHandleCannotBeOpenedInTheProcessThatMadeIt() {
        try (Arena arena = Arena.ofConfined()) {
            IpcMemoryHandle own = IpcMemoryHandle.of(Memory.allocateDevice(arena, 100));
            HipException e = assertThrows(HipException.class, () -> own.open(arena));
            assertEquals(HipError.INVALID_CONTEXT, e.error());
            assertEquals("hipIpcOpenMemHandle", e.call());
            IpcEventHandle event = IpcEventHandle.of(Event.createInterprocess(arena));
            assertEquals(HipError.INVALID_CONTEXT, assertThrows(HipException.class, () -> event.open(arena)).error());
        }
    }

    @Test
    void anOpenInAClosedArenaLeavesNothingOpen() {
        Arena arena = Arena.ofConfined();
        arena.close();
        assertThrows(IllegalStateException.class, () -> peerMemory.open(arena));
        assertThrows(IllegalStateException.class, () -> peerEvent.open(arena));
        assertEquals(0, TestRuntime.live("ipcMemory"));
    }

    /** Each open fails once in the runtime: the error is thrown, nothing is open (NoLeaks). */
    @ParameterizedTest
    @ValueSource(strings = {"hipIpcOpenMemHandle", "hipIpcOpenEventHandle"})
    void aFaultInAnOpenLeavesNothingBehind(String function) {
        try (Arena arena = Arena.ofConfined()) {
            TestRuntime.failNext(function, HipError.OUT_OF_MEMORY, 0);
            HipException e = assertThrows(HipException.class, () -> {
                peerMemory.open(arena);
                peerEvent.open(arena);
            });
            assertEquals(HipError.OUT_OF_MEMORY, e.error());
            assertEquals(function, e.call());
        }
    }

    /** A failing hipIpcCloseMemHandle is thrown by the arena's close; the mapping stays, closed here by hand. */
    @Test
    void aFaultInTheCloseIsThrownByTheArenasClose() {
        Arena arena = Arena.ofConfined();
        long address = peerMemory.open(arena).address();
        TestRuntime.failNext("hipIpcCloseMemHandle", HipError.INVALID_VALUE, 0);
        HipException e = assertThrows(HipException.class, arena::close);
        assertEquals("hipIpcCloseMemHandle", e.call());
        assertFalse(arena.scope().isAlive());
        assertEquals(1, TestRuntime.live("ipcMemory"));
        assertEquals(0, Raw.ipcCloseMemHandle(MemorySegment.ofAddress(address)));
    }

    /** Each get (and the interprocess event's create) fails once in the runtime: nothing is left behind. */
    @ParameterizedTest
    @ValueSource(strings = {"hipIpcGetMemHandle", "hipIpcGetEventHandle", "hipEventCreateWithFlags"})
    void aFaultInAGetLeavesNothingBehind(String function) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = Memory.allocateDevice(arena, 100);
            TestRuntime.failNext(function, HipError.OUT_OF_MEMORY, 0);
            HipException e = assertThrows(HipException.class, () -> {
                IpcMemoryHandle.of(memory);
                IpcEventHandle.of(Event.createInterprocess(arena));
            });
            assertEquals(HipError.OUT_OF_MEMORY, e.error());
            assertEquals(function, e.call());
        }
    }

    @Test
    void theBytesRoundTripAndSayNothingInToString() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = Memory.allocateDevice(arena, 5000);
            IpcMemoryHandle handle = IpcMemoryHandle.of(memory);
            assertEquals(5000, handle.size());
            byte[] bytes = handle.toBytes();
            assertEquals(IpcMemoryHandle.BYTES, bytes.length);
            assertEquals(72, bytes.length);
            assertEquals(5000, bytes[64] & 0xff | (bytes[65] & 0xff) << 8, "the size follows, little-endian");
            IpcMemoryHandle back = IpcMemoryHandle.fromBytes(bytes);
            assertEquals(handle, back);
            assertEquals(handle.hashCode(), back.hashCode());
            assertEquals(handle, IpcMemoryHandle.of(handle.runtimeHandle(), 5000));
            assertNotEquals(handle, IpcMemoryHandle.of(handle.runtimeHandle(), 4096));
            assertEquals(handle, IpcMemoryHandle.of(memory), "the same allocation, the same handle");
            bytes[0] ^= 1;
            handle.runtimeHandle()[0] ^= 1;
            assertEquals(back, handle, "immutable: the arrays are copies");
            assertEquals("IpcMemoryHandle[5000 bytes]", handle.toString());

            IpcEventHandle event = IpcEventHandle.of(Event.createInterprocess(arena));
            assertEquals(IpcEventHandle.BYTES, event.toBytes().length);
            assertEquals(event, IpcEventHandle.fromBytes(event.toBytes()));
            assertEquals(event.hashCode(), IpcEventHandle.fromBytes(event.toBytes()).hashCode());
            assertEquals("IpcEventHandle[64 bytes]", event.toString());
            assertArrayEquals(event.toBytes(), IpcEventHandle.fromBytes(event.toBytes()).toBytes());
        }
    }

    @Test
    void aWrongLengthOrSizeIsRefusedNamingWhatIsExpected() {
        assertRefused("an IpcMemoryHandle is 72 bytes (the 64-byte runtime handle and the 8-byte size), got 64",
                () -> IpcMemoryHandle.fromBytes(new byte[64]));
        assertRefused("an IPC memory handle is 64 bytes (HIP_IPC_HANDLE_SIZE, CUDA's too), got 72",
                () -> IpcMemoryHandle.of(new byte[72], 1));
        assertRefused("must be > 0, got 0", () -> IpcMemoryHandle.of(new byte[64], 0));
        assertRefused("must be > 0, got -1", () -> IpcMemoryHandle.fromBytes(HEX.parseHex("00".repeat(64)
                + "ffffffffffffffff")));
        assertRefused("an IPC event handle is 64 bytes (HIP_IPC_HANDLE_SIZE, CUDA's too), got 0",
                () -> IpcEventHandle.fromBytes(new byte[0]));
    }

    @Test
    void onlyAWholeAllocationOfMemoryAllocateDeviceHasAHandle() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = Memory.allocateDevice(arena, 4096);
            assertRefused("a slice (16 bytes at offset 8) of a 4096-byte allocation",
                    () -> IpcMemoryHandle.of(memory.asSlice(8, 16)));
            assertRefused("a slice (8 bytes at offset 0) of a 4096-byte allocation",
                    () -> IpcMemoryHandle.of(memory.asSlice(0, 8)));
            assertRefused("not device memory hip-ffm allocated", () -> IpcMemoryHandle.of(Memory.allocatePinned(arena, 64)));
            assertRefused("not device memory hip-ffm allocated", () -> IpcMemoryHandle.of(arena.allocate(64)));
            assertRefused("heap segment", () -> IpcMemoryHandle.of(MemorySegment.ofArray(new byte[64])));
            VirtualMemory vmm = VirtualMemory.allocate(arena, 1);
            assertRefused("VirtualMemory (hipMemCreate; it shares with exportFd or send)",
                    () -> IpcMemoryHandle.of(vmm.segment()));
            MemorySegment buffer = ExternalMemory.importMemory(arena, vmm.exportDescriptor()).mapBuffer();
            assertRefused("a buffer mapped from ExternalMemory", () -> IpcMemoryHandle.of(buffer));
        }
        MemorySegment[] closed = new MemorySegment[1];
        try (Arena arena = Arena.ofConfined()) {
            closed[0] = Memory.allocateDevice(arena, 64);
        }
        assertThrows(IllegalStateException.class, () -> IpcMemoryHandle.of(closed[0]));
    }

    @Test
    void onlyAnOpenInterprocessEventHasAHandle() {
        try (Arena arena = Arena.ofConfined()) {
            Event plain = Event.create(arena, false);
            assertFalse(plain.isInterprocess());
            long before = TestRuntime.calls("hipIpcGetEventHandle");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpcEventHandle.of(plain));
            assertTrue(e.getMessage().contains("made without hipEventInterprocess"), e.getMessage());
            assertTrue(e.getMessage().contains("Event.createInterprocess"), e.getMessage());
            Event shared = Event.createInterprocess(Hip.currentDevice(), arena);
            assertTrue(shared.toString().endsWith("no timing, interprocess]"), shared.toString());
            shared.close();
            assertThrows(IllegalStateException.class, () -> IpcEventHandle.of(shared));
            assertEquals(before, TestRuntime.calls("hipIpcGetEventHandle"));
        }
    }

    /**
     * JVM to JVM, this side the producer: the peer opens this JVM's memory and event from their bytes and imports a
     * VirtualMemory fd sent over an FdChannel; it reads what this side wrote and writes back, and this side sees it.
     */
    @Test
    void aPeerJvmOpensThisJvmsMemoryAndEventAndImportsItsVirtualMemory() {
        Path socket = dir.resolve("s");
        try (Arena arena = Arena.ofConfined(); FdChannel.Server server = FdChannel.listen(socket)) {
            MemorySegment memory = Memory.allocateDevice(arena, 8192);
            IpcPeer.write(memory, "from the test JVM");
            Event event = Event.createInterprocess(arena);
            event.record(Stream.create(arena));
            VirtualMemory vmm = VirtualMemory.allocate(arena, 1);
            IpcPeer.write(vmm.segment(), "vmm from the test JVM");
            Peers.Peer other = Peers.start(Peers.jvmCommand(IpcPeer.class, List.of("open",
                    HEX.formatHex(IpcMemoryHandle.of(memory).toBytes()), HEX.formatHex(IpcEventHandle.of(event).toBytes()),
                    socket.toString())));
            String out;
            try (FdChannel channel = server.accept(WAIT)) {
                vmm.send(channel);
                out = other.finishCleanly();
            } catch (Throwable t) {
                other.kill();
                other.close();
                throw t;
            }
            assertTrue(out.contains("peer opened 8192 bytes: from the test JVM"), out);
            assertTrue(out.contains("peer event complete: true"), out);
            assertTrue(out.contains("peer imported " + vmm.size() + " bytes of virtual memory: vmm from the test JVM"), out);
            assertTrue(out.contains("live 0"), out);
            assertEquals("from peer", IpcPeer.read(memory));
            assertEquals("vmm from peer", IpcPeer.read(vmm.segment()));
        }
    }
}
