/*
 * selftest_cudart.c - exercises the cudart TEST DOUBLE (cudart/libcudart.so.13: hipffm_cudart.c over the HIP test
 * runtime) from C, through CUDA's headers only: its exports, the error translation, every cuda* function the Java
 * NVIDIA backend calls, CUDA's fd rule, and fault injection under HIP names. Exits non-zero on any failed check.
 * Built and run by `build.sh OUTDIR --selftest`, after selftest.c.
 */
#define _GNU_SOURCE
#include <cuda_runtime_api.h>
#include <cuda_gl_interop.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SELFTEST_NAME "selftest_cudart"
#define SELFTEST_ERROR_NAMES "hipffm_cuda_error_names.inc" /* k_errors: from enum cudaError of the CUDA header */
#include "selftest.h" /* also the hooks of the test runtime and of the cudart layer */

/* hipError_t codes of the pinned ROCm headers (hip_runtime_api.h), for fault injection; this file sees only CUDA's
   headers. */
enum {
    HIP_INVALID_VALUE = 1,
    HIP_OUT_OF_MEMORY = 2,
    HIP_INVALID_CONTEXT = 201,
    HIP_INVALID_HANDLE = 400,
    HIP_NOT_READY = 600,
    HIP_NOT_SUPPORTED = 801,
    HIP_UNKNOWN = 999,
    HIP_RUNTIME_OTHER = 1053,
};

#define EXPECT(call, code) SELFTEST_EXPECT(cudaError_t, cudaGetErrorName, call, code)
#define OK(call) EXPECT(call, cudaSuccess)

/* ---------------------------------------------------------------------------------------------- */

/* Every cuda* function the Java NVIDIA backend calls is exported; none of the HIP runtime's names is. */
static void test_exports(void) {
    void* lib = dlopen("libcudart.so.13", RTLD_NOW | RTLD_NOLOAD);
    CHECK(lib != NULL);
    if (lib == NULL) return;
    static const char* cuda[] = {
        "cudaGetErrorName", "cudaGetErrorString", "cudaRuntimeGetVersion", "cudaDriverGetVersion",
        "cudaGetDeviceCount", "cudaGetDevice", "cudaSetDevice", "cudaGetDeviceProperties", "cudaDeviceGetPCIBusId",
        "cudaDeviceGetAttribute", "cudaMemGetInfo", "cudaMalloc", "cudaFree", "cudaMallocHost", "cudaFreeHost",
        "cudaMemcpy", "cudaMemcpyAsync", "cudaMemset", "cudaMemsetAsync", "cudaMemcpy2DToArray",
        "cudaMemcpy2DFromArray", "cudaMemcpy3D", "cudaStreamCreateWithFlags", "cudaStreamDestroy",
        "cudaStreamSynchronize", "cudaStreamQuery", "cudaStreamWaitEvent", "cudaEventCreateWithFlags",
        "cudaEventDestroy", "cudaEventRecord", "cudaEventSynchronize", "cudaEventQuery", "cudaEventElapsedTime",
        "cudaImportExternalMemory", "cudaExternalMemoryGetMappedBuffer", "cudaExternalMemoryGetMappedMipmappedArray",
        "cudaGetMipmappedArrayLevel", "cudaFreeMipmappedArray", "cudaDestroyExternalMemory",
        "cudaImportExternalSemaphore", "cudaSignalExternalSemaphoresAsync", "cudaWaitExternalSemaphoresAsync",
        "cudaDestroyExternalSemaphore", "cudaLibraryLoadData", "cudaLibraryUnload", "cudaLibraryGetKernel",
        "cudaLaunchKernel", "cudaArrayGetInfo", "cudaGLGetDevices", "cudaGraphicsGLRegisterBuffer",
        "cudaGraphicsGLRegisterImage", "cudaGraphicsMapResources", "cudaGraphicsUnmapResources",
        "cudaGraphicsResourceGetMappedPointer", "cudaGraphicsSubResourceGetMappedArray",
        "cudaGraphicsUnregisterResource", "cudaGetLastError", "cudaPeekAtLastError", "cudaDeviceCanAccessPeer",
        "cudaDeviceEnablePeerAccess", "cudaDeviceDisablePeerAccess", "hipffmTest_failNext",
        "hipffmTest_cudaErrorOf", "hipffmTest_hipErrorOf", "hipffmTest_cudaClosedFds", "hipffmTest_isTestRuntime",
        "hipffmTest_pendingWork"};
    for (size_t i = 0; i < sizeof cuda / sizeof cuda[0]; i++) {
        if (dlsym(lib, cuda[i]) == NULL) fprintf(stderr, "not exported: %s\n", cuda[i]);
        CHECK(dlsym(lib, cuda[i]) != NULL);
    }
    static const char* hip[] = {"hipMalloc", "hipGetDeviceCount", "hipImportExternalMemory",
                                "hipGetDevicePropertiesR0600", "hipModuleLaunchKernel", "hipGetErrorName",
                                "hipffm_testrt_lastCallInjected"};
    for (size_t i = 0; i < sizeof hip / sizeof hip[0]; i++) {
        if (dlsym(lib, hip[i]) != NULL) fprintf(stderr, "exported: %s\n", hip[i]);
        CHECK(dlsym(lib, hip[i]) == NULL);
    }
    dlclose(lib);
}

