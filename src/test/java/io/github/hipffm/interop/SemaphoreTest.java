package io.github.hipffm.interop;

import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphore.Signal;
import io.github.hipffm.ExternalSemaphore.Wait;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.ExternalSemaphoreHandleType;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.Stream;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Signal and wait on external semaphores, single and batched.
 *
 * <p>The test runtime's semaphore is a counter: a timeline signal raises it to the value, a binary signal sets
 * it to 1, and a wait that is not satisfied polls for about a second and then fails with
 * {@code hipErrorNotReady} (HIP has no timeout code; see {@code src/test/native/README.md}). A real GPU would
 * instead block the stream. Whether the AMD runtime refuses semaphore imports cannot be tested here: this runtime
 * supports them.
 */
@Tag("testrt")
@ExtendWith(NoLeaks.class)
class SemaphoreTest {
    @Test
    void timelineSignalFiveThenWaitFiveOnAStream() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore timeline = importSemaphore(arena, ExternalSemaphoreDescriptor::timelineFd);
            Stream stream = Stream.create(arena);
            assertEquals(ExternalSemaphoreHandleType.TIMELINE_SEMAPHORE_FD, timeline.handleType());

            timeline.signal(5, stream);
            timeline.wait(5, stream);
            timeline.wait(3, stream);   // an earlier value is reached too
            stream.synchronize();
        }
        assertEquals(1, TestRuntime.calls("hipSignalExternalSemaphoresAsync"));
        assertEquals(2, TestRuntime.calls("hipWaitExternalSemaphoresAsync"));
        assertEquals(1, TestRuntime.calls("hipDestroyExternalSemaphore"));
    }

    @Test
    void waitingForAValueNeverSignalledFailsWithNotReady() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore timeline = importSemaphore(arena, ExternalSemaphoreDescriptor::timelineFd);
            Stream stream = Stream.create(arena);
            timeline.signal(5, stream);

            long started = System.nanoTime();
            HipException e = assertThrows(HipException.class, () -> timeline.wait(6, stream));
            long waitedMs = (System.nanoTime() - started) / 1_000_000;

            assertEquals(HipError.NOT_READY, e.error());
            assertEquals("hipWaitExternalSemaphoresAsync", e.call());
            assertTrue(waitedMs >= 900, "the runtime polled for about a second, not " + waitedMs + " ms");
        }
    }

    @Test
    void binarySemaphoreSignalThenWaitConsumesTheSignal() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore binary = importSemaphore(arena, ExternalSemaphoreDescriptor::opaqueFd);
            Stream stream = Stream.create(arena);
            assertEquals(ExternalSemaphoreHandleType.OPAQUE_FD, binary.handleType());

            binary.signal(0, stream);   // binary semaphores ignore the value
            binary.wait(0, stream);
            stream.synchronize();

            HipException e = assertThrows(HipException.class, () -> binary.wait(0, stream),
                    "the first wait took the only signal");
            assertEquals(HipError.NOT_READY, e.error());
        }
    }

    @Test
    void batchSignalAndWaitTakeOneNativeCallEachWithAValuePerSemaphore() {
        try (Arena arena = Arena.ofConfined()) {
            List<ExternalSemaphore> timelines = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                timelines.add(importSemaphore(arena, ExternalSemaphoreDescriptor::timelineFd));
            }
            Stream stream = Stream.create(arena);

            ExternalSemaphore.signal(List.of(Signal.of(timelines.get(0), 10), Signal.of(timelines.get(1), 20),
                    Signal.of(timelines.get(2), 30), Signal.of(timelines.get(3), 40)), stream);
            assertEquals(1, TestRuntime.calls("hipSignalExternalSemaphoresAsync"));

            ExternalSemaphore.wait(List.of(Wait.of(timelines.get(0), 10), Wait.of(timelines.get(1), 20),
                    Wait.of(timelines.get(2), 30), Wait.of(timelines.get(3), 40)), stream);
            assertEquals(1, TestRuntime.calls("hipWaitExternalSemaphoresAsync"));
            stream.synchronize();

            // Each semaphore got its own value, not the largest one: the first is at 10, not yet at 20.
            HipException e = assertThrows(HipException.class, () -> ExternalSemaphore.wait(
                    List.of(Wait.of(timelines.get(0), 20), Wait.of(timelines.get(3), 40)), stream));
            assertEquals(HipError.NOT_READY, e.error());
            assertEquals(2, TestRuntime.calls("hipWaitExternalSemaphoresAsync"));
        }
        assertEquals(4, TestRuntime.calls("hipDestroyExternalSemaphore"));
    }

    @Test
    void aBatchMayMixBinaryAndTimelineSemaphores() {
        try (Arena arena = Arena.ofConfined()) {
            ExternalSemaphore binary = importSemaphore(arena, ExternalSemaphoreDescriptor::opaqueFd);
            ExternalSemaphore timeline = importSemaphore(arena, ExternalSemaphoreDescriptor::timelineFd);
            Stream stream = Stream.defaultStream();

            ExternalSemaphore.signal(List.of(Signal.of(binary, 0), Signal.of(timeline, 7)), stream);
            ExternalSemaphore.wait(List.of(Wait.of(binary, 0), Wait.of(timeline, 7)), stream);
        }
        assertEquals(1, TestRuntime.calls("hipSignalExternalSemaphoresAsync"));
        assertEquals(1, TestRuntime.calls("hipWaitExternalSemaphoresAsync"));
    }

    /** Imports a semaphore from a fresh memfd, which it then owns (and closes). */
    private static ExternalSemaphore importSemaphore(Arena arena, IntFunction<ExternalSemaphoreDescriptor> descriptor) {
        int fd = LinuxFds.memfd("hipffm-semaphore", 0);
        try {
            return ExternalSemaphore.importSemaphore(arena, descriptor.apply(fd));
        } catch (RuntimeException e) {
            LinuxFds.close(fd);
            throw e;
        }
    }
}
