package io.github.hipffm.gpu;

import io.github.hipffm.Device;
import io.github.hipffm.Dim3;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.Memory;
import io.github.hipffm.MipmappedArray;
import io.github.hipffm.Stream;
import io.github.hipffm.TextureDescriptor;
import io.github.hipffm.TextureObject;
import io.github.hipffm.vulkan.ExportableImage;
import io.github.hipffm.vulkan.VulkanDevice;
import io.github.hipffm.vulkan.VulkanInterop;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Texture objects over a Vulkan-written image (issue #15): Vulkan writes every level of a 64x64, 3-level RGBA8
 * image (hip-tests' {@code PixelValue} pattern), HIP imports it as a mipmapped array, and kernels sample each level
 * through a {@link TextureObject}: point sampling with element-type reads must give Vulkan's texels bit for bit;
 * bilinear filtering with normalised-float reads, clamped, must give the bilinear blend of Vulkan's texels within
 * 1/256 (the CUDA Programming Guide's texture fetching appendix: the filter weights are 9-bit fixed point with 8
 * fractional bits, so a weight is off by up to 1/256, and a blend by up to 1/256 of the largest step between
 * neighbouring texels, at most 1 in normalised units). Surface objects (writes Vulkan reads back, and reads) are the peer suite's
 * {@code Unit_hipVulkanImageDataVerification_Positive_SurfaceWrite_VulkanRead} and {@code ..._VulkanWrite_SurfaceRead}.
 */
@Tag("gpu")
class TextureGpuTest {
    private static final int SIZE = 64;
    private static final int LEVELS = 3;
    private static final double LINEAR_TOLERANCE = 1.0 / 256;
    private static final Dim3 BLOCK = Dim3.of(16, 16);

    private static int mip(int level) {
        return Math.max(1, SIZE >> level);
    }

    private static Dim3 grid(int level) {
        return Dim3.of((mip(level) + 15) / 16, (mip(level) + 15) / 16);
    }

    /** hip-tests' {@code PixelValue}: distinct per (x, y, level), packed RGBA8 (r in the low byte). */
    private static int pixelValue(int x, int y, int level) {
        int r = (x * 3 + level * 17) & 0xff;
        int g = (y * 5 + level * 13) & 0xff;
        int b = (x + y + level * 7) & 0xff;
        return (0xff << 24) | (b << 16) | (g << 8) | r;
    }

    /** The image Vulkan wrote, imported into HIP under {@code arena}. */
    private static MipmappedArray vulkanWrittenImage(VulkanDevice vk, ExportableImage image, Arena arena) {
        MemorySegment[] levels = new MemorySegment[LEVELS];
        for (int l = 0; l < LEVELS; l++) {
            int w = mip(l);
            levels[l] = arena.allocate(4L * w * w, 4);
            for (int y = 0; y < w; y++) {
                for (int x = 0; x < w; x++) {
                    levels[l].setAtIndex(ValueLayout.JAVA_INT, (long) y * w + x, pixelValue(x, y, l));
                }
            }
        }
        vk.write(image, levels);
        return VulkanInterop.importImage(arena, image).array();
    }

    @Test
    void pointSamplingOfEveryVulkanWrittenLevelIsBitExact() throws IOException {
        Device device = Gpu.require();
        try (VulkanDevice vk = Gpu.vulkan(device.uuidBytes());
             ExportableImage image = Gpu.image(vk, SIZE, SIZE, LEVELS);
             Arena arena = Arena.ofConfined()) {
            MipmappedArray array = vulkanWrittenImage(vk, image, arena);
            Kernel sample = HipModule.load(arena, KernelGpuTest.ptx()).kernel("tex_point_rgba8", Kernel.Param.LONG,
                    Kernel.Param.POINTER, Kernel.Param.INT, Kernel.Param.INT);
            Stream stream = Stream.create(arena);
            int texels = 0;
            for (int l = 0; l < LEVELS; l++) {
                int w = mip(l);
                MemorySegment out = Memory.allocateDevice(arena, 4L * w * w);
                try (TextureObject texture = TextureObject.of(array.level(l), TextureDescriptor.defaults())) {
                    sample.launch(grid(l), BLOCK, 0, stream, texture, out, w, w);
                    stream.synchronize();
                }
                MemorySegment back = arena.allocate(4L * w * w, 4);
                Memory.copy(back, out);
                for (int y = 0; y < w; y++) {
                    for (int x = 0; x < w; x++) {
                        int got = back.getAtIndex(ValueLayout.JAVA_INT, (long) y * w + x);
                        if (got != pixelValue(x, y, l)) {
                            fail("level " + l + " texel (" + x + ", " + y + ") sampled 0x" + Integer.toHexString(got)
                                    + ", Vulkan wrote 0x" + Integer.toHexString(pixelValue(x, y, l)));
                        }
                        texels++;
                    }
                }
            }
            Gpu.record("texture objects: point sampling (element type, clamp) of " + LEVELS + " Vulkan-written RGBA8 "
                    + "levels: " + texels + " texels bit-exact");
        }
    }

    @ParameterizedTest(name = "offset ({0}, {1})")
    @CsvSource({"0.25, 0.25", "-0.6, 0.5", "0.5, -0.75", "0.9, 0.9"})
    void bilinearSamplingClampedMatchesTheBlendOfVulkansTexels(float dx, float dy) throws IOException {
        Device device = Gpu.require();
        try (VulkanDevice vk = Gpu.vulkan(device.uuidBytes());
             ExportableImage image = Gpu.image(vk, SIZE, SIZE, LEVELS);
             Arena arena = Arena.ofConfined()) {
            MipmappedArray array = vulkanWrittenImage(vk, image, arena);
            Kernel sample = HipModule.load(arena, KernelGpuTest.ptx()).kernel("tex_sample_rgba", Kernel.Param.LONG,
                    Kernel.Param.POINTER, Kernel.Param.INT, Kernel.Param.INT, Kernel.Param.FLOAT, Kernel.Param.FLOAT);
            Stream stream = Stream.create(arena);
            TextureDescriptor bilinear = TextureDescriptor.builder()
                    .filter(TextureDescriptor.FilterMode.LINEAR)
                    .readMode(TextureDescriptor.ReadMode.NORMALIZED_FLOAT)
                    .addressMode(TextureDescriptor.AddressMode.CLAMP)
                    .build();
            double worst = 0;
            for (int l = 0; l < LEVELS; l++) {
                int w = mip(l);
                MemorySegment out = Memory.allocateDevice(arena, 16L * w * w);
                try (TextureObject texture = TextureObject.of(array.level(l), bilinear)) {
                    sample.launch(grid(l), BLOCK, 0, stream, texture, out, w, w, dx, dy);
                    stream.synchronize();
                }
                MemorySegment back = arena.allocate(16L * w * w, 4);
                Memory.copy(back, out);
                for (int y = 0; y < w; y++) {
                    for (int x = 0; x < w; x++) {
                        for (int c = 0; c < 4; c++) {
                            double expected = bilinear(l, x + 0.5 + dx, y + 0.5 + dy, c);
                            double got = back.getAtIndex(ValueLayout.JAVA_FLOAT, 4L * ((long) y * w + x) + c);
                            worst = Math.max(worst, Math.abs(got - expected));
                            if (Math.abs(got - expected) > LINEAR_TOLERANCE) {
                                fail(String.format(Locale.ROOT, "level %d texel (%d, %d) channel %d: sampled %.6f, the "
                                        + "bilinear blend of Vulkan's texels is %.6f (tolerance %.6f)", l, x, y, c, got,
                                        expected, LINEAR_TOLERANCE));
                            }
                        }
                    }
                }
            }
            Gpu.record(String.format(Locale.ROOT, "texture objects: bilinear sampling (normalised float, clamp) at "
                    + "offset (%.2f, %.2f) of %d Vulkan-written RGBA8 levels: largest difference from the exact blend "
                    + "%.6f (tolerance %.6f)", dx, dy, LEVELS, worst, LINEAR_TOLERANCE));
        }
    }

    /** The exact bilinear blend at unnormalised (u, v) of level {@code level}, channel {@code c}, clamped, in 0..1. */
    private static double bilinear(int level, double u, double v, int c) {
        int w = mip(level);
        double xb = u - 0.5;
        double yb = v - 0.5;
        int i = (int) Math.floor(xb);
        int j = (int) Math.floor(yb);
        double a = xb - i;
        double b = yb - j;
        return (1 - a) * (1 - b) * texel(level, i, j, c, w) + a * (1 - b) * texel(level, i + 1, j, c, w)
                + (1 - a) * b * texel(level, i, j + 1, c, w) + a * b * texel(level, i + 1, j + 1, c, w);
    }

    private static double texel(int level, int x, int y, int c, int w) {
        int cx = Math.min(Math.max(x, 0), w - 1);
        int cy = Math.min(Math.max(y, 0), w - 1);
        return ((pixelValue(cx, cy, level) >>> (8 * c)) & 0xff) / 255.0;
    }
}
