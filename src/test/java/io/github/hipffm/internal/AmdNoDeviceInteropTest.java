package io.github.hipffm.internal;

import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Platform;
import io.github.hipffm.examples.MemorySeedExample;
import io.github.hipffm.examples.SemaphoreSeedExample;
import io.github.hipffm.testrt.LinuxFds;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The seed examples, unchanged, on the real AMD runtime without a GPU (CI: Debian's ROCm 5.2): the runtime
 * refuses the memory import with its no-device error, hip-ffm refuses the semaphore import itself (ROCm would
 * abort the process), and the examples release their fds. On the GPU machine the same examples run on the
 * NVIDIA platform in {@code VulkanInteropGpuTest}.
 */
class AmdNoDeviceInteropTest {

    @BeforeEach
    void amdWithoutDevice() {
        Backend b = Runtimes.current();
        assumeTrue(b.platform() == Platform.AMD && !RealRuntimeTest.gpuPresent(Platform.AMD),
                "needs the AMD runtime without a GPU; this JVM uses " + b.platform() + " " + b.library());
    }

    @Test
    void memoryExampleIsRefusedWithTheNoDeviceError() {
        long fds = LinuxFds.count();
        HipException e = assertThrows(HipException.class, MemorySeedExample::run);
        assertEquals("hipImportExternalMemory", e.call());
        assertTrue(Set.of(HipError.NO_DEVICE, HipError.INVALID_DEVICE).contains(e.error()), e.getMessage());
        assertTrue(e.getMessage().contains("(no GPU: the runtime reports no device"), "says why: " + e.getMessage());
        assertEquals(fds, LinuxFds.count(), "the example closed its fd after the refusal");
    }

    @Test
    void semaphoreExampleIsRefusedBeforeTheRuntimeIsCalled() {
        long fds = LinuxFds.count();
        HipException e = assertThrows(HipException.class, SemaphoreSeedExample::run);
        assertEquals(HipError.NOT_SUPPORTED, e.error());
        assertTrue(e.getMessage().contains("does not support external semaphores on Linux"), e.getMessage());
        assertEquals(fds, LinuxFds.count());
    }
}
