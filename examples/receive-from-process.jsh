// Receive GPU memory from another process: listen on an owner-only Unix socket, start a second JVM that sends a
// memfd over an FdChannel (examples/fd-sender.java), receive it with its size and offset, import it in one call and
// read what the sender wrote. In real use the sender exports GPU memory (vkGetMemoryFdKHR); a memfd is not GPU
// memory, so on a real runtime the import is refused with a message saying what an OPAQUE_FD handle must be, and the
// received fd is closed with the message. Against hip-ffm's test runtime it runs through.
// Two terminals instead: here FdChannel.listen(Path.of("/tmp/gpu.sock")) and server.accept(...); there
//   java --enable-native-access=ALL-UNNAMED -cp target/hip-ffm.jar examples/fd-sender.java /tmp/gpu.sock
// Run: scripts/jshell examples/receive-from-process.jsh
import java.nio.file.*;
import java.time.Duration;
Path socketDir = Files.createTempDirectory("hipffm-");
Path socket = socketDir.resolve("gpu.sock");
try (FdChannel.Server server = FdChannel.listen(socket)) {   // 0600; the peer must have this uid
    Process sender = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
            Path.of(System.getProperty("hipffm.examples", "examples"), "fd-sender.java").toString(), socket.toString())
            .redirectErrorStream(true).start();
    try (FdChannel channel = server.accept(Duration.ofSeconds(60));
         ReceivedMemory received = channel.receiveMemory(Duration.ofSeconds(60));
         Arena arena = Arena.ofConfined()) {
        System.out.println("received " + received.size() + " bytes at offset " + received.offset() + " from pid "
                + channel.peer().pid() + " (uid " + channel.peer().uid() + ")");
        ExternalMemory memory = received.importMemory(arena);     // the memory owns the fd now
        MemorySegment host = arena.allocate(64);
        Memory.copy(host, memory.mapBuffer(received.offset(), 64), 64);
        System.out.println("the sender wrote: " + host.getString(0));
    } catch (HipException | IllegalArgumentException e) {
        System.out.println("import refused: " + e.getMessage());
    } finally {
        System.out.print(new String(sender.getInputStream().readAllBytes()));
        sender.waitFor();
    }
}
Files.deleteIfExists(socketDir);
