package io.github.hipffm.channel;

import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalMemoryHandleType;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.ExternalSemaphoreHandleType;
import io.github.hipffm.FdChannel;
import io.github.hipffm.FdChannelException;
import io.github.hipffm.FdChannelException.Reason;
import io.github.hipffm.FdMessage;
import io.github.hipffm.Hip;
import io.github.hipffm.Memory;
import io.github.hipffm.ReceivedMemory;
import io.github.hipffm.ReceivedSemaphore;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link FdChannel} between processes: a C peer ({@code src/test/native/fdpeer.c}) and a second JVM
 * ({@link JvmPeer}) exchange memfds with this JVM, which imports them into the test runtime and reads back what the
 * peer wrote; every refusal (a message without its fd, more fds than announced, {@code MSG_CTRUNC}, malformed
 * records, timeouts, the peer killed, the wrong uid) closes every fd received; after every test no fd and no live
 * object is left here ({@link NoLeaks}), and each peer reports its own fd count back where it started.
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class FdChannelTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    /** The first process start opens what the JDK keeps for later ones; not in any test's count. */
    @BeforeAll
    static void warmUp() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        p.getInputStream().close();
        p.getOutputStream().close();
        p.getErrorStream().close();
        Hip.platform();
    }

    /** Sends {@code text} (NUL-terminated) at offset 16 of a new 4096-byte memfd, then closes the memfd. */
    private static void sendText(FdChannel channel, String name, String text) {
        int fd = LinuxFds.memfd(name, 4096);
        try {
            LinuxFds.write(fd, 16, (text + "\0").getBytes(StandardCharsets.UTF_8));
            channel.send(ExternalMemoryDescriptor.opaqueFd(fd, 4096), 16);
            assertTrue(LinuxFds.isOpen(fd), "sending never closes the caller's fd");
        } finally {
            LinuxFds.close(fd);
        }
    }

    private static String text(ExternalMemory memory, long offset, Arena arena) {
        MemorySegment host = arena.allocate(64);
        Memory.copy(host, memory.mapBuffer(offset, 64), 64);
        return host.getString(0);
    }

    @Test
    void cPeerMemoryImportsIntoTheRuntimeAndJavaSendsBack() throws Exception {
        Path socket = dir.resolve("s");
        try (FdChannel.Server server = FdChannel.listen(socket)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            Peers.Peer peer = Peers.c(socket, "memory:hello from C", "timeline:7", "recv", "wait");
            try (FdChannel channel = server.accept(WAIT)) {
                assertEquals(peer.process().pid(), channel.peer().pid());
                try (ReceivedMemory received = channel.receiveMemory(WAIT); Arena arena = Arena.ofConfined()) {
                    assertEquals(ExternalMemoryHandleType.OPAQUE_FD, received.handleType());
                    assertEquals(4096, received.size());
                    assertEquals(16, received.offset());
                    assertFalse(received.dedicated());
                    assertEquals(1, channel.pending());
                    ExternalMemory memory = received.importMemory(arena);
                    assertFalse(received.ownsFd());
                    assertEquals(0, channel.pending());
                    assertEquals("hello from C", text(memory, received.offset(), arena));
                }
                try (ReceivedSemaphore semaphore = channel.receiveSemaphore(WAIT); Arena arena = Arena.ofConfined()) {
                    assertEquals(ExternalSemaphoreHandleType.TIMELINE_SEMAPHORE_FD, semaphore.handleType());
                    assertEquals(7, semaphore.value());
                    semaphore.importSemaphore(arena);
                    assertFalse(semaphore.ownsFd());
                    assertThrows(IllegalStateException.class, () -> semaphore.importSemaphore(arena));
                }
                sendText(channel, "java-side", "hello from Java");
            } catch (Throwable t) {
                peer.kill();
                peer.close();
                throw t;
            }
            String out = peer.finishCleanly();
            assertTrue(out.contains("received: hello from Java"), out);
        }
        assertFalse(Files.exists(socket), "closing the server deletes its socket file");
    }

    @Test
    void everyBadMessageIsRefusedWithItsFdsClosedAndTheChannelGoesOn() throws Exception {
        record Case(String command, Reason reason, String says) {
        }
        List<Case> cases = List.of(
                new Case("nofd", Reason.MISSING_FDS, "announced 1 fd and carried 0"),
                new Case("extra", Reason.TOO_MANY_FDS, "announced 1 fd and carried 2"),
                new Case("fds:5", Reason.TRUNCATED, "MSG_CTRUNC"),
                new Case("short", Reason.MALFORMED, "10 bytes, shorter than the 16-byte header"),
                new Case("long", Reason.MALFORMED, "MSG_TRUNC"),
                new Case("badmagic", Reason.MALFORMED, "bad magic 0x12345678"),
                new Case("badversion", Reason.MALFORMED, "unsupported version 2"),
                new Case("badkind", Reason.MALFORMED, "unknown kind 7"),
                new Case("badtype", Reason.MALFORMED, "unknown memory handle type 999"),
                new Case("badsize", Reason.MALFORMED, "memory size 0"),
                new Case("badoffset", Reason.MALFORMED, "offset 4096 outside the 4096-byte memory"),
                new Case("badflags", Reason.MALFORMED, "unknown memory flags 0x6"),
                new Case("badcount", Reason.MALFORMED, "announcing 2 fds"));
        Path socket = dir.resolve("s");
        List<String> commands = new ArrayList<>(cases.stream().map(Case::command).toList());
        commands.add("memory:still going");
        commands.add("wait");
        try (FdChannel.Server server = FdChannel.listen(socket)) {
            Peers.Peer peer = Peers.c(socket, commands.toArray(String[]::new));
            try (FdChannel channel = server.accept(WAIT)) {
                for (Case c : cases) {
                    long fds = LinuxFds.count();
                    FdChannelException e = assertThrows(FdChannelException.class, () -> channel.receive(WAIT), c.command);
                    assertEquals(c.reason, e.reason(), c.command + ": " + e.getMessage());
                    assertTrue(e.getMessage().contains(c.says), c.command + ": " + e.getMessage());
                    assertTrue(e.getMessage().matches(".*\\d+ received fds? closed$"), e.getMessage());
                    assertEquals(fds, LinuxFds.count(), c.command + ": every received fd closed");
                }
                try (ReceivedMemory m = channel.receiveMemory(WAIT)) {
                    assertEquals("still going", new String(LinuxFds.read(m.fd(), 16, 11), StandardCharsets.UTF_8));
                }
                assertEquals(0, channel.pending());
            } finally {
                peer.finishCleanly();
            }
        }
    }

    @Test
    void timeoutsLeaveEverythingUsable() {
        Path socket = dir.resolve("s");
        FdChannelException noServer = assertThrows(FdChannelException.class,
                () -> FdChannel.connect(socket, Duration.ofMillis(50)));
        assertEquals(Reason.TIMEOUT, noServer.reason(), noServer.getMessage());
        assertTrue(noServer.getMessage().contains("No such file or directory"), noServer.getMessage());
        try (FdChannel.Server server = FdChannel.listen(socket)) {
            assertEquals(Reason.TIMEOUT, assertThrows(FdChannelException.class,
                    () -> server.accept(Duration.ofMillis(20))).reason());
            try (FdChannel client = FdChannel.connect(socket, WAIT); FdChannel channel = server.accept(WAIT)) {
                assertEquals(ProcessHandle.current().pid(), channel.peer().pid());
                assertEquals(Reason.TIMEOUT, assertThrows(FdChannelException.class,
                        () -> channel.receive(Duration.ZERO)).reason());
                assertEquals(Reason.TIMEOUT, assertThrows(FdChannelException.class,
                        () -> channel.receive(Duration.ofMillis(30))).reason());
                int fd = LinuxFds.memfd("timeout", 64);
                try {
                    client.send(ExternalMemoryDescriptor.opaqueFd(fd, 64));
                } finally {
                    LinuxFds.close(fd);
                }
                try (FdMessage m = channel.receive(Duration.ZERO)) {
                    assertInstanceOf(ReceivedMemory.class, m);
                }
            }
        }
    }

    @Test
    void aSenderThatCannotSendTimesOut() {
        Path socket = dir.resolve("s");
        try (FdChannel.Server server = FdChannel.listen(socket);
             FdChannel client = FdChannel.connect(socket, WAIT, FdChannel.Options.defaults()
                     .withSendTimeout(Duration.ofMillis(20)));
             FdChannel channel = server.accept(WAIT)) {
            int fd = LinuxFds.memfd("flood", 64);
            int sent = 0;
            try {
                FdChannelException e;
                while (true) {
                    try {
                        client.send(ExternalMemoryDescriptor.opaqueFd(fd, 64));
                        sent++;
                    } catch (FdChannelException full) {
                        e = full;
                        break;
                    }
                }
                assertEquals(Reason.TIMEOUT, e.reason(), e.getMessage());
            } finally {
                LinuxFds.close(fd);
            }
            assertTrue(sent > 0);
            client.close();
            for (int i = 0; i < sent; i++) {
                channel.receive(Duration.ZERO).close();   // queued messages still arrive after the sender closed
            }
            assertEquals(Reason.PEER_CLOSED, assertThrows(FdChannelException.class,
                    () -> channel.receive(WAIT)).reason());
        }
    }

    @Test
    void killingThePeerEndsTheExchangeWithItsQueuedFdsStillDelivered() throws Exception {
        Path socket = dir.resolve("s");
        try (FdChannel.Server server = FdChannel.listen(socket)) {
            Peers.Peer peer = Peers.c(socket, "memory:one", "memory:two", "sleep:60000");
            try (FdChannel channel = server.accept(WAIT)) {
                channel.receive(WAIT).close();
                Thread.sleep(50);
                peer.kill();
                try (ReceivedMemory two = channel.receiveMemory(WAIT)) {
                    assertEquals("two", new String(LinuxFds.read(two.fd(), 16, 3), StandardCharsets.UTF_8));
                }
                FdChannelException e = assertThrows(FdChannelException.class, () -> channel.receive(WAIT));
                assertEquals(Reason.PEER_CLOSED, e.reason(), e.getMessage());
                assertEquals(Reason.PEER_CLOSED, assertThrows(FdChannelException.class, () -> channel.send(
                        ExternalMemoryDescriptor.opaqueFd(channelFdOf(), 64))).reason());
            } finally {
                peer.close();
            }
        }
    }

    /** A memfd the next assertion sends; closed by {@link #sendsThatFail}. */
    private final List<Integer> sendsThatFail = new ArrayList<>();

    private int channelFdOf() {
        int fd = LinuxFds.memfd("to-nobody", 64);
        sendsThatFail.add(fd);
        return fd;
    }

    @org.junit.jupiter.api.AfterEach
    void closeSendFds() {
        sendsThatFail.forEach(LinuxFds::close);
    }

    @Test
    void aVirtualThreadWaitingInReceiveSeesThePeerDie() throws Exception {
        Path socket = dir.resolve("s");
        try (FdChannel.Server server = FdChannel.listen(socket)) {
            Peers.Peer peer = Peers.c(socket, "sleep:60000");
            try (FdChannel channel = server.accept(WAIT);
                 var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                CompletableFuture<FdChannelException> waiting = new CompletableFuture<>();
                threads.submit(() -> {
                    try {
                        channel.receive(WAIT).close();
                        waiting.complete(null);
                    } catch (FdChannelException e) {
                        waiting.complete(e);
                    } catch (Throwable t) {
                        waiting.completeExceptionally(t);
                    }
                });
                Thread.sleep(100);
                peer.kill();
                FdChannelException e = waiting.get();
                assertEquals(Reason.PEER_CLOSED, e.reason(), String.valueOf(e));
            } finally {
                peer.close();
            }
        }
    }

    @Test
    void aPeerWithAnotherUidIsRefusedBeforeAnythingIsRead() throws Exception {
        boolean root = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
        Path setpriv = Path.of("/usr/bin/setpriv");
        String why = !root ? "not root: cannot run a peer under another uid (CI runs as root)"
                : !Files.isExecutable(setpriv) ? "no " + setpriv + " (util-linux) to run a peer as uid 65534" : null;
        if (why != null) {
            System.out.println("FdChannelTest: wrong-uid case skipped: " + why);
        }
        assumeTrue(why == null, why);
        // The peer as nobody must reach its binary and the socket: both in a directory of its own, opened up.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path binary = dir.resolve("fdpeer");
        Files.copy(Peers.FDPEER, binary);
        Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path socket = dir.resolve("s");
        try (FdChannel.Server server = FdChannel.listen(socket)) {
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            Peers.Peer nobody = Peers.c(List.of(setpriv.toString(), "--reuid=65534", "--regid=65534",
                    "--clear-groups"), binary, socket, "memory:from nobody", "wait");
            try {
                FdChannelException e = assertThrows(FdChannelException.class, () -> server.accept(WAIT));
                assertEquals(Reason.PEER_REFUSED, e.reason(), e.getMessage());
                assertTrue(e.getMessage().contains("uid 65534, not the required uid 0"), e.getMessage());
            } finally {
                String out = nobody.finish();
                // Its send either failed (the server had closed the connection) or went into a closed connection.
                assertTrue(out.contains("sendmsg: Broken pipe") || out.contains("sendmsg: Connection reset")
                        || out.contains("fds "), "the peer ran as nobody and saw its connection closed:\n" + out);
            }
            Peers.Peer same = Peers.c(List.of(), binary, socket, "memory:from root");
            try (FdChannel channel = server.accept(WAIT); FdMessage m = channel.receive(WAIT)) {
                assertTrue(m.ownsFd(), "the server goes on listening after a refusal");
            } finally {
                same.finishCleanly();
            }
        }
        try (FdChannel.Server server = FdChannel.listen(socket, FdChannel.Options.defaults().withPeerPid(1));
             FdChannel client = FdChannel.connect(socket, WAIT)) {
            FdChannelException e = assertThrows(FdChannelException.class, () -> server.accept(WAIT));
            assertEquals(Reason.PEER_REFUSED, e.reason());
            assertTrue(e.getMessage().contains("not the required pid 1"), e.getMessage());
            assertEquals(Reason.PEER_CLOSED, assertThrows(FdChannelException.class,
                    () -> client.receive(WAIT)).reason());
        }
    }

    @Test
    void aThousandMessagesWithFdsLeaveNothingBehindOnEitherSide() throws Exception {
        int n = 1000;
        Path socket = dir.resolve("s");
        try (FdChannel.Server server = FdChannel.listen(socket)) {
            Peers.Peer peer = Peers.c(socket, "flood:" + n);
            try (FdChannel channel = server.accept(WAIT)) {
                for (int i = 0; i < n; i++) {
                    try (ReceivedMemory m = channel.receiveMemory(WAIT)) {
                        if (i % 10 == 0) {
                            try (Arena arena = Arena.ofConfined()) {
                                assertEquals("message " + i, text(m.importMemory(arena), m.offset(), arena));
                            }
                        }
                    }
                }
                assertEquals(0, channel.pending());
                assertEquals(0, TestRuntime.liveAll());
            } finally {
                peer.finishCleanly();
            }
        }
    }

    @Test
    void jvmToJvm() throws Exception {
        int rounds = 20;
        Path socket = dir.resolve("s");
        try (FdChannel.Server server = FdChannel.listen(socket)) {
            Peers.Peer peer = Peers.jvm(socket, Integer.toString(rounds));
            try (FdChannel channel = server.accept(Duration.ofSeconds(60))) {
                for (int i = 0; i < rounds; i++) {
                    try (ReceivedMemory m = channel.receiveMemory(WAIT); Arena arena = Arena.ofConfined()) {
                        assertEquals("from jvm " + i, text(m.importMemory(arena), m.offset(), arena));
                    }
                    try (ReceivedSemaphore s = channel.receiveSemaphore(WAIT)) {
                        assertEquals(i, s.value());
                    }
                    sendText(channel, "to-jvm", "reply " + i);
                }
            } catch (Throwable t) {
                peer.kill();
                peer.close();
                throw t;
            }
            String out = peer.finishCleanly();
            assertTrue(out.contains("received: reply " + (rounds - 1)), out);
            assertTrue(out.contains("live 0"), out);
        }
    }

    @Test
    void receivedMessagesAreBoundedAndOwnTheirFds() {
        Path socket = dir.resolve("s");
        try (FdChannel.Server server = FdChannel.listen(socket, FdChannel.Options.defaults().withMaxPending(2));
             FdChannel client = FdChannel.connect(socket, WAIT);
             FdChannel channel = server.accept(WAIT)) {
            int fd = LinuxFds.memfd("pending", 64);
            try {
                for (int i = 0; i < 3; i++) {
                    client.send(ExternalMemoryDescriptor.opaqueFd(fd, 64));
                }
            } finally {
                LinuxFds.close(fd);
            }
            FdMessage a = channel.receive(WAIT);
            FdMessage b = channel.receive(WAIT);
            IllegalStateException full = assertThrows(IllegalStateException.class, () -> channel.receive(WAIT));
            assertTrue(full.getMessage().contains("maxPending 2"), full.getMessage());
            int taken = a.takeFd();
            assertFalse(a.ownsFd());
            assertThrows(IllegalStateException.class, a::takeFd);
            a.close();
            assertTrue(LinuxFds.isOpen(taken), "a taken fd is the caller's");
            LinuxFds.close(taken);
            channel.receive(WAIT).close();
            b.close();
            b.close();
            assertEquals(0, channel.pending());
        }
    }

    @Test
    void badArgumentsFailInJavaNamingTheValue() throws Exception {
        Path socket = dir.resolve("s");
        assertThrows(IllegalArgumentException.class, () -> FdChannel.listen(null));
        String longName = "x".repeat(120);
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> FdChannel.listen(dir.resolve(longName)));
        assertTrue(tooLong.getMessage().contains("holds at most 107"), tooLong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FdChannel.connect(dir.resolve(longName), WAIT));
        assertThrows(IllegalArgumentException.class, () -> FdChannel.connect(socket, Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> FdChannel.connect(socket, null));
        Path file = dir.resolve("file");
        Files.writeString(file, "not a socket");
        IllegalArgumentException notSocket = assertThrows(IllegalArgumentException.class, () -> FdChannel.listen(file));
        assertTrue(notSocket.getMessage().contains("is not a socket (a regular file)"), notSocket.getMessage());
        assertEquals("not a socket", Files.readString(file));
        assertThrows(IllegalArgumentException.class, () -> FdChannel.Options.defaults().withMaxFdsPerMessage(0));
        assertThrows(IllegalArgumentException.class, () -> FdChannel.Options.defaults().withMaxFdsPerMessage(254));
        assertThrows(IllegalArgumentException.class, () -> FdChannel.Options.defaults().withMaxPending(0));
        assertThrows(IllegalArgumentException.class, () -> FdChannel.Options.defaults().withPeerUid(-2));
        assertThrows(IllegalArgumentException.class, () -> FdChannel.Options.defaults().withPeerPid(0));
        try (FdChannel.Server server = FdChannel.listen(socket)) {
            FdChannelException inUse = assertThrows(FdChannelException.class, () -> FdChannel.listen(socket));
            assertTrue(inUse.getMessage().contains("in use"), inUse.getMessage());
            try (FdChannel client = FdChannel.connect(socket, WAIT); FdChannel channel = server.accept(WAIT)) {
                assertThrows(IllegalArgumentException.class, () -> client.send((ExternalMemoryDescriptor) null));
                assertThrows(IllegalArgumentException.class, () -> client.send((ExternalSemaphoreDescriptor) null, 0));
                int fd = LinuxFds.memfd("args", 64);
                LinuxFds.close(fd);
                IllegalArgumentException closed = assertThrows(IllegalArgumentException.class,
                        () -> client.send(ExternalMemoryDescriptor.opaqueFd(fd, 64)));
                assertTrue(closed.getMessage().contains("fd " + fd + " is not open"), closed.getMessage());
                assertThrows(IllegalArgumentException.class, () -> ExternalMemoryDescriptor.opaqueFd(-1, 64));
                int open = LinuxFds.memfd("args", 64);
                try {
                    IllegalArgumentException offset = assertThrows(IllegalArgumentException.class,
                            () -> client.send(ExternalMemoryDescriptor.opaqueFd(open, 64), 64));
                    assertTrue(offset.getMessage().contains("offset 64"), offset.getMessage());
                    assertThrows(IllegalArgumentException.class,
                            () -> client.send(ExternalSemaphoreDescriptor.opaqueFd(open), -1));
                } finally {
                    LinuxFds.close(open);
                }
                assertThrows(IllegalArgumentException.class, () -> channel.receive(null));
                assertThrows(IllegalArgumentException.class, () -> channel.receive(Duration.ofMillis(-1)));
                channel.close();
                channel.close();
                assertThrows(IllegalStateException.class, () -> channel.receive(WAIT));
            }
        }
        // A stale socket (its server gone without deleting it) is replaced.
        try (FdChannel.Server first = FdChannel.listen(socket)) {
            Path moved = dir.resolve("stale");
            Files.move(socket, moved);
            first.close();
            Files.move(moved, socket);
        }
        try (FdChannel.Server again = FdChannel.listen(socket)) {
            assertTrue(Files.exists(socket));
        }
    }
}
