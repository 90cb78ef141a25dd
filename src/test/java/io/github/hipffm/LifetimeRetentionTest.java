package io.github.hipffm;

import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.Arena;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A long-lived owner arena keeps one small entry per resource until it closes (FFM cannot forget a cleanup), but
 * not the resource's lifetime: once a stream, an event or an import (with its mapping) is closed, its
 * {@link Lifetime} (its arena, its handles, its release) is garbage although the owner is still open; the lifetime
 * of a resource still open stays reachable from the owner, which must release it.
 */
@Tag("testrt")
class LifetimeRetentionTest {
    private static final long SIZE = 64 * 1024;

    @RegisterExtension
    final NoLeaks noLeaks = new NoLeaks();

    @Test
    void aLongLivedOwnerLetsGoOfTheLifetimesClosedInIt() throws Exception {
        for (Arena owner : new Arena[] {Arena.ofConfined(), Arena.ofShared()}) {
            try (owner) {
                List<WeakReference<Lifetime>> closed = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    int fd = LinuxFds.memfd("hipffm-retention", SIZE);
                    ExternalMemory m = ExternalMemory.importCopy(owner, ExternalMemoryDescriptor.opaqueFd(fd, SIZE));
                    LinuxFds.close(fd);
                    m.mapBuffer();
                    for (NativeResource r : new NativeResource[] {Stream.create(owner), Event.create(owner, i % 2 == 0), m}) {
                        r.close();
                        closed.add(new WeakReference<>(r.lifetime));
                    }
                }
                WeakReference<Lifetime> open = new WeakReference<>(Stream.create(owner).lifetime);
                for (int i = 0; i < 50 && closed.stream().anyMatch(r -> r.get() != null); i++) {
                    System.gc();
                    Thread.sleep(10);
                }
                assertEquals(0, closed.stream().map(WeakReference::get).filter(Objects::nonNull).count(),
                        "lifetimes of closed resources still reachable while their owner arena is open");
                assertNotNull(open.get(), "the owner arena keeps the lifetime of a stream still open");
            }
        }
    }
}
