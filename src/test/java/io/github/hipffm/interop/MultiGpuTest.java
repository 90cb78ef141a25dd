package io.github.hipffm.interop;

import io.github.hipffm.Device;
import io.github.hipffm.Dim3;
import io.github.hipffm.Event;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.Hip;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.KernelArgs;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several GPUs against the test runtime with two fake devices (hipffmTest_setDeviceCount): lookup by UUID and PCI
 * bus id, creation on an explicit device with the current device left as it was (also after failures), every
 * resource's device, and every mix of devices refused in Java before the runtime sees it, with both UUIDs; the
 * runtime itself refuses the same mistakes (a fill with hipErrorInvalidValue, a kernel with a sticky illegal
 * address), which is how the tests know hip-ffm stopped them first.
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class MultiGpuTest {
    private static final byte[] MODULE = "hipffm-test-module\nincrement\n".getBytes(StandardCharsets.US_ASCII);
    private static final String UUID0 = hex(0);
    private static final String UUID1 = hex(1);

    private Device gpu0;
    private Device gpu1;

    private static String hex(int device) {
        byte[] b = {'h', 'i', 'p', 'f', 'f', 'm', 0, 0x01, 0x23, 0x45, 0x67, (byte) 0x89, (byte) 0xab, (byte) 0xcd,
                (byte) 0xef, (byte) (0x7e + device)};
        return HexFormat.of().formatHex(b);
    }

    @BeforeEach
    void twoDevices() {
        TestRuntime.setDeviceCount(2);
        gpu0 = Hip.device(0);
        gpu1 = Hip.device(1);
        gpu0.makeCurrent();
        TestRuntime.reset();
    }

    @AfterEach
    void oneDevice() {
        assertEquals(0, TestRuntime.stickyError(), "a launch reached the runtime with another device's memory");
        TestRuntime.reset();
        Hip.device(0).makeCurrent();
        TestRuntime.setDeviceCount(1);
    }

    // ---- lookup ------------------------------------------------------------------------------------------------

    @Test
    void devicesAreFoundByUuidAndPciBusId() {
        assertEquals(2, Hip.deviceCount());
        assertEquals(gpu1, Hip.deviceByUuid(gpu1.uuidBytes()));
        assertEquals(gpu0, Hip.deviceByUuid(UUID0));
        assertEquals(gpu1, Hip.deviceByUuid(UUID1.toUpperCase()));
        assertEquals(gpu1, Hip.deviceByUuid(gpu1.uuid().toString()));
        assertEquals(gpu1, Hip.deviceByUuid("GPU-" + gpu1.uuid()));
        assertEquals(gpu1, Hip.deviceByUuid(gpu1.uuid()));
        assertEquals("0000:01:00.0", gpu1.pciAddress().toString());
        assertEquals(gpu1, Hip.deviceByPciBusId("0000:01:00.0"));
        assertEquals(gpu0, Hip.deviceByPciBusId("0:0:0.0"));
        assertEquals(gpu0, Hip.currentDevice());
        gpu1.makeCurrent();
        assertEquals(gpu1, Hip.currentDevice());
    }

    @Test
    void aLookupThatFindsNothingListsTheDevices() {
        for (Executable e : List.<Executable>of(() -> Hip.deviceByUuid(new byte[16]),
                () -> Hip.deviceByUuid(new UUID(1, 2)), () -> Hip.deviceByUuid("00112233445566778899aabbccddeeff"),
                () -> Hip.deviceByPciBusId("0000:42:00.0"))) {
            var x = assertThrows(IllegalArgumentException.class, e);
            assertTrue(x.getMessage().startsWith("no device with ") && x.getMessage().contains(UUID0)
                    && x.getMessage().contains(UUID1) && x.getMessage().contains("0000:01:00.0"), x.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Hip.deviceByUuid(new byte[15]));
        assertThrows(IllegalArgumentException.class, () -> Hip.deviceByUuid("not a uuid"));
        assertThrows(IllegalArgumentException.class, () -> Hip.deviceByPciBusId("00:01"));
        assertThrows(IllegalArgumentException.class, () -> Hip.deviceByUuid((byte[]) null));
        assertThrows(IllegalArgumentException.class, () -> Hip.deviceByUuid((String) null));
        assertThrows(IllegalArgumentException.class, () -> Hip.deviceByUuid((UUID) null));
        assertThrows(IllegalArgumentException.class, () -> Hip.deviceByPciBusId(null));
    }

    // ---- creation on a device ----------------------------------------------------------------------------------

    @Test
    void resourcesAreCreatedOnTheirDeviceAndTheCurrentDeviceIsLeftAlone() {
        try (Arena arena = Arena.ofConfined()) {
            Stream s = Stream.create(gpu1, arena);
            Stream nb = Stream.create(gpu1, arena, true);
            Event e = Event.create(gpu1, arena);
            Event e2 = Event.create(gpu1, arena, false);
            HipModule m = HipModule.load(gpu1, arena, MODULE);
            MemorySegment mem = Memory.allocateDevice(gpu1, arena, 256);
            ExternalMemory x = importMemory(gpu1, arena);
            MemorySegment mapped = x.mapBuffer();
            assertEquals(gpu0, Hip.currentDevice());
            for (var r : List.of(s.device(), nb.device(), e.device(), e2.device(), m.device(), x.device(),
                    m.kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG).device())) {
                assertEquals(gpu1, r);
            }
            assertEquals(gpu0, Stream.create(arena).device());
            assertEquals(gpu0, Event.create(arena).device());
            assertEquals(gpu0, Stream.defaultStream().device());
            gpu1.makeCurrent();
            assertEquals(gpu1, Stream.defaultStream().device());
            assertEquals(gpu1, Stream.create(arena).device());   // the current device
            // usable on their device: the kernel runs on gpu1's stream over gpu1's memory
            Memory.fill(mem, (byte) 0);
            Memory.fillAsync(mapped, (byte) 1, s);
            m.kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG).launch(Dim3.of(1), Dim3.of(64), 0, s,
                    mem, 64L);
            e.record(s);
            s.synchronize();
            MemorySegment host = arena.allocate(256);
            Memory.copy(host, mem);
            assertEquals(1, host.get(ValueLayout.JAVA_BYTE, 0));
        }
        assertEquals(gpu1, Hip.currentDevice());
    }

    @Test
    void theAlreadyCurrentDeviceIsNotSwitched() {
        try (Arena arena = Arena.ofConfined()) {
            TestRuntime.reset();
            Stream.create(gpu0, arena);
            Memory.allocateDevice(gpu0, arena, 64);
            HipModule.load(gpu0, arena, MODULE);
            assertEquals(0, TestRuntime.calls("hipSetDevice"));
            Stream.create(gpu1, arena);
            assertEquals(2, TestRuntime.calls("hipSetDevice"));   // there and back
        }
    }

    @Test
    void aFailedCreationLeavesTheCurrentDeviceAsItWas() {
        try (Arena arena = Arena.ofConfined()) {
            TestRuntime.failNext("hipStreamCreateWithFlags", HipError.OUT_OF_MEMORY, 0);
            assertThrows(HipException.class, () -> Stream.create(gpu1, arena));
            assertEquals(gpu0, Hip.currentDevice());
            TestRuntime.failNext("hipMalloc", HipError.OUT_OF_MEMORY, 0);
            assertThrows(HipException.class, () -> Memory.allocateDevice(gpu1, arena, 64));
            assertEquals(gpu0, Hip.currentDevice());
            TestRuntime.failNext("hipModuleLoadData", HipError.INVALID_VALUE, 0);
            assertThrows(HipException.class, () -> HipModule.load(gpu1, arena, MODULE));
            assertEquals(gpu0, Hip.currentDevice());
            TestRuntime.failNext("hipSetDevice", HipError.INVALID_DEVICE, 0);
            assertThrows(HipException.class, () -> Event.create(gpu1, arena));
            assertEquals(gpu0, Hip.currentDevice());
            assertThrows(IllegalStateException.class, () -> gpu1.call(() -> {
                throw new IllegalStateException("inside");
            }));
            assertEquals(gpu0, Hip.currentDevice());
            assertEquals(gpu1, gpu1.call(Hip::currentDevice));
            assertEquals(gpu0, Hip.currentDevice());
        }
    }

    @Test
    void aFillOrCopyRunsOnTheDeviceOfItsMemory() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mem = Memory.allocateDevice(gpu1, arena, 64);
            MemorySegment host = Memory.allocatePinned(arena, 64);
            Memory.fill(mem, (byte) 9);      // the runtime refuses this with gpu0 current: hip-ffm runs it on gpu1
            Memory.copy(host, mem);
            assertEquals(9, host.get(ValueLayout.JAVA_BYTE, 63));
            assertEquals(gpu0, Hip.currentDevice());
        }
    }

    // ---- refusals ----------------------------------------------------------------------------------------------

    private static void refused(Executable e, String... calls) {
        TestRuntime.reset();
        var x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(UUID0) && x.getMessage().contains(UUID1)
                && x.getMessage().contains("device 0") && x.getMessage().contains("device 1"), x.getMessage());
        for (String c : calls) {
            assertEquals(0, TestRuntime.calls(c), c + " was called: " + x.getMessage());
        }
    }

    @Test
    void workMixingDevicesIsRefusedBeforeTheRuntimeSeesIt() {
        try (Arena arena = Arena.ofConfined()) {
            Stream s0 = Stream.create(gpu0, arena);
            Stream s1 = Stream.create(gpu1, arena);
            MemorySegment m0 = Memory.allocateDevice(gpu0, arena, 256);
            MemorySegment m1 = Memory.allocateDevice(gpu1, arena, 256);
            MemorySegment mapped1 = importMemory(gpu1, arena).mapBuffer(0, 256);
            MemorySegment host = Memory.allocatePinned(arena, 256);
            Kernel k0 = HipModule.load(gpu0, arena, MODULE).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            Kernel k1 = HipModule.load(gpu1, arena, MODULE).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            Event e1 = Event.create(gpu1, arena);
            Event e0 = Event.create(gpu0, arena);

            refused(() -> Memory.fillAsync(m1, (byte) 1, s0), "hipMemsetAsync");
            refused(() -> Memory.fillAsync(mapped1.asSlice(16), (byte) 1, s0), "hipMemsetAsync");
            refused(() -> Memory.fillAsync(m1, (byte) 1, Stream.defaultStream()), "hipMemsetAsync");
            refused(() -> Memory.copyAsync(m0, m1, 64, s0), "hipMemcpyAsync");
            refused(() -> Memory.copyAsync(host, m1, 64, s0), "hipMemcpyAsync");
            refused(() -> Memory.copy(m0, m1), "hipMemcpyAsync");
            refused(() -> Memory.copy(mapped1, m0, 64), "hipMemcpyAsync");
            refused(() -> k0.launch(Dim3.of(1), Dim3.of(64), 0, s0, m1, 64L), "hipModuleLaunchKernel");
            refused(() -> k0.launch(Dim3.of(1), Dim3.of(64), 0, s0, mapped1.asSlice(8), 8L), "hipModuleLaunchKernel");
            KernelArgs args = k0.newArgs(arena).set(0, m1).set(1, 64L);
            refused(() -> k0.launch(Dim3.of(1), Dim3.of(64), 0, s0, args), "hipModuleLaunchKernel");
            refused(() -> k1.launch(Dim3.of(1), Dim3.of(64), 0, s0, m0, 64L), "hipModuleLaunchKernel");
            refused(() -> k1.launch(Dim3.of(1), Dim3.of(64), 0, Stream.defaultStream(), m1, 64L),
                    "hipModuleLaunchKernel");
            refused(() -> e1.record(s0), "hipEventRecord");
            refused(() -> e0.record(s1), "hipEventRecord");
            refused(() -> Event.elapsedMillis(e0, e1), "hipEventElapsedTime");
            if (TestRuntime.nvidia()) {   // the AMD runtime cannot import semaphores on Linux
                ExternalSemaphore sem1 = importSemaphore(gpu1, arena);
                refused(() -> sem1.signal(1, s0), "hipSignalExternalSemaphoresAsync");
                refused(() -> sem1.wait(0, s0), "hipWaitExternalSemaphoresAsync");
                refused(() -> ExternalSemaphore.signal(List.of(ExternalSemaphore.Signal.of(sem1, 2)), s0),
                        "hipSignalExternalSemaphoresAsync");
                sem1.signal(1, s1);
                assertEquals(gpu1, sem1.device());
            }
            // the same work on one device is fine
            Memory.fillAsync(m1, (byte) 0, s1);
            k1.launch(Dim3.of(1), Dim3.of(64), 0, s1, m1, 64L);
            k0.launch(Dim3.of(1), Dim3.of(64), 0, s0, m0, 64L);
            e1.record(s1);
            s0.waitFor(e1);    // waiting for another device's event is allowed (as in CUDA)
            s1.synchronize();
            s0.synchronize();
            Memory.copy(host, m1);
            assertEquals(1, host.get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void peerCopiesMoveDataBetweenDevices() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m0 = Memory.allocateDevice(gpu0, arena, 256);
            MemorySegment m1 = Memory.allocateDevice(gpu1, arena, 256);
            MemorySegment mapped1 = importMemory(gpu1, arena).mapBuffer(0, 256);
            MemorySegment host = Memory.allocatePinned(arena, 256);
            Memory.fill(m0, (byte) 7);
            Memory.copyPeer(m1, m0, 256);
            Memory.copy(host, m1);
            assertEquals(7, host.get(ValueLayout.JAVA_BYTE, 255));
            Stream s1 = Stream.create(gpu1, arena);
            Memory.fillAsync(mapped1, (byte) 5, s1);
            Memory.copyPeerAsync(m0.asSlice(128), mapped1, 128, s1);
            s1.synchronize();
            Memory.copy(host, m0);
            assertEquals(7, host.get(ValueLayout.JAVA_BYTE, 127));
            assertEquals(5, host.get(ValueLayout.JAVA_BYTE, 128));
            assertEquals(gpu0, Hip.currentDevice());
            MemorySegment foreign = MemorySegment.ofAddress(m1.address()).reinterpret(256);
            TestRuntime.reset();
            var x = assertThrows(IllegalArgumentException.class, () -> Memory.copyPeer(foreign, m0, 16));
            assertTrue(x.getMessage().startsWith("dst is not a device segment hip-ffm made"), x.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Memory.copyPeer(m0, host, 16));
            assertThrows(IllegalArgumentException.class, () -> Memory.copyPeerAsync(m0, m1, 257, s1));
            assertThrows(IllegalArgumentException.class, () -> Memory.copyPeerAsync(m0, m1, 16, null));
            assertEquals(0, TestRuntime.calls("hipMemcpyPeerAsync"));
        }
    }

    // ---- peer access ------------------------------------------------------------------------------------------

    @Test
    void peerAccessIsQueriedAndEnabledIdempotentlyWithTheCurrentDeviceLeftAlone() {
        assertTrue(gpu0.canAccessPeer(gpu1));
        assertTrue(gpu1.canAccessPeer(gpu0));
        TestRuntime.reset();
        gpu1.enablePeerAccess(gpu0);                 // switches to gpu1 for the call, and back
        assertEquals(gpu0, Hip.currentDevice());
        gpu1.enablePeerAccess(gpu0);                 // already enabled: hipErrorPeerAccessAlreadyEnabled is success
        gpu1.enablePeerAccess(gpu0);
        assertEquals(3, TestRuntime.calls("hipDeviceEnablePeerAccess"));
        assertEquals(6, TestRuntime.calls("hipSetDevice"));   // there and back, each time
        gpu0.enablePeerAccess(gpu1);                 // gpu0 is current: no switch
        gpu0.enablePeerAccess(gpu1);
        assertEquals(6, TestRuntime.calls("hipSetDevice"));
        assertEquals(gpu0, Hip.currentDevice());
    }

    @Test
    void peerAccessLetsTheWorkOfOneDeviceUseTheOthersMemoryInThatDirectionOnly() {
        try (Arena arena = Arena.ofConfined()) {
            Stream s0 = Stream.create(gpu0, arena);
            Stream s1 = Stream.create(gpu1, arena);
            MemorySegment m0 = Memory.allocateDevice(gpu0, arena, 256);
            MemorySegment m1 = Memory.allocateDevice(gpu1, arena, 256);
            MemorySegment mapped1 = importMemory(gpu1, arena).mapBuffer(0, 256);
            MemorySegment host = Memory.allocatePinned(arena, 256);
            Kernel k0 = HipModule.load(gpu0, arena, MODULE).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            Kernel k1 = HipModule.load(gpu1, arena, MODULE).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            Event e1 = Event.create(gpu1, arena);
            // before: refused in Java, as in workMixingDevicesIsRefusedBeforeTheRuntimeSeesIt
            refused(() -> Memory.fillAsync(m1, (byte) 1, s0), "hipMemsetAsync");
            refused(() -> k0.launch(Dim3.of(1), Dim3.of(64), 0, s0, m1, 64L), "hipModuleLaunchKernel");
            refused(() -> Memory.copy(m0, m1), "hipMemcpyAsync");
            var x = assertThrows(IllegalArgumentException.class, () -> Memory.copyAsync(m0, mapped1, 64, s0));
            assertTrue(x.getMessage().contains("Device.enablePeerAccess"), x.getMessage());

            gpu0.enablePeerAccess(gpu1);
            // gpu0's work may use gpu1's memory: fills, copies and kernels, and the runtime agrees (no sticky fault)
            Memory.fillAsync(m1, (byte) 3, s0);
            Memory.fillAsync(mapped1.asSlice(16), (byte) 3, Stream.defaultStream());   // gpu0 current
            k0.launch(Dim3.of(1), Dim3.of(64), 0, s0, m1, 64L);
            k0.launch(Dim3.of(1), Dim3.of(64), 0, s0, k0.newArgs(arena).set(0, m1).set(1, 64L));
            Memory.copyAsync(m0, m1, 256, s0);
            s0.synchronize();
            Memory.copy(host, m0);
            assertEquals(5, host.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(3, host.get(ValueLayout.JAVA_BYTE, 65));   // the kernel adds 1 to each 4-byte word
            Memory.fill(m1, (byte) 8);
            Memory.copy(m0, m1);                      // runs on gpu0, which has the access
            Memory.copy(m1.asSlice(128), m0.asSlice(0, 128));   // the other way round: also on gpu0
            Memory.copy(host, m1);
            assertEquals(8, host.get(ValueLayout.JAVA_BYTE, 255));
            assertEquals(gpu0, Hip.currentDevice());
            // not the other direction: gpu1's work still cannot use gpu0's memory
            refused(() -> Memory.fillAsync(m0, (byte) 1, s1), "hipMemsetAsync");
            refused(() -> k1.launch(Dim3.of(1), Dim3.of(64), 0, s1, m0, 64L), "hipModuleLaunchKernel");
            // and only memory: a module or event of another device is still refused
            refused(() -> k1.launch(Dim3.of(1), Dim3.of(64), 0, s0, m1, 64L), "hipModuleLaunchKernel");
            refused(() -> e1.record(s0), "hipEventRecord");
            // enabled the other way, gpu1's work may use gpu0's memory too
            gpu1.enablePeerAccess(gpu0);
            k1.launch(Dim3.of(1), Dim3.of(64), 0, s1, m0, 64L);
            s1.synchronize();
            Memory.copy(host, m0);
            assertEquals(9, host.get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void peerAccessErrorsAreRefusedInJavaOrThrownTyped() {
        try (Arena arena = Arena.ofConfined()) {
            TestRuntime.reset();
            for (Executable e : List.<Executable>of(() -> gpu0.canAccessPeer(gpu0), () -> gpu1.enablePeerAccess(gpu1),
                    () -> gpu0.canAccessPeer(null), () -> gpu0.enablePeerAccess(null))) {
                assertThrows(IllegalArgumentException.class, e);
            }
            assertEquals(0, TestRuntime.calls("hipDeviceCanAccessPeer") + TestRuntime.calls("hipDeviceEnablePeerAccess"));
            TestRuntime.failNext("hipDeviceEnablePeerAccess", HipError.PEER_ACCESS_UNSUPPORTED, 0);
            var x = assertThrows(HipException.class, () -> gpu0.enablePeerAccess(gpu1));
            assertEquals(HipError.PEER_ACCESS_UNSUPPORTED, x.error());
            assertEquals("hipDeviceEnablePeerAccess", x.call());
            TestRuntime.failNext("hipDeviceEnablePeerAccess", HipError.INVALID_DEVICE, 0);
            assertEquals(HipError.INVALID_DEVICE, assertThrows(HipException.class, () -> gpu1.enablePeerAccess(gpu0)).error());
            assertEquals(gpu0, Hip.currentDevice());
            // a failed enable records nothing
            MemorySegment m1 = Memory.allocateDevice(gpu1, arena, 64);
            refused(() -> Memory.fillAsync(m1, (byte) 1, Stream.defaultStream()), "hipMemsetAsync");
            TestRuntime.failNext("hipDeviceCanAccessPeer", HipError.INVALID_VALUE, 0);
            assertEquals(HipError.INVALID_VALUE, assertThrows(HipException.class, () -> gpu0.canAccessPeer(gpu1)).error());
            // a device the runtime no longer has
            TestRuntime.setDeviceCount(1);
            assertEquals(HipError.INVALID_DEVICE, assertThrows(HipException.class, () -> gpu0.canAccessPeer(gpu1)).error());
            assertEquals(HipError.INVALID_DEVICE,
                    assertThrows(HipException.class, () -> gpu0.enablePeerAccess(gpu1)).error());
            TestRuntime.setDeviceCount(2);
        }
    }

    @Test
    void theRuntimeItselfRefusesWhatHipFfmLetsThroughForForeignSegments() {
        try (Arena arena = Arena.ofConfined()) {
            Stream s0 = Stream.create(gpu0, arena);
            MemorySegment m1 = Memory.allocateDevice(gpu1, arena, 256);
            // a segment hip-ffm did not make is not checked (documented): the runtime refuses the fill ...
            MemorySegment foreign = MemorySegment.ofAddress(m1.address()).reinterpret(256);
            var x = assertThrows(HipException.class, () -> Memory.fillAsync(foreign, (byte) 1, s0));
            assertEquals(HipError.INVALID_VALUE, x.error());
            // ... and a kernel over it faults "on the GPU", stickily, as measured on two H200s
            Kernel k0 = HipModule.load(gpu0, arena, MODULE).kernel("increment", Kernel.Param.POINTER, Kernel.Param.LONG);
            k0.launch(Dim3.of(1), Dim3.of(64), 0, s0, foreign, 64L);
            var sticky = assertThrows(HipException.class, s0::synchronize);
            assertEquals(HipError.ILLEGAL_ADDRESS, sticky.error());
            assertEquals(HipError.ILLEGAL_ADDRESS.code(), TestRuntime.stickyError());
            TestRuntime.reset();
        }
    }

    @Test
    void aRefusedImportOnSeveralDevicesHintsAtAnotherGpu() {
        try (Arena arena = Arena.ofConfined()) {
            int fd = LinuxFds.memfd("hipffm-multigpu-hint", 4096);
            try {
                TestRuntime.failNext("hipImportExternalMemory", HipError.UNKNOWN, 0);
                var x = assertThrows(HipException.class, () -> ExternalMemory.importMemory(gpu1, arena,
                        ExternalMemoryDescriptor.opaqueFd(fd, 4096)));
                assertTrue(x.getMessage().contains("another GPU") && x.getMessage().contains(UUID1)
                        && !x.getMessage().contains("plain file"), x.getMessage());
                assertEquals(gpu0, Hip.currentDevice());
            } finally {
                LinuxFds.close(fd);
            }
        }
    }

    @Test
    void nullArgumentsOfTheNewEntryPointsAreRefused() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemoryDescriptor d = ExternalMemoryDescriptor.opaqueFd(3, 4096);
            for (Executable e : List.<Executable>of(() -> Stream.create(null, arena), () -> Stream.create(gpu1, null),
                    () -> Stream.create(null, arena, true), () -> Event.create(null, arena),
                    () -> Event.create(gpu1, null, false), () -> Memory.allocateDevice(null, arena, 64),
                    () -> Memory.allocateDevice(gpu1, null, 64), () -> HipModule.load(gpu1, null, MODULE),
                    () -> HipModule.load(null, arena, MODULE), () -> HipModule.load(gpu1, arena, (byte[]) null),
                    () -> HipModule.load(gpu1, arena, (MemorySegment) null),
                    () -> HipModule.load(gpu1, arena, (java.nio.file.Path) null),
                    () -> ExternalMemory.importMemory(null, arena, d), () -> ExternalMemory.importMemory(gpu1, null, d),
                    () -> ExternalMemory.importCopy(gpu1, arena, null),
                    () -> ExternalSemaphore.importSemaphore(null, arena, ExternalSemaphoreDescriptor.opaqueFd(3)),
                    () -> ExternalSemaphore.importCopy(gpu1, arena, null), () -> gpu1.call(null),
                    () -> gpu1.run(null), () -> gpu1.canAccessPeer(null), () -> gpu1.enablePeerAccess(null))) {
                assertThrows(IllegalArgumentException.class, e);
            }
            assertEquals(gpu0, Hip.currentDevice());
        }
    }

    private static ExternalMemory importMemory(Device device, Arena arena) {
        int fd = LinuxFds.memfd("hipffm-multigpu", 64 * 1024);
        try {
            return ExternalMemory.importCopy(device, arena, ExternalMemoryDescriptor.opaqueFd(fd, 64 * 1024));
        } finally {
            LinuxFds.close(fd);
        }
    }

    private static ExternalSemaphore importSemaphore(Device device, Arena arena) {
        int fd = LinuxFds.memfd("hipffm-multigpu-semaphore", 0);
        try {
            return ExternalSemaphore.importCopy(device, arena, ExternalSemaphoreDescriptor.timelineFd(fd));
        } finally {
            LinuxFds.close(fd);
        }
    }
}