static void test_errors(void) {
    size_t n = sizeof k_errors / sizeof k_errors[0];
    CHECK(n > 100);
    for (size_t i = 0; i < n; i++) {
        CHECK(strcmp(cudaGetErrorName((cudaError_t)k_errors[i].code), k_errors[i].name) == 0);
        const char* text = cudaGetErrorString((cudaError_t)k_errors[i].code);
        CHECK(text != NULL && text[0] != '\0');
    }
    CHECK(strcmp(cudaGetErrorName((cudaError_t)123456), "unrecognized error code") == 0);
    CHECK(strcmp(cudaGetErrorString((cudaError_t)123456), "unrecognized error code") == 0);
    CHECK(strcmp(cudaGetErrorString(cudaSuccess), "no error") == 0);
    CHECK(strcmp(cudaGetErrorString(cudaErrorInvalidValue), "invalid argument") == 0);
    CHECK(strcmp(cudaGetErrorString(cudaErrorJitCompilerNotFound), "cudaErrorJitCompilerNotFound") == 0);

    /* The translation, both ways; the pairs where the names differ. */
    CHECK(hipffmTest_cudaErrorOf(0) == cudaSuccess);
    CHECK(hipffmTest_cudaErrorOf(HIP_OUT_OF_MEMORY) == cudaErrorMemoryAllocation);
    CHECK(hipffmTest_cudaErrorOf(HIP_INVALID_HANDLE) == cudaErrorInvalidResourceHandle);
    CHECK(hipffmTest_cudaErrorOf(HIP_INVALID_CONTEXT) == cudaErrorDeviceUninitialized);
    CHECK(hipffmTest_cudaErrorOf(HIP_RUNTIME_OTHER) == cudaErrorUnknown); /* no CUDA counterpart */
    CHECK(hipffmTest_cudaErrorOf(424242) == cudaErrorUnknown);
    CHECK(hipffmTest_hipErrorOf(cudaErrorMemoryAllocation) == HIP_OUT_OF_MEMORY);
    CHECK(hipffmTest_hipErrorOf(cudaErrorInvalidResourceHandle) == HIP_INVALID_HANDLE);
    CHECK(hipffmTest_hipErrorOf(cudaErrorJitCompilerNotFound) == HIP_UNKNOWN);
    /* Every mapped CUDA code comes back from its HIP code (the table has one CUDA code per HIP code). */
    for (size_t i = 0; i < n; i++) {
        int hip = hipffmTest_hipErrorOf(k_errors[i].code);
        if (hip != HIP_UNKNOWN) CHECK(hipffmTest_cudaErrorOf(hip) == k_errors[i].code);
    }

    /* Last error: set by failing calls only, read by cudaPeekAtLastError, read and reset by cudaGetLastError. */
    (void)cudaGetLastError();
    OK(cudaPeekAtLastError());
    EXPECT(cudaSetDevice(1), cudaErrorInvalidDevice);
    OK(cudaSetDevice(0));
    EXPECT(cudaPeekAtLastError(), cudaErrorInvalidDevice);
    EXPECT(cudaGetLastError(), cudaErrorInvalidDevice);
    OK(cudaGetLastError());
    EXPECT(cudaDeviceGetAttribute(&(int){0}, cudaDevAttrMaxTexture1DWidth, 0), cudaErrorInvalidValue);
    EXPECT(cudaGetLastError(), cudaErrorInvalidValue);
}

