// C twin of CopyBench: synchronous cudaMemcpy (cudaMemcpyDefault, as hip-ffm's Memory.copy) between pinned host
// and device memory at 4 KiB .. 1 GiB, and from a mapped Vulkan-exported 256 MiB buffer to device memory; time per
// copy in us. Also, as in anchor.c, the event-timed rate of back-to-back cudaMemcpyAsync (the practical peak), in
// GB/s (10^9 bytes/s).
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
        MEASURE(us, 1e6, 1, CK(cudaMemcpy(d, h, n, cudaMemcpyDefault)), );
        emitl("memcpy.h2d", (long long) n, us, "us");
        MEASURE(us, 1e6, 1, CK(cudaMemcpy(h, d, n, cudaMemcpyDefault)), );
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
    CK(cudaMemset(mapped, 1, size));
    void *d;
    CK(cudaMalloc(&d, size));
    size_t dsizes[] = {1 << 20, 16 << 20, 256 << 20};
    for (int s = 0; s < 3; s++) {
        size_t n = dsizes[s];
        double us;
        MEASURE(us, 1e6, 1, CK(cudaMemcpy(d, mapped, n, cudaMemcpyDefault)), );
        emitl("memcpy.d2dMapped", (long long) n, us, "us");
        if (peak) async_peak("memcpyAsync.d2dMapped", d, mapped, n);
    }
    CK(cudaFree(d));
    CK(cudaFree(mapped));
    CK(cudaDestroyExternalMemory(m));
    vk_buffer_free(&v, &b);
    vk_close(&v);
    return 0;
}
