package io.github.hipffm.examples;

import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.Stream;
import io.github.hipffm.testrt.LinuxFds;

import java.lang.foreign.Arena;

/**
 * The HIP documentation's external-semaphore example, in Java: {@code memfd_create} an fd, import it as an
 * {@code OPAQUE_FD} semaphore, signal fence value 1, wait for fence value 1, release it.
 *
 * <p>A memfd is not a GPU semaphore: on NVIDIA hip-ffm refuses it before any native call
 * ({@link IllegalArgumentException}), and the AMD runtime cannot import semaphores on Linux at all (hip-ffm says
 * so). The fd an {@code OPAQUE_FD} semaphore import needs comes from {@code vkGetSemaphoreFdKHR}. Against the test
 * runtime (on NVIDIA's with {@code -Dhipffm.fdCheck=open}) the example runs through.
 */
public final class SemaphoreSeedExample {
    private SemaphoreSeedExample() {
    }

    /** Runs the example; returns the fd it used (closed by then). */
    public static int run() {
        int fd = LinuxFds.memfd("hipffm-seed-semaphore", 0);
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore semaphore = ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.opaqueFd(fd));
            Stream stream = Stream.defaultStream();
            semaphore.signal(1, stream);
            semaphore.wait(1, stream);
            stream.synchronize();
            return fd;
            // leaving the block: hipDestroyExternalSemaphore, then the fd is closed
        } catch (RuntimeException e) {
            if (LinuxFds.isOpen(fd)) {
                LinuxFds.close(fd);
            }
            throw e;
        }
    }

    /** Prints what happened. @param args unused */
    public static void main(String[] args) {
        int fd = run();
        System.out.println("semaphore from fd " + fd + ": signalled 1, waited for 1, released; fd closed: "
                + !LinuxFds.isOpen(fd));
    }
}
