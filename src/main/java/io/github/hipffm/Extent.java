package io.github.hipffm;

/**
 * The size of an array in elements ({@code hipExtent} for arrays): width, height (0 for 1D) and depth (0 for 1D
 * and 2D).
 *
 * @param width elements per row, &gt; 0
 * @param height rows, &gt;= 0
 * @param depth slices, &gt;= 0
 */
public record Extent(long width, long height, long depth) {
    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException for width &lt;= 0, a negative height or depth, or a depth without height
     */
    public Extent {
        if (width <= 0 || height < 0 || depth < 0 || (depth > 0 && height == 0)) {
            throw new IllegalArgumentException("invalid extent " + width + "x" + height + "x" + depth
                    + ": width > 0, height >= 0, depth >= 0, and a depth needs a height");
        }
    }

    /** {@return a 2D extent} @param width elements per row @param height rows */
    public static Extent of(long width, long height) {
        return new Extent(width, height, 0);
    }

    /** {@return the extent of mip level {@code level}: each non-zero dimension halved per level, at least 1} */
    Extent level(int level) {
        return new Extent(Math.max(1, width >> level), height == 0 ? 0 : Math.max(1, height >> level),
                depth == 0 ? 0 : Math.max(1, depth >> level));
    }

    /** {@return how many mip levels this extent can have: floor(log2(largest dimension)) + 1} */
    int maxLevels() {
        long largest = Math.max(width, Math.max(height, depth));
        return 64 - Long.numberOfLeadingZeros(largest);
    }

    @Override
    public String toString() {
        return width + "x" + height + "x" + depth;
    }
}