static void test_device(void) {
    int v = 0;
    OK(cudaRuntimeGetVersion(&v));
    CHECK(v == CUDART_VERSION);
    v = 0;
    OK(cudaDriverGetVersion(&v));
    CHECK(v == CUDART_VERSION);
    EXPECT(cudaRuntimeGetVersion(NULL), cudaErrorInvalidValue);

    int n = -1, d = -1;
    OK(cudaGetDeviceCount(&n));
    CHECK(n == 1);
    OK(cudaGetDevice(&d));
    CHECK(d == 0);
    EXPECT(cudaSetDevice(2), cudaErrorInvalidDevice);

    struct cudaDeviceProp p;
    memset(&p, 0x55, sizeof p);
    OK(cudaGetDeviceProperties(&p, 0));
    CHECK(strcmp(p.name, "hip-ffm test runtime") == 0);
    CHECK(memcmp(p.uuid.bytes, "hipffm\0", 7) == 0);
    CHECK(p.totalGlobalMem == ((size_t)1 << 30));
    CHECK(p.major == 9 && p.minor == 4);
    CHECK(p.warpSize == 64 && p.maxThreadsPerBlock == 1024 && p.maxGridSize[2] == 65535);
    CHECK(p.reserved[0] == 0 && p.mpsEnabled == 0); /* fields HIP lacks are zero */
    EXPECT(cudaGetDeviceProperties(&p, 1), cudaErrorInvalidDevice);
    EXPECT(cudaGetDeviceProperties(NULL, 0), cudaErrorInvalidValue);

    char bus[32];
    OK(cudaDeviceGetPCIBusId(bus, sizeof bus, 0));
    CHECK(strcmp(bus, "0000:00:00.0") == 0);

    int a = -1;
    OK(cudaDeviceGetAttribute(&a, cudaDevAttrWarpSize, 0));
    CHECK(a == 64);
    OK(cudaDeviceGetAttribute(&a, cudaDevAttrComputeCapabilityMajor, 0));
    CHECK(a == 9);
    OK(cudaDeviceGetAttribute(&a, cudaDevAttrGlobalMemoryBusWidth, 0));
    CHECK(a == 64);
    EXPECT(cudaDeviceGetAttribute(&a, cudaDevAttrWarpSize, 1), cudaErrorInvalidDevice);

    size_t free_b = 0, total = 0;
    OK(cudaMemGetInfo(&free_b, &total));
    CHECK(total == ((size_t)1 << 30) && free_b == total);
}

static void test_memory_streams_events(void) {
    unsigned char* d = NULL;
    unsigned char* h = NULL;
    OK(cudaMalloc((void**)&d, 4096));
    OK(cudaMallocHost((void**)&h, 4096));
    CHECK(hipffmTest_liveObjects("memory") == 2);
    OK(cudaMemset(d, 0x5a, 4096));
    OK(cudaMemcpy(h, d, 4096, cudaMemcpyDefault));
    CHECK(h[0] == 0x5a && h[4095] == 0x5a);
    EXPECT(cudaMemcpy(h, d, 16, (enum cudaMemcpyKind)17), cudaErrorInvalidMemcpyDirection);

    cudaStream_t s = NULL;
    OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    EXPECT(cudaStreamCreateWithFlags(&s, 0x40), cudaErrorInvalidValue);
    OK(cudaMemsetAsync(d, 7, 4096, s));
    OK(cudaMemcpyAsync(h, d, 4096, cudaMemcpyDeviceToHost, s));
    CHECK(h[100] == 7);
    OK(cudaMemsetAsync(d, 8, 16, cudaStreamLegacy));
    OK(cudaMemsetAsync(d, 9, 16, cudaStreamPerThread));
    OK(cudaStreamSynchronize(s));
    OK(cudaStreamQuery(s));

    cudaEvent_t e0 = NULL, e1 = NULL;
    OK(cudaEventCreateWithFlags(&e0, cudaEventDefault));
    OK(cudaEventCreateWithFlags(&e1, cudaEventBlockingSync));
    OK(cudaEventRecord(e0, s));
    OK(cudaEventRecord(e1, s));
    OK(cudaEventSynchronize(e1));
    OK(cudaEventQuery(e1));
    float ms = -1;
    OK(cudaEventElapsedTime(&ms, e0, e1));
    CHECK(ms >= 0);
    OK(cudaStreamWaitEvent(s, e1, cudaEventWaitDefault));
    EXPECT(cudaStreamWaitEvent(s, e1, 0x10), cudaErrorInvalidValue);
    OK(cudaEventDestroy(e0));
    OK(cudaEventDestroy(e1));
    EXPECT(cudaEventDestroy(e1), cudaErrorInvalidResourceHandle);
    cudaEvent_t nt = NULL;
    OK(cudaEventCreateWithFlags(&nt, cudaEventDisableTiming | cudaEventInterprocess));
    OK(cudaEventDestroy(nt));
    OK(cudaStreamDestroy(s));
    EXPECT(cudaStreamDestroy(s), cudaErrorInvalidResourceHandle);

    OK(cudaFreeHost(h));
    OK(cudaFree(d));
    EXPECT(cudaFree(d), cudaErrorInvalidValue);
    CHECK(hipffmTest_liveObjects("all") == 0);
}

/* The runtime's synchronous calls as CUDA documents them: cudaMemcpy device to device and cudaMemset of device memory
   return before the work is done (the HIP test runtime's deferred work, README.md); the null stream's waits and its
   later work run it; a non-blocking stream is not ordered with it. */
static int all_are(const unsigned char* p, unsigned char v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != v) return 0;
    return 1;
}

