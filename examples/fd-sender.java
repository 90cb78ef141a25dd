// The other process of receive-from-process.jsh: makes 4 KiB of shareable memory (a memfd), writes a line at offset
// 16, and sends it over an FdChannel with its size and offset; its own fd is closed after the send.
// Run (a single-file program): java --enable-native-access=ALL-UNNAMED -cp <hip-ffm jar or classes> \
//     examples/fd-sender.java SOCKET_PATH [TEXT]
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.FdChannel;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

public class FdSender {
    public static void main(String[] args) throws Throwable {
        Path socket = Path.of(args[0]);
        String text = args.length > 1 ? args[1] : "hello from process " + ProcessHandle.current().pid();
        Linker linker = Linker.nativeLinker();
        var memfdCreate = linker.downcallHandle(linker.defaultLookup().find("memfd_create").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        var close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = (int) memfdCreate.invokeExact(arena.allocateFrom("fd-sender"), 0);
        }
        try (FileChannel memory = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.WRITE)) {
            memory.truncate(4096);
            memory.write(ByteBuffer.allocate(4096).put(16, (text + "\0").getBytes(StandardCharsets.UTF_8)), 0);
        }
        try (FdChannel channel = FdChannel.connect(socket, Duration.ofSeconds(30))) {
            channel.send(ExternalMemoryDescriptor.opaqueFd(fd, 4096), 16);   // fd stays ours
            System.out.println("sender " + ProcessHandle.current().pid() + ": sent fd " + fd + " to " + channel.peer());
        } finally {
            int rc = (int) close.invokeExact(fd);
        }
    }
}
