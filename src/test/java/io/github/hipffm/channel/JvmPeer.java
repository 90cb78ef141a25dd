package io.github.hipffm.channel;

import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.FdChannel;
import io.github.hipffm.Memory;
import io.github.hipffm.ReceivedMemory;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.TestRuntime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The second JVM of {@code FdChannelTest}: connects to SOCKET, then ROUNDS times: sends a memfd with
 * "from jvm I" at offset 16 and a timeline semaphore fd with value I, receives a memory message, imports it into
 * the test runtime and prints what the other side wrote ("received: ..."). The first round warms up; it then prints
 * "fds START END" (its open fds after the first round and at the end) and "live N" (the test runtime's live
 * objects at the end). Usage: {@code JvmPeer SOCKET ROUNDS}.
 */
public final class JvmPeer {
    private JvmPeer() {
    }

    /**
     * Runs the peer.
     * @param args the socket and the number of rounds
     */
    public static void main(String[] args) {
        Path socket = Path.of(args[0]);
        int rounds = Integer.parseInt(args[1]);
        long start = -1;
        try (FdChannel channel = FdChannel.connect(socket, Duration.ofSeconds(30))) {
            for (int i = 0; i < rounds; i++) {
                if (i == 1) {
                    start = LinuxFds.count();
                }
                int fd = LinuxFds.memfd("jvm-peer", 4096);
                int sem = LinuxFds.memfd("jvm-peer-semaphore", 8);
                try {
                    LinuxFds.write(fd, 16, ("from jvm " + i + "\0").getBytes(StandardCharsets.UTF_8));
                    channel.send(ExternalMemoryDescriptor.opaqueFd(fd, 4096), 16);
                    channel.send(ExternalSemaphoreDescriptor.timelineFd(sem), i);
                } finally {
                    LinuxFds.close(fd);
                    LinuxFds.close(sem);
                }
                try (ReceivedMemory received = channel.receiveMemory(Duration.ofSeconds(30));
                     Arena arena = Arena.ofConfined()) {
                    ExternalMemory memory = received.importMemory(arena);
                    MemorySegment host = arena.allocate(64);
                    Memory.copy(host, memory.mapBuffer(received.offset(), 64), 64);
                    if (i == 0 || i == rounds - 1) {
                        System.out.println("received: " + host.getString(0) + " from pid " + received.sender().pid());
                    }
                }
            }
        }
        System.out.println("fds " + start + " " + LinuxFds.count());
        System.out.println("live " + TestRuntime.liveAll());
    }
}
