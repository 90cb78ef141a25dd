package io.github.hipffm;

import io.github.hipffm.internal.Codes;

import java.util.List;

/**
 * How a {@link TextureObject} samples ({@code hipTextureDesc}): an address mode per dimension, the filter, the
 * read mode, normalised or element coordinates, the border colour, and the mip-level settings of a mipmapped
 * texture. Immutable; made by {@link #builder()} (or {@link #defaults()}: point sampling, clamped, element type,
 * element coordinates).
 *
 * {@snippet :
 * TextureDescriptor bilinear = TextureDescriptor.builder()
 *         .filter(TextureDescriptor.FilterMode.LINEAR)
 *         .readMode(TextureDescriptor.ReadMode.NORMALIZED_FLOAT)   // 8-bit channels read as 0..1
 *         .normalizedCoordinates(true)
 *         .addressMode(TextureDescriptor.AddressMode.WRAP)        // every dimension
 *         .build();
 * }
 *
 * <p>What is valid depends on what the texture views, so it is checked when the texture object is made
 * ({@link TextureObject}'s class comment lists the rules); only the values themselves are checked here.
 *
 * @param addressModes the address mode of dimensions x, y and z (exactly three)
 * @param filter how a fetch between texels is filtered
 * @param readMode how integer texels are returned
 * @param normalizedCoordinates coordinates from 0 to 1 (true) or in texels (false)
 * @param sRGB convert sRGB texels to linear on a read
 * @param borderColor the colour returned outside the texture in {@link AddressMode#BORDER} mode
 * @param maxAnisotropy the maximum anisotropy ratio, 0 to 16 (0: the runtime's default)
 * @param mipmapFilter how a fetch between two mip levels is filtered (mipmapped textures)
 * @param mipmapLevelBias added to the computed mip level
 * @param minMipmapLevelClamp the lowest mip level a fetch uses
 * @param maxMipmapLevelClamp the highest mip level a fetch uses
 */
