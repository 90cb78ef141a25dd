package io.github.hipffm;

/**
 * The size of an array in elements ({@code hipExtent} for arrays): width, height (0 for 1D) and depth (0 for 1D
 * and 2D). For layered arrays the depth is the number of layers (a 1D layered array has height 0), for cube maps
 * it is 6.
 *
 * @param width elements per row, &gt; 0
 * @param height rows, &gt;= 0
 * @param depth slices, &gt;= 0
 */
public record Extent(long width, long height, long depth) {
    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException for width &lt;= 0 or a negative height or depth
     */
    public Extent {
        if (width <= 0 || height < 0 || depth < 0) {
            throw new IllegalArgumentException("invalid extent " + width + "x" + height + "x" + depth
                    + ": width > 0, height >= 0, depth >= 0");
        }
    }

    /**
     * {@return a 2D extent}
     * @param width elements per row
     * @param height rows
     */
    public static Extent of(long width, long height) {
        return new Extent(width, height, 0);
    }

    /**
     * {@return the extent of mip level {@code level}: each non-zero dimension halved per level, at least 1; the
     * layers of a layered array or cube map (its depth) stay as they are}
     */
    Extent level(int level, boolean layered) {
        return new Extent(Math.max(1, width >> level), height == 0 ? 0 : Math.max(1, height >> level),
                depth == 0 || layered ? depth : Math.max(1, depth >> level));
    }

    /**
     * {@return how many mip levels this extent can have: floor(log2(largest mipmapped dimension)) + 1; the
     * layers of a layered array or cube map do not count}
     */
    int maxLevels(boolean layered) {
        long largest = Math.max(width, Math.max(height, layered ? 0 : depth));
        return 64 - Long.numberOfLeadingZeros(largest);
    }

    @Override
    public String toString() {
        return width + "x" + height + "x" + depth;
    }
}