static void test_deferred_work(void) {
    enum { N = 512 };
    unsigned char *d1 = NULL, *d2 = NULL, *h = NULL;
    OK(cudaMalloc((void**)&d1, N));
    OK(cudaMalloc((void**)&d2, N));
    OK(cudaMallocHost((void**)&h, N));
    cudaStream_t nb = NULL, bl = NULL;
    OK(cudaStreamCreateWithFlags(&nb, cudaStreamNonBlocking));
    OK(cudaStreamCreateWithFlags(&bl, cudaStreamDefault));

    OK(cudaMemset(d1, 1, N)); /* deferred */
    CHECK(all_are(d1, 0, N) && hipffmTest_pendingWork() == 1);
    OK(cudaMemcpy(d2, d1, N, cudaMemcpyDeviceToDevice)); /* deferred, after it */
    CHECK(all_are(d2, 0, N) && hipffmTest_pendingWork() == 2);
    OK(cudaStreamSynchronize(0));
    CHECK(all_are(d1, 1, N) && all_are(d2, 1, N) && hipffmTest_pendingWork() == 0);
    OK(cudaMemcpy(d2, d1, N, cudaMemcpyDefault)); /* direction from the pointers: device to device */
    CHECK(hipffmTest_pendingWork() == 1);
    OK(cudaStreamSynchronize(cudaStreamLegacy));

    /* What hip-ffm does instead: the Async call on the null stream, then cudaStreamSynchronize(0). */
    OK(cudaMemsetAsync(d1, 2, N, 0));
    OK(cudaMemcpyAsync(d2, d1, N, cudaMemcpyDefault, 0));
    OK(cudaStreamSynchronize(0));
    CHECK(all_are(d1, 2, N) && all_are(d2, 2, N) && hipffmTest_pendingWork() == 0);

    /* A copy to or from the host is waited for, after the deferred work. */
    OK(cudaMemset(d1, 3, N));
    OK(cudaMemcpy(h, d1, N, cudaMemcpyDeviceToHost));
    CHECK(all_are(h, 3, N) && hipffmTest_pendingWork() == 0);
    OK(cudaMemset(h, 4, N)); /* pinned host memory: done */
    CHECK(all_are(h, 4, N) && hipffmTest_pendingWork() == 0);

    /* A non-blocking stream is not ordered with the null stream; a blocking one is. */
    OK(cudaMemset(d1, 5, N));
    OK(cudaMemcpyAsync(h, d1, N, cudaMemcpyDeviceToHost, nb));
    OK(cudaStreamSynchronize(nb));
    CHECK(all_are(h, 3, N) && hipffmTest_pendingWork() == 1);
    OK(cudaMemcpyAsync(h, d1, N, cudaMemcpyDeviceToHost, bl));
    CHECK(all_are(h, 5, N) && hipffmTest_pendingWork() == 0);

    /* Events recorded on the null stream after it. */
    cudaEvent_t e = NULL;
    OK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    OK(cudaMemset(d1, 6, N));
    OK(cudaEventRecord(e, nb));
    OK(cudaEventSynchronize(e));
    CHECK(all_are(d1, 5, N));
    OK(cudaEventRecord(e, 0));
    OK(cudaEventQuery(e));
    CHECK(all_are(d1, 6, N));
    OK(cudaMemset(d1, 7, N));
    OK(cudaEventRecord(e, cudaStreamLegacy));
    OK(cudaEventSynchronize(e));
    CHECK(all_are(d1, 7, N));
    OK(cudaEventDestroy(e));

    /* Freeing memory runs it first. */
    OK(cudaMemset(d1, 8, N));
    OK(cudaMemcpy(d2, d1, N, cudaMemcpyDeviceToDevice));
    OK(cudaFree(d1));
    CHECK(all_are(d2, 8, N) && hipffmTest_pendingWork() == 0);

    OK(cudaStreamDestroy(nb));
    OK(cudaStreamDestroy(bl));
    OK(cudaFreeHost(h));
    OK(cudaFree(d2));
    CHECK(hipffmTest_liveObjects("all") == 0);
}

/* CUDA's fd rule: closed on success and on a refusal after the fd was accepted; kept on an injected fault and on
   a refusal of the descriptor. */
