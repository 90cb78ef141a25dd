package io.github.hipffm.testrt;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The leak check of the test-runtime tests, as a JUnit extension. Before each test: {@link TestRuntime#reset()}
 * (no injected fault, call counts zero), then the process's open-fd count is noted. After each test, once the
 * class's own {@code @AfterEach} methods ran: no object is live in the runtime ({@link TestRuntime#liveAll()}
 * is 0, the message naming the live kinds and their counts), then the open-fd count is back to its start (the
 * message naming the fds opened and closed since the start, and what they refer to).
 *
 * <p>{@code @ExtendWith(NoLeaks.class)} on a class gives that default. A class that needs another one registers a
 * configured instance: an instance field ({@code @RegisterExtension final NoLeaks noLeaks = new NoLeaks()...},
 * which also gives the tests {@link #fdsAtStart()}), or a static field for {@link #aroundAllTests()}. The
 * configuration methods return a new extension and leave this one as it is.
 *
 * <p>One test at a time per instance (JUnit's default, same-thread execution): the fds at the start are kept in
 * the instance between the two callbacks.
 */
public final class NoLeaks implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
    /** A kind of {@link TestRuntime#live(String)} that must be 0 at the end, and what the message calls it. */
    private record Kind(String kind, String what) {
    }

    private final boolean aroundAll;
    /** Empty: every live object ({@link TestRuntime#liveAll()}). */
    private final List<Kind> kinds;
    private final boolean countFds;
    private final boolean resetBeforeChecks;
    private final Runnable afterChecks;

    private boolean running;
    private long fdsAtStart = -1;
    private SortedMap<Integer, String> openAtStart;

    /** The default: around each test, every live object, the open-fd count. */
    public NoLeaks() {
        this(false, List.of(), true, false, null);
    }

    private NoLeaks(boolean aroundAll, List<Kind> kinds, boolean countFds, boolean resetBeforeChecks,
            Runnable afterChecks) {
        this.aroundAll = aroundAll;
        this.kinds = List.copyOf(kinds);
        this.countFds = countFds;
        this.resetBeforeChecks = resetBeforeChecks;
        this.afterChecks = afterChecks;
    }

    /**
     * {@return the default check once around all the tests of a class instead of around each (register it in a
     * static field)} The reset comes before the class's {@code @BeforeAll} methods, the checks after its
     * {@code @AfterAll} methods.
     */
    public static NoLeaks aroundAllTests() {
        return new NoLeaks(true, List.of(), true, false, null);
    }

    /**
     * {@return this check, but counting only the live objects of {@code kind} (of {@link TestRuntime#live(String)})
     * and of the kinds named before, in that order, instead of every live object} {@code what} is the message
     * of the assertion.
     */
    public NoLeaks counting(String kind, String what) {
        List<Kind> k = new ArrayList<>(kinds);
        k.add(new Kind(kind, what));
        return new NoLeaks(aroundAll, k, countFds, resetBeforeChecks, afterChecks);
    }

    /** {@return this check without the open-fd count} */
    public NoLeaks withoutFdCount() {
        return new NoLeaks(aroundAll, kinds, false, resetBeforeChecks, afterChecks);
    }

    /** {@return this check, with a {@link TestRuntime#reset()} at the end too, before the checks} */
    public NoLeaks resettingBeforeTheChecks() {
        return new NoLeaks(aroundAll, kinds, countFds, true, afterChecks);
    }

    /**
     * {@return this check, running {@code cleanup} after the checks passed} For a class whose clean-up must come
     * after them (a class's {@code @AfterEach} methods run before).
     */
    public NoLeaks then(Runnable cleanup) {
        return new NoLeaks(aroundAll, kinds, countFds, resetBeforeChecks, cleanup);
    }

    /** {@return how many fds the process had open when the current test started} */
    public long fdsAtStart() {
        if (fdsAtStart < 0) {
            throw new IllegalStateException("no test under way, or the fds are not counted");
        }
        return fdsAtStart;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (aroundAll) {
            start();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (aroundAll) {
            end();
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (!aroundAll) {
            start();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (!aroundAll) {
            end();
        }
    }

    private void start() {
        if (running) {
            throw new IllegalStateException("NoLeaks checks one test at a time; register one per test class "
                    + "and run the tests of a class on one thread");
        }
        running = true;
        TestRuntime.reset();
        if (countFds) {
            fdsAtStart = LinuxFds.count();
            openAtStart = LinuxFds.open();
        }
    }

    private void end() {
        if (!running) {
            return;     // the start failed, and that failure is the test's
        }
        long before = fdsAtStart;
        SortedMap<Integer, String> open = openAtStart;
        running = false;
        fdsAtStart = -1;
        openAtStart = null;
        if (resetBeforeChecks) {
            TestRuntime.reset();
        }
        if (kinds.isEmpty()) {
            assertEquals(0, TestRuntime.liveAll(), () -> "live objects in the runtime: " + TestRuntime.liveByKind());
        }
        for (Kind k : kinds) {
            assertEquals(0, TestRuntime.live(k.kind()), k.what());
        }
        if (countFds) {
            assertEquals(before, LinuxFds.count(), () -> "open fds: " + difference(open, LinuxFds.open()));
        }
        if (afterChecks != null) {
            afterChecks.run();
        }
    }

    /** {@return the fds opened and closed between {@code before} and {@code after}, with what they refer to} */
    private static String difference(SortedMap<Integer, String> before, SortedMap<Integer, String> after) {
        List<String> opened = new ArrayList<>();
        List<String> closed = new ArrayList<>();
        for (Map.Entry<Integer, String> e : after.entrySet()) {
            String was = before.get(e.getKey());
            if (!e.getValue().equals(was)) {
                opened.add(e.getKey() + " -> " + e.getValue());
            }
        }
        for (Map.Entry<Integer, String> e : before.entrySet()) {
            if (!e.getValue().equals(after.get(e.getKey()))) {
                closed.add(e.getKey() + " -> " + e.getValue());
            }
        }
        return "opened since the start " + opened + ", closed since the start " + closed;
    }
}
