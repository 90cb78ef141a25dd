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
 * scope, so it is found too. A segment hip-ffm did not make (foreign) has no device here: it is not checked. Each
 * range also records what made it ({@link Origin}) and its bounds, so that {@link IpcMemoryHandle#of} can tell a
 * whole {@code hipMalloc} allocation from a slice or other memory ({@link #rangeOf}).
 */
final class Segments {
    private static final Map<MemorySegment.Scope, Ranges> BY_SCOPE = new WeakHashMap<>();

    private Segments() {
    }

    /** What made a device range; {@link #what} names it in refusals. */
    enum Origin {
        /** {@link Memory#allocateDevice} ({@code hipMalloc}). */
        ALLOCATION("device memory of Memory.allocateDevice (hipMalloc)"),
        /** {@link ExternalMemory#mapBuffer}. */
        MAPPED_BUFFER("a buffer mapped from ExternalMemory (imported memory)"),
        /** {@link VirtualMemory#segment()}. */
        VIRTUAL_MEMORY("VirtualMemory (hipMemCreate; it shares with exportFd or send)"),
        /** {@link IpcMemoryHandle#open}. */
        IPC_OPENED("memory opened from an IpcMemoryHandle (only the process that allocated it makes its handle)");

        final String what;

        Origin(String what) {
            this.what = what;
        }
    }

    /**
     * A registered device range: what {@link #register} was given.
     *
     * @param device its device
     * @param origin what made it
     * @param address its start
     * @param size its size in bytes
     */
    record Range(Device device, Origin origin, long address, long size) {
    }

    /**
     * Records that {@code segment} (made by hip-ffm, of its final size) is memory of {@code device}, made as
     * {@code origin}; nothing for a null device (one the runtime could not tell).
     */
    static void register(MemorySegment segment, Device device, Origin origin) {
        if (device == null) {
            return;
        }
        synchronized (BY_SCOPE) {
            BY_SCOPE.computeIfAbsent(segment.scope(), s -> new Ranges(device))
                    .add(segment.address(), segment.byteSize(), device, origin);
        }
    }

    /**
     * {@return the registered range {@code segment} starts in, or null for a foreign or a heap segment} Unlike
     * {@link #deviceOf}, looks at the address (a scan of the scope's ranges, newest first).
     * @param segment any segment
     */
    static Range rangeOf(MemorySegment segment) {
        if (!segment.isNative()) {
            return null;
        }
        synchronized (BY_SCOPE) {
            Ranges r = BY_SCOPE.get(segment.scope());
            return r == null ? null : r.rangeAt(segment.address());
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
        private Origin[] origins = new Origin[4];
        private int n;

        Ranges(Device first) {
            this.first = first;
        }

        void add(long address, long size, Device device, Origin origin) {
            mixed |= !device.equals(first);
            if (n == starts.length) {
                starts = Arrays.copyOf(starts, 2 * n);
                ends = Arrays.copyOf(ends, 2 * n);
                devices = Arrays.copyOf(devices, 2 * n);
                origins = Arrays.copyOf(origins, 2 * n);
            }
            starts[n] = address;
            ends[n] = address + size;
            origins[n] = origin;
            devices[n++] = device;
        }

        Range rangeAt(long address) {
            int i = indexOf(address);
            return i < 0 ? null : new Range(devices[i], origins[i], starts[i], ends[i] - starts[i]);
        }

        Device deviceAt(long address) {
            if (!mixed) {
                return first;
            }
            int i = indexOf(address);
            return i < 0 ? null : devices[i];
        }

        private int indexOf(long address) {
            for (int i = n - 1; i >= 0; i--) {
                if (address >= starts[i] && address < ends[i]) {
                    return i;
                }
            }
            return -1;
        }
    }
}
