package io.github.hipffm;

import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A texture object ({@code hipCreateTextureObject}): read-only, filtered access by kernels to an
 * {@link ArrayLevel} (a mip level of a {@link MipmappedArray}, or a mapped GL texture's level), a whole
 * {@link MipmappedArray}, or linear or pitched 2D device memory, sampled as a {@link TextureDescriptor} says.
 * A kernel gets it as a 64-bit handle ({@code hipTextureObject_t}; {@code cudaTextureObject_t} on NVIDIA):
 * {@link KernelArgs#set(int, TextureObject)} on a parameter declared {@link Kernel.Param#LONG}, or {@link #value()}.
 *
 * {@snippet :
 * MipmappedArray image = memory.mapMipmappedArray(0, rgba8, Extent.of(w, h), 1, 0);
 * TextureObject texture = TextureObject.of(image.level(0), TextureDescriptor.builder()
 *         .filter(TextureDescriptor.FilterMode.LINEAR)
 *         .readMode(TextureDescriptor.ReadMode.NORMALIZED_FLOAT)
 *         .build());
 * kernel.launch(grid, block, 0, stream, texture.value(), output);   // __global__ void k(hipTextureObject_t, float4*)
 * }
 *
 * <h2>Lifetime</h2>
 * A texture over an array is made from the array: it is destroyed ({@code hipDestroyTextureObject}) when the array
 * is released (its {@link MipmappedArray}, that array's memory, the GL mapping, or their arenas), before it, or
 * earlier by {@link #close()}. A texture over device memory belongs to an {@link Arena}: it does not keep the
 * memory alive, so release it first: close it, or give it an arena that closes before the memory's (FFM promises no
 * order among the releases of one arena; a confined arena runs its first one first). After close, {@link #value()}, {@link #handle()} and kernel arguments that hold it throw
 * {@link IllegalStateException}.
 *
 * <h2>Checked before the native call</h2>
 * Each refusal is an {@link IllegalArgumentException} naming the value, and comes from what the runtimes document
 * (the CUDA runtime's {@code cudaCreateTextureObject} reference and Programming Guide, and ROCm clr's
 * {@code hip_texture.cpp}, which follows it):
 * <ul>
 * <li>{@link TextureDescriptor.ReadMode#NORMALIZED_FLOAT} with a format other than 8- or 16-bit integers: the
 *   runtimes document it to apply to those only (32-bit integers are "not promoted", floats are floats), so the
 *   read would silently be another one than asked;</li>
 * <li>{@link TextureDescriptor.FilterMode#LINEAR} (and a linear mip filter of a mipmapped texture) where the
 *   texture does not return floats (an integer format read as {@link TextureDescriptor.ReadMode#ELEMENT_TYPE}):
 *   "linear texture filtering may be done only for textures that are configured to return floating-point data"
 *   (CUDA Programming Guide);</li>
 * <li>{@link TextureDescriptor.AddressMode#WRAP} or {@link TextureDescriptor.AddressMode#MIRROR} for a dimension of
 *   the texture without normalised coordinates: documented as not supported there (switched to clamp), by both;</li>
 * <li>a whole mipmapped array without normalised coordinates (both refuse it);</li>
 * <li>linear and pitched memory: a start not aligned to {@link DeviceAttribute#TEXTURE_ALIGNMENT}, a pitch not a
 *   multiple of {@link DeviceAttribute#TEXTURE_PITCH_ALIGNMENT} or shorter than a row, and sizes beyond the
 *   segment.</li>
 * </ul>
 * Sizes beyond the device's texture limits, and a format of a GL texture that {@link ChannelFormat} cannot express,
 * are left to the runtime.
 */
public final class TextureObject extends NativeResource {
    /** What a texture views ({@code hipResourceType}). */
    public enum ResourceKind {
        /** An {@link ArrayLevel}. */
        ARRAY,
        /** A whole {@link MipmappedArray}. */
        MIPMAPPED_ARRAY,
        /** Linear device memory. */
        LINEAR,
        /** Pitched 2D device memory. */
        PITCH_2D
    }

    private final TextureDescriptor descriptor;
    private final ResourceKind kind;
    private final ChannelFormat format;

    private TextureObject(Backend backend, Lifetime lifetime, MemorySegment handle, TextureDescriptor descriptor,
            ResourceKind kind, ChannelFormat format) {
        super(backend, lifetime, handle);
        this.descriptor = descriptor;
        this.kind = kind;
        this.format = format;
    }

    /**
     * {@return a texture over an array level, destroyed before the array is released}
     * @param level a level of a mipmapped array or of a mapped GL texture
     * @param descriptor how it samples
     * @throws IllegalArgumentException for a descriptor the level's format or dimensions do not allow (see above)
     * @throws IllegalStateException when the level's array was released
     */
    public static TextureObject of(ArrayLevel level, TextureDescriptor descriptor) {
        Checks.notNull(level, "level");
        Checks.notNull(descriptor, "descriptor");
        level.lifetime.checkOpen();
        Extent e = level.extent();
        checkSampling(level.format(), descriptor, 1 + (e.height() > 0 ? 1 : 0) + (e.depth() > 0 ? 1 : 0), false);
        Backend b = level.backend;
        MemorySegment array = level.array;
        return Lifetime.create(level.lifetime, "TextureObject",
                () -> b.createTextureObject(new Backend.Resource.Array(array), descriptor), b::destroyTextureObject,
                (lifetime, h) -> new TextureObject(b, lifetime, h, descriptor, ResourceKind.ARRAY, level.format()));
    }

    /**
     * {@return a texture over every mip level of a mipmapped array, destroyed before the array is released}
     * @param array the array
     * @param descriptor how it samples; normalised coordinates
     * @throws IllegalArgumentException for a descriptor the array does not allow (see above)
     * @throws IllegalStateException when the array was released
     */
    public static TextureObject of(MipmappedArray array, TextureDescriptor descriptor) {
        Checks.notNull(array, "array");
        Checks.notNull(descriptor, "descriptor");
        array.lifetime.checkOpen();
        if (!descriptor.normalizedCoordinates()) {
            // CUDA's cudaCreateTextureObject: "normalizedCoords must be set to true"; ROCm clr refuses it too.
            throw new IllegalArgumentException("a texture over a whole mipmapped array needs normalizedCoordinates"
                    + " true (hipResourceTypeMipmappedArray), got false");
        }
        Extent e = array.extent();
        checkSampling(array.format(), descriptor, 1 + (e.height() > 0 ? 1 : 0) + (e.depth() > 0 ? 1 : 0), true);
        Backend b = array.backend;
        MemorySegment handle = array.handle;
        return Lifetime.create(array.lifetime, "TextureObject",
                () -> b.createTextureObject(new Backend.Resource.Mipmapped(handle), descriptor),
                b::destroyTextureObject,
                (lifetime, h) -> new TextureObject(b, lifetime, h, descriptor, ResourceKind.MIPMAPPED_ARRAY,
                        array.format()));
    }

    /**
     * {@return a texture over linear device memory: {@code memory.byteSize() / format.bytesPerElement()} elements
     * ({@code hipResourceTypeLinear}), fetched by element index; destroyed when {@code arena} closes}
     * Address modes and the filter do not apply to linear memory (the runtimes ignore them).
     *
     * @param arena the owner
     * @param memory device memory, its start aligned to {@link DeviceAttribute#TEXTURE_ALIGNMENT}
     * @param format the element format
     * @param descriptor how it reads
     */
    public static TextureObject linear(Arena arena, MemorySegment memory, ChannelFormat format,
            TextureDescriptor descriptor) {
        Checks.notNull(arena, "arena");
        Checks.nativeSegment(memory, "memory");
        Checks.notNull(format, "format");
        Checks.notNull(descriptor, "descriptor");
        if (memory.byteSize() < format.bytesPerElement()) {
            throw new IllegalArgumentException("memory has " + memory.byteSize() + " bytes, less than one "
                    + format.bytesPerElement() + "-byte element");
        }
        checkSampling(format, descriptor, 0, false);
        Backend b = Runtimes.current();
        Device device = deviceOf(b, memory);
        checkAlignment(device, memory);
        return Lifetime.create(arena, device, "TextureObject",
                () -> b.createTextureObject(new Backend.Resource.Linear(memory, format, memory.byteSize()), descriptor),
                b::destroyTextureObject,
                (lifetime, h) -> new TextureObject(b, lifetime, h, descriptor, ResourceKind.LINEAR, format));
    }

    /**
     * {@return a texture over pitched 2D device memory ({@code hipResourceTypePitch2D}): {@code height} rows of
     * {@code width} elements, row {@code y} at {@code y * pitchBytes}; destroyed when {@code arena} closes}
     *
     * @param arena the owner
     * @param memory device memory, its start aligned to {@link DeviceAttribute#TEXTURE_ALIGNMENT}, at least
     *     {@code (height - 1) * pitchBytes + width * format.bytesPerElement()} bytes
     * @param format the element format
     * @param width elements per row, &gt; 0
     * @param height rows, &gt; 0
     * @param pitchBytes bytes from one row to the next: at least a row, a multiple of
     *     {@link DeviceAttribute#TEXTURE_PITCH_ALIGNMENT}
     * @param descriptor how it samples
     */
    public static TextureObject pitch2D(Arena arena, MemorySegment memory, ChannelFormat format, long width,
            long height, long pitchBytes, TextureDescriptor descriptor) {
        Checks.notNull(arena, "arena");
        Checks.nativeSegment(memory, "memory");
        Checks.notNull(format, "format");
        Checks.notNull(descriptor, "descriptor");
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("width " + width + " and height " + height + " must be > 0");
        }
        long row = Math.multiplyExact(width, (long) format.bytesPerElement());
        if (pitchBytes < row) {
            throw new IllegalArgumentException("pitchBytes " + pitchBytes + " is shorter than a row of " + width
                    + " elements (" + row + " bytes)");
        }
        long needed = Math.addExact(Math.multiplyExact(height - 1, pitchBytes), row);
        if (memory.byteSize() < needed) {
            throw new IllegalArgumentException("memory has " + memory.byteSize() + " bytes, " + height + " rows of "
                    + width + " elements at pitch " + pitchBytes + " need " + needed);
        }
        checkSampling(format, descriptor, 2, false);
        Backend b = Runtimes.current();
        Device device = deviceOf(b, memory);
        checkAlignment(device, memory);
        if (device != null) {
            // Both runtimes: pitchInBytes "has to be aligned to texturePitchAlignment".
            int pitchAlignment = device.attribute(DeviceAttribute.TEXTURE_PITCH_ALIGNMENT);
            if (pitchAlignment > 0 && pitchBytes % pitchAlignment != 0) {
                throw new IllegalArgumentException("pitchBytes " + pitchBytes + " is not a multiple of the device's"
                        + " texture pitch alignment " + pitchAlignment + " (TEXTURE_PITCH_ALIGNMENT)");
            }
        }
        return Lifetime.create(arena, device, "TextureObject",
                () -> b.createTextureObject(new Backend.Resource.Pitch2D(memory, format, width, height, pitchBytes),
                        descriptor),
                b::destroyTextureObject,
                (lifetime, h) -> new TextureObject(b, lifetime, h, descriptor, ResourceKind.PITCH_2D, format));
    }

    /** The segment's device (hip-ffm's memory), else the current one; null when there is none to ask. */
    private static Device deviceOf(Backend b, MemorySegment memory) {
        Device d = Segments.deviceOf(memory);
        return d != null ? d : Device.currentOrNull(b);
    }

    /** Both runtimes: {@code devPtr} "must be ... aligned to textureAlignment" (linear and pitch 2D). */
    private static void checkAlignment(Device device, MemorySegment memory) {
        if (device == null) {
            return;
        }
        int alignment = device.attribute(DeviceAttribute.TEXTURE_ALIGNMENT);
        if (alignment > 0 && memory.address() % alignment != 0) {
            throw new IllegalArgumentException("memory at 0x" + Long.toHexString(memory.address()) + " is not aligned"
                    + " to the device's texture alignment " + alignment + " (TEXTURE_ALIGNMENT)");
        }
    }

    /**
     * The rules of the class comment that depend on the format and the dimensions.
     *
     * @param format the element format, null when unknown (then the format rules are left to the runtime)
     * @param dimensions how many dimensions the address modes apply to (0: linear memory, which ignores them)
     * @param mipmapped whether the mip filter applies too
     */
    static void checkSampling(ChannelFormat format, TextureDescriptor d, int dimensions, boolean mipmapped) {
        if (format != null) {
            boolean smallInteger = format.kind() != ChannelFormat.Kind.FLOAT && format.x() <= 16;
            if (d.readMode() == TextureDescriptor.ReadMode.NORMALIZED_FLOAT && !smallInteger) {
                throw new IllegalArgumentException("readMode NORMALIZED_FLOAT applies to 8- and 16-bit integer formats"
                        + " only, not to " + describe(format) + ": use ELEMENT_TYPE");
            }
            boolean floats = format.kind() == ChannelFormat.Kind.FLOAT
                    || d.readMode() == TextureDescriptor.ReadMode.NORMALIZED_FLOAT;
            if (!floats && d.filter() == TextureDescriptor.FilterMode.LINEAR && dimensions > 0) {
                throw new IllegalArgumentException("filter LINEAR needs a texture that returns floats, but "
                        + describe(format) + " is read as ELEMENT_TYPE (integers): use POINT, or NORMALIZED_FLOAT"
                        + " for 8- and 16-bit integers");
            }
            if (!floats && mipmapped && d.mipmapFilter() == TextureDescriptor.FilterMode.LINEAR) {
                throw new IllegalArgumentException("mipmapFilter LINEAR needs a texture that returns floats, but "
                        + describe(format) + " is read as ELEMENT_TYPE (integers)");
            }
        }
        if (!d.normalizedCoordinates()) {
            for (int i = 0; i < dimensions; i++) {
                TextureDescriptor.AddressMode m = d.addressModes().get(i);
                if (m == TextureDescriptor.AddressMode.WRAP || m == TextureDescriptor.AddressMode.MIRROR) {
                    throw new IllegalArgumentException("addressMode " + m + " of dimension " + "xyz".charAt(i)
                            + " needs normalizedCoordinates true (without, the runtimes clamp instead)");
                }
            }
        }
    }

    private static String describe(ChannelFormat f) {
        return f.x() + "," + f.y() + "," + f.z() + "," + f.w() + " " + f.kind();
    }

    /**
     * {@return the handle as a kernel receives it ({@code hipTextureObject_t}, {@code cudaTextureObject_t})}
     * @throws IllegalStateException when closed
     */
    public long value() {
        lifetime.checkOpen();
        return handle.address();
    }

    /** {@return how it samples} */
    public TextureDescriptor descriptor() {
        return descriptor;
    }

    /** {@return what it views} */
    public ResourceKind resourceKind() {
        return kind;
    }

    /** {@return the element format of what it views; null for a GL texture's format it cannot express} */
    public ChannelFormat format() {
        return format;
    }

    @Override
    String describe() {
        return address(handle) + ", " + kind + ", " + descriptor.filter() + ", " + descriptor.readMode()
                + (descriptor.normalizedCoordinates() ? ", normalized" : "");
    }
}
