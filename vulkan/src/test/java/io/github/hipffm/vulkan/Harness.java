package io.github.hipffm.vulkan;

import io.github.hipffm.Hip;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The tests' view of hip-ffm's C test runtime (its live-object hook) and of the process's fds, and the leak check
 * (JUnit extension): around each test, no live object in the test runtime and the same open fds at the end as at
 * the start.
 */
final class Harness implements BeforeEachCallback, AfterEachCallback {
    private static final List<String> KINDS = List.of("memory", "externalMemory", "mappedBuffer", "mipmappedArray",
            "externalSemaphore", "stream", "event", "mapping", "module", "graphicsResource", "graphicsMapping", "glObject");
    private static final MethodHandle LIVE;

    static {
        Hip.platform(); // loads the library named by -Dhipffm.library
        SymbolLookup l = SymbolLookup.loaderLookup();
        if (l.find("hipffmTest_isTestRuntime").isEmpty()) {
            throw new IllegalStateException("the C test runtime is not loaded: run with -Dhipffm.library="
                    + "vulkan/target/native/libhipffm_testrt.so (the pom's Surefire configuration does)");
        }
        LIVE = Linker.nativeLinker().downcallHandle(l.find("hipffmTest_liveObjects").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    }

    private Map<Integer, String> fdsAtStart;

    /** {@return the test runtime's live objects by kind, only the kinds with some} */
    static Map<String, Long> live() {
        Map<String, Long> m = new TreeMap<>();
        try (Arena a = Arena.ofConfined()) {
            for (String k : KINDS) {
                long n = (long) LIVE.invokeExact(a.allocateFrom(k));
                if (n != 0) {
                    m.put(k, n);
                }
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return m;
    }

    /** {@return the open fds of the process and what each refers to} */
    static Map<Integer, String> openFds() {
        Map<Integer, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : s.toList()) {
                try {
                    m.put(Integer.parseInt(p.getFileName().toString()), Files.readSymbolicLink(p).toString());
                } catch (IOException e) {
                    // the fd of the listing itself, closed by now
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    /** {@return how many memfds the process has open (Vulkan exports on lavapipe are memfds)} */
    static long memfds() {
        return openFds().values().stream().filter(t -> t.startsWith("/memfd:")).count();
    }

    /** {@return what {@code fd} refers to ({@code readlink /proc/self/fd/N})} */
    static String target(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean isOpen(int fd) {
        return Files.exists(Path.of("/proc/self/fd/" + fd), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        fdsAtStart = openFds();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        assertEquals(Map.of(), live(), "objects left alive in the test runtime");
        Map<Integer, String> now = openFds();
        Map<Integer, String> opened = new TreeMap<>(now);
        opened.keySet().removeAll(fdsAtStart.keySet());
        Map<Integer, String> closed = new TreeMap<>(fdsAtStart);
        closed.keySet().removeAll(now.keySet());
        // The listing's own fd, and what a library opens once per process (LWJGL and the Vulkan loader their
        // libraries, the JDK /dev/urandom) are no leaks; a memfd (every Vulkan export here) is.
        opened.values().removeIf(t -> !t.startsWith("/memfd:") && !t.startsWith("anon_inode:")
                && !t.startsWith("/dev/shm/"));
        closed.values().removeIf(t -> t.matches("/proc/[0-9]+/fd"));
        assertEquals(Map.of(), opened, "fds opened by the test and left open");
        assertEquals(Map.of(), closed, "fds closed by the test that it did not open");
    }
}
