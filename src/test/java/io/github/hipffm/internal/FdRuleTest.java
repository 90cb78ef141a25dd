package io.github.hipffm.internal;

import io.github.hipffm.Platform;
import io.github.hipffm.internal.Posix.Stat;
import io.github.hipffm.testrt.LinuxFds;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * This platform's {@link FdRule} (the adapter's data) on what {@code fstat} and the {@code /proc/self/fd} link say
 * about fds the test doubles cannot make: a GPU export (an NVIDIA device node, an AMD dma-buf), a dma-buf too
 * small for the import. The values are those measured on the H200 ({@code /dev/nvidiactl}: 195:255, mode 020666,
 * size 0) and those of the kernel's source (a dma-buf: an anonymous inode, mode 0600, {@code st_size} its size,
 * link {@code /dmabuf:NAME}). Runs in both test-runtime executions: each checks its own platform's rule; the real
 * fds of {@link #posixStatReadsWhatTheKernelSays} are the same on both.
 */
@Tag("testrt")
class FdRuleTest {
    private static final Stat NVIDIACTL = new Stat(6, 1234, Stat.S_IFCHR | 0666, makedev(195, 255), 0);
    private static final Stat NVIDIA_UVM = new Stat(6, 1235, Stat.S_IFCHR | 0666, makedev(509, 0), 0);
    private static final Stat DEV_NULL = new Stat(6, 4, Stat.S_IFCHR | 0666, makedev(1, 3), 0);
    private static final Stat DMA_BUF = new Stat(0x10, 77, 0600, 0, 4096);
    private static final Stat OLD_DMA_BUF = new Stat(0x10, 78, 0600, 0, 0);
    private static final Stat MEMFD = new Stat(1, 582404, Stat.S_IFREG | 0777, 0, 4096);
    private static final Stat SOCKET = new Stat(9, 289512, Stat.S_IFSOCK | 0777, 0, 0);

    private static final FdRule RULE = Runtimes.current().fdRule();
    private static final boolean NVIDIA = Runtimes.current().platform() == Platform.NVIDIA;

    /** {@code makedev} of glibc. */
    static long makedev(long major, long minor) {
        return ((major & 0xfff) << 8) | ((major & ~0xfffL) << 32) | (minor & 0xff) | ((minor & ~0xffL) << 12);
    }

    /** A link that counts how often it is read. */
    private static final class Link implements Supplier<String> {
        final String link;
        final AtomicInteger reads = new AtomicInteger();

        Link(String link) {
            this.link = link;
        }

        @Override
        public String get() {
            reads.incrementAndGet();
            return link;
        }
    }

    @Test
    void majorAndMinorAreGlibcs() {
        assertEquals(195, NVIDIACTL.major());
        assertEquals(255, NVIDIACTL.minor());
        Stat big = new Stat(0, 0, Stat.S_IFCHR, makedev(4095 + 4096, 255 + 256 * 1000), 0);
        assertEquals(4095 + 4096, big.major());
        assertEquals(255 + 256 * 1000, big.minor());
    }

    @Test
    void anNvidiaExportIsAcceptedFromFstatAloneOnBothPlatforms() {
        for (long size : new long[] {0, 1 << 20}) {
            Link link = new Link("/dev/nvidiactl");
            assertNull(RULE.refusal(NVIDIACTL, size, link));
            assertEquals(0, link.reads.get(), "the usual path reads no link");
        }
        assertEquals(FdKind.NVIDIA_DEVICE, FdKind.of(NVIDIACTL));
        assertEquals(FdKind.NVIDIA_DEVICE, FdKind.of(NVIDIA_UVM, "/dev/nvidia-uvm"), "a dynamic major, by its link");
        assertNull(RULE.refusal(NVIDIA_UVM, 0, new Link("/dev/nvidia-uvm")));
    }

    @Test
    void onNvidiaAMemfdAndAnotherDeviceAreRefusedNamingWhatTheyAre() {
        String memfd = RULE.refusal(MEMFD, 4096, new Link("/memfd:x (deleted)"));
        String devNull = RULE.refusal(DEV_NULL, 0, new Link("/dev/null"));
        if (!NVIDIA) {
            assertNull(memfd, "AMD leaves them to the runtime");
            assertNull(devNull, "AMD leaves them to the runtime");
            return;
        }
        assertEquals("a memfd (/memfd:x (deleted), 4096 bytes), not a GPU export (on NVIDIA a GPU export's fd refers to"
                + " an NVIDIA device node, /dev/nvidiactl, character major 195)", memfd);
        assertTrue(devNull.startsWith("a character device (/dev/null, 1:3), not a GPU export"), devNull);
    }

    /** Not caught on either platform: sockets, anonymous inodes, dma-bufs of a sufficient size. */
    @Test
    void socketsAnonymousInodesAndLargeEnoughDmaBufsPass() {
        Link socket = new Link("socket:[289512]");
        assertNull(RULE.refusal(SOCKET, 4096, socket));
        assertEquals(0, socket.reads.get(), "fstat tells a socket");
        assertNull(RULE.refusal(new Stat(0x10, 1038, 0600, 0, 0), 0, new Link("anon_inode:[eventfd]")));
        assertNull(RULE.refusal(DMA_BUF, 4096, new Link("/dmabuf:")));
        assertNull(RULE.refusal(DMA_BUF, 0, new Link("/dmabuf:")), "a semaphore has no size");
        assertNull(RULE.refusal(OLD_DMA_BUF, 1 << 30, new Link("anon_inode:dmabuf")), "no size before Linux 5.3");
    }

    @Test
    void onAmdADmaBufSmallerThanTheImportIsRefused() {
        Link link = new Link("/dmabuf:");
        String refusal = RULE.refusal(DMA_BUF, 8192, link);
        if (NVIDIA) {
            assertNull(refusal, "NVIDIA leaves dma-bufs to CUDA");
            return;
        }
        assertEquals("a dma-buf (/dmabuf:, 4096 bytes), smaller than the 8192 bytes to import", refusal);
        assertEquals(1, link.reads.get());
        Link fits = new Link("/dmabuf:");
        assertNull(RULE.refusal(DMA_BUF, 4096, fits));
        assertEquals(0, fits.reads.get(), "an import that fits reads no link");
        assertNull(RULE.refusal(MEMFD, 8192, new Link("/memfd:x (deleted)")), "only a dma-buf's size is its export's");
    }

    @Test
    void kindsFromTheLink() {
        assertEquals(FdKind.MEMFD, FdKind.of(MEMFD, "/memfd:x (deleted)"));
        assertEquals(FdKind.SHM, FdKind.of(MEMFD, "/dev/shm/x (deleted)"));
        assertEquals(FdKind.REGULAR_FILE, FdKind.of(MEMFD, "/etc/hostname"));
        assertEquals(FdKind.DMA_BUF, FdKind.of(DMA_BUF, "/dmabuf:"));
        assertEquals(FdKind.DMA_BUF, FdKind.of(OLD_DMA_BUF, "anon_inode:dmabuf"));
        assertEquals(FdKind.ANON_INODE, FdKind.of(DMA_BUF, "anon_inode:[eventfd]"));
        assertEquals(FdKind.ANON_INODE, FdKind.of(MEMFD, "anon_inode:[eventfd]"), "whatever mode a kernel gives it");
        assertEquals(FdKind.CHAR_DEVICE, FdKind.of(DEV_NULL, "/dev/null"));
        assertEquals("a socket (socket:[1])", FdKind.describe(SOCKET, "socket:[1]"));
        assertEquals("a regular file (4096 bytes)", FdKind.describe(MEMFD, ""));
    }

    @Test
    void posixStatReadsWhatTheKernelSays() {
        int memfd = LinuxFds.memfd("hipffm-stat", 12345);
        int devNull = LinuxFds.open(Path.of("/dev/null"), LinuxFds.O_RDONLY);
        int dir = LinuxFds.open(Path.of("/"), LinuxFds.O_RDONLY);
        int[] pipe = LinuxFds.pipe();
        int eventfd = LinuxFds.eventfd();
        try {
            Stat m = Posix.stat(memfd);
            assertEquals(Stat.S_IFREG, m.type());
            assertEquals(12345, m.size());
            assertEquals("a memfd (/memfd:hipffm-stat (deleted), 12345 bytes)", FdKind.describe(m, Posix.link(memfd)));
            Stat n = Posix.stat(devNull);
            assertEquals(Stat.S_IFCHR, n.type());
            assertEquals("1:3", n.major() + ":" + n.minor());
            assertEquals(FdKind.DIRECTORY, FdKind.of(Posix.stat(dir)));
            assertEquals(FdKind.PIPE, FdKind.of(Posix.stat(pipe[0])));
            assertEquals(FdKind.ANON_INODE, FdKind.of(Posix.stat(eventfd), Posix.link(eventfd)));
        } finally {
            for (int fd : new int[] {memfd, devNull, dir, pipe[0], pipe[1], eventfd}) {
                LinuxFds.close(fd);
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Posix.stat(memfd));
        assertEquals("fd " + memfd + " is not open (fstat: Bad file descriptor, errno 9)", e.getMessage());
    }
}
