package io.github.hipffm.internal;

import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.HipException;
import io.github.hipffm.Platform;

import java.nio.file.Path;
import java.util.Optional;

/**
 * One platform's runtime, behind the calls the idiomatic layer needs. Each method makes the native call(s),
 * checks every return code and throws {@link HipException} under the HIP name of the call and error; the NVIDIA
 * implementation translates CUDA codes first. Arguments are validated by the callers before they get here.
 */
public sealed interface Backend permits AmdBackend, NvidiaBackend {

    /** {@return the platform} */
    Platform platform();

    /** {@return the library file that was loaded} */
    Path library();

    /**
     * Throws when {@code rc} is not success.
     *
     * @param rc the platform's return code
     * @param hipCall the HIP name of the call that returned it
     * @throws HipException when {@code rc != 0}
     */
    void check(int rc, String hipCall);

    /** {@return the runtime's name for a HIP error code} @param hipCode a {@code hipError_t} value */
    String errorName(int hipCode);

    /** {@return the runtime's description of a HIP error code} @param hipCode a {@code hipError_t} value */
    String errorString(int hipCode);

    /** {@return the raw runtime version} */
    int runtimeVersion();

    /** {@return the raw driver version (0 when no driver is installed)} */
    int driverVersion();

    /** {@return the number of devices} @throws HipException e.g. {@code hipErrorNoDevice} */
    int deviceCount();

    /** {@return the current device of the calling thread} */
    int getDevice();

    /** Makes a device current for the calling thread. @param device the ordinal */
    void setDevice(int device);

    /** {@return the device name} @param device the ordinal */
    String deviceName(int device);

    /** {@return the 16-byte device UUID (the one Vulkan reports as {@code deviceUUID})} @param device ordinal */
    byte[] deviceUuid(int device);

    /** {@return the PCI bus id string, {@code domain:bus:device.function}} @param device the ordinal */
    String pciBusId(int device);

    /**
     * {@return an attribute's value}
     * @param device the ordinal
     * @param attribute which one
     */
    int attribute(int device, DeviceAttribute attribute);

    /** {@return total device memory in bytes} @param device the ordinal */
    long totalMemory(int device);

    /**
     * {@return free and total memory of a device, bytes, as {@code {free, total}}} Makes the device current
     * for the duration of the call.
     * @param device the ordinal
     */
    long[] memoryInfo(int device);

    /** {@return the architecture name ({@code gcnArchName} on AMD, e.g. {@code gfx942}), where known} */
    Optional<String> archName(int device);
}
