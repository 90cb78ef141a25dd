/* Does a kernel's first launch wait for the device under CUDA's lazy loading, and does looking the kernel up with
 * cudaFuncGetAttributes (what hip-ffm's HipModule.kernel does on NVIDIA) load it beforehand?
 *
 * The stream first waits for a value in pinned host memory (cuStreamWaitValue32) that the host writes only after
 * the launch call has returned, as a Vulkan timeline wait that the host signals afterwards. Then a never-launched
 * kernel of a library loaded from PTX is launched on that stream. If the launch call has to load the kernel and
 * the load waits for the device, the launch never returns: an alarm reports it after 10 s.
 *
 *   lazyload none       no preload: the kernel's first use is the launch
 *   lazyload attrs      cudaFuncGetAttributes on the cudaKernel_t first
 *   lazyload funcload   cuKernelGetFunction + cuFuncLoad first
 *
 * Prints the loading mode (CUDA_MODULE_LOADING decides it), whether the function is loaded after the preload
 * (cuFuncIsLoaded; not asked in mode none, where asking could load it), the launch call's time and the kernel's
 * result. Exit status 0: the launch returned and the kernel ran; 3: the launch (or the stream) hung.
 *
 * The driver functions come from cudaGetDriverEntryPointByVersion (no link to libcuda).
 * Build: gcc -O2 -o lazyload lazyload.c -I/usr/local/cuda/include -L/usr/local/cuda/lib64 -lcudart_static -ldl -lpthread -lrt
 */
#include <cuda.h>
#include <cuda_runtime_api.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char PTX[] =
    ".version 8.0\n"
    ".target sm_90\n"
    ".address_size 64\n"
    ".visible .entry mark(.param .u64 p)\n"
    "{\n"
    "  .reg .b64 %rd<3>;\n"
    "  .reg .b32 %r<2>;\n"
    "  ld.param.u64 %rd1, [p];\n"
    "  cvta.to.global.u64 %rd2, %rd1;\n"
    "  mov.u32 %r1, 7;\n"
    "  st.global.u32 [%rd2], %r1;\n"
    "  ret;\n"
    "}\n";

static const char* g_stage = "start";

static CUresult (*pGetErrorName)(CUresult, const char**);
static CUresult (*pGetLoadingMode)(CUmoduleLoadingMode*);
static CUresult (*pKernelGetFunction)(CUfunction*, CUkernel);
static CUresult (*pFuncIsLoaded)(CUfunctionLoadingState*, CUfunction);
static CUresult (*pFuncLoad)(CUfunction);
static CUresult (*pStreamWaitValue32)(CUstream, CUdeviceptr, cuuint32_t, unsigned int);

static int entry(const char* name, void** fn) {
    enum cudaDriverEntryPointQueryResult q;
    cudaError_t e = cudaGetDriverEntryPointByVersion(name, fn, 12080, cudaEnableDefault, &q);
    if (e != cudaSuccess || q != cudaDriverEntryPointSuccess || *fn == NULL) {
        printf("no driver entry point %s (%s, %d)\n", name, cudaGetErrorName(e), (int)q);
        return 1;
    }
    return 0;
}

static void on_alarm(int sig) {
    (void)sig;
    char msg[128];
    int n = snprintf(msg, sizeof msg, "HUNG in %s (10 s)\n", g_stage);
    (void)!write(1, msg, (size_t)n);
    _exit(3);
}

