package io.github.hipffm.interop;

import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Memory;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one fd rule: a successful import takes the fd, and hip-ffm closes it exactly once when the resource is
 * released. A failed import leaves it with the caller. {@code importCopy} never takes the caller's fd.
 *
 * <p>The same rule for the caller on both platforms, from opposite runtime rules. On AMD the test runtime behaves
 * like ROCm: it never closes an imported fd, so the fd must stay open for as long as the resource lives, and
 * hip-ffm must be the one that closes it, after the {@code hipDestroyExternal*} call. On NVIDIA the cudart double
 * behaves like CUDA: it closes the fd it imports, on success and on a memory import refused after it took the fd
 * (src/test/native/README.md), so hip-ffm must hand it a duplicate, and close that duplicate itself only when the
 * runtime did not. There {@link TestRuntime#fdsClosedByCuda()} shows each fd the runtime closed.
 */
@Tag("testrt")
class FdOwnershipTest {
    private static final long SIZE = 64 * 1024;

    @RegisterExtension
    final NoLeaks noLeaks = new NoLeaks();

    @Test
    void importedMemoryKeepsTheFdOpenUntilItIsClosed() {
        int fd = LinuxFds.memfd("hipffm-fd", SIZE);
        long cudaClosed = cudaClosed();
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            assertTrue(LinuxFds.isOpen(fd), "open after the import");
            assertEquals(noLeaks.fdsAtStart() + 1, LinuxFds.count(), "the caller's fd, and no other left open");
            assertCudaClosed(cudaClosed, 1, "CUDA closed the duplicate it was handed, not the caller's fd");
            Memory.fill(memory.mapBuffer(0, SIZE), (byte) 1);
            assertTrue(LinuxFds.isOpen(fd), "open while mapped");

            memory.close();
            assertFalse(LinuxFds.isOpen(fd), "closed with the memory");
            assertEquals(noLeaks.fdsAtStart(), LinuxFds.count());
        }
    }

    @Test
    void closingTheArenaClosesTheFdOfImportedMemory() {
        int fd = LinuxFds.memfd("hipffm-fd", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE)).mapBuffer();
            assertTrue(LinuxFds.isOpen(fd));
        }
        assertFalse(LinuxFds.isOpen(fd));
    }

    @Test
    void importedSemaphoreKeepsTheFdOpenUntilItIsClosed() {
        int fd = LinuxFds.memfd("hipffm-fd", 0);
        try (Arena arena = Arena.ofConfined()) {
            long cudaClosed = cudaClosed();
            ExternalSemaphore semaphore = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(fd));
            assertTrue(LinuxFds.isOpen(fd), "open after the import");
            assertEquals(noLeaks.fdsAtStart() + 1, LinuxFds.count(), "the caller's fd, and no other left open");
            assertCudaClosed(cudaClosed, 1, "CUDA closed the duplicate it was handed, not the caller's fd");
            semaphore.close();
            assertFalse(LinuxFds.isOpen(fd), "closed with the semaphore");
        }
    }

    /**
     * Linux hands out the lowest free fd number, so the next fd opened after the close reuses the number. A
     * second close of the old fd would close this unrelated one: it must stay open.
     */
    @Test
    void theFdIsClosedExactlyOnceEvenIfTheNumberIsReused() {
        int fd = LinuxFds.memfd("hipffm-fd", SIZE);
        int semaphoreFd = LinuxFds.memfd("hipffm-fd", 0);
        Arena arena = Arena.ofConfined();
        ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
        ExternalSemaphore semaphore = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.opaqueFd(semaphoreFd));
        memory.close();
        semaphore.close();

        int reused = LinuxFds.memfd("hipffm-unrelated", 0);
        int reused2 = LinuxFds.memfd("hipffm-unrelated", 0);
        try {
            assertEquals(Math.min(fd, semaphoreFd), reused, "the lowest free number is reused");
            assertEquals(Math.max(fd, semaphoreFd), reused2, "the lowest free number is reused");
            memory.close();
            semaphore.close();
            arena.close();
            assertTrue(LinuxFds.isOpen(reused), "the unrelated fd survives a second close and the arena close");
            assertTrue(LinuxFds.isOpen(reused2), "the unrelated fd survives a second close and the arena close");
        } finally {
            LinuxFds.close(reused);
            LinuxFds.close(reused2);
        }
    }

    @Test
    void aFailedMemoryImportLeavesTheFdWithTheCaller() {
        int fd = LinuxFds.memfd("hipffm-fd", SIZE);
        long cudaClosed = cudaClosed();
        try (Arena arena = Arena.ofConfined()) {
            TestRuntime.failNext("hipImportExternalMemory", HipError.OUT_OF_MEMORY, 0);
            HipException e = assertThrows(HipException.class,
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE)));
            assertEquals(HipError.OUT_OF_MEMORY, e.error());
            assertEquals(noLeaks.fdsAtStart() + 1, LinuxFds.count(), "only the caller's fd");
            assertCudaClosed(cudaClosed, 0, "an injected failure: CUDA kept its hands off, hip-ffm closed the duplicate");
        }
        assertTrue(LinuxFds.isOpen(fd), "still the caller's, even after the arena closed");
        LinuxFds.close(fd);
    }

    @Test
    void aFailedSemaphoreImportLeavesTheFdWithTheCaller() {
        int fd = LinuxFds.memfd("hipffm-fd", 0);
        try (Arena arena = Arena.ofConfined()) {
            TestRuntime.failNext("hipImportExternalSemaphore", HipError.OUT_OF_MEMORY, 0);
            assertThrows(HipException.class,
                    () -> ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.opaqueFd(fd)));
        }
        assertTrue(LinuxFds.isOpen(fd));
        LinuxFds.close(fd);
    }

    @Test
    void importCopyLeavesTheCallersFdOpenAndClosesItsDuplicate() {
        int fd = LinuxFds.memfd("hipffm-fd", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            long cudaClosed = cudaClosed();
            ExternalMemory memory = ExternalMemory.importCopy(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            if (TestRuntime.nvidia()) {
                // One duplicate, handed to CUDA, which closes what it imports: the memory owns no fd.
                assertEquals(noLeaks.fdsAtStart() + 1, LinuxFds.count(), "only the caller's fd");
                assertCudaClosed(cudaClosed, 1, "CUDA closed the one duplicate it was handed");
            } else {
                assertEquals(noLeaks.fdsAtStart() + 2, LinuxFds.count(), "the caller's fd and the imported duplicate");
            }
            memory.close();
            assertEquals(noLeaks.fdsAtStart() + 1, LinuxFds.count(), "no duplicate left once the memory is closed");
            assertTrue(LinuxFds.isOpen(fd), "the caller's fd stays open");
        }
        assertTrue(LinuxFds.isOpen(fd));
        LinuxFds.close(fd);
    }

    @Test
    void aFailedImportCopyLeaksNoDuplicate() {
        int fd = LinuxFds.memfd("hipffm-fd", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            TestRuntime.failNext("hipImportExternalMemory", HipError.OUT_OF_MEMORY, 0);
            assertThrows(HipException.class,
                    () -> ExternalMemory.importCopy(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE)));
            assertEquals(1, TestRuntime.calls("hipImportExternalMemory"));
            assertEquals(noLeaks.fdsAtStart() + 1, LinuxFds.count(), "only the caller's fd");
            assertTrue(LinuxFds.isOpen(fd));
            // A real refusal after the runtime took the duplicate (more bytes than the memfd has): CUDA closes it.
            long cudaClosed = cudaClosed();
            assertThrows(HipException.class,
                    () -> ExternalMemory.importCopy(arena, ExternalMemoryDescriptor.opaqueFd(fd, 2 * SIZE)));
            assertCudaClosed(cudaClosed, 1, "CUDA closed the duplicate it refused");
            assertEquals(noLeaks.fdsAtStart() + 1, LinuxFds.count(), "only the caller's fd, after a real refusal");
            assertTrue(LinuxFds.isOpen(fd));
        }
        LinuxFds.close(fd);
    }

    @Test
    void semaphoreImportCopyLeavesTheCallersFdOpenOnSuccessAndFailure() {
        int fd = LinuxFds.memfd("hipffm-fd", 0);
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore.importCopy(arena, ExternalSemaphoreDescriptor.timelineFd(fd)).close();
            TestRuntime.failNext("hipImportExternalSemaphore", HipError.INVALID_VALUE, 0);
            assertThrows(HipException.class, () -> ExternalSemaphore.importCopy(arena, ExternalSemaphoreDescriptor.timelineFd(fd)));
            assertEquals(noLeaks.fdsAtStart() + 1, LinuxFds.count(), "only the caller's fd");
            assertTrue(LinuxFds.isOpen(fd));
        }
        LinuxFds.close(fd);
    }

    @Test
    void tenThousandImportMapCloseCyclesLeakNoFd() {
        int cycles = 10_000;
        long cudaClosed = cudaClosed();
        for (int i = 0; i < cycles; i++) {
            int fd = LinuxFds.memfd("hipffm-cycle", SIZE);
            try (Arena arena = Arena.ofConfined()) {
                ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
                Memory.fill(memory.mapBuffer(0, SIZE), (byte) i);
                memory.close();
            }
        }
        assertEquals(noLeaks.fdsAtStart(), LinuxFds.count());
        assertEquals(cycles, TestRuntime.calls("hipImportExternalMemory"));
        assertEquals(cycles, TestRuntime.calls("hipFree"));
        assertEquals(cycles, TestRuntime.calls("hipDestroyExternalMemory"));
        assertCudaClosed(cudaClosed, cycles, "one duplicate per import, closed by CUDA");
    }

    @Test
    void aThousandFailedImportsLeakNoFd() {
        int fd = LinuxFds.memfd("hipffm-failing", SIZE);
        long cudaClosed = cudaClosed();
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < 1000; i++) {
                ExternalMemoryDescriptor descriptor;
                if (i % 2 == 0) {
                    // an injected failure
                    TestRuntime.failNext("hipImportExternalMemory", HipError.OUT_OF_MEMORY, 0);
                    descriptor = ExternalMemoryDescriptor.opaqueFd(fd, SIZE);
                } else {
                    // a real refusal: more bytes than the memfd has
                    descriptor = ExternalMemoryDescriptor.opaqueFd(fd, 2 * SIZE);
                }
                HipException e = assertThrows(HipException.class, () -> ExternalMemory.importMemory(arena, descriptor));
                assertEquals("hipImportExternalMemory", e.call());
            }
            assertEquals(noLeaks.fdsAtStart() + 1, LinuxFds.count(), "only the caller's fd");
            assertTrue(LinuxFds.isOpen(fd));
        }
        assertEquals(1000, TestRuntime.calls("hipImportExternalMemory"));
        assertCudaClosed(cudaClosed, 500, "the duplicates of the 500 refusals after the runtime took the fd; hip-ffm"
                + " closed those of the 500 injected failures");
        LinuxFds.close(fd);
    }

    /**
     * A memory import refused after the runtime took the fd (here: more bytes than the memfd has). AMD: the runtime
     * never closes it, and the caller keeps it. NVIDIA: CUDA closes what it was handed, so hip-ffm must have handed
     * it a duplicate and must not close that one again.
     */
    @Test
    void aRefusalAfterTheRuntimeTookTheFdLeavesTheCallersFdOpen() {
        int fd = LinuxFds.memfd("hipffm-fd", SIZE);
        long cudaClosed = cudaClosed();
        try (Arena arena = Arena.ofConfined()) {
            HipException e = assertThrows(HipException.class,
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, 2 * SIZE)));
            assertEquals(HipError.INVALID_VALUE, e.error());
            assertEquals(noLeaks.fdsAtStart() + 1, LinuxFds.count(), "only the caller's fd");
            assertCudaClosed(cudaClosed, 1, "CUDA closed the duplicate it had taken");
        }
        assertTrue(LinuxFds.isOpen(fd), "still the caller's");
        assertEquals(1, TestRuntime.calls("hipImportExternalMemory"));
        LinuxFds.close(fd);
    }

    /** {@return the fds the cudart double has closed so far (NVIDIA); 0 on AMD, where it is not asked} */
    private static long cudaClosed() {
        return TestRuntime.nvidia() ? TestRuntime.fdsClosedByCuda() : 0;
    }

    /** On NVIDIA: the cudart double closed exactly {@code n} fds since {@code before}. On AMD no runtime closes one. */
    private static void assertCudaClosed(long before, long n, String message) {
        if (TestRuntime.nvidia()) {
            assertEquals(before + n, TestRuntime.fdsClosedByCuda(), message);
        }
    }
}
