/* How much device memory CUDA keeps after streams are destroyed: K streams (and an event each) alive at once, all
 * destroyed; free memory (cudaMemGetInfo) before, with them alive, after; then the same again. Not a benchmark: the
 * explanation of the soak's free-memory figure (docs/gpu-results.md). scripts/bench builds it with the C twins; run
 * it by hand on the GPU machine: .bundle/bench/native/streamprobe */
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
static size_t freemem(void) { size_t f, t; cudaMemGetInfo(&f, &t); return f; }
int main(void) {
    int ks[] = {100, 1000, 5000, 20000, 20000, 1000};
    cudaFree(0);
    cudaStream_t *s = malloc(sizeof(cudaStream_t) * 20000);
    cudaEvent_t *e = malloc(sizeof(cudaEvent_t) * 20000);
    for (int r = 0; r < 6; r++) {
        int k = ks[r];
        size_t before = freemem();
        for (int i = 0; i < k; i++) {
            if (cudaStreamCreateWithFlags(&s[i], i % 2) || cudaEventCreate(&e[i])) { printf("create failed at %d\n", i); return 1; }
            cudaEventRecord(e[i], s[i]);
        }
        size_t alive = freemem();
        for (int i = 0; i < k; i++) { cudaEventDestroy(e[i]); cudaStreamDestroy(s[i]); }
        cudaDeviceSynchronize();
        size_t after = freemem();
        printf("stream probe: %5d streams+events alive at once: free %zu -> %zu (alive, %+.1f MB) -> %zu after destroy (%+.1f MB vs before)\n",
               k, before, alive, ((double) alive - before) / 1e6, after, ((double) after - before) / 1e6);
    }
    return 0;
}
