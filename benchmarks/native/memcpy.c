// C twin of CopyBench. The synchronous copy (copy_sync) does what hip-ffm's Memory.copy does on NVIDIA:
// cudaMemcpyAsync (cudaMemcpyDefault) on the NULL stream, then cudaStreamSynchronize(0), so every copy has finished
// on the GPU before the next one is timed (a plain cudaMemcpy device -> device returns before the GPU is done).
// Pinned host <-> device at 4 KiB .. 1 GiB, and from a mapped Vulkan-exported 256 MiB buffer to device memory at
// 1 .. 256 MiB; time per copy in us. The mapped buffer is measured twice:
//   memcpy.d2dMapped.random   random bytes (splitmix64, fixed seed; incompressible): the headline figure
//   memcpy.d2dMapped.uniform  one value (cudaMemset 1): an extra that measures the GPU's memory compression
// Also, as in anchor.c, the event-timed rate of back-to-back cudaMemcpyAsync (the practical peak), in GB/s
// (10^9 bytes/s): memcpyAsync.h2d, .d2h, .d2dMapped.random, .d2dMapped.uniform.
#include "vk.h"

static void async_peak(const char *figure, void *dst, const void *src, size_t n) {
    int reps = (int) ((256ull << 20) / n);
    if (reps < 8) reps = 8;
    if (reps > 20000) reps = 20000;
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    CK(cudaMemcpy(dst, src, n, cudaMemcpyDefault));
    CK(cudaEventRecord(a, 0));
    for (int r = 0; r < reps; r++) CK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDefault, 0));
    CK(cudaEventRecord(b, 0));
    CK(cudaEventSynchronize(b));
    float ms;
    CK(cudaEventElapsedTime(&ms, a, b));
    emitl(figure, (long long) n, (double) n * reps / (ms * 1e-3) / 1e9, "GB/s");
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
}

int main(int argc, char **argv) {
    int peak = !(argc > 1 && strcmp(argv[1], "--no-peak") == 0);   // --no-peak: sync copies only
    require_gpu();
    size_t sizes[] = {4096, 65536, 1 << 20, 16 << 20, 256 << 20, 1ull << 30};
    for (int s = 0; s < 6; s++) {
        size_t n = sizes[s];
        void *h, *d;
        CK(cudaMallocHost(&h, n));
        memset(h, 1, n);
        CK(cudaMalloc(&d, n));
        double us;
        MEASURE(us, 1e6, 1, copy_sync(d, h, n), );
        emitl("memcpy.h2d", (long long) n, us, "us");
        MEASURE(us, 1e6, 1, copy_sync(h, d, n), );
        emitl("memcpy.d2h", (long long) n, us, "us");
        if (peak) {
            async_peak("memcpyAsync.h2d", d, h, n);
            async_peak("memcpyAsync.d2h", h, d, n);
        }
        CK(cudaFreeHost(h));
        CK(cudaFree(d));
    }
    Vk v = vk_open();
    unsigned long long size = 256ull << 20;
    VkExportedBuffer b = vk_buffer(&v, size);
    cudaExternalMemory_t m = cuda_import_memory(vk_buffer_fd(&v, &b), b.allocation_size);
    void *mapped = cuda_map(m, 0, size);
    void *d;
    CK(cudaMalloc(&d, size));
    size_t dsizes[] = {1 << 20, 16 << 20, 256 << 20};
    for (int data = 0; data < 2; data++) {          // 0: random bytes (the headline), 1: one value (compressible)
        const char *sync_fig = data ? "memcpy.d2dMapped.uniform" : "memcpy.d2dMapped.random";
        const char *peak_fig = data ? "memcpyAsync.d2dMapped.uniform" : "memcpyAsync.d2dMapped.random";
        if (data) {
            CK(cudaMemsetAsync(mapped, 1, size, 0));
            CK(cudaStreamSynchronize(0));
        } else {
            fill_random(mapped, size, FILL_SEED);
        }
        for (int s = 0; s < 3; s++) {
            size_t n = dsizes[s];
            double us;
            MEASURE(us, 1e6, 1, copy_sync(d, mapped, n), );
            emitl(sync_fig, (long long) n, us, "us");
            if (peak) async_peak(peak_fig, d, mapped, n);
        }
    }
    CK(cudaFree(d));
    CK(cudaFree(mapped));
    CK(cudaDestroyExternalMemory(m));
    vk_buffer_free(&v, &b);
    vk_close(&v);
    return 0;
}
