package io.github.hipffm.internal;

import io.github.hipffm.testrt.LinuxFds;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Posix#closeIfDuplicate}, which cleans up after a runtime that may have closed the duplicate it was handed
 * (CUDA, on some refusals): it closes a number only while it is still a duplicate of the caller's fd, never a number
 * that was freed and reused, not even for the same file (as every NVIDIA export is the same {@code /dev/nvidiactl}).
 */
class PosixTest {

    @Test
    void aDuplicateIsClosedAndTheOriginalKept() {
        int original = LinuxFds.memfd("hipffm-posix", 4096);
        int copy = Posix.dup(original);
        try {
            assertTrue(Posix.closeIfDuplicate(copy, original));
            assertFalse(LinuxFds.isOpen(copy));
            assertTrue(LinuxFds.isOpen(original));
        } finally {
            LinuxFds.close(original);
        }
    }

    @Test
    void aDuplicateClosedByTheRuntimeIsLeftAlone() {
        int original = LinuxFds.memfd("hipffm-posix", 4096);
        int copy = Posix.dup(original);
        LinuxFds.close(copy);                                       // the runtime closed it
        try {
            assertFalse(Posix.closeIfDuplicate(copy, original));
            assertTrue(LinuxFds.isOpen(original));
        } finally {
            LinuxFds.close(original);
        }
    }

    /**
     * The race: the runtime closed the duplicate, and before the check another open of the same file got its number
     * (Linux hands out the lowest free number). That fd is the same file but not a duplicate: it stays open.
     */
    @Test
    void aReusedNumberOfTheSameFileIsLeftOpen() {
        int original = LinuxFds.memfd("hipffm-posix", 4096);
        int copy = Posix.dup(original);
        LinuxFds.close(copy);                                       // the runtime closed it ...
        int reused = LinuxFds.open(Path.of("/proc/self/fd/" + original), LinuxFds.O_RDWR);   // ... a new open took it
        try {
            assertEquals(copy, reused, "the lowest free number is reused");
            Posix.Stat a = Posix.stat(reused);
            Posix.Stat b = Posix.stat(original);
            assertEquals(b.dev() + ":" + b.ino(), a.dev() + ":" + a.ino(), "the same file");
            assertFalse(Posix.closeIfDuplicate(copy, original), "not a duplicate: another open file description");
            assertTrue(LinuxFds.isOpen(reused));
        } finally {
            LinuxFds.close(reused);
            LinuxFds.close(original);
        }
    }
}