static void test_external_memory(void) {
    const size_t size = 1 << 16;
    long closed0 = hipffmTest_cudaClosedFds();
    int fd = make_memfd(size);
    int view = dup(fd); /* the test's own way to the same memory */
    cudaExternalMemory_t m = NULL;
    struct cudaExternalMemoryHandleDesc desc;
    memset(&desc, 0, sizeof desc);
    desc.type = cudaExternalMemoryHandleTypeOpaqueFd;
    desc.handle.fd = fd;
    desc.size = size;
    OK(cudaImportExternalMemory(&m, &desc));
    CHECK(!fd_open(fd) && errno == EBADF); /* the runtime took and closed it */
    CHECK(hipffmTest_cudaClosedFds() == closed0 + 1);
    CHECK(hipffmTest_liveObjects("externalMemory") == 1);

    struct cudaExternalMemoryBufferDesc bd;
    memset(&bd, 0, sizeof bd);
    bd.offset = 4096;
    bd.size = 4096;
    unsigned char* p = NULL;
    OK(cudaExternalMemoryGetMappedBuffer((void**)&p, m, &bd));
    OK(cudaMemset(p, 0x3c, 4096));
    unsigned char b = 0xff;
    CHECK(pread(view, &b, 1, 4096 + 17) == 1 && b == 0); /* a fill of device memory: not done yet */
    OK(cudaStreamSynchronize(0));
    CHECK(pread(view, &b, 1, 4096 + 17) == 1 && b == 0x3c);
    bd.size = size;
    void* q = NULL;
    EXPECT(cudaExternalMemoryGetMappedBuffer(&q, m, &bd), cudaErrorInvalidValue);
    OK(cudaFree(p));
    OK(cudaDestroyExternalMemory(m));
    EXPECT(cudaDestroyExternalMemory(m), cudaErrorInvalidResourceHandle);

    /* Refused after acceptance (more bytes than the memfd has): closed too. */
    fd = dup(view);
    desc.handle.fd = fd;
    desc.size = 2 * size;
    EXPECT(cudaImportExternalMemory(&m, &desc), cudaErrorInvalidValue);
    CHECK(!fd_open(fd));
    CHECK(hipffmTest_cudaClosedFds() == closed0 + 2);

    /* An injected fault has no side effect: the fd stays the caller's, under every code. */
    fd = dup(view);
    desc.handle.fd = fd;
    desc.size = size;
    hipffmTest_failNext("hipImportExternalMemory", HIP_INVALID_VALUE, 0);
    EXPECT(cudaImportExternalMemory(&m, &desc), cudaErrorInvalidValue);
    CHECK(fd_open(fd));
    hipffmTest_failNext("hipImportExternalMemory", HIP_OUT_OF_MEMORY, 0);
    EXPECT(cudaImportExternalMemory(&m, &desc), cudaErrorMemoryAllocation);
    CHECK(fd_open(fd));
    /* Refusals of the descriptor: the fd stays too. */
    desc.size = 0;
    EXPECT(cudaImportExternalMemory(&m, &desc), cudaErrorInvalidValue);
    CHECK(fd_open(fd));
    desc.size = size;
    desc.flags = 0x10;
    EXPECT(cudaImportExternalMemory(&m, &desc), cudaErrorInvalidValue);
    CHECK(fd_open(fd));
    desc.flags = cudaExternalMemoryDedicated;
    desc.type = cudaExternalMemoryHandleTypeOpaqueWin32;
    desc.handle.win32.handle = (void*)(intptr_t)fd;
    EXPECT(cudaImportExternalMemory(&m, &desc), cudaErrorNotSupported);
    CHECK(fd_open(fd));
    desc.type = (enum cudaExternalMemoryHandleType)99;
    EXPECT(cudaImportExternalMemory(&m, &desc), cudaErrorInvalidValue);
    EXPECT(cudaImportExternalMemory(&m, NULL), cudaErrorInvalidValue);
    CHECK(hipffmTest_cudaClosedFds() == closed0 + 2);
    close(fd);
    close(view);
    CHECK(hipffmTest_liveObjects("all") == 0);
}

static void test_mipmapped(void) {
    /* 16 x 8 RGBA8, 2 levels: 512 + 128 bytes. */
    const size_t size = 1 << 12;
    int fd = make_memfd(size);
    int view = dup(fd);
    struct cudaExternalMemoryHandleDesc desc;
    memset(&desc, 0, sizeof desc);
    desc.type = cudaExternalMemoryHandleTypeOpaqueFd;
    desc.handle.fd = fd;
    desc.size = size;
    cudaExternalMemory_t m = NULL;
    OK(cudaImportExternalMemory(&m, &desc));

    struct cudaExternalMemoryMipmappedArrayDesc md;
    memset(&md, 0, sizeof md);
    md.offset = 256;
    md.formatDesc = (struct cudaChannelFormatDesc){8, 8, 8, 8, cudaChannelFormatKindUnsigned};
    md.extent = (struct cudaExtent){16, 8, 0};
    md.flags = cudaArraySurfaceLoadStore;
    md.numLevels = 2;
    cudaMipmappedArray_t mm = NULL;
    OK(cudaExternalMemoryGetMappedMipmappedArray(&mm, m, &md));
    cudaArray_t l1 = NULL;
    OK(cudaGetMipmappedArrayLevel(&l1, mm, 1));
    EXPECT(cudaGetMipmappedArrayLevel(&l1, mm, 2), cudaErrorInvalidValue);

    struct cudaChannelFormatDesc cd;
    struct cudaExtent ex;
    unsigned flags = 0;
    OK(cudaArrayGetInfo(&cd, &ex, &flags, l1));
    CHECK(cd.x == 8 && cd.w == 8 && cd.f == cudaChannelFormatKindUnsigned);
    CHECK(ex.width == 8 && ex.height == 4 && ex.depth == 0);
    CHECK(flags == cudaArraySurfaceLoadStore);

    unsigned char row[32 * 4], back[32 * 4];
    for (size_t i = 0; i < sizeof row; i++) row[i] = (unsigned char)i;
    OK(cudaMemcpy2DToArray(l1, 0, 0, row, 32, 32, 4, cudaMemcpyHostToDevice)); /* all of level 1 */
    unsigned char b = 0;
    CHECK(pread(view, &b, 1, 256 + 512 + 33) == 1 && b == 33);
    memset(back, 0, sizeof back);
    OK(cudaMemcpy2DFromArray(back, 32, l1, 0, 0, 32, 4, cudaMemcpyDeviceToHost));
    CHECK(memcmp(row, back, sizeof row) == 0);
    EXPECT(cudaMemcpy2DToArray(l1, 0, 0, row, 16, 32, 4, cudaMemcpyDefault), cudaErrorInvalidPitchValue);

    struct cudaMemcpy3DParms p;
    memset(&p, 0, sizeof p);
    memset(back, 0, sizeof back);
    p.srcArray = l1;
    p.dstPtr = (struct cudaPitchedPtr){back, 32, 8, 4};
    p.extent = (struct cudaExtent){8, 4, 1};
    p.kind = cudaMemcpyDefault;
    OK(cudaMemcpy3D(&p));
    CHECK(memcmp(row, back, sizeof row) == 0);
    p.dstArray = l1;
    EXPECT(cudaMemcpy3D(&p), cudaErrorInvalidValue); /* two arrays */
    EXPECT(cudaMemcpy3D(NULL), cudaErrorInvalidValue);

    md.formatDesc.f = (enum cudaChannelFormatKind)9;
    cudaMipmappedArray_t bad = NULL;
    EXPECT(cudaExternalMemoryGetMappedMipmappedArray(&bad, m, &md), cudaErrorInvalidValue);
    OK(cudaDestroyExternalMemory(m)); /* the mipmapped array keeps the mapping */
    CHECK(hipffmTest_liveObjects("mapping") == 1);
    OK(cudaFreeMipmappedArray(mm));
    EXPECT(cudaArrayGetInfo(&cd, &ex, &flags, l1), cudaErrorInvalidResourceHandle);
    close(view);
    CHECK(hipffmTest_liveObjects("all") == 0);
}

