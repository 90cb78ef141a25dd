package io.github.hipffm;

import io.github.hipffm.internal.Backend;

import java.lang.foreign.MemorySegment;
import java.util.List;

/** Checks shared by the memory and semaphore descriptors: exactly the handle the type needs. */
final class Handles {
    private Handles() {
    }

    /**
     * {@return the runtime's refusal of an fd import, with a hint about what the fd must be} Only errors that
     * point at the handle get the hint; no device, no driver or an unsupported platform do not.
     */
    static HipException withFdHint(HipException e, String hint) {
        return switch (e.error()) {
            case INVALID_VALUE, INVALID_HANDLE, UNKNOWN, OPERATING_SYSTEM -> new HipException(e, hint);
            default -> e;
        };
    }

    /**
     * {@return the runtime's refusal of an import, saying that there is no GPU when that is why} The AMD runtime
     * without a GPU answers an import with {@code hipErrorInvalidDevice} (or {@code hipErrorNoDevice}), which
     * alone does not say so; {@code hipErrorInvalidDevice} gets the wording only when the runtime reports no device.
     */
    static HipException withNoDeviceHint(HipException e, Backend backend) {
        return switch (e.error()) {
            case NO_DEVICE -> new HipException(e, NO_GPU);
            case INVALID_DEVICE -> noDevice(backend) ? new HipException(e, NO_GPU) : e;
            case INSUFFICIENT_DRIVER -> new HipException(e, "no GPU driver: the runtime found no driver to import with");
            default -> e;
        };
    }

    /**
     * {@return the hint for a refused fd import on a machine with several devices, null with one} An export of one
     * GPU imported with another GPU current fails in the runtime ({@code hipErrorUnknown} measured on two H200s),
     * so on such a machine the fd is most likely of another GPU, not a plain file.
     *
     * @param device the device of the import, null for the current device
     */
    static String otherGpuHint(Backend backend, Device device, String what) {
        List<Device> all;
        Device target;
        try {
            all = Device.all(backend);
            target = device != null ? device : Device.current(backend);
        } catch (RuntimeException e) {
            return null;
        }
        if (all.size() < 2) {
            return null;
        }
        return "the fd may come from another GPU: this machine has " + all.size() + " devices and the " + what
                + " was imported on " + target.describe() + "; import it on the device that exported it, e.g. "
                + what + ".import...(Hip.deviceByUuid(vulkanDeviceUuid), arena, descriptor) (devices: "
                + Device.describe(all) + "); the fd is still yours";
    }

    private static final String NO_GPU = "no GPU: the runtime reports no device, and an import needs one";

    private static boolean noDevice(Backend backend) {
        try {
            return backend.deviceCount() == 0;
        } catch (HipException e) {
            return e.error() == HipError.NO_DEVICE || e.error() == HipError.INSUFFICIENT_DRIVER;
        }
    }

    static void check(String type, boolean isFd, boolean isNvSci, boolean nameAllowed, int fd,
            MemorySegment win32Handle, String win32Name, MemorySegment nvSciObject) {
        boolean hasHandle = !win32Handle.equals(MemorySegment.NULL);
        boolean hasNvSci = !nvSciObject.equals(MemorySegment.NULL);
        if (isFd) {
            // ROCm rejects fd 0 as "no handle" too; a negative fd is never valid.
            if (fd <= 0) {
                throw new IllegalArgumentException(type + " needs a file descriptor > 0, got fd " + fd);
            }
            if (hasHandle || win32Name != null || hasNvSci) {
                throw new IllegalArgumentException(type + " takes only a file descriptor");
            }
        } else if (isNvSci) {
            if (!hasNvSci) {
                throw new IllegalArgumentException(type + " needs a non-NULL NvSci object");
            }
        } else {
            if (fd != -1) {
                throw new IllegalArgumentException(type + " takes a Windows handle, not fd " + fd);
            }
            if (hasHandle == (win32Name != null)) {
                throw new IllegalArgumentException(type + " needs exactly one of a non-NULL handle or a name");
            }
            if (win32Name != null && !nameAllowed) {
                throw new IllegalArgumentException(type + " handles cannot be given by name");
            }
        }
    }
}
