package io.github.hipffm.channel;

import io.github.hipffm.Event;
import io.github.hipffm.FdChannel;
import io.github.hipffm.IpcEventHandle;
import io.github.hipffm.IpcMemoryHandle;
import io.github.hipffm.Memory;
import io.github.hipffm.ReceivedMemory;
import io.github.hipffm.Stream;
import io.github.hipffm.VirtualMemory;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.TestRuntime;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;

/**
 * The second JVM of {@code IpcHandleTest}, against the test runtime. Two modes:
 * <ul>
 *   <li>{@code serve}: allocates {@value #SIZE} bytes of device memory holding "from peer PID" and an interprocess
 *       event recorded on a stream, prints "memory HEX" and "event HEX" (their {@code toBytes()}) and "ready", then
 *       answers each line of standard input: "read" prints "peer reads: TEXT" (what its memory holds now), "exit"
 *       (or the end of input) ends.</li>
 *   <li>{@code open MEMORY EVENT SOCKET}: opens the IPC memory handle (hex), prints "peer opened N bytes: TEXT",
 *       writes "from peer" into it; opens the event handle, waits for it and prints "peer event complete: true";
 *       connects to SOCKET, receives a VirtualMemory fd, imports it ({@code importVirtualMemory}), prints "peer
 *       imported N bytes of virtual memory: TEXT" and writes "vmm from peer" into it.</li>
 * </ul>
 * Both end with "fds START END" (its open fds after a warm-up and at the end) and "live N" (the test runtime's
 * live objects at the end).
 */
public final class IpcPeer {
    /** The size of the memory the serving peer allocates. */
    static final int SIZE = 4096;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private IpcPeer() {
    }

    /**
     * {@return the NUL-terminated text at the start of device memory (at most 64 bytes)}
     * @param device device memory
     */
    public static String read(MemorySegment device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(64);
            Memory.copy(host, device, 64);
            return host.getString(0);
        }
    }

    /**
     * Writes {@code text}, NUL-terminated, at the start of device memory.
     * @param device device memory
     * @param text the text
     */
    public static void write(MemorySegment device, String text) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocateFrom(text);
            Memory.copy(device, host);
        }
    }

    private static void print(String line) {
        System.out.println(line);
        System.out.flush();
    }

    /**
     * Runs the peer.
     * @param args the mode and its arguments
     * @throws IOException when standard input fails
     */
    public static void main(String[] args) throws IOException {
        // Loads the runtime and what the JVM opens once (its class path's jars, as the logger's service lookup
        // reads them) before the fds are counted.
        try (Arena arena = Arena.ofConfined()) {
            IpcPeer.write(VirtualMemory.allocate(arena, 1).segment(), "warm-up");
            Event.createInterprocess(arena).record(Stream.create(arena)).synchronize();
        }
        long start = LinuxFds.count();
        if (args[0].equals("serve")) {
            serve();
        } else {
            open(HexFormat.of().parseHex(args[1]), HexFormat.of().parseHex(args[2]), Path.of(args[3]));
        }
        print("fds " + start + " " + LinuxFds.count());
        print("live " + TestRuntime.liveAll());
    }

    private static void serve() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = Memory.allocateDevice(arena, SIZE);
            write(memory, "from peer " + ProcessHandle.current().pid());
            Event event = Event.createInterprocess(arena);
            event.record(Stream.create(arena));
            print("memory " + HexFormat.of().formatHex(IpcMemoryHandle.of(memory).toBytes()));
            print("event " + HexFormat.of().formatHex(IpcEventHandle.of(event).toBytes()));
            print("ready");
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null && !line.equals("exit"); line = in.readLine()) {
                if (line.equals("read")) {
                    print("peer reads: " + read(memory));
                }
            }
        }
    }

    private static void open(byte[] memoryHandle, byte[] eventHandle, Path socket) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment shared = IpcMemoryHandle.fromBytes(memoryHandle).open(arena);
            print("peer opened " + shared.byteSize() + " bytes: " + read(shared));
            write(shared, "from peer");
            Event event = IpcEventHandle.fromBytes(eventHandle).open(arena);
            event.synchronize();
            print("peer event complete: " + event.isComplete());
            try (FdChannel channel = FdChannel.connect(socket, WAIT);
                 ReceivedMemory received = channel.receiveMemory(WAIT)) {
                VirtualMemory memory = received.importVirtualMemory(arena);
                print("peer imported " + memory.size() + " bytes of virtual memory: " + read(memory.segment()));
                write(memory.segment(), "vmm from peer");
            }
        }
    }
}