static void test_semaphores(void) {
    long closed0 = hipffmTest_cudaClosedFds();
    int fd = make_memfd(0);
    struct cudaExternalSemaphoreHandleDesc d;
    memset(&d, 0, sizeof d);
    d.type = cudaExternalSemaphoreHandleTypeTimelineSemaphoreFd;
    d.handle.fd = fd;
    cudaExternalSemaphore_t timeline = NULL;
    hipffmTest_failNext("hipImportExternalSemaphore", HIP_OUT_OF_MEMORY, 0);
    EXPECT(cudaImportExternalSemaphore(&timeline, &d), cudaErrorMemoryAllocation);
    CHECK(fd_open(fd));
    OK(cudaImportExternalSemaphore(&timeline, &d));
    CHECK(!fd_open(fd));
    CHECK(hipffmTest_cudaClosedFds() == closed0 + 1);

    fd = make_memfd(0);
    d.type = cudaExternalSemaphoreHandleTypeOpaqueFd;
    d.handle.fd = fd;
    cudaExternalSemaphore_t binary = NULL;
    OK(cudaImportExternalSemaphore(&binary, &d));
    CHECK(!fd_open(fd));
    d.type = cudaExternalSemaphoreHandleTypeD3D12Fence;
    d.handle.fd = 0;
    cudaExternalSemaphore_t none = NULL;
    EXPECT(cudaImportExternalSemaphore(&none, &d), cudaErrorNotSupported);
    d.type = cudaExternalSemaphoreHandleTypeOpaqueFd;
    d.handle.fd = 1000000; /* not open: refused before it is taken */
    EXPECT(cudaImportExternalSemaphore(&none, &d), cudaErrorInvalidValue);
    CHECK(hipffmTest_cudaClosedFds() == closed0 + 2);

    cudaExternalSemaphore_t both[2] = {timeline, binary};
    struct cudaExternalSemaphoreSignalParams sp[2];
    struct cudaExternalSemaphoreWaitParams wp[2];
    memset(sp, 0, sizeof sp);
    memset(wp, 0, sizeof wp);
    sp[0].params.fence.value = 5;
    wp[0].params.fence.value = 5;
    OK(cudaSignalExternalSemaphoresAsync(both, sp, 2, NULL));
    OK(cudaWaitExternalSemaphoresAsync(both, wp, 2, NULL));
    wp[0].params.fence.value = 3;
    OK(cudaWaitExternalSemaphoresAsync(both, wp, 1, NULL));
    sp[0].flags = 1;
    EXPECT(cudaSignalExternalSemaphoresAsync(both, sp, 1, NULL), cudaErrorInvalidValue);
    EXPECT(cudaSignalExternalSemaphoresAsync(NULL, sp, 1, NULL), cudaErrorInvalidValue);
    hipffmTest_failNext("hipWaitExternalSemaphoresAsync", HIP_NOT_READY, 0);
    EXPECT(cudaWaitExternalSemaphoresAsync(both, wp, 1, NULL), cudaErrorNotReady);
    OK(cudaDestroyExternalSemaphore(timeline));
    OK(cudaDestroyExternalSemaphore(binary));
    EXPECT(cudaDestroyExternalSemaphore(binary), cudaErrorInvalidResourceHandle);
    CHECK(hipffmTest_liveObjects("all") == 0);
}

