package io.github.hipffm.channel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The other processes of the channel tests: the C peer ({@code target/native/fdpeer}, built by
 * {@code src/test/native/build.sh}) and a second JVM ({@link JvmPeer}, on this JVM's class path). Each peer's
 * output is collected; {@link Peer#finish} waits for it, closes the process's pipes (so the fd count of this JVM
 * is back) and returns the output. Public for the GPU tests' child JVMs ({@code gpu.ProcessSharingGpuTest}).
 */
public final class Peers {
    static final Path BUILD = Path.of(System.getProperty("hipffm.buildDir", "target")).toAbsolutePath();
    static final Path FDPEER = BUILD.resolve("native/fdpeer");
    private static final Pattern FDS = Pattern.compile("fds (\\d+) (\\d+)");

    private Peers() {
    }

    /**
     * A running peer process.
     *
     * @param process the process
     * @param output its output (standard output and error), once it has ended
     */
    public record Peer(Process process, CompletableFuture<String> output) {
        /** Waits up to 60 s for the peer to end; {@return its output} */
        String finish() {
            try {
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                    throw new AssertionError("the peer did not end within 60 s: " + output.getNow("(no output yet)"));
                }
                return output.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                close();
            }
        }

        /** Kills the peer ({@code SIGKILL}) and waits for it. */
        public void kill() {
            try {
                process.destroyForcibly().waitFor();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Closes the pipes to the process. */
        public void close() {
            try {
                output.exceptionally(t -> "").join();
                process.getInputStream().close();
                process.getOutputStream().close();
                process.getErrorStream().close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** {@return the output after checking the exit status is 0 and that the peer's own fd count did not grow} */
        public String finishCleanly() {
            String out = finish();
            assertEquals(0, process.exitValue(), "the peer failed:\n" + out);
            Matcher m = FDS.matcher(out);
            assertTrue(m.find(), "the peer reported no fd count:\n" + out);
            // Not more at the end than at the start (a JVM peer may close a file of its own start-up meanwhile).
            assertTrue(Long.parseLong(m.group(2)) <= Long.parseLong(m.group(1)),
                    "the peer's open fds at the start and at the end:\n" + out);
            return out;
        }
    }

    /** Starts the C peer on {@code socket} with {@code commands}. */
    static Peer c(Path socket, String... commands) {
        return c(List.of(), FDPEER, socket, commands);
    }

    /** Starts the C peer {@code binary} on {@code socket} with {@code commands}, behind {@code prefix}. */
    static Peer c(List<String> prefix, Path binary, Path socket, String... commands) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(binary.toString());
        cmd.add(socket.toString());
        cmd.addAll(List.of(commands));
        return start(cmd);
    }

    /** Starts {@link JvmPeer} on {@code socket} with {@code args}, with this JVM's runtime and test-runtime library. */
    static Peer jvm(Path socket, String... args) {
        List<String> all = new ArrayList<>(List.of(socket.toString()));
        all.addAll(List.of(args));
        return start(jvmCommand(JvmPeer.class, all));
    }

    /**
     * {@return the command that runs {@code main} with {@code args} in a JVM of this JVM's runtime, class path and
     * test-runtime library (its properties passed on), whatever the working directory} {@code main}'s own jar or
     * directory comes first: it may be another project's (gpu-tests), which the launcher's class path does not name.
     */
    public static List<String> jvmCommand(Class<?> main, List<String> args) {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", location(main) + System.getProperty("path.separator") + classPath()));
        for (String p : List.of("hipffm.library", "hipffm.platform", "hipffm.fdCheck")) {
            if (System.getProperty(p) != null) {
                cmd.add("-D" + p + "=" + System.getProperty(p));
            }
        }
        cmd.add(main.getName());
        cmd.addAll(args);
        return cmd;
    }

    /**
     * {@return this JVM's classes as a class path} Surefire runs the tests on the module path (the module patched
     * with the test classes): the main and test classes are named first, then the class path and module path. In
     * the GPU bundle the JUnit console launcher loads the test jar and hip-ffm's from its {@code --class-path}
     * ({@code java.class.path} is its own jar): where this class and hip-ffm's were loaded from come first.
     */
    static String classPath() {
        return String.join(java.io.File.pathSeparator, location(Peers.class), location(io.github.hipffm.Hip.class),
                BUILD.resolve("classes").toString(), BUILD.resolve("test-classes").toString(),
                System.getProperty("java.class.path"), System.getProperty("jdk.module.path", ""));
    }

    /** {@return the jar or directory {@code c} was loaded from} */
    private static String location(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@return the started {@code cmd}, its output collected, standard input from /dev/null}
     * @param cmd the command
     */
    public static Peer start(List<String> cmd) {
        assertTrue(Files.isExecutable(Path.of(cmd.getFirst())) || !cmd.getFirst().startsWith("/"),
                "not found: " + cmd.getFirst() + " (src/test/native/build.sh builds the C peer)");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "(output lost: " + e + ")";
                }
            });
            return new Peer(p, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
