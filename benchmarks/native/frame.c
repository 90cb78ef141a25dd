// C twin of FrameLatency: per frame, wait on an imported Vulkan timeline semaphore (value i, signalled by the
// previous frame), launch `increment` on a mapped imported 1 MiB Vulkan buffer, signal i+1, and wait; timed by an
// event before the wait and one after the signal (GPU) and by the wall clock around the frame.
// Mode `graph` runs the same frame as one graph (wait node -> kernel node -> signal node), instantiated once: per
// frame, the two fence values are set on the exec (cudaGraphExecExternalSemaphores{Wait,Signal}NodeSetParams) and
// the exec is launched; figures graphframe.event and graphframe.wall.
// The frames themselves are libframeloop's (inproc/frameloop.c, which FrameCompare runs in the JVM): the same
// code in both, included here.
//   frame KERNELS.ptx [frames] [warmup] [calls|graph]
#include "inproc/frameloop.c"
#undef CK                                       /* frameloop's returns the error; bench.h's exits with it */
#include "vk.h"

#define BYTES (1ull << 20)

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
    cudaEvent_t start, end;
    CK(cudaEventCreate(&start));
    CK(cudaEventCreate(&end));
    int n = warmup + frames;
    double *gpu = malloc(sizeof(double) * n), *wall = malloc(sizeof(double) * n);
    unsigned long long value = 0;
    if (graph) {                                 // wait node -> kernel node -> signal node, instantiated once
        FrameGraph *g = NULL;
        CK(frame_graph_make(sem, (void *) kernel, buffer, words, &g));
        CK(frame_graph_run(g, stream, start, end, &value, n, gpu, wall));
        CK(frame_graph_free(g));
    } else {
        CK(frame_calls(sem, (void *) kernel, buffer, words, stream, start, end, &value, n, gpu, wall));
    }
    report(graph ? "graphframe.event" : "frame.event", gpu + warmup, frames);   // the frames after the warm-up
    report(graph ? "graphframe.wall" : "frame.wall", wall + warmup, frames);
    CK(cudaStreamSynchronize(stream));
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
