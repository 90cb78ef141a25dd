package io.github.hipffm.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.ValueLayout;

/**
 * Where the fields a backend sets lie in a signal or wait params struct ({@code hipExternalSemaphoreSignalParams},
 * {@code cudaExternalSemaphoreWaitParams}, ...: the same fields in both runtimes, each runtime's layout from its
 * generated bindings), and the batch form of those structs in this thread's scratch, so that a batch call allocates
 * nothing.
 *
 * @param size the struct's size
 * @param value offset of {@code params.fence.value}
 * @param key offset of {@code params.keyedMutex.key}
 * @param timeout offset of {@code params.keyedMutex.timeoutMs} (wait params), -1 for signal params
 */
record SemaphoreParams(long size, long value, long key, long timeout) {

    /**
     * {@return the offsets in a signal params struct}
     * @param layout its layout
     */
    static SemaphoreParams signal(GroupLayout layout) {
        return new SemaphoreParams(layout.byteSize(), offset(layout, "fence", "value"), offset(layout, "keyedMutex", "key"), -1);
    }

    /**
     * {@return the offsets in a wait params struct}
     * @param layout its layout
     */
    static SemaphoreParams wait(GroupLayout layout) {
        return new SemaphoreParams(layout.byteSize(), offset(layout, "fence", "value"), offset(layout, "keyedMutex", "key"),
                offset(layout, "keyedMutex", "timeoutMs"));
    }

    private static long offset(MemoryLayout layout, String group, String field) {
        return layout.byteOffset(MemoryLayout.PathElement.groupElement("params"),
                MemoryLayout.PathElement.groupElement(group), MemoryLayout.PathElement.groupElement(field));
    }

    /**
     * Fills this thread's batch scratch: {@code n} semaphore handles into {@link Scratch#batchHandles} and
     * {@code n} params structs into {@link Scratch#batchParams}, which the caller then passes to the runtime.
     * Everything not set is zero (flags, reserved words).
     *
     * @param scratch this thread's scratch
     * @param n how many (the first {@code n} entries of the arrays)
     * @param semaphores the handles
     * @param values fence values
     * @param keys keyed-mutex keys
     * @param timeoutsMs keyed-mutex timeouts (wait params only), {@code null} for signal params
     */
    void fill(Scratch scratch, int n, MemorySegment[] semaphores, long[] values, long[] keys, int[] timeoutsMs) {
        write(scratch.batchHandles(8L * n), scratch.batchParams(size * n), n, semaphores, values, keys, timeoutsMs);
    }

    /**
     * Writes {@code n} semaphore handles into {@code handles} and {@code n} params structs into {@code params}
     * (both zeroed beforehand by the caller): the batch of a call, or the arrays an external-semaphore graph node
     * points to.
     *
     * @param handles room for {@code n} pointers
     * @param params room for {@code n} params structs
     * @param n how many
     * @param semaphores the handles
     * @param values fence values
     * @param keys keyed-mutex keys
     * @param timeoutsMs keyed-mutex timeouts (wait params only), {@code null} for signal params
     */
    void write(MemorySegment handles, MemorySegment params, int n, MemorySegment[] semaphores, long[] values,
            long[] keys, int[] timeoutsMs) {
        for (int i = 0; i < n; i++) {
            handles.setAtIndex(ValueLayout.ADDRESS, i, semaphores[i]);
            long p = size * i;
            params.set(ValueLayout.JAVA_LONG, p + value, values[i]);
            params.set(ValueLayout.JAVA_LONG, p + key, keys[i]);
            if (timeoutsMs != null) {
                params.set(ValueLayout.JAVA_INT, p + timeout, timeoutsMs[i]);
            }
        }
    }

    /**
     * Fills this thread's one-semaphore scratch ({@link Scratch#handle} and {@link Scratch#params}): the handle and
     * a params struct with only the fence value set.
     *
     * @param scratch this thread's scratch
     * @param semaphore the handle
     * @param fenceValue the fence value
     */
    void fillOne(Scratch scratch, MemorySegment semaphore, long fenceValue) {
        scratch.params.fill((byte) 0);
        scratch.params.set(ValueLayout.JAVA_LONG, value, fenceValue);
        scratch.handle.set(ValueLayout.ADDRESS, 0, semaphore);
    }
}