public record TextureDescriptor(List<AddressMode> addressModes, FilterMode filter, ReadMode readMode,
        boolean normalizedCoordinates, boolean sRGB, BorderColor borderColor, int maxAnisotropy,
        FilterMode mipmapFilter, float mipmapLevelBias, float minMipmapLevelClamp, float maxMipmapLevelClamp) {

    /** Where a fetch outside the texture lands ({@code hipTextureAddressMode}). */
    public enum AddressMode {
        /** Repeats the texture (normalised coordinates only). */
        WRAP,
        /** Clamps to the edge texel. */
        CLAMP,
        /** Repeats the texture mirrored (normalised coordinates only). */
        MIRROR,
        /** Returns the {@linkplain TextureDescriptor#borderColor border colour}. */
        BORDER;

        /** {@return the {@code hipTextureAddressMode} value, for the generated bindings} */
        public int hipValue() {
            return Codes.hip(this);
        }
    }

    /** How texels are filtered ({@code hipTextureFilterMode}). */
    public enum FilterMode {
        /** The nearest texel. */
        POINT,
        /** Linear interpolation of the nearest texels (floating-point results only). */
        LINEAR;

        /** {@return the {@code hipTextureFilterMode} value, for the generated bindings} */
        public int hipValue() {
            return Codes.hip(this);
        }
    }

    /** How integer texels are returned ({@code hipTextureReadMode}). */
    public enum ReadMode {
        /** As they are stored. */
        ELEMENT_TYPE,
        /** 8- and 16-bit integers as floats from 0 to 1 (unsigned) or -1 to 1 (signed). */
        NORMALIZED_FLOAT;

        /** {@return the {@code hipTextureReadMode} value, for the generated bindings} */
        public int hipValue() {
            return Codes.hip(this);
        }
    }

    /**
     * The border colour, one float per channel (integer textures: the integer's bits as a float, as the runtimes
     * take it).
     *
     * @param r red
     * @param g green
     * @param b blue
     * @param a alpha
     */
    public record BorderColor(float r, float g, float b, float a) {
        /** Transparent black, the default. */
        public static final BorderColor TRANSPARENT_BLACK = new BorderColor(0, 0, 0, 0);
    }

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException for a null value, other than three address modes, or a max anisotropy
     *     outside 0 to 16
     */
    public TextureDescriptor {
        Checks.notNull(addressModes, "addressModes");
        if (addressModes.size() != 3) {
            throw new IllegalArgumentException("addressModes needs one mode per dimension x, y, z, got "
                    + addressModes.size());
        }
        for (int i = 0; i < 3; i++) {
            Checks.notNull(addressModes.get(i), "addressModes[" + i + "]");
        }
        addressModes = List.copyOf(addressModes);
        Checks.notNull(filter, "filter");
        Checks.notNull(readMode, "readMode");
        Checks.notNull(borderColor, "borderColor");
        Checks.notNull(mipmapFilter, "mipmapFilter");
        if (maxAnisotropy < 0 || maxAnisotropy > 16) {
            throw new IllegalArgumentException("maxAnisotropy " + maxAnisotropy + " is outside 0 to 16");
        }
    }

    /** {@return point sampling, {@link AddressMode#CLAMP} in every dimension, element type, element coordinates} */
    public static TextureDescriptor defaults() {
        return builder().build();
    }

    /** {@return a builder starting from {@link #defaults()}} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder starting from this descriptor} */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.modes = addressModes.toArray(AddressMode[]::new);
        b.filter = filter;
        b.readMode = readMode;
        b.normalized = normalizedCoordinates;
        b.sRGB = sRGB;
        b.border = borderColor;
        b.maxAnisotropy = maxAnisotropy;
        b.mipmapFilter = mipmapFilter;
        b.bias = mipmapLevelBias;
        b.minClamp = minMipmapLevelClamp;
        b.maxClamp = maxMipmapLevelClamp;
        return b;
    }

    /** Builds a {@link TextureDescriptor}; not thread-safe. */
    public static final class Builder {
        private AddressMode[] modes = {AddressMode.CLAMP, AddressMode.CLAMP, AddressMode.CLAMP};
        private FilterMode filter = FilterMode.POINT;
        private ReadMode readMode = ReadMode.ELEMENT_TYPE;
        private boolean normalized;
        private boolean sRGB;
        private BorderColor border = BorderColor.TRANSPARENT_BLACK;
        private int maxAnisotropy;
        private FilterMode mipmapFilter = FilterMode.POINT;
        private float bias;
        private float minClamp;
        private float maxClamp;

        private Builder() {
        }

        /**
         * Sets the address mode of every dimension.
         * @param mode the mode
         * @return this
         */
        public Builder addressMode(AddressMode mode) {
            modes = new AddressMode[] {mode, mode, mode};
            return this;
        }

        /**
         * Sets the address mode of one dimension.
         * @param dimension 0 (x), 1 (y) or 2 (z)
         * @param mode the mode
         * @return this
         */
        public Builder addressMode(int dimension, AddressMode mode) {
            if (dimension < 0 || dimension > 2) {
                throw new IllegalArgumentException("dimension " + dimension + " is not 0 (x), 1 (y) or 2 (z)");
            }
            modes = modes.clone();
            modes[dimension] = mode;
            return this;
        }

        /**
         * Sets the filter.
         * @param filter the filter
         * @return this
         */
        public Builder filter(FilterMode filter) {
            this.filter = filter;
            return this;
        }

        /**
         * Sets the read mode.
         * @param readMode the read mode
         * @return this
         */
        public Builder readMode(ReadMode readMode) {
            this.readMode = readMode;
            return this;
        }

        /**
         * Sets whether coordinates are normalised (0 to 1) or in texels.
         * @param normalized normalised coordinates
         * @return this
         */
        public Builder normalizedCoordinates(boolean normalized) {
            this.normalized = normalized;
            return this;
        }

        /**
         * Sets whether sRGB texels are converted to linear on a read.
         * @param sRGB convert
         * @return this
         */
        public Builder sRGB(boolean sRGB) {
            this.sRGB = sRGB;
            return this;
        }

        /**
         * Sets the border colour.
         * @param r red
         * @param g green
         * @param b blue
         * @param a alpha
         * @return this
         */
        public Builder borderColor(float r, float g, float b, float a) {
            this.border = new BorderColor(r, g, b, a);
            return this;
        }

        /**
         * Sets the maximum anisotropy ratio.
         * @param maxAnisotropy 0 to 16
         * @return this
         */
        public Builder maxAnisotropy(int maxAnisotropy) {
            this.maxAnisotropy = maxAnisotropy;
            return this;
        }

        /**
         * Sets the mip-level settings of a mipmapped texture.
         * @param filter the filter between two mip levels
         * @param bias added to the computed level
         * @param minClamp the lowest level used
         * @param maxClamp the highest level used
         * @return this
         */
        public Builder mipmaps(FilterMode filter, float bias, float minClamp, float maxClamp) {
            this.mipmapFilter = filter;
            this.bias = bias;
            this.minClamp = minClamp;
            this.maxClamp = maxClamp;
            return this;
        }

        /**
         * {@return the descriptor}
         * @throws IllegalArgumentException as the record's constructor
         */
        public TextureDescriptor build() {
            return new TextureDescriptor(java.util.Arrays.asList(modes), filter, readMode, normalized, sRGB, border,
                    maxAnisotropy, mipmapFilter, bias, minClamp, maxClamp);
        }
    }
}
