// C twin of SemaphoreBench: signal(v) then wait(v) on Vulkan timeline semaphores imported into CUDA, queued on one
// blocking stream; one semaphore per call, and 8 per call. The stream is drained after each round, untimed.
#include "vk.h"

#define BATCH 8

int main(void) {
    require_gpu();
    Vk v = vk_open();
    VkSemaphore vs[BATCH];
    cudaExternalSemaphore_t sems[BATCH];
    for (int i = 0; i < BATCH; i++) {
        vs[i] = vk_timeline(&v);
        sems[i] = cuda_import_timeline(vk_semaphore_fd(&v, vs[i]));
    }
    cudaStream_t stream;
    CK(cudaStreamCreate(&stream));
    struct cudaExternalSemaphoreSignalParams sp[BATCH];
    struct cudaExternalSemaphoreWaitParams wp[BATCH];
    memset(sp, 0, sizeof sp);
    memset(wp, 0, sizeof wp);
    unsigned long long value = 0;
    int sizes[] = {1, BATCH};
    for (int s = 0; s < 2; s++) {
        int n = sizes[s];
        double ns;
        MEASURE(ns, 1e9, 64, {
            value++;
            for (int k = 0; k < n; k++) {
                sp[k].params.fence.value = value;
                wp[k].params.fence.value = value;
            }
            CK(cudaSignalExternalSemaphoresAsync(sems, sp, n, stream));
            CK(cudaWaitExternalSemaphoresAsync(sems, wp, n, stream));
        }, CK(cudaStreamSynchronize(stream)));
        emitl("signalWait", n, ns, "ns");
    }
    CK(cudaStreamSynchronize(stream));
    CK(cudaStreamDestroy(stream));
    for (int i = 0; i < BATCH; i++) {
        CK(cudaDestroyExternalSemaphore(sems[i]));
        vkDestroySemaphore(v.device, vs[i], NULL);
    }
    vk_close(&v);
    return 0;
}
