package io.github.hipffm;

/**
 * A grid or block size, as {@code dim3}: x, y, z, each at least 1.
 *
 * @param x size in x, &gt;= 1
 * @param y size in y, &gt;= 1
 * @param z size in z, &gt;= 1
 */
public record Dim3(int x, int y, int z) {
    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException when a size is below 1
     */
    public Dim3 {
        if (x < 1 || y < 1 || z < 1) {
            throw new IllegalArgumentException("dim3 sizes must be >= 1, got (" + x + ", " + y + ", " + z + ")");
        }
    }

    /**
     * {@return a one-dimensional size}
     * @param x the size
     */
    public static Dim3 of(int x) {
        return new Dim3(x, 1, 1);
    }

    /**
     * {@return a two-dimensional size}
     * @param x size in x
     * @param y size in y
     */
    public static Dim3 of(int x, int y) {
        return new Dim3(x, y, 1);
    }

    /**
     * {@return the number of blocks of {@code blockSize} threads that cover {@code n} elements, as a 1D grid}
     * @param n elements, &gt; 0
     * @param blockSize threads per block, &gt; 0
     */
    public static Dim3 covering(long n, int blockSize) {
        if (n <= 0 || blockSize <= 0) {
            throw new IllegalArgumentException("covering(" + n + ", " + blockSize + "): both must be > 0");
        }
        long blocks = (n + blockSize - 1) / blockSize;
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(n + " elements need " + blocks + " blocks of " + blockSize
                    + ", more than a 1D grid holds");
        }
        return of((int) blocks);
    }
}
