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
 * <p>The test runtime behaves like ROCm here: it never closes an imported fd. So on this platform the fd must
 * stay open for as long as the resource lives, and hip-ffm must be the one that closes it, after the
 * {@code hipDestroyExternal*} call.
 */
@Tag("testrt")
class FdOwnershipTest {
    private static final long SIZE = 64 * 1024;

    @RegisterExtension
    final NoLeaks noLeaks = new NoLeaks();

    @Test
    void importedMemoryKeepsTheFdOpenUntilItIsClosed() {
        int fd = LinuxFds.memfd("hipffm-fd", SIZE);
        try (Arena arena = Arena.ofConfined()) {
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            assertTrue(LinuxFds.isOpen(fd), "open after the import");
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
            ExternalSemaphore semaphore = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(fd));
            assertTrue(LinuxFds.isOpen(fd), "open after the import");
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
        try (Arena arena = Arena.ofConfined()) {
            TestRuntime.failNext("hipImportExternalMemory", HipError.OUT_OF_MEMORY, 0);
            HipException e = assertThrows(HipException.class,
                    () -> ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE)));
            assertEquals(HipError.OUT_OF_MEMORY, e.error());
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
            ExternalMemory memory = ExternalMemory.importCopy(arena, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
            assertEquals(noLeaks.fdsAtStart() + 2, LinuxFds.count(), "the caller's fd and the imported duplicate");
            memory.close();
            assertEquals(noLeaks.fdsAtStart() + 1, LinuxFds.count(), "the duplicate is closed with the memory");
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
    }

    @Test
    void aThousandFailedImportsLeakNoFd() {
        int fd = LinuxFds.memfd("hipffm-failing", SIZE);
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
        LinuxFds.close(fd);
    }
}
