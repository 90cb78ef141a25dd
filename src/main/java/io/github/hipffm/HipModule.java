package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Loaded GPU code: a code object or fat binary on AMD, PTX, cubin or fatbin on NVIDIA ({@code hipModuleLoadData};
 * {@code cudaLibraryLoadData} on NVIDIA). Owned by an {@link Arena} or closed by {@link #close()}; its kernels
 * cannot be launched after that. {@link #handle()} is the raw {@code hipModule_t} ({@code cudaLibrary_t}).
 *
 * {@snippet :
 * try (Arena arena = Arena.ofConfined()) {
 *     HipModule module = HipModule.load(arena, RuntimeCompiler.compile(source, "scale.cu").code());
 *     Kernel scale = module.kernel("scale", Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.INT);
 *     scale.launch(Dim3.covering(n, 256), Dim3.of(256), 0, stream, buffer, 2.0f, n);
 * }
 * }
 */
public final class HipModule extends NativeResource {
    private final int imageBytes;
    /** The device named at load, whose context {@link #kernel} loads kernels into; null: the current device. */
    private final Device device;

    private HipModule(Backend backend, Lifetime lifetime, MemorySegment handle, int imageBytes, Device device) {
        super(backend, lifetime, handle);
        this.imageBytes = imageBytes;
        this.device = device;
    }

    /**
     * Loads a module from an image in memory.
     *
     * @param arena the owner
     * @param image the code; PTX needs no trailing NUL, one is added
     * @return the module
     */
    public static HipModule load(Arena arena, byte[] image) {
        return load(null, arena, image, false);
    }

    /**
     * Loads a module on {@code device}: its kernels run on that device's streams only.
     *
     * @param device the device
     * @param arena the owner
     * @param image the code
     * @return the module
     */
    public static HipModule load(Device device, Arena arena, byte[] image) {
        Checks.notNull(device, "device");
        return load(device, arena, image, false);
    }

    /**
     * Loads a module from native memory on {@code device}.
     *
     * @param device the device
     * @param arena the owner
     * @param image the code
     * @return the module
     */
    public static HipModule load(Device device, Arena arena, MemorySegment image) {
        Checks.notNull(device, "device");
        Checks.nativeSegment(image, "image");
        return load(device, arena, image.toArray(ValueLayout.JAVA_BYTE), false);
    }

    /**
     * Loads a module from a file on {@code device}.
     *
     * @param device the device
     * @param arena the owner
     * @param file a code object, PTX, cubin or fatbin file
     * @return the module
     */
    public static HipModule load(Device device, Arena arena, Path file) {
        Checks.notNull(device, "device");
        return load(device, arena, read(file), false);
    }

    /** The load, on {@code device} (null: the current device). */
    private static HipModule load(Device device, Arena arena, byte[] image, boolean unused) {
        Checks.notNull(image, "image");
        if (image.length == 0) {
            throw new IllegalArgumentException("image is empty");
        }
        Checks.notNull(arena, "arena");
        Backend b = Runtimes.current();
        return Lifetime.create(arena, device, "HipModule", () -> {
            try (Arena temp = Arena.ofConfined()) {
                MemorySegment copy = temp.allocate(image.length + 1L);
                MemorySegment.copy(image, 0, copy, ValueLayout.JAVA_BYTE, 0, image.length);
                return b.moduleLoad(copy);
            }
        }, b::moduleUnload, (lifetime, h) -> new HipModule(b, lifetime, h, image.length, device));
    }

    /**
     * Loads a module from native memory.
     *
     * @param arena the owner
     * @param image the code
     * @return the module
     */
    public static HipModule load(Arena arena, MemorySegment image) {
        Checks.nativeSegment(image, "image");
        return load(arena, image.toArray(ValueLayout.JAVA_BYTE));
    }

    /**
     * Loads a module from a file.
     *
     * @param arena the owner
     * @param file a code object, PTX, cubin or fatbin file
     * @return the module
     */
    public static HipModule load(Arena arena, Path file) {
        return load(arena, read(file));
    }

    private static byte[] read(Path file) {
        Checks.notNull(file, "file");
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read module " + file, e);
        }
    }

    /**
     * {@return a kernel of this module, with its declared parameter types}
     *
     * <p>The kernel is loaded onto the GPU here, not at its first launch: on the device the module was loaded on,
     * or, for a module loaded without a device, on the calling thread's current device. On NVIDIA that takes
     * {@code cudaFuncGetAttributes} after {@code cudaLibraryGetKernel}: under CUDA's lazy loading (the default
     * since CUDA 12.2) a kernel's first launch may otherwise wait for the device to go idle, and a first launch
     * queued behind a wait that the host signals only after the launch (an external semaphore's wait, a Vulkan
     * timeline value) would never return. A kernel of a module without a device, launched on another device, is
     * loaded there at its first launch.
     *
     * @param name the kernel name ({@code extern "C"} name, or the lowered name of a C++ kernel)
     * @param params the parameter types, in order
     */
    public Kernel kernel(String name, Kernel.Param... params) {
        Checks.notNull(name, "name");
        Checks.notNull(params, "params");
        for (int i = 0; i < params.length; i++) {
            Checks.notNull(params[i], "params[" + i + "]");
        }
        lifetime.checkOpen();
        MemorySegment function = device == null ? backend.moduleFunction(handle, name)
                : device.call(() -> backend.moduleFunction(handle, name));
        return new Kernel(this, backend, lifetime.guard(function), name, List.of(params));
    }

    void checkOpen() {
        lifetime.checkOpen();
    }

    @Override
    String describe() {
        return address(handle) + ", " + imageBytes + " bytes of code";
    }
}
