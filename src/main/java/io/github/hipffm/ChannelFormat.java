package io.github.hipffm;

import io.github.hipffm.internal.Codes;

/**
 * An array element format ({@code hipChannelFormatDesc}): bits of up to four channels and how they are read.
 *
 * {@snippet :
 * ChannelFormat rgba8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);   // VK_FORMAT_R8G8B8A8_UINT
 * ChannelFormat r32f = new ChannelFormat(32, 0, 0, 0, ChannelFormat.Kind.FLOAT);      // VK_FORMAT_R32_SFLOAT
 * }
 *
 * @param x bits of the first channel: 8, 16 or 32
 * @param y bits of the second channel: 0, 8, 16 or 32
 * @param z bits of the third channel: 0 or as {@code x}
 * @param w bits of the fourth channel: 0 or as {@code x}
 * @param kind how the channels are read
 */
public record ChannelFormat(int x, int y, int z, int w, Kind kind) {

    /** How channels are read ({@code hipChannelFormatKind}). */
    public enum Kind {
        /** Signed integers. */
        SIGNED,
        /** Unsigned integers. */
        UNSIGNED,
        /** Floating point (16 or 32 bits). */
        FLOAT;

        /** {@return the {@code hipChannelFormatKind} value, for the generated bindings} */
        public int hipValue() {
            return Codes.hip(this);
        }
    }

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException when the channels are not 1 to 4 channels of the same 8, 16 or 32 bits
     *     (float: 16 or 32), filled from {@code x} on
     */
    public ChannelFormat {
        if (kind == null) {
            throw new IllegalArgumentException("channel kind must not be null");
        }
        int[] bits = {x, y, z, w};
        boolean ok = x == 8 || x == 16 || x == 32;
        for (int i = 1; i < 4 && ok; i++) {
            ok = bits[i] == 0 ? (i == 3 || bits[i + 1] == 0) : bits[i] == x && bits[i - 1] != 0;
        }
        if (!ok || (kind == Kind.FLOAT && x == 8)) {
            throw new IllegalArgumentException("invalid channel format " + x + "," + y + "," + z + "," + w + " " + kind
                    + ": 1 to 4 channels of the same 8, 16 or 32 bits (float: 16 or 32), from x on");
        }
    }

    /** {@return bytes per element} */
    public int bytesPerElement() {
        return (x + y + z + w) / 8;
    }
}