static void test_library_launch(void) {
    cudaLibrary_t lib = NULL;
    EXPECT(cudaLibraryLoadData(&lib, "not a module", NULL, NULL, 0, NULL, NULL, 0), cudaErrorInvalidKernelImage);
    OK(cudaLibraryLoadData(&lib, "hipffm-test-module\nincrement\nmystery\n", NULL, NULL, 0, NULL, NULL, 0));
    cudaKernel_t k = NULL, k2 = NULL;
    OK(cudaLibraryGetKernel(&k, lib, "increment"));
    OK(cudaLibraryGetKernel(&k2, lib, "increment"));
    CHECK(k == k2);
    EXPECT(cudaLibraryGetKernel(&k2, lib, "absent"), cudaErrorSymbolNotFound);

    unsigned* x = NULL;
    OK(cudaMalloc((void**)&x, 100 * sizeof *x));
    OK(cudaMemset(x, 0, 100 * sizeof *x));
    long long n = 100;
    void* args[] = {&x, &n};
    OK(cudaLaunchKernel((const void*)k, (dim3){4, 1, 1}, (dim3){32, 1, 1}, args, 128, NULL));
    unsigned h[100];
    OK(cudaMemcpy(h, x, sizeof h, cudaMemcpyDefault));
    CHECK(h[0] == 1 && h[99] == 1);
    CHECK(hipffmTest_lastLaunch(0) == 4 && hipffmTest_lastLaunch(3) == 32 && hipffmTest_lastLaunch(6) == 128);
    EXPECT(cudaLaunchKernel((const void*)k, (dim3){0, 1, 1}, (dim3){32, 1, 1}, args, 0, NULL),
           cudaErrorInvalidConfiguration);
    EXPECT(cudaLaunchKernel((const void*)k, (dim3){1, 1, 1}, (dim3){32, 1, 1}, args, (size_t)1 << 33, NULL),
           cudaErrorInvalidValue);
    cudaKernel_t mystery = NULL;
    OK(cudaLibraryGetKernel(&mystery, lib, "mystery"));
    EXPECT(cudaLaunchKernel((const void*)mystery, (dim3){1, 1, 1}, (dim3){1, 1, 1}, args, 0, NULL),
           cudaErrorInvalidDeviceFunction);
    n = 1 << 20; /* beyond the allocation */
    EXPECT(cudaLaunchKernel((const void*)k, (dim3){1 << 12, 1, 1}, (dim3){256, 1, 1}, args, 0, NULL),
           cudaErrorIllegalAddress);
    OK(cudaLibraryUnload(lib));
    EXPECT(cudaLaunchKernel((const void*)k, (dim3){1, 1, 1}, (dim3){1, 1, 1}, args, 0, NULL),
           cudaErrorInvalidResourceHandle);
    EXPECT(cudaLibraryUnload(lib), cudaErrorInvalidResourceHandle);
    OK(cudaFree(x));
    CHECK(hipffmTest_liveObjects("all") == 0);
}

