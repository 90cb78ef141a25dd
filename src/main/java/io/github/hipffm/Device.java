package io.github.hipffm;

import io.github.hipffm.internal.Backend;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * A GPU, by ordinal. Obtain one from {@link Hip#device(int)} or {@link Hip#devices()}. Every query goes to the
 * runtime the device was obtained from (nothing is cached), and none changes the calling thread's current device except {@link #makeCurrent()}.
 *
 * <p>To share memory with Vulkan, pick the {@code VkPhysicalDevice} whose {@code deviceUUID} equals
 * {@link #uuidBytes()}, or the other way round: {@link Hip#deviceByUuid(byte[])} finds the device of Vulkan's UUID.
 *
 * <h2>Several GPUs</h2>
 * Every resource belongs to one device: the one given to its creation ({@code Stream.create(device, arena)},
 * {@code Memory.allocateDevice(device, arena, bytes)}, {@code ExternalMemory.importMemory(device, arena, d)}, ...)
 * or, without one, the calling thread's current device ({@link Hip#currentDevice()}). {@link #call(Supplier)} runs
 * any code with this device current and restores the previous one afterwards. Work that mixes devices is refused
 * in Java before any native call (see the package documentation, "Several GPUs"), except for memory of a device
 * that the work's device enabled peer access to ({@link #enablePeerAccess(Device)}).
 */
public final class Device {
    private final Backend backend;
    private final int ordinal;

    Device(Backend backend, int ordinal) {
        this.backend = backend;
        this.ordinal = ordinal;
    }

    /** {@return the ordinal, 0-based} */
    public int ordinal() {
        return ordinal;
    }

    /** {@return the marketing name, e.g. {@code NVIDIA H100 80GB HBM3}} */
    public String name() {
        return backend.deviceName(ordinal);
    }

    /** {@return the 16 UUID bytes, in the order Vulkan's {@code VkPhysicalDeviceIDProperties.deviceUUID} uses} */
    public byte[] uuidBytes() {
        return backend.deviceUuid(ordinal);
    }

    /** {@return the UUID as a {@link UUID} (same 16 bytes, big-endian)} */
    public UUID uuid() {
        ByteBuffer b = ByteBuffer.wrap(uuidBytes());
        return new UUID(b.getLong(), b.getLong());
    }

    /** {@return the PCI address} */
    public PciAddress pciAddress() {
        return PciAddress.parse(backend.pciBusId(ordinal));
    }

    /** {@return total device memory, bytes} */
    public long totalMemory() {
        return backend.totalMemory(ordinal);
    }

    /** {@return free and total memory now ({@code hipMemGetInfo} on this device)} */
    public MemoryInfo memoryInfo() {
        return backend.memoryInfo(ordinal);
    }

    /** {@return the compute capability (on AMD, HIP's major/minor for the GFX version)} */
    public ComputeCapability computeCapability() {
        return new ComputeCapability(attribute(DeviceAttribute.COMPUTE_CAPABILITY_MAJOR),
                attribute(DeviceAttribute.COMPUTE_CAPABILITY_MINOR));
    }

    /**
     * {@return the architecture name: {@code gcnArchName} on AMD (e.g. {@code gfx942:sramecc+:xnack-}),
     * {@code sm_XY} on NVIDIA; empty when the runtime cannot tell}
     */
    public Optional<String> archName() {
        return backend.archName(ordinal);
    }

    /**
     * {@return the value of a device attribute}
     * @param attribute which one
     */
    public int attribute(DeviceAttribute attribute) {
        Checks.notNull(attribute, "attribute");
        return backend.attribute(ordinal, attribute);
    }

    /** Makes this the calling thread's current device ({@code hipSetDevice}). */
    public void makeCurrent() {
        backend.setDevice(ordinal);
    }

    /**
     * {@return what {@code action} returns, run with this device as the calling thread's current device} The
     * previous current device is restored afterwards, also when {@code action} throws; when this device is
     * current already, nothing is switched (one critical {@code hipGetDevice}, no allocation).
     *
     * {@snippet :
     * Stream s = gpu1.call(() -> Stream.create(arena));   // the same as Stream.create(gpu1, arena)
     * }
     *
     * @param action what to run
     * @param <T> its result
     * @throws HipException when the device cannot be made current (nothing was run) or the previous one cannot be
     *     restored (then suppressed in the action's failure, if any)
     */
    public <T> T call(Supplier<T> action) {
        Checks.notNull(action, "action");
        return callEntered(enter(), action);
    }

    /**
     * {@return what {@code action} returns, run after {@link #enter()} gave {@code entered}} The device is then
     * exited, also when {@code action} throws (a failure to restore suppressed in the action's).
     */
    <T> T callEntered(int entered, Supplier<T> action) {
        T result;
        try {
            result = action.get();
        } catch (Throwable t) {
            exitAfterFailure(entered, t);
            throw t;
        }
        exit(entered);
        return result;
    }

    /**
     * Runs {@code action} with this device current, as {@link #call(Supplier)}.
     *
     * @param action what to run
     */
    public void run(Runnable action) {
        Checks.notNull(action, "action");
        call(() -> {
            action.run();
            return null;
        });
    }

    /**
     * {@return this device's ordinal if it is the calling thread's current device, else makes it current and
     * returns {@code -1 - previous}} Pair with {@link #exit(int)} in a {@code finally}. No allocation on the
     * already-current path.
     */
    int enter() {
        int previous = backend.getDevice();
        if (previous == ordinal) {
            return ordinal;
        }
        backend.setDevice(ordinal);
        return -1 - previous;
    }

    /** Restores the current device {@link #enter()} found, if it switched. */
    void exit(int entered) {
        if (entered < 0) {
            int previous = -1 - entered;
            backend.setDevice(previous);
        }
    }

    /** After a failure: restores the previous device now, a restore failure suppressed in {@code failure}. */
    void exitAfterFailure(int entered, Throwable failure) {
        if (entered < 0) {
            try {
                backend.setDevice(-1 - entered);
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
    }

    /**
     * The device {@link #current} returned last: every resource created without a device records the current
     * device, and on most machines that is the same one every time, so the churn paths make no new object for it.
     * Devices are immutable; a stale or raced value only costs a new one.
     */
    private static volatile Device lastCurrent;

    /** {@return the calling thread's current device of {@code backend}} */
    static Device current(Backend backend) {
        int ordinal = backend.getDevice();
        Device d = lastCurrent;
        if (d == null || d.backend != backend || d.ordinal != ordinal) {
            lastCurrent = d = new Device(backend, ordinal);
        }
        return d;
    }

    /**
     * {@return the current device, or null when the runtime cannot tell} For recording the device of what was just
     * created on it: that must not fail once the resource exists.
     */
    static Device currentOrNull(Backend backend) {
        try {
            return current(backend);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * {@return every device of {@code backend}, in ordinal order}
     * @throws HipException when the runtime cannot count them
     */
    static List<Device> all(Backend backend) {
        int n = backend.deviceCount();
        List<Device> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            all.add(new Device(backend, i));
        }
        return List.copyOf(all);
    }

    /** {@return the devices for messages, {@link #describe()} each, separated by {@code "; "}} */
    static String describe(List<Device> devices) {
        StringBuilder b = new StringBuilder();
        for (Device d : devices) {
            b.append(b.isEmpty() ? "" : "; ").append(d.describe());
        }
        return b.toString();
    }

    /**
     * {@return this device for messages: {@code device 1 (UUID ..., PCI 0000:c1:00.0)}} Each part the runtime
     * cannot tell is left out.
     */
    String describe() {
        StringBuilder b = new StringBuilder("device ").append(ordinal).append(" (UUID ");
        try {
            b.append(HexFormat.of().formatHex(uuidBytes()));
        } catch (RuntimeException e) {
            b.append('?');
        }
        try {
            b.append(", PCI ").append(backend.pciBusId(ordinal).strip());
        } catch (RuntimeException e) {
            // left out
        }
        return b.append(')').toString();
    }

    /**
     * {@return whether this device's work may use {@code peer}'s memory once peer access is enabled
     * ({@code hipDeviceCanAccessPeer}; peer access is one direction: ask {@code peer} for the other)}
     *
     * @param peer another device of the same runtime
     * @throws IllegalArgumentException when {@code peer} is null, this device, or a device of another runtime
     * @throws HipException when the runtime cannot tell (e.g. {@code hipErrorInvalidDevice})
     */
    public boolean canAccessPeer(Device peer) {
        checkPeer(peer);
        return backend.canAccessPeer(ordinal, peer.ordinal);
    }

    /**
     * Lets this device's work use {@code peer}'s memory: after it, kernels, fills and copies queued for this device
     * (on its streams, or the default stream with it current) may take segments of {@code peer}'s memory, which
     * hip-ffm refuses before ({@code hipDeviceEnablePeerAccess(peer, 0)} with this device current, the previous
     * current device restored afterwards). One direction: {@code peer.enablePeerAccess(this)} lets {@code peer}'s
     * work use this device's memory. Idempotent: enabling it again, also when code outside hip-ffm enabled it
     * ({@code hipErrorPeerAccessAlreadyEnabled}), is success. It stays enabled for the rest of the process: hip-ffm
     * offers no way to disable it, so no work it let through can lose its access. Peer access concerns memory only:
     * events, semaphores and modules stay usable by their own device's work alone.
     *
     * @param peer another device of the same runtime, one this device {@link #canAccessPeer can access}
     * @throws IllegalArgumentException when {@code peer} is null, this device, or a device of another runtime
     * @throws HipException when the runtime refuses (e.g. {@code hipErrorPeerAccessUnsupported}, or
     *     {@code hipErrorInvalidDevice}); nothing is recorded then
     */
    public void enablePeerAccess(Device peer) {
        checkPeer(peer);
        run(() -> backend.enablePeerAccess(ordinal, peer.ordinal));
    }

    private void checkPeer(Device peer) {
        Checks.notNull(peer, "peer");
        if (peer.backend != backend) {
            throw new IllegalArgumentException("peer " + peer + " is a device of another runtime ("
                    + peer.backend.platform() + ", not " + backend.platform() + ")");
        }
        if (peer.ordinal == ordinal) {
            throw new IllegalArgumentException("peer access is between two devices; " + peer + " is this device,"
                    + " whose work always uses its own memory");
        }
    }

    /**
     * {@return whether work of {@code other} may use memory of this device} True for the same device, and for a
     * device that enabled peer access to this one through hip-ffm ({@code other.enablePeerAccess(this)}). The one
     * place that lets memory of one device be used by another's work (resources other than memory must always be
     * of the work's device).
     */
    boolean reaches(Device other) {
        return other == null || reaches(other.ordinal);
    }

    /** {@link #reaches(Device)} by ordinal. No native call, no allocation. */
    boolean reaches(int otherOrdinal) {
        return otherOrdinal == ordinal || backend.peerAccessEnabled(otherOrdinal, ordinal);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.ordinal == ordinal;
    }

    @Override
    public int hashCode() {
        return ordinal;
    }

    @Override
    public String toString() {
        return "Device[" + ordinal + "]";
    }

    /**
     * Free and total device memory.
     *
     * @param free bytes free
     * @param total bytes in all
     */
    public record MemoryInfo(long free, long total) {
    }

    /**
     * A compute capability.
     *
     * @param major major version
     * @param minor minor version
     */
    public record ComputeCapability(int major, int minor) {
        @Override
        public String toString() {
            return major + "." + minor;
        }
    }

    /**
     * A PCI address, {@code domain:bus:device.function}.
     *
     * @param domain PCI domain
     * @param bus PCI bus
     * @param device PCI device (slot)
     * @param function PCI function
     */
    public record PciAddress(int domain, int bus, int device, int function) {
        /**
         * {@return the address parsed from the runtime's bus id string, e.g. {@code 0000:c1:00.0}}
         * @param busId the string
         * @throws IllegalArgumentException when it is null or not of that form
         */
        public static PciAddress parse(String busId) {
            Checks.notNull(busId, "busId");
            var m = java.util.regex.Pattern.compile("(\\p{XDigit}+):(\\p{XDigit}+):(\\p{XDigit}+)\\.(\\p{XDigit}+)")
                    .matcher(busId.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("not a PCI bus id: '" + busId + "'");
            }
            return new PciAddress(HexFormat.fromHexDigits(m.group(1)), HexFormat.fromHexDigits(m.group(2)),
                    HexFormat.fromHexDigits(m.group(3)), HexFormat.fromHexDigits(m.group(4)));
        }

        @Override
        public String toString() {
            return String.format("%04x:%02x:%02x.%x", domain, bus, device, function);
        }
    }
}
