package io.github.hipffm;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The device of every device segment hip-ffm hands out ({@link Memory#allocateDevice}, {@link ExternalMemory#mapBuffer}),
 * found from the segment's scope: a weak map from the scope (the owner arena's, or the imported memory's own) to the
 * device ranges made in it, so that an entry goes when its arena is gone and nothing is kept alive by it. A scope
 * whose segments are all on one device (the usual case) answers without looking at the address; a slice keeps its
 * scope, so it is found too. A segment hip-ffm did not make (foreign) has no device here: it is not checked.
 */
final class Segments {
    private static final Map<MemorySegment.Scope, Ranges> BY_SCOPE = new WeakHashMap<>();

    private Segments() {
    }

    /**
     * Records that {@code segment} (made by hip-ffm, of its final size) is memory of {@code device}; nothing for a
     * null device (one the runtime could not tell).
     */
    static void register(MemorySegment segment, Device device) {
        if (device == null) {
            return;
        }
        synchronized (BY_SCOPE) {
            BY_SCOPE.computeIfAbsent(segment.scope(), s -> new Ranges(device))
                    .add(segment.address(), segment.byteSize(), device);
        }
    }

    /**
     * {@return the device of a segment hip-ffm made, or null for a foreign or a heap segment} No allocation.
     * @param segment any segment
     */
    static Device deviceOf(MemorySegment segment) {
        if (!segment.isNative()) {
            return null;
        }
        synchronized (BY_SCOPE) {
            Ranges r = BY_SCOPE.get(segment.scope());
            return r == null ? null : r.deviceAt(segment.address());
        }
    }

    /** The device ranges of one scope; guarded by {@link #BY_SCOPE}. */
    private static final class Ranges {
        private final Device first;
        private boolean mixed;
        private long[] starts = new long[4];
        private long[] ends = new long[4];
        private Device[] devices = new Device[4];
        private int n;

        Ranges(Device first) {
            this.first = first;
        }

        void add(long address, long size, Device device) {
            mixed |= !device.equals(first);
            if (n == starts.length) {
                starts = Arrays.copyOf(starts, 2 * n);
                ends = Arrays.copyOf(ends, 2 * n);
                devices = Arrays.copyOf(devices, 2 * n);
            }
            starts[n] = address;
            ends[n] = address + size;
            devices[n++] = device;
        }

        Device deviceAt(long address) {
            if (!mixed) {
                return first;
            }
            for (int i = n - 1; i >= 0; i--) {
                if (address >= starts[i] && address < ends[i]) {
                    return devices[i];
                }
            }
            return null;
        }
    }
}
