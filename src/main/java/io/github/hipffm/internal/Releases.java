package io.github.hipffm.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Releases that had to wait because a call in flight on another thread still held the resource (a shared arena
 * refuses to close while one of its segments is passed to a native call). One daemon thread, started the first
 * time a release waits, carries them out: woken at the end of every runtime call ({@link #callEnded}, from
 * {@link RuntimeCore#check}) while one waits, and every millisecond meanwhile, for holders that are not
 * hip-ffm's calls (the generated bindings, NIO). Each attempt either releases or finds the resource still held
 * and waits again, so a release happens once, as soon as the last call holding the resource has ended.
 *
 * <p>The attempts run on that thread, not at the end of the call that held the resource: a release must not run
 * inside another runtime call's epilogue (its per-thread scratch memory may still hold the call's results).
 */
public final class Releases {
    private static final System.Logger LOG = System.getLogger("io.github.hipffm");
    private static final ConcurrentLinkedQueue<Runnable> WAITING = new ConcurrentLinkedQueue<>();
    private static final AtomicInteger COUNT = new AtomicInteger();
    private static final long RETRY_NANOS = 1_000_000;
    private static volatile Thread releaser;

    private Releases() {
    }

    /**
     * Queues a release to be attempted again when a runtime call ends (or within a millisecond). The attempt
     * queues itself again if the resource is still held.
     *
     * @param attempt tries the release once; must not throw
     */
    public static void retryLater(Runnable attempt) {
        WAITING.add(attempt);
        COUNT.incrementAndGet();
        wake();
    }

    /** The hot path of every runtime call: one volatile read, and a wake-up only while a release waits. */
    public static void callEnded() {
        if (COUNT.get() != 0) {
            wake();
        }
    }

    /** {@return how many releases are waiting} For tests and diagnostics. */
    public static int waiting() {
        return COUNT.get();
    }

    private static void wake() {
        Thread t = releaser;
        if (t == null) {
            t = start();
        }
        LockSupport.unpark(t);
    }

    private static synchronized Thread start() {
        Thread t = releaser;
        if (t == null) {
            t = Thread.ofPlatform().daemon().name("hip-ffm releases").unstarted(Releases::loop);
            releaser = t;
            t.start();
        }
        return t;
    }

    private static void loop() {
        while (true) {
            for (int n = COUNT.get(); n > 0; n--) {
                Runnable attempt = WAITING.poll();
                if (attempt == null) {
                    break;
                }
                COUNT.decrementAndGet();
                try {
                    attempt.run();
                } catch (RuntimeException | Error e) {
                    LOG.log(System.Logger.Level.WARNING, "a waiting release failed", e);
                }
            }
            if (COUNT.get() == 0) {
                LockSupport.park();
            } else {
                LockSupport.parkNanos(RETRY_NANOS);
            }
        }
    }
}
