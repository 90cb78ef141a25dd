// C twin of FrameLatency: per frame, wait on an imported Vulkan timeline semaphore (value i, signalled by the
// previous frame), launch `increment` on a mapped imported 1 MiB Vulkan buffer, signal i+1, and wait; timed by an
// event before the wait and one after the signal (GPU) and by the wall clock around the frame.
// Mode `graph` runs the same frame as one graph (wait node -> kernel node -> signal node), instantiated once: per
// frame, the two fence values are set on the exec (cudaGraphExecExternalSemaphores{Wait,Signal}NodeSetParams) and
// the exec is launched; figures graphframe.event and graphframe.wall.
//   frame KERNELS.ptx [frames] [warmup] [calls|graph]
#include "vk.h"

#define BYTES (1ull << 20)
#define THREADS 256

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "C-ERROR cannot open %s\n", path); exit(1); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(n + 1);
    if (fread(b, 1, n, f) != (size_t) n) { fprintf(stderr, "C-ERROR cannot read %s\n", path); exit(1); }
    b[n] = 0;
    fclose(f);
    return b;
}

static void report(const char *figure, double *us, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += us[i];
    qsort(us, n, sizeof *us, cmp_double);
    emit(figure, "p50", percentile(us, n, 50), "us");
    emit(figure, "p90", percentile(us, n, 90), "us");
    emit(figure, "p99", percentile(us, n, 99), "us");
    emit(figure, "p99.9", percentile(us, n, 99.9), "us");
    emit(figure, "mean", sum / n, "us");
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: frame KERNELS.ptx [frames] [warmup] [calls|graph]\n"); return 64; }
    int frames = argc > 2 ? atoi(argv[2]) : 20000;
    int warmup = argc > 3 ? atoi(argv[3]) : 20000;
    int graph = argc > 4 && strcmp(argv[4], "graph") == 0;
    require_gpu();
    char *ptx = read_file(argv[1]);
    Vk v = vk_open();
    VkExportedBuffer vb = vk_buffer(&v, BYTES);
    VkSemaphore vs = vk_timeline(&v);
    cudaStream_t stream;
    CK(cudaStreamCreate(&stream));
    cudaExternalMemory_t mem = cuda_import_memory(vk_buffer_fd(&v, &vb), vb.allocation_size);
    void *buffer = cuda_map(mem, 0, BYTES);
    CK(cudaMemset(buffer, 0, BYTES));
    cudaExternalSemaphore_t sem = cuda_import_timeline(vk_semaphore_fd(&v, vs));
    cudaLibrary_t lib;
    CK(cudaLibraryLoadData(&lib, ptx, NULL, NULL, 0, NULL, NULL, 0));
    cudaKernel_t kernel;
    CK(cudaLibraryGetKernel(&kernel, lib, "increment"));
    long long words = BYTES / 4;
    void *args[] = {&buffer, &words};
    dim3 grid = {(unsigned) ((words + THREADS - 1) / THREADS), 1, 1}, block = {THREADS, 1, 1};
    cudaEvent_t start, end;
    CK(cudaEventCreate(&start));
    CK(cudaEventCreate(&end));
    struct cudaExternalSemaphoreSignalParams sp;
    struct cudaExternalSemaphoreWaitParams wp;
    memset(&sp, 0, sizeof sp);
    memset(&wp, 0, sizeof wp);
    // The graph: wait node -> kernel node -> signal node, each depending on the one before.
    cudaGraph_t g = NULL;
    cudaGraphExec_t exec = NULL;
    cudaGraphNode_t wait_node, kernel_node, signal_node;
    struct cudaExternalSemaphoreWaitNodeParams wnp = {&sem, &wp, 1};
    struct cudaExternalSemaphoreSignalNodeParams snp = {&sem, &sp, 1};
    if (graph) {
        struct cudaKernelNodeParams kp;
        memset(&kp, 0, sizeof kp);
        kp.func = (void *) kernel;
        kp.gridDim = grid;
        kp.blockDim = block;
        kp.kernelParams = args;
        CK(cudaGraphCreate(&g, 0));
        CK(cudaGraphAddExternalSemaphoresWaitNode(&wait_node, g, NULL, 0, &wnp));
        CK(cudaGraphAddKernelNode(&kernel_node, g, &wait_node, 1, &kp));
        CK(cudaGraphAddExternalSemaphoresSignalNode(&signal_node, g, &kernel_node, 1, &snp));
        CK(cudaGraphInstantiate(&exec, g, 0));
    }
    double *gpu = malloc(sizeof(double) * frames), *wall = malloc(sizeof(double) * frames);
    unsigned long long value = 0;
    for (int i = 0; i < warmup + frames; i++) {
        double t0 = now();
        CK(cudaEventRecord(start, stream));
        wp.params.fence.value = value;
        sp.params.fence.value = value + 1;
        if (graph) {
            CK(cudaGraphExecExternalSemaphoresWaitNodeSetParams(exec, wait_node, &wnp));
            CK(cudaGraphExecExternalSemaphoresSignalNodeSetParams(exec, signal_node, &snp));
            CK(cudaGraphLaunch(exec, stream));
        } else {
            CK(cudaWaitExternalSemaphoresAsync(&sem, &wp, 1, stream));
            CK(cudaLaunchKernel((const void *) kernel, grid, block, args, 0, stream));
            CK(cudaSignalExternalSemaphoresAsync(&sem, &sp, 1, stream));
        }
        value++;
        CK(cudaEventRecord(end, stream));
        CK(cudaEventSynchronize(end));
        double t1 = now();
        if (i >= warmup) {
            float ms;
            CK(cudaEventElapsedTime(&ms, start, end));
            gpu[i - warmup] = ms * 1e3;
            wall[i - warmup] = (t1 - t0) * 1e6;
        }
    }
    report(graph ? "graphframe.event" : "frame.event", gpu, frames);
    report(graph ? "graphframe.wall" : "frame.wall", wall, frames);
    CK(cudaStreamSynchronize(stream));
    if (graph) {
        CK(cudaGraphExecDestroy(exec));
        CK(cudaGraphDestroy(g));
    }
    CK(cudaEventDestroy(start));
    CK(cudaEventDestroy(end));
    CK(cudaLibraryUnload(lib));
    CK(cudaDestroyExternalSemaphore(sem));
    CK(cudaFree(buffer));
    CK(cudaDestroyExternalMemory(mem));
    CK(cudaStreamDestroy(stream));
    vkDestroySemaphore(v.device, vs, NULL);
    vk_buffer_free(&v, &vb);
    vk_close(&v);
    return 0;
}