#define RT(call)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            printf("%s: %s\n", #call, cudaGetErrorName(e_));                                       \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)
#define DRV(call)                                                                                  \
    do {                                                                                           \
        CUresult r_ = (call);                                                                      \
        if (r_ != CUDA_SUCCESS) {                                                                  \
            const char* n_ = "?";                                                                  \
            pGetErrorName(r_, &n_);                                                               \
            printf("%s: %s\n", #call, n_);                                                         \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int loaded(cudaKernel_t k, const char** state) {
    CUfunction f;
    DRV(pKernelGetFunction(&f, (CUkernel)k));
    CUfunctionLoadingState s;
    DRV(pFuncIsLoaded(&s, f));
    *state = s == CU_FUNCTION_LOADING_STATE_LOADED ? "loaded" : s == CU_FUNCTION_LOADING_STATE_UNLOADED ? "unloaded" : "?";
    return 0;
}

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "none";
    if (strcmp(mode, "none") != 0 && strcmp(mode, "attrs") != 0 && strcmp(mode, "funcload") != 0) {
        fprintf(stderr, "usage: lazyload none|attrs|funcload\n");
        return 2;
    }
    signal(SIGALRM, on_alarm);
    alarm(60);
    RT(cudaSetDevice(0));
    RT(cudaFree(0));
    if (entry("cuGetErrorName", (void**)&pGetErrorName) || entry("cuModuleGetLoadingMode", (void**)&pGetLoadingMode)
        || entry("cuKernelGetFunction", (void**)&pKernelGetFunction) || entry("cuFuncIsLoaded", (void**)&pFuncIsLoaded)
        || entry("cuFuncLoad", (void**)&pFuncLoad) || entry("cuStreamWaitValue32", (void**)&pStreamWaitValue32))
        return 1;
    CUmoduleLoadingMode lm;
    DRV(pGetLoadingMode(&lm));
    const char* env = getenv("CUDA_MODULE_LOADING");
    printf("mode %s, CUDA_MODULE_LOADING=%s, loading mode %s\n", mode, env ? env : "(unset)",
           lm == CU_MODULE_LAZY_LOADING ? "lazy" : lm == CU_MODULE_EAGER_LOADING ? "eager" : "?");

    cudaLibrary_t lib;
    cudaKernel_t k;
    RT(cudaLibraryLoadData(&lib, PTX, NULL, NULL, 0, NULL, NULL, 0));
    RT(cudaLibraryGetKernel(&k, lib, "mark"));
    unsigned* out;
    RT(cudaMalloc((void**)&out, sizeof *out));
    RT(cudaMemset(out, 0, sizeof *out));
    volatile unsigned* flag;
    RT(cudaHostAlloc((void**)&flag, sizeof *flag, cudaHostAllocMapped));
    *flag = 0;
    void* dflag;
    RT(cudaHostGetDevicePointer(&dflag, (void*)flag, 0));
    cudaStream_t s;
    RT(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    RT(cudaDeviceSynchronize());

    double t0 = now_us();
    if (strcmp(mode, "attrs") == 0) {
        struct cudaFuncAttributes a;
        RT(cudaFuncGetAttributes(&a, (const void*)k));
        printf("cudaFuncGetAttributes: %.1f us (numRegs %d, maxThreadsPerBlock %d)\n", now_us() - t0, a.numRegs,
               a.maxThreadsPerBlock);
    } else if (strcmp(mode, "funcload") == 0) {
        CUfunction f;
        DRV(pKernelGetFunction(&f, (CUkernel)k));
        DRV(pFuncLoad(f));
        printf("cuKernelGetFunction + cuFuncLoad: %.1f us\n", now_us() - t0);
    }
    if (strcmp(mode, "none") != 0) {
        const char* st;
        if (loaded(k, &st) != 0) return 1;
        printf("after the preload: %s\n", st);
    }

    DRV(pStreamWaitValue32((CUstream)s, (CUdeviceptr)dflag, 1, CU_STREAM_WAIT_VALUE_GEQ));
    alarm(10);
    g_stage = "the first launch (queued behind a host-signalled wait)";
    void* args[] = {&out};
    dim3 one = {1, 1, 1};
    t0 = now_us();
    RT(cudaLaunchKernel((const void*)k, one, one, args, 0, s));
    double launch = now_us() - t0;
    alarm(10);
    g_stage = "the stream after the host's signal";
    *flag = 1;
    RT(cudaStreamSynchronize(s));
    alarm(0);
    unsigned v = 0;
    RT(cudaMemcpy(&v, out, sizeof v, cudaMemcpyDeviceToHost));
    const char* st = "-";
    if (loaded(k, &st) != 0) return 1;
    printf("first launch returned after %.1f us; kernel wrote %u (expected 7); function %s\n", launch, v, st);
    RT(cudaStreamDestroy(s));
    RT(cudaFreeHost((void*)flag));
    RT(cudaFree(out));
    RT(cudaLibraryUnload(lib));
    return v == 7 ? 0 : 1;
}
