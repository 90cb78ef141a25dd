package io.github.hipffm;

import io.github.hipffm.internal.Backend;

import java.lang.foreign.MemorySegment;

/**
 * The multi-GPU rule, checked in Java before any native call: work queued for one device (on its stream, or by its
 * module) may use only that device's resources, and only that device's memory unless the work's device enabled peer
 * access to the memory's device ({@link Device#enablePeerAccess}, recorded and looked up by {@link Device#reaches}).
 * A refusal is an {@link IllegalArgumentException} naming both devices by ordinal, UUID and PCI address. Segments
 * hip-ffm did not make (foreign) are not checked ({@link Segments}). With one device nothing is ever refused here.
 * The checks compare recorded devices (no native call, no allocation), except for the default stream, whose device
 * is the current one ({@code hipGetDevice}, a critical call).
 */
final class DeviceChecks {
    private DeviceChecks() {
    }

    /**
     * Refuses work on {@code stream} that uses {@code what}, a resource (not memory) of {@code device} (null: not
     * checked). Peer access does not change this.
     */
    static void sameDevice(Device device, Stream stream, String what) {
        if (device != null && device.ordinal() != ordinal(stream)) {
            throw refusal(device, stream, what);
        }
    }

    /** {@return the ordinal of the stream's device: for the default stream the current device's} */
    static int ordinal(Stream stream) {
        Device s = stream.knownDevice();
        return s != null ? s.ordinal() : current(stream.backend);
    }

    /** {@return the refusal of {@code what}, a resource (not memory) of {@code device}, used with {@code stream}} */
    static IllegalArgumentException refusal(Device device, Stream stream, String what) {
        return refused(what + " is of " + device.describe() + ", the stream of " + streamDevice(stream).describe(),
                false);
    }

    /** {@return the refusal of {@code what}, memory of {@code device}, used with {@code stream}} */
    static IllegalArgumentException memoryRefusal(Device device, Stream stream, String what) {
        return refused(what + " of " + device.describe() + ", the stream of " + streamDevice(stream).describe(), true);
    }

    private static Device streamDevice(Stream stream) {
        Device s = stream.knownDevice();
        return s == null ? Device.current(stream.backend) : s;
    }

    /**
     * Refuses work on {@code stream} that uses {@code segment}, if hip-ffm made it on another device that the
     * stream's device has no peer access to.
     */
    static void sameDevice(MemorySegment segment, Stream stream, String what) {
        Device d = Segments.deviceOf(segment);
        if (d != null && !d.reaches(ordinal(stream))) {
            throw memoryRefusal(d, stream, what + " is memory");   // the message only now: no allocation otherwise
        }
    }

    /** Refuses two resources (not memory) of different devices used together. */
    static void same(Device a, Device b, String whatA, String whatB) {
        if (a != null && b != null && a.ordinal() != b.ordinal()) {
            throw refused(whatA + " is of " + a.describe() + ", " + whatB + " of " + b.describe(), false);
        }
    }

    /**
     * {@return the device to run a synchronous copy of these segments on, null when neither is a hip-ffm device
     * segment} For segments of two devices: the destination's device if it has peer access to the source's, else
     * the source's if it has peer access to the destination's; refused when neither has.
     */
    static Device deviceOf(MemorySegment dst, MemorySegment src) {
        Device d = Segments.deviceOf(dst);
        Device s = src == null ? null : Segments.deviceOf(src);
        if (d == null || s == null || d.ordinal() == s.ordinal() || s.reaches(d)) {
            return d != null ? d : s;
        }
        if (d.reaches(s)) {
            return s;
        }
        throw refused("the destination is memory of " + d.describe() + ", the source memory of " + s.describe(),
                true);
    }

    private static int current(Backend backend) {
        return backend.getDevice();
    }

    private static IllegalArgumentException refused(String what, boolean memory) {
        return new IllegalArgumentException(what + (memory
                ? ": one device's work cannot use another device's memory unless peer access is enabled"
                        + " (Device.canAccessPeer, Device.enablePeerAccess); or allocate it on the device of the work"
                        + " (Memory.allocateDevice(device, arena, bytes)), or copy the data over (Memory.copyPeer)"
                : ": one device's work cannot use another device's resources (peer access concerns memory only);"
                        + " create the resource on the device of the work (e.g. Stream.create(device, arena),"
                        + " Event.create(device, arena), HipModule.load(device, arena, image))"));
    }
}
