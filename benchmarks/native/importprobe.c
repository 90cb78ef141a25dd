/* Where the soak's import kind leaves 64 KiB of device memory: the soak's import operation (SoakWorkload's
 * importMapFill) in C, one part at a time, each with its own warm-up and baseline (cudaMemGetInfo): Vulkan
 * allocations alone (allocate, export, free), imports of a pool's allocations (dup, import, map a random window,
 * memset, free, destroy), imports of fresh allocations, random-size cudaMalloc + copy + cudaFree, and all of it mixed
 * as the soak mixes it. Prints free memory after every 1,000 cycles. Not a benchmark: the explanation of a soak
 * figure (docs/gpu-results.md). scripts/bench builds it with the C twins; run it by hand on the GPU machine:
 * .bundle/bench/native/importprobe [CYCLES] */
#include "vk.h"
#include <math.h>
#include <unistd.h>

#define KiB 1024ull
#define MiB (1024ull * 1024)

static unsigned long long rng = 88172645463325252ull;
static unsigned long long next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static double uniform(void) { return (next() >> 11) * (1.0 / 9007199254740992.0); }
static unsigned long long below(unsigned long long n) { return n ? next() % n : 0; }
/* 64 KiB to max, log-uniform, a multiple of 64 KiB: SoakWorkload.randomSize */
static unsigned long long random_size(unsigned long long max) {
    double lo = log(64.0 * KiB), hi = log((double) max);
    unsigned long long s = (unsigned long long) exp(lo + uniform() * (hi - lo));
    s = s / (64 * KiB) * (64 * KiB);
    return s < 64 * KiB ? 64 * KiB : s;
}
static size_t freemem(void) { size_t f, t; CK(cudaMemGetInfo(&f, &t)); return f; }

static Vk v;
static VkExportedBuffer pool[4];
static int pool_fd[4];

/* One cycle of part `part`: 0 Vulkan only, 1 pool import, 2 fresh import, 3 malloc + copy, 4 mixed as the soak. */
static void cycle(int part) {
    int fresh = part == 2 || (part == 4 && below(10) == 0);
    if (part == 0) {
        VkExportedBuffer b = vk_buffer(&v, random_size(256 * MiB));
        close(vk_buffer_fd(&v, &b));
        vk_buffer_free(&v, &b);
        return;
    }
    if (part == 3) {
        unsigned long long n = 4 * KiB * (1 + below(65536));
        void *a, *b;
        CK(cudaMalloc(&a, n));
        CK(cudaMalloc(&b, n));
        CK(cudaMemset(a, 1, n));
        CK(cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice));
        CK(cudaFree(a));
        CK(cudaFree(b));
        return;
    }
    VkExportedBuffer fb, *buf;
    int fd;
    if (fresh) {
        fb = vk_buffer(&v, random_size(256 * MiB));
        buf = &fb;
        fd = vk_buffer_fd(&v, &fb);
    } else {
        int i = (int) below(4);
        buf = &pool[i];
        fd = dup(pool_fd[i]);
    }
    cudaExternalMemory_t m = cuda_import_memory(fd, buf->allocation_size);   /* CUDA takes the fd */
    unsigned long long size = buf->allocation_size;
    unsigned long long offset = below(size / 2 / (64 * KiB) > 1 ? size / 2 / (64 * KiB) : 1) * 64 * KiB;
    unsigned long long len = 4 * KiB * (1 + below((size - offset) / (4 * KiB)));
    void *p = cuda_map(m, offset, len);
    CK(cudaMemset(p, (int) (1 + below(255)), len));
    if (part == 4 && below(2)) {
        void *d;
        CK(cudaMalloc(&d, len));
        CK(cudaMemcpy(d, p, len, cudaMemcpyDeviceToDevice));
        CK(cudaFree(d));
    }
    CK(cudaDeviceSynchronize());
    CK(cudaFree(p));
    CK(cudaDestroyExternalMemory(m));
    if (fresh) {
        vk_buffer_free(&v, &fb);
    }
}

int main(int argc, char **argv) {
    long cycles = argc > 1 ? atol(argv[1]) : 3000;
    require_gpu();
    v = vk_open();
    for (int i = 0; i < 4; i++) {
        pool[i] = vk_buffer(&v, random_size(64 * MiB));
        pool_fd[i] = vk_buffer_fd(&v, &pool[i]);
    }
    const char *names[] = {"vulkan allocations alone", "imports of a pool's allocations", "imports of fresh allocations",
                           "cudaMalloc + copy + cudaFree", "mixed as the soak"};
    for (int part = 0; part < 5; part++) {
        for (long i = 0; i < cycles / 3; i++) cycle(part);                /* warm-up */
        CK(cudaDeviceSynchronize());
        size_t base = freemem();
        printf("import probe: %s: %ld cycles after %ld warm-up; free %zu", names[part], cycles, cycles / 3, base);
        for (long i = 1; i <= cycles; i++) {
            cycle(part);
            if (i % 1000 == 0 || i == cycles) {
                CK(cudaDeviceSynchronize());
                printf(" | %ld: %+lld", i, (long long) freemem() - (long long) base);
            }
        }
        printf("\n");
        fflush(stdout);
    }
    for (int i = 0; i < 4; i++) { close(pool_fd[i]); vk_buffer_free(&v, &pool[i]); }
    vk_close(&v);
    return 0;
}