static void test_gl(void) {
    unsigned count = 0;
    int devices[4] = {-1, -1, -1, -1};
    EXPECT(cudaGLGetDevices(&count, devices, 4, cudaGLDeviceListAll), cudaErrorInvalidValue); /* no context */
    hipffmTest_glSetContext(1);
    OK(cudaGLGetDevices(&count, devices, 4, cudaGLDeviceListAll));
    CHECK(count == 1 && devices[0] == 0);
    EXPECT(cudaGLGetDevices(&count, devices, 4, cudaGLDeviceListNextFrame), cudaErrorNotSupported);
    EXPECT(cudaGLGetDevices(&count, devices, 4, (enum cudaGLDeviceList)7), cudaErrorInvalidValue);

    CHECK(hipffmTest_glDefineBuffer(11, 256) == 0);
    CHECK(hipffmTest_glDefineTexture(12, 0x0DE1, 8, 8, 2, 4) == 0);
    cudaGraphicsResource_t buf = NULL, tex = NULL, other = NULL;
    OK(cudaGraphicsGLRegisterBuffer(&buf, 11, cudaGraphicsRegisterFlagsWriteDiscard));
    EXPECT(cudaGraphicsGLRegisterBuffer(&other, 11, 0x100), cudaErrorInvalidValue);
    OK(cudaGraphicsGLRegisterImage(&tex, 12, 0x0DE1, cudaGraphicsRegisterFlagsTextureGather));
    EXPECT(cudaGraphicsGLRegisterImage(&other, 12, 0x0DE1,
                                       cudaGraphicsRegisterFlagsSurfaceLoadStore
                                           | cudaGraphicsRegisterFlagsTextureGather),
           cudaErrorInvalidValue); /* one value in the HIP double */

    cudaGraphicsResource_t both[2] = {buf, tex};
    OK(cudaGraphicsMapResources(2, both, NULL));
    EXPECT(cudaGraphicsMapResources(1, both, NULL), cudaErrorAlreadyMapped);
    unsigned char* p = NULL;
    size_t size = 0;
    OK(cudaGraphicsResourceGetMappedPointer((void**)&p, &size, buf));
    CHECK(size == 256);
    OK(cudaMemset(p, 0x11, 256));
    unsigned char b = 0;
    CHECK(hipffmTest_pendingWork() == 1); /* a mapped GL buffer is device memory: deferred */
    OK(cudaStreamSynchronize(cudaStreamLegacy));
    CHECK(hipffmTest_glBufferData(11, 255, &b, 1) == 1 && b == 0x11);
    EXPECT(cudaGraphicsResourceGetMappedPointer((void**)&p, &size, tex), cudaErrorNotMappedAsPointer);
    cudaArray_t level = NULL;
    OK(cudaGraphicsSubResourceGetMappedArray(&level, tex, 0, 1));
    EXPECT(cudaGraphicsSubResourceGetMappedArray(&level, buf, 0, 0), cudaErrorNotMappedAsArray);
    struct cudaChannelFormatDesc cd;
    struct cudaExtent ex;
    unsigned flags = 0;
    OK(cudaArrayGetInfo(&cd, &ex, &flags, level));
    CHECK(ex.width == 4 && ex.height == 4 && cd.x == 8 && cd.f == cudaChannelFormatKindUnsigned);
    CHECK(flags == cudaArrayTextureGather);
    OK(cudaGraphicsUnmapResources(2, both, NULL));
    EXPECT(cudaGraphicsUnmapResources(1, both, NULL), cudaErrorNotMapped);
    OK(cudaGraphicsUnregisterResource(buf));
    OK(cudaGraphicsUnregisterResource(tex));
    EXPECT(cudaGraphicsUnregisterResource(tex), cudaErrorInvalidResourceHandle);
    CHECK(hipffmTest_glDelete(11) == 0 && hipffmTest_glDelete(12) == 0);
    hipffmTest_glSetContext(0);
    CHECK(hipffmTest_liveObjects("all") == 0);
}

/* Faults are armed and counted under the HIP names of the calls the cuda* functions make. */
static void test_fault_injection(void) {
    hipffmTest_reset();
    hipffmTest_resetCallCounts();
    void* p = NULL;
    hipffmTest_failNext("hipMalloc", HIP_OUT_OF_MEMORY, 1);
    OK(cudaMalloc(&p, 64));
    EXPECT(cudaMalloc(&p, 64), cudaErrorMemoryAllocation);
    CHECK(hipffmTest_callCount("hipMalloc") == 2);
    CHECK(hipffmTest_callCount("cudaMalloc") == 0);
    OK(cudaFree(p));
    CHECK(hipffmTest_callCount("hipFree") == 1);

    hipffmTest_failNext("hipHostMalloc", HIP_UNKNOWN, 0);
    EXPECT(cudaMallocHost(&p, 64), cudaErrorUnknown);
    hipffmTest_failNext("hipGetDevicePropertiesR0600", HIP_NOT_SUPPORTED, 0);
    struct cudaDeviceProp prop;
    EXPECT(cudaGetDeviceProperties(&prop, 0), cudaErrorNotSupported);
    hipffmTest_failNext("hipRuntimeGetVersion", HIP_INVALID_CONTEXT, 0);
    int v = 0;
    EXPECT(cudaRuntimeGetVersion(&v), cudaErrorDeviceUninitialized);
    hipffmTest_failNext("hipStreamCreateWithFlags", HIP_RUNTIME_OTHER, 0); /* no CUDA counterpart */
    cudaStream_t s = NULL;
    EXPECT(cudaStreamCreateWithFlags(&s, 0), cudaErrorUnknown);
    hipffmTest_failNext("hipModuleLaunchKernel", HIP_INVALID_HANDLE, 0);
    EXPECT(cudaLaunchKernel(NULL, (dim3){1, 1, 1}, (dim3){1, 1, 1}, NULL, 0, NULL), cudaErrorInvalidResourceHandle);
    CHECK(hipffmTest_callCount("hipModuleLaunchKernel") == 1);
    EXPECT(cudaGetLastError(), cudaErrorInvalidResourceHandle);
    /* Counted as hipGetErrorString, the call it stands for. */
    long texts = hipffmTest_callCount("hipGetErrorString");
    (void)cudaGetErrorString(cudaErrorInvalidValue);
    CHECK(hipffmTest_callCount("hipGetErrorString") == texts + 1);
    hipffmTest_reset();
    CHECK(hipffmTest_liveObjects("all") == 0);
}

int main(void) {
    test_exports();
    test_errors();
    test_device();
    test_memory_streams_events();
    test_deferred_work();
    test_external_memory();
    test_mipmapped();
    test_semaphores();
    test_library_launch();
    test_gl();
    test_fault_injection();
    return selftest_summary();
}
