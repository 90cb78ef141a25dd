// The C side of FrameCompare (libframeloop.so), and the frames of the twin frame.c (which includes this file): the
// three-call frame and the graph frame, as
// functions that run N frames natively in the calling thread on resources the JVM made (the imported timeline
// semaphore, the mapped buffer, the stream, two events: the handles of hip-ffm's objects), so that C and hip-ffm
// run the same frame on the same resources in one process, alternating rounds. The kernel is loaded here from the
// same PTX (a function handle is the module's). Each frame waits for *value, runs `increment` on the buffer,
// signals *value + 1 and increments *value; it is timed by the two events (GPU, µs into gpu_us[i]) and by the wall
// clock (µs into wall_us[i]), as frame.c times it. Each returns 0 or the first CUDA error (the loop stops there).
//   frame_load(ptx, &kernel)                                    cudaLibraryLoadData + cudaLibraryGetKernel
//   frame_calls(sem, kernel, buffer, words, stream, start, end, &value, n, gpu_us, wall_us)
//   frame_graph_make(sem, kernel, buffer, words, &graph)        the graph and its exec (wait -> kernel -> signal)
//   frame_graph_run(graph, stream, start, end, &value, n, gpu_us, wall_us)   2 exec fence updates + launch a frame
//   frame_graph_free(graph)
//   frame_runtime_symbol()                                      where cudaGraphLaunch resolves (one runtime check)
//   gcc -O2 -std=gnu11 -shared -fPIC -I/usr/local/cuda/include -o libframeloop.so frameloop.c
//       /usr/local/cuda/lib64/libcudart.so.13 -Wl,-rpath,/usr/local/cuda/lib64      (scripts/bench)
#define _GNU_SOURCE
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 256
#define CK(e) do { cudaError_t rc_ = (e); if (rc_ != cudaSuccess) return (int) rc_; } while (0)

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int frame_load(const char *ptx, void **kernel) {
    cudaLibrary_t lib;
    CK(cudaLibraryLoadData(&lib, ptx, NULL, NULL, 0, NULL, NULL, 0));
    cudaKernel_t k;
    CK(cudaLibraryGetKernel(&k, lib, "increment"));
    *kernel = (void *) k;
    return 0;
}

static void dims(long long words, dim3 *grid, dim3 *block) {
    grid->x = (unsigned) ((words + THREADS - 1) / THREADS);
    grid->y = grid->z = 1;
    block->x = THREADS;
    block->y = block->z = 1;
}

// Times one frame: `enqueue` between the two event records, then waits for the end event.
#define TIMED_FRAME(i, enqueue)                                                                                    \
    do {                                                                                                           \
        double t0 = now_s();                                                                                       \
        CK(cudaEventRecord(start, stream));                                                                        \
        enqueue;                                                                                                   \
        CK(cudaEventRecord(end, stream));                                                                          \
        CK(cudaEventSynchronize(end));                                                                             \
        double t1 = now_s();                                                                                       \
        float ms;                                                                                                  \
        CK(cudaEventElapsedTime(&ms, start, end));                                                                 \
        gpu_us[i] = ms * 1e3;                                                                                      \
        wall_us[i] = (t1 - t0) * 1e6;                                                                              \
    } while (0)

int frame_calls(cudaExternalSemaphore_t sem, void *kernel, void *buffer, long long words, cudaStream_t stream,
                cudaEvent_t start, cudaEvent_t end, unsigned long long *value, int n, double *gpu_us,
                double *wall_us) {
    struct cudaExternalSemaphoreSignalParams sp;
    struct cudaExternalSemaphoreWaitParams wp;
    memset(&sp, 0, sizeof sp);
    memset(&wp, 0, sizeof wp);
    void *args[] = {&buffer, &words};
    dim3 grid, block;
    dims(words, &grid, &block);
    for (int i = 0; i < n; i++) {
        TIMED_FRAME(i, {
            wp.params.fence.value = *value;
            CK(cudaWaitExternalSemaphoresAsync(&sem, &wp, 1, stream));
            CK(cudaLaunchKernel((const void *) kernel, grid, block, args, 0, stream));
            sp.params.fence.value = *value + 1;
            CK(cudaSignalExternalSemaphoresAsync(&sem, &sp, 1, stream));
            (*value)++;
        });
    }
    return 0;
}

typedef struct {
    cudaExternalSemaphore_t sem;
    struct cudaExternalSemaphoreSignalParams sp;
    struct cudaExternalSemaphoreWaitParams wp;
    struct cudaExternalSemaphoreWaitNodeParams wnp;
    struct cudaExternalSemaphoreSignalNodeParams snp;
    void *buffer;
    long long words;
    void *args[2];
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    cudaGraphNode_t wait_node, kernel_node, signal_node;
} FrameGraph;

int frame_graph_make(cudaExternalSemaphore_t sem, void *kernel, void *buffer, long long words, FrameGraph **out) {
    FrameGraph *g = calloc(1, sizeof *g);
    if (!g) return (int) cudaErrorMemoryAllocation;
    g->sem = sem;
    g->buffer = buffer;
    g->words = words;
    g->args[0] = &g->buffer;
    g->args[1] = &g->words;
    g->wnp = (struct cudaExternalSemaphoreWaitNodeParams) {&g->sem, &g->wp, 1};
    g->snp = (struct cudaExternalSemaphoreSignalNodeParams) {&g->sem, &g->sp, 1};
    struct cudaKernelNodeParams kp;
    memset(&kp, 0, sizeof kp);
    kp.func = kernel;
    dims(words, &kp.gridDim, &kp.blockDim);
    kp.kernelParams = g->args;
    *out = g;
    CK(cudaGraphCreate(&g->graph, 0));
    CK(cudaGraphAddExternalSemaphoresWaitNode(&g->wait_node, g->graph, NULL, 0, &g->wnp));
    CK(cudaGraphAddKernelNode(&g->kernel_node, g->graph, &g->wait_node, 1, &kp));
    CK(cudaGraphAddExternalSemaphoresSignalNode(&g->signal_node, g->graph, &g->kernel_node, 1, &g->snp));
    CK(cudaGraphInstantiate(&g->exec, g->graph, 0));
    return 0;
}

int frame_graph_run(FrameGraph *g, cudaStream_t stream, cudaEvent_t start, cudaEvent_t end,
                    unsigned long long *value, int n, double *gpu_us, double *wall_us) {
    for (int i = 0; i < n; i++) {
        TIMED_FRAME(i, {
            g->wp.params.fence.value = *value;
            g->sp.params.fence.value = *value + 1;
            CK(cudaGraphExecExternalSemaphoresWaitNodeSetParams(g->exec, g->wait_node, &g->wnp));
            CK(cudaGraphExecExternalSemaphoresSignalNodeSetParams(g->exec, g->signal_node, &g->snp));
            CK(cudaGraphLaunch(g->exec, stream));
            (*value)++;
        });
    }
    return 0;
}

int frame_graph_free(FrameGraph *g) {
    if (!g) return 0;
    cudaError_t e1 = g->exec ? cudaGraphExecDestroy(g->exec) : cudaSuccess;
    cudaError_t e2 = g->graph ? cudaGraphDestroy(g->graph) : cudaSuccess;
    free(g);
    return e1 != cudaSuccess ? (int) e1 : (int) e2;
}

// The file that defines cudaGraphLaunch as this library resolves it: the one libcudart hip-ffm loaded, if the
// JVM loaded it first.
const char *frame_runtime_symbol(void) {
    Dl_info info;
    return dladdr((void *) cudaGraphLaunch, &info) && info.dli_fname ? info.dli_fname : "?";
}
