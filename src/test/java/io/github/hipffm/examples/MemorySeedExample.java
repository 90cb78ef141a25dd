package io.github.hipffm.examples;

import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.Memory;
import io.github.hipffm.testrt.LinuxFds;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The HIP documentation's external-memory example, in Java: {@code shm_open} 1 MB, {@code ftruncate}, import as
 * {@code OPAQUE_FD} memory, map the whole buffer, use it, release it.
 *
 * <p>A shared-memory fd is not GPU memory: on NVIDIA hip-ffm refuses it before any native call
 * ({@link IllegalArgumentException}: GPU exports there are fds of {@code /dev/nvidiactl}), on AMD the runtime
 * refuses it ({@code HipException}); the fd an {@code OPAQUE_FD} import needs comes from a GPU API
 * ({@code vkGetMemoryFdKHR}, {@code cuMemExportToShareableHandle}). Against the test runtime (on NVIDIA's with
 * {@code -Dhipffm.fdCheck=open}) the mapping is the shared memory itself, so the example can check its work through
 * the fd.
 */
public final class MemorySeedExample {
    static final long SIZE = 1 << 20;

    private MemorySeedExample() {
    }

    /** Runs the example; returns the first 16 bytes of the shared memory, read back through the fd. */
    public static byte[] run() {
        int fd = LinuxFds.shm("/hipffm-seed-" + ProcessHandle.current().pid(), SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            MemorySegment buffer = memory.mapBuffer(0, SIZE);   // the device buffer, scoped to `memory`
            Memory.fill(buffer, (byte) 0x5a);                   // "use": HIP writes every byte
            // leaving the block: hipFree(buffer), hipDestroyExternalMemory(memory), close(fd)
            return LinuxFds.read(fd, 0, 16);
        } catch (RuntimeException e) {
            if (LinuxFds.isOpen(fd)) {
                LinuxFds.close(fd);       // a failed import leaves the fd with us
            }
            throw e;
        }
    }

    /** Prints what happened. @param args unused */
    public static void main(String[] args) {
        byte[] head = run();
        System.out.println("imported 1 MiB of shared memory, HIP filled it; first bytes via the fd: "
                + java.util.HexFormat.ofDelimiter(" ").formatHex(head));
    }
}
