package io.github.hipffm.vulkan;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Extent;
import io.github.hipffm.MipmappedArray;

import static org.lwjgl.vulkan.VK10.*;

/** hip-ffm's array shape (format, extent, levels, flags) as a Vulkan image's, checked. */
record ImageShape(ChannelFormat format, Extent extent, int levels, int flags, int vkFormat, int imageType, int width,
        int height, int depth, int layers, int createFlags, int usage) {

    static ImageShape of(ChannelFormat format, Extent extent, int levels, int flags) {
        if (format == null || extent == null) {
            throw new IllegalArgumentException("format and extent must not be null");
        }
        int known = MipmappedArray.LAYERED | MipmappedArray.CUBEMAP | MipmappedArray.SURFACE_LOAD_STORE
                | MipmappedArray.TEXTURE_GATHER;
        if ((flags & ~known) != 0) {
            throw new IllegalArgumentException("unknown array flags 0x" + Integer.toHexString(flags & ~known));
        }
        boolean layered = (flags & MipmappedArray.LAYERED) != 0;
        boolean cube = (flags & MipmappedArray.CUBEMAP) != 0;
        int w = dim(extent.width(), "width");
        int h = dim(extent.height(), "height");
        int d = dim(extent.depth(), "depth");
        int type;
        int layers = 1;
        int vkDepth = 1;
        int create = 0;
        if (cube) {
            if (h != w || (layered ? d == 0 || d % 6 != 0 : d != 6)) {
                throw new IllegalArgumentException("a cube map has square faces and depth 6 (layered: 6 x n), got " + extent);
            }
            type = VK_IMAGE_TYPE_2D;
            layers = d;
            create = VK_IMAGE_CREATE_CUBE_COMPATIBLE_BIT;
        } else if (layered) {
            if (d == 0) {
                throw new IllegalArgumentException("a layered array has its layer count as depth, got " + extent);
            }
            type = h == 0 ? VK_IMAGE_TYPE_1D : VK_IMAGE_TYPE_2D;
            layers = d;
        } else if (d > 0) {
            if (h == 0) {
                throw new IllegalArgumentException("a 3D extent needs a height, got " + extent);
            }
            type = VK_IMAGE_TYPE_3D;
            vkDepth = d;
        } else {
            type = h == 0 ? VK_IMAGE_TYPE_1D : VK_IMAGE_TYPE_2D;
        }
        long largest = Math.max(w, Math.max(h, type == VK_IMAGE_TYPE_3D ? d : 0));
        int max = 64 - Long.numberOfLeadingZeros(largest);
        if (levels < 1 || levels > max) {
            throw new IllegalArgumentException("levels must be 1 to " + max + " for extent " + extent + ", got " + levels);
        }
        int usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT
                | ((flags & MipmappedArray.SURFACE_LOAD_STORE) != 0 ? VK_IMAGE_USAGE_STORAGE_BIT : 0);
        return new ImageShape(format, extent, levels, flags, vkFormat(format), type, w, Math.max(h, 1), vkDepth, layers,
                create, usage);
    }

    private static int dim(long v, String what) {
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " " + v + " too large for Vulkan");
        }
        return (int) v;
    }

    /** {@return the unnormalised Vulkan format of {@code f}: R8G8B8A8_UINT for 8,8,8,8 UNSIGNED, R32_SFLOAT for 32 FLOAT} */
    static int vkFormat(ChannelFormat f) {
        int channels = (f.x() > 0 ? 1 : 0) + (f.y() > 0 ? 1 : 0) + (f.z() > 0 ? 1 : 0) + (f.w() > 0 ? 1 : 0);
        int kind = switch (f.kind()) {
            case UNSIGNED -> 0;
            case SIGNED -> 1;
            case FLOAT -> 2;
        };
        int[][] table = switch (f.x()) {
            case 8 -> new int[][] {{VK_FORMAT_R8_UINT, VK_FORMAT_R8_SINT}, {VK_FORMAT_R8G8_UINT, VK_FORMAT_R8G8_SINT},
                    {VK_FORMAT_R8G8B8_UINT, VK_FORMAT_R8G8B8_SINT}, {VK_FORMAT_R8G8B8A8_UINT, VK_FORMAT_R8G8B8A8_SINT}};
            case 16 -> new int[][] {{VK_FORMAT_R16_UINT, VK_FORMAT_R16_SINT, VK_FORMAT_R16_SFLOAT},
                    {VK_FORMAT_R16G16_UINT, VK_FORMAT_R16G16_SINT, VK_FORMAT_R16G16_SFLOAT},
                    {VK_FORMAT_R16G16B16_UINT, VK_FORMAT_R16G16B16_SINT, VK_FORMAT_R16G16B16_SFLOAT},
                    {VK_FORMAT_R16G16B16A16_UINT, VK_FORMAT_R16G16B16A16_SINT, VK_FORMAT_R16G16B16A16_SFLOAT}};
            default -> new int[][] {{VK_FORMAT_R32_UINT, VK_FORMAT_R32_SINT, VK_FORMAT_R32_SFLOAT},
                    {VK_FORMAT_R32G32_UINT, VK_FORMAT_R32G32_SINT, VK_FORMAT_R32G32_SFLOAT},
                    {VK_FORMAT_R32G32B32_UINT, VK_FORMAT_R32G32B32_SINT, VK_FORMAT_R32G32B32_SFLOAT},
                    {VK_FORMAT_R32G32B32A32_UINT, VK_FORMAT_R32G32B32A32_SINT, VK_FORMAT_R32G32B32A32_SFLOAT}};
        };
        return table[channels - 1][kind]; // ChannelFormat refuses 8-bit float
    }

    @Override
    public String toString() {
        String t = imageType == VK_IMAGE_TYPE_1D ? "1D" : imageType == VK_IMAGE_TYPE_2D ? "2D" : "3D";
        return t + " image " + extent + " (" + layers + " layer(s), " + levels + " level(s)) of VkFormat " + vkFormat
                + " for " + format;
    }
}
