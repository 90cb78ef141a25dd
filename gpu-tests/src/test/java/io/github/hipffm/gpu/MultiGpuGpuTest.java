package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.Dim3;
import io.github.hipffm.Event;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.Graph;
import io.github.hipffm.GraphExec;
import io.github.hipffm.Hip;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.vulkan.ExportableBuffer;
import io.github.hipffm.vulkan.VulkanDevice;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * Issue 17 on two real GPUs (nvidia-h200-x2): the Vulkan device matched by the UUID of device 1, an import on device
 * 1 while the thread's current device is 0, kernels and copies on each device, every mix of devices refused in Java
 * before the runtime sees it (so no sticky 700, no 999), and peer copies both ways with random data checked, without
 * and then with peer access. With fewer than two devices every test is skipped, saying how many there are.
 *
 * <p>The order matters: peer access, once enabled, stays enabled for the process (hip-ffm offers no way to disable
 * it), so the refusals of memory of the other device and the copies without peer access run first, and the test
 * that enables it runs last. No other GPU test enables peer access.
 */
@Tag("gpu")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiGpuGpuTest {
    private static final long MiB = 1L << 20;
    private static final long SEED = 0x5eed2026L;   // benchmarks' CopyBench.FILL_SEED

    private Device gpu0;
    private Device gpu1;
    private byte[] ptx;      // kernels.ptx (KernelGpuTest.ptx()): increment(unsigned int *x, long long n)

    @BeforeEach
    void twoGpus() throws IOException {
        Gpu.require();
        int n = Hip.deviceCount();
        if (n < 2) {
            abort("needs 2 GPUs (nvidia-h200-x2); this machine has " + n);
        }
        gpu0 = Hip.device(0);
        gpu1 = Hip.device(1);
        gpu0.makeCurrent();
        ptx = KernelGpuTest.ptx();
    }

    private static String hex(Device d) {
        return HexFormat.of().formatHex(d.uuidBytes());
    }

    private void assertCurrentIs0(String after) {
        assertEquals(gpu0, Hip.currentDevice(), "the current device after " + after);
    }

    /** Random bytes (splitmix64 from {@code seed}) in pinned host memory. */
    private static MemorySegment random(Arena arena, long bytes, long seed) {
        MemorySegment p = Memory.allocatePinned(arena, bytes);
        long x = seed;
        for (long i = 0; i < bytes / 8; i++) {
            long z = (x += 0x9e3779b97f4a7c15L);
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            p.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, z ^ (z >>> 31));
        }
        return p;
    }

    /** {@return the device memory as the host sees it after a synchronous copy} */
    private static MemorySegment read(Arena arena, MemorySegment device, long bytes) {
        MemorySegment host = Memory.allocatePinned(arena, bytes);
        Memory.copy(host, device, bytes);
        return host;
    }

    private static Kernel increment(HipModule module) {
        return module.kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
    }

    private static void launch(Kernel k, Stream s, MemorySegment words, long n) {
        k.launch(Dim3.covering(n, 256), Dim3.of(256), 0, s, words, n);
    }

    /** The 32-bit words of {@code host}, each plus one (what {@code increment} makes of them). */
    private static MemorySegment plusOne(Arena arena, MemorySegment host) {
        MemorySegment e = arena.allocate(host.byteSize());
        for (long i = 0; i < host.byteSize() / 4; i++) {
            e.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, host.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i) + 1);
        }
        return e;
    }

    /** Open fds and both devices' free memory: what each test leaves as it found. */
    private record Usage(long fds, long free0, long free1) {
        static Usage of(Device a, Device b) {
            return new Usage(LinuxFds.count(), a.memoryInfo().free(), b.memoryInfo().free());
        }
    }

    @Test
    @Order(1)
    void topology() {
        StringBuilder b = new StringBuilder("multi-GPU topology:");
        for (Device d : Hip.devices()) {
            b.append(" device ").append(d.ordinal()).append(" '").append(d.name()).append("' uuid ").append(hex(d))
                    .append(" pci ").append(d.pciAddress()).append(';');
        }
        b.append(" canAccessPeer 0->1 ").append(gpu0.canAccessPeer(gpu1)).append(", 1->0 ")
                .append(gpu1.canAccessPeer(gpu0));
        Gpu.record(b.toString());
        assertEquals(gpu1, Hip.deviceByUuid(gpu1.uuidBytes()));
        assertEquals(gpu1, Hip.deviceByPciBusId(gpu1.pciAddress().toString()));
        assertCurrentIs0("the queries");
    }

    /**
     * Vulkan on device 1 (matched by UUID), its buffer imported on device 1 with device 0 current, a kernel of a
     * module loaded on device 1 over it on a stream of device 1, and Vulkan reads the result. Run twice: the second
     * round must leave fds and free memory of both devices as it found them.
     */
    @Test
    @Order(2)
    void vulkanOnDevice1ImportsAndRunsAKernelWhileDevice0IsCurrent() {
        try (VulkanDevice vk = VulkanDevice.create(gpu1)) {
            assertCurrentIs0("VulkanDevice.create(gpu1)");
            assertArrayEquals(gpu1.uuidBytes(), vk.uuid(), "Vulkan's device is not HIP's device 1");
            Gpu.record("multi-GPU: Vulkan device '" + vk.name() + "' matched by the UUID " + hex(gpu1) + " of device 1");
            vulkanRound(vk);          // warm-up: device 1's context, module loading
            Usage before = Usage.of(gpu0, gpu1);
            vulkanRound(vk);
            Usage after = Usage.of(gpu0, gpu1);
            Gpu.record("multi-GPU: import + kernel on device 1 with device 0 current: " + before + " -> " + after);
            assertEquals(before, after, "fds and free memory after a round on device 1");
        }
        assertCurrentIs0("closing Vulkan");
    }

    private void vulkanRound(VulkanDevice vk) {
        int n = 1 << 20;
        long bytes = 4L * n;
        try (ExportableBuffer buffer = Gpu.buffer(vk, bytes, false); Arena arena = Arena.ofConfined()) {
            MemorySegment input = random(arena, bytes, SEED);
            vk.write(buffer, 0, input);
            ExternalMemory memory = ExternalMemory.importMemory(gpu1, arena,
                    ExternalMemoryDescriptor.opaqueFd(buffer.exportFd(), buffer.allocationSize()));
            assertCurrentIs0("ExternalMemory.importMemory(gpu1, ...)");
            assertEquals(gpu1, memory.device());
            MemorySegment x = memory.mapBuffer(0, bytes);
            assertCurrentIs0("mapBuffer");
            HipModule module = HipModule.load(gpu1, arena, ptx);
            assertCurrentIs0("HipModule.load(gpu1, ...)");
            assertEquals(gpu1, module.device());
            Stream s1 = Stream.create(gpu1, arena);
            assertCurrentIs0("Stream.create(gpu1, ...)");
            launch(increment(module), s1, x, n);
            assertCurrentIs0("the launch on device 1");
            s1.synchronize();
            assertCurrentIs0("synchronize");
            assertEquals(-1, Gpu.mismatch(vk, buffer, 0, plusOne(arena, input)),
                    "first byte where Vulkan sees something else");
        }
    }

    /** On each device in turn, with device 0 current: a copy in, a kernel, a fill, copies out, checked. */
    @Test
    @Order(3)
    void kernelsAndCopiesRunOnEachDevice() {
        long n = 1 << 22;
        long bytes = 4 * n;
        for (Device d : List.of(gpu0, gpu1, gpu1, gpu0)) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment input = random(arena, bytes, SEED + d.ordinal());
                MemorySegment mem = Memory.allocateDevice(d, arena, bytes);
                MemorySegment other = Memory.allocateDevice(d, arena, bytes);
                Stream s = Stream.create(d, arena);
                Kernel k = increment(HipModule.load(d, arena, ptx));
                Memory.copy(mem, input);                      // runs on the memory's device
                launch(k, s, mem, n);
                Memory.copyAsync(other, mem, bytes, s);
                s.synchronize();
                assertEquals(-1, read(arena, other, bytes).mismatch(plusOne(arena, input)), "device " + d.ordinal());
                Memory.fill(mem, (byte) 0x5a);
                Memory.fillAsync(other.asSlice(0, 4096), (byte) 0x33, s);
                s.synchronize();
                assertEquals(0x5a, read(arena, mem, bytes).get(ValueLayout.JAVA_BYTE, bytes - 1));
                assertEquals(0x33, read(arena, other, 4096).get(ValueLayout.JAVA_BYTE, 4095));
                assertCurrentIs0("work on device " + d.ordinal());
            }
        }
    }

    private static void refused(Executable e) {
        var x = assertThrows(IllegalArgumentException.class, e);
        String m = x.getMessage();
        assertTrue(m.contains(HexFormat.of().formatHex(Hip.device(0).uuidBytes()))
                && m.contains(HexFormat.of().formatHex(Hip.device(1).uuidBytes()))
                && m.contains("device 0") && m.contains("device 1"), m);
    }

    /**
     * Every mix of devices refused with both UUIDs, before the runtime: afterwards neither device has an error
     * (cudaPeekAtLastError on each is cudaSuccess; a sticky 700 or 999 would show there and in the synchronizes),
     * and the same work on one device runs.
     */
    @Test
    @Order(4)
    void everyMismatchIsRefusedBeforeTheRuntimeSeesIt() {
        long n = 1 << 16;
        long bytes = 4 * n;
        Usage before = Usage.of(gpu0, gpu1);
        try (Arena arena = Arena.ofConfined()) {
            Stream s0 = Stream.create(gpu0, arena);
            Stream s1 = Stream.create(gpu1, arena);
            MemorySegment m0 = Memory.allocateDevice(gpu0, arena, bytes);
            MemorySegment m1 = Memory.allocateDevice(gpu1, arena, bytes);
            MemorySegment host = Memory.allocatePinned(arena, bytes);
            Kernel k0 = increment(HipModule.load(gpu0, arena, ptx));
            Kernel k1 = increment(HipModule.load(gpu1, arena, ptx));
            Event e0 = Event.create(gpu0, arena);
            Event e1 = Event.create(gpu1, arena);
            Memory.fill(m0, (byte) 0);
            Memory.fill(m1, (byte) 0);

            // memory of device 1 on device 0's work (no peer access), and the other way round
            refused(() -> Memory.fillAsync(m1, (byte) 1, s0));
            refused(() -> Memory.fillAsync(m1.asSlice(64), (byte) 1, Stream.defaultStream()));   // device 0 current
            refused(() -> Memory.fillAsync(m0, (byte) 1, s1));
            refused(() -> Memory.copyAsync(m0, m1, bytes, s0));
            refused(() -> Memory.copyAsync(host, m1, bytes, s0));
            refused(() -> Memory.copy(m0, m1));
            refused(() -> Memory.copy(m1, m0));
            refused(() -> k0.launch(Dim3.of(1), Dim3.of(64), 0, s0, m1, 64L));
            refused(() -> k0.launch(Dim3.of(1), Dim3.of(64), 0, s0, k0.newArgs(arena).set(0, m1).set(1, 64L)));
            refused(() -> k1.launch(Dim3.of(1), Dim3.of(64), 0, s1, m0, 64L));
            // a module of device 0 launched on a stream of device 1, and the other way round
            refused(() -> k0.launch(Dim3.of(1), Dim3.of(64), 0, s1, m1, 64L));
            refused(() -> k1.launch(Dim3.of(1), Dim3.of(64), 0, s0, m0, 64L));
            refused(() -> k1.launch(Dim3.of(1), Dim3.of(64), 0, Stream.defaultStream(), m1, 64L));
            // an event of one device recorded on the other's stream
            refused(() -> e0.record(s1));
            refused(() -> e1.record(s0));
            refused(() -> Event.elapsedMillis(e0, e1));
            // graph nodes mixing devices, and a graph launched on the other device's stream
            Graph g1 = Graph.create(gpu1, arena);
            refused(() -> g1.addFill(m0, (byte) 1));
            refused(() -> g1.addCopy(m1, m0, 64));
            refused(() -> g1.addKernel(k0, Dim3.of(1), Dim3.of(64), 0, k0.newArgs(arena).set(0, m1).set(1, 64L)));
            refused(() -> g1.addKernel(k1, Dim3.of(1), Dim3.of(64), 0, k1.newArgs(arena).set(0, m0).set(1, 64L)));
            refused(() -> g1.addEventRecord(e0));
            g1.addKernel(k1, Dim3.of(1), Dim3.of(64), 0, k1.newArgs(arena).set(0, m1).set(1, 64L));
            GraphExec x1 = g1.instantiate();
            refused(() -> x1.launch(s0));
            assertCurrentIs0("the refusals");

            for (Device d : List.of(gpu0, gpu1)) {
                int err = d.call(CudaRuntime::cudaPeekAtLastError);
                assertEquals(0, err, "device " + d.ordinal() + " has an error after the refusals");
            }
            // the same work on one device runs (a sticky error would fail the synchronizes)
            x1.launch(s1);
            launch(k1, s1, m1, n);
            launch(k0, s0, m0, n);
            e1.record(s1);
            s0.waitFor(e1);
            s1.synchronize();
            s0.synchronize();
            assertEquals(2, read(arena, m1, bytes).get(ValueLayout.JAVA_INT_UNALIGNED, 0));
            assertEquals(1, read(arena, m1, bytes).get(ValueLayout.JAVA_INT_UNALIGNED, bytes - 4));
            assertEquals(1, read(arena, m0, bytes).get(ValueLayout.JAVA_INT_UNALIGNED, bytes - 4));
            assertCurrentIs0("the work after the refusals");
        }
        assertEquals(before.fds(), LinuxFds.count(), "open fds");
    }

    /** Peer copies without peer access (a peer copy needs none); run before any test enables it. */
    @Test
    @Order(5)
    void peerCopiesBothWaysWithoutPeerAccess() {
        peerCopies("without peer access");
    }

    /** Both directions enabled, then the peer copies again, and work of one device on the other's memory. */
    @Test
    @Order(6)
    void peerCopiesAndPeerWorkWithPeerAccess() {
        boolean to1 = gpu0.canAccessPeer(gpu1);
        boolean to0 = gpu1.canAccessPeer(gpu0);
        if (!to1 || !to0) {
            Gpu.record("multi-GPU: no peer access (canAccessPeer 0->1 " + to1 + ", 1->0 " + to0 + "): skipped");
            abort("peer access not available between these GPUs: canAccessPeer 0->1 " + to1 + ", 1->0 " + to0);
        }
        gpu0.enablePeerAccess(gpu1);
        gpu1.enablePeerAccess(gpu0);
        assertCurrentIs0("enablePeerAccess");
        peerCopies("with peer access");
        long n = 1 << 16;
        long bytes = 4 * n;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m1 = Memory.allocateDevice(gpu1, arena, bytes);
            MemorySegment m0 = Memory.allocateDevice(gpu0, arena, bytes);
            Stream s0 = Stream.create(gpu0, arena);
            Kernel k0 = increment(HipModule.load(gpu0, arena, ptx));
            Memory.fill(m1, (byte) 0);
            launch(k0, s0, m1, n);                             // device 0's kernel on device 1's memory
            Memory.copyAsync(m0, m1, bytes, s0);
            s0.synchronize();
            Memory.copy(m1, m0);                               // a plain copy between the devices
            assertEquals(1, read(arena, m1, bytes).get(ValueLayout.JAVA_INT_UNALIGNED, bytes - 4));
            assertEquals(0, (int) gpu1.call(CudaRuntime::cudaPeekAtLastError));
        }
        assertCurrentIs0("peer work");
    }

    /**
     * Random data both ways by {@link Memory#copyPeer} and {@link Memory#copyPeerAsync} (on a stream of either
     * device), checked; a warm-up round, then a round that must leave fds and free memory as it found them.
     */
    private void peerCopies(String access) {
        long[] sizes = {4096 + 8, MiB, 64 * MiB + 8};
        peerRound(sizes, access, false);
        Usage before = Usage.of(gpu0, gpu1);
        peerRound(sizes, access, true);
        Usage after = Usage.of(gpu0, gpu1);
        Gpu.record("multi-GPU: peer copies " + access + ": " + before + " -> " + after);
        assertEquals(before, after, "fds and free memory after the peer copies " + access);
        assertCurrentIs0("the peer copies");
    }

    private void peerRound(long[] sizes, String access, boolean record) {
        for (long bytes : sizes) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment a = random(arena, bytes, SEED ^ bytes);
                MemorySegment b = random(arena, bytes, ~SEED ^ bytes);
                MemorySegment m0 = Memory.allocateDevice(gpu0, arena, bytes);
                MemorySegment m1 = Memory.allocateDevice(gpu1, arena, bytes);
                Stream s0 = Stream.create(gpu0, arena);
                Stream s1 = Stream.create(gpu1, arena);
                Memory.copy(m0, a);
                long t = System.nanoTime();
                Memory.copyPeer(m1, m0, bytes);                   // 0 -> 1
                long t01 = System.nanoTime() - t;
                assertEquals(-1, read(arena, m1, bytes).mismatch(a), "copyPeer 0 -> 1, " + bytes + " bytes");
                Memory.copy(m1, b);
                t = System.nanoTime();
                Memory.copyPeer(m0, m1, bytes);                   // 1 -> 0
                long t10 = System.nanoTime() - t;
                assertEquals(-1, read(arena, m0, bytes).mismatch(b), "copyPeer 1 -> 0, " + bytes + " bytes");
                assertCurrentIs0("copyPeer");
                Memory.copy(m0, a);
                Memory.copyPeerAsync(m1, m0, bytes, s0);          // 0 -> 1 on the source's stream
                s0.synchronize();
                assertEquals(-1, read(arena, m1, bytes).mismatch(a), "copyPeerAsync 0 -> 1 on s0");
                Memory.copy(m1, b);
                Memory.copyPeerAsync(m0, m1, bytes, s0);          // 1 -> 0 on the destination's stream
                s0.synchronize();
                assertEquals(-1, read(arena, m0, bytes).mismatch(b), "copyPeerAsync 1 -> 0 on s0");
                Memory.copy(m0, a);
                Memory.copyPeerAsync(m1, m0, bytes, s1);          // 0 -> 1 on the destination's stream
                s1.synchronize();
                assertEquals(-1, read(arena, m1, bytes).mismatch(a), "copyPeerAsync 0 -> 1 on s1");
                assertCurrentIs0("copyPeerAsync");
                if (record) {
                    Gpu.record(String.format(Locale.ROOT, "multi-GPU: copyPeer %s, %d bytes: 0->1 %.1f GB/s, 1->0 "
                            + "%.1f GB/s (one copy each, wall clock; the benchmark is PeerCopyBench)", access, bytes,
                            bytes / (double) t01, bytes / (double) t10));
                }
            }
        }
    }
}
