package io.github.hipffm;

import io.github.hipffm.internal.Backend;

import java.lang.foreign.MemorySegment;

/**
 * The multi-GPU rule, checked in Java before any native call: work queued for one device (on its stream, or by its
 * module) may use only that device's resources and memory, unless peer access between the two is enabled (which
 * this version cannot do yet, see {@link Device#reaches}). A refusal is an {@link IllegalArgumentException} naming
 * both devices by ordinal, UUID and PCI address. Segments hip-ffm did not make (foreign) are not checked
 * ({@link Segments}). With one device nothing is ever refused here. The checks compare recorded devices (no native
 * call, no allocation), except for the default stream, whose device is the current one ({@code hipGetDevice}, a
 * critical call).
 */
final class DeviceChecks {
    private DeviceChecks() {
    }

    /** Refuses work on {@code stream} that uses {@code what}, a resource of {@code device} (null: not checked). */
    static void sameDevice(Device device, Stream stream, String what) {
        if (device != null && !device.reaches(ordinal(stream))) {
            throw refusal(device, stream, what);
        }
    }

    /** {@return the ordinal of the stream's device: for the default stream the current device's} */
    static int ordinal(Stream stream) {
        Device s = stream.knownDevice();
        return s != null ? s.ordinal() : current(stream.backend);
    }

    /** {@return the refusal of {@code what}, of {@code device}, used with {@code stream}} */
    static IllegalArgumentException refusal(Device device, Stream stream, String what) {
        Device s = stream.knownDevice();
        return refused(what + " is of " + device.describe() + ", the stream of "
                + (s == null ? Device.current(stream.backend) : s).describe());
    }

    /** Refuses work on {@code stream} that uses {@code segment}, if hip-ffm made it on another device. */
    static void sameDevice(MemorySegment segment, Stream stream, String what) {
        Device d = Segments.deviceOf(segment);
        if (d != null && !d.reaches(ordinal(stream))) {
            throw refusal(d, stream, what + " is memory");   // the message only now: no allocation otherwise
        }
    }

    /** Refuses two resources of different devices used together. */
    static void same(Device a, Device b, String whatA, String whatB) {
        if (a != null && b != null && !a.reaches(b)) {
            throw refused(whatA + " is of " + a.describe() + ", " + whatB + " of " + b.describe());
        }
    }

    /**
     * {@return the device of a synchronous copy or fill of these segments, null when none of them is a hip-ffm
     * device segment} Refuses segments of two devices.
     */
    static Device deviceOf(MemorySegment dst, MemorySegment src) {
        Device d = Segments.deviceOf(dst);
        Device s = src == null ? null : Segments.deviceOf(src);
        same(d, s, "the destination", "the source");
        return d != null ? d : s;
    }

    private static int current(Backend backend) {
        return backend.getDevice();
    }

    private static IllegalArgumentException refused(String what) {
        return new IllegalArgumentException(what.replace(" is memory is of ", " is memory of ") + ": one device's work cannot use another device's resources (peer access between them is not"
                + " enabled); create the resource on the device of the work (e.g. Stream.create(device, arena),"
                + " Memory.allocateDevice(device, arena, bytes)), or copy the data over (Memory.copyPeer)");
    }
}
