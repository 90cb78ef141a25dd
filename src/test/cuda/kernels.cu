// Kernels for hip-ffm's GPU tests and the interop demo, compiled to PTX at build time (nvcc --ptx) and loaded
// with HipModule on the NVIDIA platform. Plain C linkage, so the names are the kernel names.

// x[i] = x[i] * a + b for i < n
extern "C" __global__ void scale_add(float* x, float a, float b, long long n) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = x[i] * a + b;
}

// x[i] += 1 for i < n (one frame of the demo: every frame adds one to every word)
extern "C" __global__ void increment(unsigned int* x, long long n) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += 1u;
}

// ---- texture and surface objects (gpu-tests: PeerSuiteGpuTest's image cases, TextureGpuTest) ----
// One thread per texel of a w x h level, blocks of 16 x 16. Texture and surface objects arrive as their 64-bit
// values (cudaTextureObject_t and cudaSurfaceObject_t are unsigned long long).

// hip-tests' PixelValue (hipVulkanImageDataVerification.cc): distinct per (x, y, level), packed RGBA8.
__device__ static unsigned int pixel_value(unsigned int x, unsigned int y, unsigned int lvl) {
    unsigned int r = (x * 3 + lvl * 17) & 0xff, g = (y * 5 + lvl * 13) & 0xff, b = (x + y + lvl * 7) & 0xff;
    return (0xffu << 24) | (b << 16) | (g << 8) | r;
}

// hip-tests' kernel_surf_write_coords: surface-writes pixel_value(x, y, lvl) into a level of uint32 texels.
extern "C" __global__ void surf_write_coords(unsigned long long surf, unsigned int lvl, unsigned int w, unsigned int h) {
    unsigned int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) surf2Dwrite(pixel_value(x, y, lvl), (cudaSurfaceObject_t) surf, (int) (x * 4), (int) y);
}

// hip-tests' kernel_surf_read: every uint32 texel of a level into out[y * w + x].
extern "C" __global__ void surf_read(unsigned long long surf, unsigned int* out, unsigned int w, unsigned int h) {
    unsigned int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) {
        unsigned int px;
        surf2Dread(&px, (cudaSurfaceObject_t) surf, (int) (x * 4), (int) y);
        out[y * w + x] = px;
    }
}

// A texture of RGBA8 texels (element type), point-sampled at texel centres (unnormalised coordinates) and packed
// into out[y * w + x] as r | g << 8 | b << 16 | a << 24.
extern "C" __global__ void tex_point_rgba8(unsigned long long tex, unsigned int* out, unsigned int w, unsigned int h) {
    unsigned int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) {
        uchar4 v = tex2D<uchar4>((cudaTextureObject_t) tex, x + 0.5f, y + 0.5f);
        out[y * w + x] = (unsigned int) v.x | ((unsigned int) v.y << 8) | ((unsigned int) v.z << 16)
                | ((unsigned int) v.w << 24);
    }
}

// A texture of RGBA8 texels read as normalised floats, sampled at (x + 0.5 + dx, y + 0.5 + dy) (unnormalised
// coordinates) into out[4 * (y * w + x) + c], c = r, g, b, a.
extern "C" __global__ void tex_sample_rgba(unsigned long long tex, float* out, unsigned int w, unsigned int h,
                                           float dx, float dy) {
    unsigned int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) {
        float4 v = tex2D<float4>((cudaTextureObject_t) tex, x + 0.5f + dx, y + 0.5f + dy);
        float* o = out + 4 * (y * w + x);
        o[0] = v.x; o[1] = v.y; o[2] = v.z; o[3] = v.w;
    }
}
