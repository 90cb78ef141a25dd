package io.github.hipffm.vulkan;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Measures how lavapipe exports OPAQUE_FD memory, which the C test runtime relies on (hipffm_testrt.c,
 * {@code external_memory_data_offset}): a memfd named "llvmpipe memory fd" of allocation + 4,136 bytes whose
 * allocation bytes start at offset 4,096 (mesa 22.3.6). Fails when another lavapipe lays it out otherwise, so the
 * test runtime is fixed rather than silently reading the wrong bytes.
 */
@ExtendWith(Harness.class)
class LavapipeLayoutTest {
    static final long DATA_OFFSET = 4096;
    static final long EXTRA = 4136;

    @Test
    void anExportedAllocationIsAMemfdWithItsBytesAtOffset4096() throws IOException {
        try (VulkanDevice vk = VulkanDevice.create(DeviceSelector.first());
             ExportableBuffer b = vk.createBuffer(3 * 4096 + 64)) {
            Assumptions.assumeTrue(vk.name().startsWith("llvmpipe"), "not lavapipe: " + vk.name());
            try (Arena a = Arena.ofConfined()) {
                MemorySegment pattern = a.allocate(b.size());
                for (long i = 0; i < b.size(); i++) {
                    pattern.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7 + 3));
                }
                vk.write(b, 0, pattern);
                int fd = b.exportFd();
                try {
                    String target = Harness.target(fd);
                    Path proc = Path.of("/proc/self/fd/" + fd);
                    try (FileChannel ch = FileChannel.open(proc, StandardOpenOption.READ)) {
                        long fileSize = ch.size();
                        ByteBuffer header = ByteBuffer.allocate(64);
                        ch.read(header, 0);
                        ByteBuffer data = ByteBuffer.allocate((int) b.size());
                        ch.read(data, DATA_OFFSET);
                        System.out.printf("LavapipeLayoutTest: %s: allocation %d bytes (buffer %d), fd -> %s, memfd size %d"
                                + " = allocation + %d, first 64 bytes %s%n", vk.name(), b.allocationSize(), b.size(),
                                target, fileSize, fileSize - b.allocationSize(), HexFormat.of().formatHex(header.array()));
                        assertTrue(target.startsWith("/memfd:llvmpipe memory fd"), target);
                        assertEquals(b.allocationSize() + EXTRA, fileSize, "memfd size - allocation size");
                        // mesa's header at the start: the memfd's size, then the data offset (u64 each)
                        header.order(java.nio.ByteOrder.LITTLE_ENDIAN);
                        assertEquals(fileSize, header.getLong(0), "header: the memfd's size");
                        assertEquals(DATA_OFFSET, header.getLong(8), "header: the data offset");
                        assertEquals(-1, MemorySegment.ofArray(data.array()).mismatch(pattern),
                                "the allocation's bytes at offset " + DATA_OFFSET);
                    }
                } finally {
                    Fds.close(fd);
                }
            }
        }
    }
}
