/*
 * selftest.c - exercises the hip-ffm TEST DOUBLE runtime (libhipffm_testrt.so) from C: every HIP
 * function it defines, the hipffmTest_ hooks (fault injection, call counts, live-object counters)
 * and bad handles. Exits non-zero on any failed check. Built and run by `build.sh OUTDIR --selftest`.
 */
#define _GNU_SOURCE
#include <hip/hip_runtime_api.h>
#include <hip/hip_version.h>
#include <hip/hip_gl_interop.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SELFTEST_NAME "selftest"
#define SELFTEST_ERROR_NAMES "hipffm_error_names.inc" /* k_errors: from the enum hipError_t of the pinned header */
#include "selftest.h"

#define GL_TEXTURE_2D_ 0x0DE1u

/* hipError_t results are compared as ints; the expected code is printed on mismatch. */
#define EXPECT(call, code) SELFTEST_EXPECT(hipError_t, hipGetErrorName, call, code)
#define OK(call) EXPECT(call, hipSuccess)

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* ---------------------------------------------------------------------------------------------- */

static void test_errors(void) {
    size_t n = sizeof k_errors / sizeof k_errors[0];
    CHECK(n > 70);
    for (size_t i = 0; i < n; i++) {
        const char* got = hipGetErrorName((hipError_t)k_errors[i].code);
        int ok = strcmp(got, k_errors[i].name) == 0;
        for (size_t j = 0; !ok && j < n; j++) { /* an alias: the primary name of the same value */
            ok = k_errors[j].code == k_errors[i].code && strcmp(got, k_errors[j].name) == 0;
        }
        if (!ok) fprintf(stderr, "hipGetErrorName(%d) = %s, expected %s\n", k_errors[i].code, got, k_errors[i].name);
        CHECK(ok);
        const char* text = hipGetErrorString((hipError_t)k_errors[i].code);
        CHECK(text != NULL && text[0] != '\0');
    }
    CHECK(strcmp(hipGetErrorName(hipErrorInvalidHandle), "hipErrorInvalidHandle") == 0);
    CHECK(strcmp(hipGetErrorName(hipErrorOutOfMemory), "hipErrorOutOfMemory") == 0);
    CHECK(strcmp(hipGetErrorName((hipError_t)12345), "hipErrorUnknown") == 0);
    CHECK(strcmp(hipGetErrorString(hipSuccess), "no error") == 0);
    CHECK(strcmp(hipGetErrorString((hipError_t)12345), "unknown error") == 0);

    /* Last error: set by failing calls only, per thread; hipGetLastError resets it. */
    (void)hipGetLastError();
    OK(hipPeekAtLastError());
    EXPECT(hipSetDevice(1), hipErrorInvalidDevice);
    OK(hipSetDevice(0));
    EXPECT(hipPeekAtLastError(), hipErrorInvalidDevice);
    EXPECT(hipPeekAtLastError(), hipErrorInvalidDevice);
    EXPECT(hipGetLastError(), hipErrorInvalidDevice);
    OK(hipGetLastError());

    int v = 0;
    OK(hipRuntimeGetVersion(&v));
    CHECK(v == HIP_VERSION);
    v = 0;
    OK(hipDriverGetVersion(&v));
    CHECK(v == HIP_VERSION);
    EXPECT(hipRuntimeGetVersion(NULL), hipErrorInvalidValue);
    EXPECT(hipDriverGetVersion(NULL), hipErrorInvalidValue);
    OK(hipInit(0));
    EXPECT(hipInit(1), hipErrorInvalidValue);
    (void)hipGetLastError();
}

static void* last_error_thread(void* arg) {
    (void)arg;
    hipError_t e = hipPeekAtLastError(); /* another thread's error is not visible here */
    return (void*)(intptr_t)e;
}

static void test_last_error_per_thread(void) {
    EXPECT(hipSetDevice(7), hipErrorInvalidDevice);
    pthread_t t;
    void* r = NULL;
    pthread_create(&t, NULL, last_error_thread, NULL);
    pthread_join(t, &r);
    CHECK((intptr_t)r == hipSuccess);
    EXPECT(hipGetLastError(), hipErrorInvalidDevice);
}

static void test_device(void) {
    int n = -1, d = -1;
    OK(hipGetDeviceCount(&n));
    CHECK(n == 1);
    OK(hipGetDevice(&d));
    CHECK(d == 0);
    OK(hipSetDevice(0));
    EXPECT(hipSetDevice(-1), hipErrorInvalidDevice);
    EXPECT(hipGetDeviceCount(NULL), hipErrorInvalidValue);
    EXPECT(hipGetDevice(NULL), hipErrorInvalidValue);
    hipDevice_t dev = -1;
    OK(hipDeviceGet(&dev, 0));
    CHECK(dev == 0);
    EXPECT(hipDeviceGet(&dev, 1), hipErrorInvalidDevice);

    char name[64];
    OK(hipDeviceGetName(name, sizeof name, 0));
    CHECK(strcmp(name, "hip-ffm test runtime") == 0);
    OK(hipDeviceGetName(name, 4, 0));
    CHECK(strcmp(name, "hip") == 0);
    EXPECT(hipDeviceGetName(name, sizeof name, 1), hipErrorInvalidDevice);
    EXPECT(hipDeviceGetName(NULL, 10, 0), hipErrorInvalidValue);

    hipUUID uuid;
    memset(&uuid, 0x55, sizeof uuid);
    OK(hipDeviceGetUuid(&uuid, 0));
    CHECK(memcmp(uuid.bytes, "hipffm\0", 7) == 0);
    EXPECT(hipDeviceGetUuid(&uuid, 3), hipErrorInvalidDevice);
    EXPECT(hipDeviceGetUuid(NULL, 0), hipErrorInvalidValue);

    char bus[32];
    OK(hipDeviceGetPCIBusId(bus, sizeof bus, 0));
    CHECK(strcmp(bus, "0000:00:00.0") == 0);
    EXPECT(hipDeviceGetPCIBusId(bus, 5, 0), hipErrorInvalidValue);
    EXPECT(hipDeviceGetPCIBusId(bus, sizeof bus, 1), hipErrorInvalidDevice);

    static const struct {
        hipDeviceAttribute_t attr;
        int value;
    } attrs[] = {
        {hipDeviceAttributePciBusId, 0},
        {hipDeviceAttributePciDeviceId, 0},
        {hipDeviceAttributePciDomainID, 0},
        {hipDeviceAttributeComputeCapabilityMajor, 9},
        {hipDeviceAttributeComputeCapabilityMinor, 4},
        {hipDeviceAttributeMultiprocessorCount, 1},
        {hipDeviceAttributeWarpSize, 64},
        {hipDeviceAttributeMaxThreadsPerBlock, 1024},
    };
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        int v = -1;
        OK(hipDeviceGetAttribute(&v, attrs[i].attr, 0));
        CHECK(v == attrs[i].value);
    }
    int v = -7;
    EXPECT(hipDeviceGetAttribute(&v, hipDeviceAttributeClockRate, 0), hipErrorInvalidValue);
    CHECK(v == -7);
    EXPECT(hipDeviceGetAttribute(&v, hipDeviceAttributeWarpSize, 1), hipErrorInvalidDevice);
    EXPECT(hipDeviceGetAttribute(NULL, hipDeviceAttributeWarpSize, 0), hipErrorInvalidValue);

    hipDeviceProp_t props;
    OK(hipGetDeviceProperties(&props, 0));
    CHECK(strcmp(props.name, "hip-ffm test runtime") == 0);
    CHECK(strcmp(props.gcnArchName, "gfx942") == 0);
    CHECK(props.major == 9 && props.minor == 4 && props.warpSize == 64);
    CHECK(props.totalGlobalMem == (size_t)1 << 30);
    EXPECT(hipGetDeviceProperties(&props, 1), hipErrorInvalidDevice);

    size_t total = 0, free_b = 0;
    OK(hipDeviceTotalMem(&total, 0));
    CHECK(total == (size_t)1 << 30);
    EXPECT(hipDeviceTotalMem(&total, 2), hipErrorInvalidDevice);
    OK(hipMemGetInfo(&free_b, &total));
    CHECK(total == (size_t)1 << 30 && free_b == total);
    EXPECT(hipMemGetInfo(NULL, &total), hipErrorInvalidValue);
    OK(hipDeviceSynchronize());
    OK(hipDeviceReset());
    (void)hipGetLastError();
}

static void test_memory(void) {
    void* p = NULL;
    size_t free0, free1, total;
    OK(hipMemGetInfo(&free0, &total));
    OK(hipMalloc(&p, 4096));
    CHECK(p != NULL && ((uintptr_t)p % 256) == 0);
    CHECK(hipffmTest_liveObjects("memory") == 1);
    OK(hipMemGetInfo(&free1, &total));
    CHECK(free0 - free1 == 4096);
    CHECK(((unsigned char*)p)[100] == 0); /* zeroed */

    unsigned char host[4096], back[4096];
    for (int i = 0; i < 4096; i++) host[i] = (unsigned char)(i * 7);
    OK(hipMemcpy(p, host, sizeof host, hipMemcpyHostToDevice));
    memset(back, 0, sizeof back);
    OK(hipMemcpy(back, p, sizeof back, hipMemcpyDeviceToHost));
    CHECK(memcmp(host, back, sizeof host) == 0);
    EXPECT(hipMemcpy(back, p, 16, (hipMemcpyKind)77), hipErrorInvalidMemcpyDirection);
    EXPECT(hipMemcpy(NULL, p, 16, hipMemcpyDefault), hipErrorInvalidValue);
    EXPECT(hipMemcpy(back, NULL, 16, hipMemcpyDefault), hipErrorInvalidValue);
    OK(hipMemcpy(NULL, NULL, 0, hipMemcpyDefault));

    void* q = NULL;
    OK(hipExtMallocWithFlags(&q, 4096, hipDeviceMallocFinegrained));
    EXPECT(hipExtMallocWithFlags(&q, 16, 99), hipErrorInvalidValue);
    OK(hipMemcpyDtoD(q, p, 4096));
    CHECK(hipffmTest_pendingWork() == 1 && memcmp(q, host, 4096) != 0); /* device to device: deferred */
    OK(hipStreamSynchronize(NULL));
    CHECK(hipffmTest_pendingWork() == 0 && memcmp(q, host, 4096) == 0);
    OK(hipMemsetD8(q, 0, 4096));
    OK(hipMemcpyHtoD(q, host, 128));
    OK(hipMemcpyDtoH(back, q, 128));
    CHECK(memcmp(back, host, 128) == 0);
    OK(hipMemcpyWithStream(back, p, 64, hipMemcpyDefault, NULL));
    OK(hipMemcpyAsync(back, p, 64, hipMemcpyDefault, NULL));
    OK(hipMemcpyHtoDAsync(q, host, 64, NULL));
    OK(hipMemcpyDtoHAsync(back, q, 64, NULL));
    OK(hipMemcpyDtoDAsync(q, p, 64, hipStreamPerThread));
    EXPECT(hipMemcpyHtoD(NULL, host, 4), hipErrorInvalidValue);
    EXPECT(hipMemcpyDtoH(back, NULL, 4), hipErrorInvalidValue);
    EXPECT(hipMemcpyDtoD(q, NULL, 4), hipErrorInvalidValue);

    unsigned char* b = q;
    OK(hipMemset(q, 0x5A, 10));
    CHECK(b[0] != 0x5A && hipffmTest_pendingWork() == 1); /* a fill of device memory: deferred */
    OK(hipMemsetAsync(q, 0x11, 0, NULL)); /* later work on the null stream runs it first */
    CHECK(b[0] == 0x5A && b[9] == 0x5A && b[10] != 0x5A);
    OK(hipMemsetAsync(q, 0x11, 3, NULL));
    CHECK(b[2] == 0x11 && b[3] == 0x5A);
    OK(hipMemsetD8(q, 0xC3, 2));
    OK(hipMemsetD8Async(q, 0xC4, 1, NULL));
    CHECK(b[0] == 0xC4 && b[1] == 0xC3);
    OK(hipMemsetD16(q, 0xBEEF, 4));
    OK(hipDeviceSynchronize());
    uint16_t s16;
    memcpy(&s16, b + 6, 2);
    CHECK(s16 == 0xBEEF);
    OK(hipMemsetD16Async(q, 0x1234, 1, NULL));
    memcpy(&s16, b, 2);
    CHECK(s16 == 0x1234);
    OK(hipMemsetD32(q, (int)0xCAFEBABE, 8));
    OK(hipStreamSynchronize(hipStreamLegacy));
    uint32_t s32;
    memcpy(&s32, b + 28, 4);
    CHECK(s32 == 0xCAFEBABE);
    OK(hipMemsetD32Async(q, 42, 1, NULL));
    memcpy(&s32, b, 4);
    CHECK(s32 == 42);
    EXPECT(hipMemset(NULL, 0, 4), hipErrorInvalidValue);
    EXPECT(hipMemsetD32(NULL, 0, 4), hipErrorInvalidValue);

    hipPointerAttribute_t attr;
    OK(hipPointerGetAttributes(&attr, (char*)p + 10));
    CHECK(attr.type == hipMemoryTypeDevice && attr.device == 0 && attr.devicePointer == (char*)p + 10);
    int stack_var;
    EXPECT(hipPointerGetAttributes(&attr, &stack_var), hipErrorInvalidValue);

    void* h = NULL;
    OK(hipHostMalloc(&h, 1000, hipHostMallocDefault));
    CHECK(h != NULL);
    OK(hipPointerGetAttributes(&attr, h));
    CHECK(attr.type == hipMemoryTypeHost && attr.hostPointer == h);
    EXPECT(hipHostMalloc(&h, 8, 0x1000), hipErrorInvalidValue);
    EXPECT(hipHostMalloc(&h, 8, hipHostMallocCoherent | hipHostMallocNonCoherent), hipErrorInvalidValue);
    EXPECT(hipHostFree(p), hipErrorInvalidValue); /* device memory */
    CHECK(hipffmTest_liveObjects("memory") == 3);
    OK(hipHostFree(h));
    EXPECT(hipHostFree(h), hipErrorInvalidValue);
    OK(hipHostFree(NULL));

    OK(hipFree(NULL));
    EXPECT(hipFree(&stack_var), hipErrorInvalidValue);
    EXPECT(hipFree((char*)p + 1), hipErrorInvalidValue);
    OK(hipFree(p));
    EXPECT(hipFree(p), hipErrorInvalidValue);
    OK(hipFree(q));

    void* big = (void*)0x1;
    EXPECT(hipMalloc(&big, (size_t)2 << 30), hipErrorOutOfMemory);
    CHECK(big == (void*)0x1);
    EXPECT(hipMalloc(NULL, 16), hipErrorInvalidValue);
    OK(hipMalloc(&big, 0));
    CHECK(big == NULL);
    CHECK(hipffmTest_liveObjects("memory") == 0);
    OK(hipMemGetInfo(&free1, &total));
    CHECK(free1 == free0);
    (void)hipGetLastError();
}

static void test_streams_events(void) {
    hipStream_t s1 = NULL, s2 = NULL;
    OK(hipStreamCreate(&s1));
    OK(hipStreamCreateWithFlags(&s2, hipStreamNonBlocking));
    EXPECT(hipStreamCreateWithFlags(&s2, 0x80), hipErrorInvalidValue);
    EXPECT(hipStreamCreate(NULL), hipErrorInvalidValue);
    CHECK(hipffmTest_liveObjects("stream") == 2);
    OK(hipStreamQuery(s1));
    OK(hipStreamSynchronize(s2));
    OK(hipStreamSynchronize(NULL));
    OK(hipStreamQuery(NULL));

    hipEvent_t e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;
    OK(hipEventCreate(&e1));
    OK(hipEventCreateWithFlags(&e2, hipEventBlockingSync));
    OK(hipEventCreateWithFlags(&e3, hipEventDisableTiming));
    OK(hipEventCreate(&e4));
    EXPECT(hipEventCreateWithFlags(&e4, 0x100), hipErrorInvalidValue);
    CHECK(hipffmTest_liveObjects("event") == 4);

    float ms = -1;
    EXPECT(hipEventElapsedTime(&ms, e1, e2), hipErrorInvalidHandle); /* not recorded */
    OK(hipEventQuery(e1));
    OK(hipEventSynchronize(e1));
    OK(hipEventRecord(e1, s1));
    sleep_ms(20);
    OK(hipEventRecord(e2, NULL));
    OK(hipEventElapsedTime(&ms, e1, e2));
    CHECK(ms >= 15.0f && ms < 2000.0f);
    EXPECT(hipEventElapsedTime(NULL, e1, e2), hipErrorInvalidValue);
    EXPECT(hipEventElapsedTime(&ms, e1, e4), hipErrorInvalidHandle);
    OK(hipEventRecord(e3, s2));
    EXPECT(hipEventElapsedTime(&ms, e1, e3), hipErrorInvalidHandle); /* timing disabled */
    OK(hipStreamWaitEvent(s1, e2, 0));
    OK(hipStreamWaitEvent(NULL, e2, 0));
    EXPECT(hipStreamWaitEvent(s1, NULL, 0), hipErrorInvalidHandle);
    EXPECT(hipStreamWaitEvent(s1, e2, 0x40), hipErrorInvalidValue);
    OK(hipEventQuery(e2));
    OK(hipEventSynchronize(e2));

    /* Bad handles: never dereferenced. */
    long bogus_storage[8] = {0};
    hipStream_t bogus_s = (hipStream_t)(void*)bogus_storage;
    hipEvent_t bogus_e = (hipEvent_t)(void*)bogus_storage;
    EXPECT(hipStreamDestroy(bogus_s), hipErrorInvalidHandle);
    EXPECT(hipStreamDestroy(NULL), hipErrorInvalidHandle);
    EXPECT(hipStreamSynchronize(bogus_s), hipErrorInvalidHandle);
    EXPECT(hipEventDestroy(bogus_e), hipErrorInvalidHandle);
    EXPECT(hipEventDestroy(NULL), hipErrorInvalidHandle);
    EXPECT(hipEventRecord(bogus_e, NULL), hipErrorInvalidHandle);
    EXPECT(hipEventRecord(e1, bogus_s), hipErrorInvalidHandle);
    EXPECT(hipEventQuery((hipEvent_t)(void*)0x10), hipErrorInvalidHandle);

    char buf[8] = {0}, src[8] = "abcdefg";
    OK(hipStreamDestroy(s1));
    EXPECT(hipStreamDestroy(s1), hipErrorInvalidHandle);
    EXPECT(hipStreamQuery(s1), hipErrorInvalidHandle);
    EXPECT(hipMemcpyAsync(buf, src, 8, hipMemcpyDefault, s1), hipErrorInvalidHandle);
    CHECK(buf[0] == 0);
    EXPECT(hipMemsetAsync(buf, 1, 8, s1), hipErrorInvalidHandle);
    OK(hipMemcpyAsync(buf, src, 8, hipMemcpyDefault, s2));
    CHECK(strcmp(buf, "abcdefg") == 0);
    OK(hipStreamDestroy(s2));
    OK(hipEventDestroy(e1));
    EXPECT(hipEventDestroy(e1), hipErrorInvalidHandle);
    EXPECT(hipEventSynchronize(e1), hipErrorInvalidHandle);
    EXPECT(hipEventElapsedTime(&ms, e1, e2), hipErrorInvalidHandle);
    OK(hipEventDestroy(e2));
    OK(hipEventDestroy(e3));
    OK(hipEventDestroy(e4));
    CHECK(hipffmTest_liveObjects("stream") == 0 && hipffmTest_liveObjects("event") == 0);
    (void)hipGetLastError();
}

static hipExternalMemoryHandleDesc mem_desc(int fd, unsigned long long size) {
    hipExternalMemoryHandleDesc d;
    memset(&d, 0, sizeof d);
    d.type = hipExternalMemoryHandleTypeOpaqueFd;
    d.handle.fd = fd;
    d.size = size;
    return d;
}

static hipExternalMemoryBufferDesc buf_desc(unsigned long long offset, unsigned long long size) {
    hipExternalMemoryBufferDesc d;
    memset(&d, 0, sizeof d);
    d.offset = offset;
    d.size = size;
    return d;
}

#define MIB ((size_t)1 << 20)

static void test_external_memory(void) {
    int fd = make_memfd(MIB);
    hipExternalMemoryHandleDesc d = mem_desc(fd, MIB);
    hipExternalMemory_t mem = NULL;
    OK(hipImportExternalMemory(&mem, &d));
    CHECK(mem != NULL);
    CHECK(fd_open(fd)); /* never closed by the runtime */
    CHECK(hipffmTest_liveObjects("externalMemory") == 1 && hipffmTest_liveObjects("mapping") == 1);
    size_t free_b, total;
    OK(hipMemGetInfo(&free_b, &total));
    CHECK(total - free_b == MIB);

    void* ptr = NULL;
    hipExternalMemoryBufferDesc bd = buf_desc(4096, 64 * 1024);
    OK(hipExternalMemoryGetMappedBuffer(&ptr, mem, &bd));
    CHECK(ptr != NULL);
    CHECK(hipffmTest_liveObjects("mappedBuffer") == 1 && hipffmTest_liveObjects("memory") == 1);
    OK(hipMemset(ptr, 0xAB, 100));
    unsigned char rd[128];
    CHECK(pread(fd, rd, 1, 4096) == 1 && rd[0] == 0); /* deferred: the fd does not see it yet */
    OK(hipStreamSynchronize(NULL));
    CHECK(pread(fd, rd, sizeof rd, 4096) == (ssize_t)sizeof rd);
    CHECK(rd[0] == 0xAB && rd[99] == 0xAB && rd[100] == 0);
    CHECK(pread(fd, rd, 1, 4095) == 1 && rd[0] == 0);
    const char msg[] = "written through the fd";
    CHECK(pwrite(fd, msg, sizeof msg, 4096 + 200) == (ssize_t)sizeof msg);
    char got[sizeof msg];
    OK(hipMemcpyDtoH(got, (char*)ptr + 200, sizeof msg));
    CHECK(memcmp(got, msg, sizeof msg) == 0);
    hipPointerAttribute_t attr;
    OK(hipPointerGetAttributes(&attr, ptr));
    CHECK(attr.type == hipMemoryTypeDevice);

    void* untouched = (void*)0x1234;
    hipExternalMemoryBufferDesc bad = buf_desc(MIB - 100, 200);
    EXPECT(hipExternalMemoryGetMappedBuffer(&untouched, mem, &bad), hipErrorInvalidValue);
    bad = buf_desc(2 * MIB, 1);
    EXPECT(hipExternalMemoryGetMappedBuffer(&untouched, mem, &bad), hipErrorInvalidValue);
    bad = buf_desc(0, ~0ULL);
    EXPECT(hipExternalMemoryGetMappedBuffer(&untouched, mem, &bad), hipErrorInvalidValue);
    bad = buf_desc(0, 16);
    bad.flags = 1;
    EXPECT(hipExternalMemoryGetMappedBuffer(&untouched, mem, &bad), hipErrorInvalidValue);
    EXPECT(hipExternalMemoryGetMappedBuffer(NULL, mem, &bd), hipErrorInvalidValue);
    EXPECT(hipExternalMemoryGetMappedBuffer(&untouched, mem, NULL), hipErrorInvalidValue);
    EXPECT(hipExternalMemoryGetMappedBuffer(&untouched, (hipExternalMemory_t)&bd, &bd), hipErrorInvalidHandle);
    CHECK(untouched == (void*)0x1234);
    void* whole = NULL;
    bd = buf_desc(0, MIB);
    OK(hipExternalMemoryGetMappedBuffer(&whole, mem, &bd));
    CHECK(hipffmTest_liveObjects("mappedBuffer") == 2);

    /* Destroy while mapped: succeeds, the unmap waits for the last hipFree. */
    OK(hipDestroyExternalMemory(mem));
    CHECK(hipffmTest_liveObjects("externalMemory") == 0 && hipffmTest_liveObjects("mapping") == 1);
    EXPECT(hipDestroyExternalMemory(mem), hipErrorInvalidHandle);
    EXPECT(hipExternalMemoryGetMappedBuffer(&untouched, mem, &bd), hipErrorInvalidHandle);
    CHECK(((unsigned char*)ptr)[0] == 0xAB); /* still mapped */
    OK(hipFree(whole));
    CHECK(hipffmTest_liveObjects("mapping") == 1);
    OK(hipFree(ptr));
    CHECK(hipffmTest_liveObjects("mapping") == 0 && hipffmTest_liveObjects("memory") == 0);
    EXPECT(hipFree(ptr), hipErrorInvalidValue);
    OK(hipMemGetInfo(&free_b, &total));
    CHECK(free_b == total);
    CHECK(fd_open(fd));

    /* Import validation. */
    hipExternalMemory_t m2 = (hipExternalMemory_t)0x99;
    d = mem_desc(0, MIB);
    EXPECT(hipImportExternalMemory(&m2, &d), hipErrorInvalidValue);
    d = mem_desc(-1, MIB);
    EXPECT(hipImportExternalMemory(&m2, &d), hipErrorInvalidValue);
    d = mem_desc(fd, 0);
    EXPECT(hipImportExternalMemory(&m2, &d), hipErrorInvalidValue);
    d = mem_desc(fd, 2 * MIB); /* larger than the memfd */
    EXPECT(hipImportExternalMemory(&m2, &d), hipErrorInvalidValue);
    d = mem_desc(fd, MIB);
    d.type = hipExternalMemoryHandleTypeOpaqueWin32;
    EXPECT(hipImportExternalMemory(&m2, &d), hipErrorNotSupported);
    d = mem_desc(fd, MIB);
    d.type = hipExternalMemoryHandleTypeD3D12Resource;
    EXPECT(hipImportExternalMemory(&m2, &d), hipErrorNotSupported);
    d = mem_desc(fd, MIB);
    d.flags = 0x10;
    EXPECT(hipImportExternalMemory(&m2, &d), hipErrorInvalidValue);
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    d = mem_desc(pipefd[0], 4096); /* not mappable */
    EXPECT(hipImportExternalMemory(&m2, &d), hipErrorInvalidValue);
    close(pipefd[0]);
    close(pipefd[1]);
    d = mem_desc(fd, MIB);
    EXPECT(hipImportExternalMemory(NULL, &d), hipErrorInvalidValue);
    EXPECT(hipImportExternalMemory(&m2, NULL), hipErrorInvalidValue);
    CHECK(m2 == (hipExternalMemory_t)0x99);
    d = mem_desc(fd, MIB);
    d.flags = hipExternalMemoryDedicated;
    OK(hipImportExternalMemory(&m2, &d));
    OK(hipDestroyExternalMemory(m2));
    EXPECT(hipDestroyExternalMemory(NULL), hipErrorInvalidHandle);
    EXPECT(hipDestroyExternalMemory((hipExternalMemory_t)&d), hipErrorInvalidHandle);
    CHECK(hipffmTest_liveObjects("all") == 0);
    CHECK(fd_open(fd));
    close(fd);
    (void)hipGetLastError();
}

static void test_mipmapped(void) {
    int fd = make_memfd(MIB);
    hipExternalMemoryHandleDesc d = mem_desc(fd, MIB);
    hipExternalMemory_t mem = NULL;
    OK(hipImportExternalMemory(&mem, &d));

    hipExternalMemoryMipmappedArrayDesc md;
    memset(&md, 0, sizeof md);
    md.offset = 8192;
    md.formatDesc.x = md.formatDesc.y = md.formatDesc.z = md.formatDesc.w = 8;
    md.formatDesc.f = hipChannelFormatKindUnsigned;
    md.extent.width = 16;
    md.extent.height = 16;
    md.extent.depth = 0;
    md.numLevels = 5;
    hipMipmappedArray_t mip = NULL;
    OK(hipExternalMemoryGetMappedMipmappedArray(&mip, mem, &md));
    CHECK(mip != NULL);
    CHECK(hipffmTest_liveObjects("mipmappedArray") == 1);
    CHECK(mip->width == 16 && mip->height == 16 && mip->max_mipmap_level == 4);
    CHECK(mip->format == HIP_AD_FORMAT_UNSIGNED_INT8 && mip->num_channels == 4);

    hipArray_t lv[5];
    for (unsigned i = 0; i < 5; i++) OK(hipGetMipmappedArrayLevel(&lv[i], mip, i));
    hipArray_t l1b = NULL;
    OK(hipMipmappedArrayGetLevel(&l1b, mip, 1));
    CHECK(l1b == lv[1]);
    hipArray_t none = (hipArray_t)0x77;
    EXPECT(hipGetMipmappedArrayLevel(&none, mip, 5), hipErrorInvalidValue);
    EXPECT(hipGetMipmappedArrayLevel(NULL, mip, 0), hipErrorInvalidValue);
    EXPECT(hipGetMipmappedArrayLevel(&none, (hipMipmappedArray_const_t)&md, 0), hipErrorInvalidHandle);
    CHECK(none == (hipArray_t)0x77);

    hipChannelFormatDesc cd;
    hipExtent ex;
    unsigned fl = 99;
    OK(hipArrayGetInfo(&cd, &ex, &fl, lv[2]));
    CHECK(ex.width == 4 && ex.height == 4 && ex.depth == 0 && cd.x == 8 && cd.w == 8 && fl == 0);
    OK(hipArrayGetInfo(NULL, &ex, NULL, lv[4]));
    CHECK(ex.width == 1 && ex.height == 1);
    EXPECT(hipArrayGetInfo(&cd, &ex, &fl, (hipArray_t)(void*)&md), hipErrorInvalidHandle);

    /* Level 1 is 8x8 texels of 4 bytes (32-byte rows) right after level 0 (16*16*4 = 1024 bytes). */
    unsigned char src[8 * 40];
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 40; c++) src[r * 40 + c] = (unsigned char)(r * 32 + c);
    OK(hipMemcpy2DToArray(lv[1], 0, 0, src, 40, 32, 8, hipMemcpyHostToDevice));
    unsigned char file[256];
    CHECK(pread(fd, file, sizeof file, 8192 + 1024) == (ssize_t)sizeof file);
    int same = 1;
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 32; c++) same &= file[r * 32 + c] == (unsigned char)(r * 32 + c);
    CHECK(same);
    unsigned char dst[4 * 10];
    memset(dst, 0, sizeof dst);
    OK(hipMemcpy2DFromArray(dst, 10, lv[1], 4, 2, 8, 4, hipMemcpyDeviceToHost)); /* texels 1..2, rows 2..5 */
    same = 1;
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 8; c++) same &= dst[r * 10 + c] == (unsigned char)((r + 2) * 32 + 4 + c);
    CHECK(same);
    CHECK(dst[8] == 0 && dst[9] == 0);
    OK(hipMemcpy2DToArray(lv[4], 0, 0, "WXYZ", 4, 4, 1, hipMemcpyHostToDevice));
    CHECK(pread(fd, file, 4, 8192 + 1024 + 256 + 64 + 16) == 4 && memcmp(file, "WXYZ", 4) == 0);
    EXPECT(hipMemcpy2DToArray(lv[1], 4, 0, src, 40, 32, 8, hipMemcpyHostToDevice), hipErrorInvalidValue);
    EXPECT(hipMemcpy2DToArray(lv[1], 0, 1, src, 40, 32, 8, hipMemcpyHostToDevice), hipErrorInvalidValue);
    EXPECT(hipMemcpy2DToArray(lv[1], 0, 0, src, 16, 32, 8, hipMemcpyHostToDevice), hipErrorInvalidPitchValue);
    EXPECT(hipMemcpy2DToArray(lv[1], 0, 0, NULL, 40, 32, 8, hipMemcpyHostToDevice), hipErrorInvalidValue);
    EXPECT(hipMemcpy2DToArray(lv[1], 0, 0, src, 40, 32, 8, (hipMemcpyKind)9), hipErrorInvalidMemcpyDirection);
    EXPECT(hipMemcpy2DToArray((hipArray_t)(void*)src, 0, 0, src, 40, 32, 8, hipMemcpyHostToDevice),
           hipErrorInvalidHandle);
    EXPECT(hipMemcpy2DFromArray(dst, 10, NULL, 0, 0, 8, 1, hipMemcpyDeviceToHost), hipErrorInvalidValue);
    EXPECT(hipMemcpy2DFromArray(dst, 10, lv[0], 60, 0, 8, 1, hipMemcpyDeviceToHost), hipErrorInvalidValue);

    /* hipMemcpy3D on a 2D level (depth 1): level 2 is 4x4 texels of 4 bytes right after levels 0 and 1. */
    unsigned char cube[4 * 16];
    for (int i = 0; i < 64; i++) cube[i] = (unsigned char)(200 - i);
    struct hipMemcpy3DParms p3;
    memset(&p3, 0, sizeof p3);
    p3.srcPtr = make_hipPitchedPtr(cube, 16, 4, 4);
    p3.dstArray = lv[2];
    p3.extent = make_hipExtent(4, 4, 1);
    p3.kind = hipMemcpyHostToDevice;
    OK(hipMemcpy3D(&p3));
    CHECK(pread(fd, file, 64, 8192 + 1024 + 256) == 64 && memcmp(file, cube, 64) == 0);
    unsigned char back3[64];
    memset(back3, 0, sizeof back3);
    struct hipMemcpy3DParms q3;
    memset(&q3, 0, sizeof q3);
    q3.srcArray = lv[2];
    q3.srcPos = make_hipPos(1, 1, 0);                  /* texels 1..2 of rows 1..2 */
    q3.dstPtr = make_hipPitchedPtr(back3, 8, 2, 2);
    q3.extent = make_hipExtent(2, 2, 1);
    q3.kind = hipMemcpyDeviceToHost;
    OK(hipMemcpy3D(&q3));
    CHECK(memcmp(back3, cube + 16 + 4, 8) == 0 && memcmp(back3 + 8, cube + 32 + 4, 8) == 0);
    q3.extent = make_hipExtent(4, 2, 1);               /* 16 bytes a row into an 8-byte pitch */
    q3.srcPos = make_hipPos(0, 0, 0);
    EXPECT(hipMemcpy3D(&q3), hipErrorInvalidPitchValue);
    q3.extent = make_hipExtent(2, 2, 2);               /* a second slice a 2D level does not have */
    EXPECT(hipMemcpy3D(&q3), hipErrorInvalidValue);
    q3.dstArray = lv[1];                               /* two arrays */
    q3.extent = make_hipExtent(2, 2, 1);
    EXPECT(hipMemcpy3D(&q3), hipErrorInvalidValue);
    EXPECT(hipMemcpy3D(NULL), hipErrorInvalidValue);

    /* Validation of the descriptor. */
    hipMipmappedArray_t m2 = (hipMipmappedArray_t)0x55;
    hipExternalMemoryMipmappedArrayDesc bad = md;
    bad.numLevels = 6; /* 16x16 has 5 levels */
    EXPECT(hipExternalMemoryGetMappedMipmappedArray(&m2, mem, &bad), hipErrorInvalidValue);
    bad = md;
    bad.numLevels = 0;
    EXPECT(hipExternalMemoryGetMappedMipmappedArray(&m2, mem, &bad), hipErrorInvalidValue);
    bad = md;
    bad.offset = MIB - 100;
    EXPECT(hipExternalMemoryGetMappedMipmappedArray(&m2, mem, &bad), hipErrorInvalidValue);
    bad = md;
    bad.formatDesc.x = 0;
    bad.formatDesc.y = bad.formatDesc.z = bad.formatDesc.w = 0;
    EXPECT(hipExternalMemoryGetMappedMipmappedArray(&m2, mem, &bad), hipErrorInvalidValue);
    bad = md;
    bad.extent.width = 0;
    EXPECT(hipExternalMemoryGetMappedMipmappedArray(&m2, mem, &bad), hipErrorInvalidValue);
    EXPECT(hipExternalMemoryGetMappedMipmappedArray(&m2, (hipExternalMemory_t)&bad, &md), hipErrorInvalidHandle);
    EXPECT(hipExternalMemoryGetMappedMipmappedArray(NULL, mem, &md), hipErrorInvalidValue);
    CHECK(m2 == (hipMipmappedArray_t)0x55);

    /* 3D float array: consecutive levels sized by max(1, extent >> level). */
    hipExternalMemoryMipmappedArrayDesc d3 = md;
    d3.offset = 0;
    d3.formatDesc.x = 32;
    d3.formatDesc.y = d3.formatDesc.z = d3.formatDesc.w = 0;
    d3.formatDesc.f = hipChannelFormatKindFloat;
    d3.extent.width = 8;
    d3.extent.height = 4;
    d3.extent.depth = 2;
    d3.numLevels = 4;
    OK(hipExternalMemoryGetMappedMipmappedArray(&m2, mem, &d3));
    hipArray_t l3 = NULL;
    OK(hipGetMipmappedArrayLevel(&l3, m2, 3));
    OK(hipArrayGetInfo(NULL, &ex, NULL, l3));
    CHECK(ex.width == 1 && ex.height == 1 && ex.depth == 1);
    float one = 1.5f;
    OK(hipMemcpy2DToArray(l3, 0, 0, &one, 4, 4, 1, hipMemcpyHostToDevice));
    float back = 0;
    /* level sizes: 8*4*2*4=256, 4*2*1*4=32, 2*1*1*4=8 -> level 3 at offset 296 */
    CHECK(pread(fd, &back, 4, 296) == 4 && back == 1.5f);
    CHECK(hipffmTest_liveObjects("mipmappedArray") == 2);

    /* Destroying the memory defers the unmap while the mipmapped arrays live. */
    OK(hipDestroyExternalMemory(mem));
    CHECK(hipffmTest_liveObjects("mapping") == 1);
    OK(hipMemcpy2DFromArray(dst, 4, lv[4], 0, 0, 4, 1, hipMemcpyDeviceToHost));
    CHECK(memcmp(dst, "WXYZ", 4) == 0);
    OK(hipFreeMipmappedArray(mip));
    EXPECT(hipFreeMipmappedArray(mip), hipErrorInvalidHandle);
    EXPECT(hipGetMipmappedArrayLevel(&none, mip, 0), hipErrorInvalidHandle);
    EXPECT(hipMemcpy2DFromArray(dst, 4, lv[4], 0, 0, 4, 1, hipMemcpyDeviceToHost), hipErrorInvalidHandle);
    EXPECT(hipArrayGetInfo(&cd, &ex, &fl, lv[0]), hipErrorInvalidHandle);
    CHECK(hipffmTest_liveObjects("mapping") == 1);
    OK(hipMipmappedArrayDestroy(m2));
    EXPECT(hipMipmappedArrayDestroy(m2), hipErrorInvalidHandle);
    EXPECT(hipMipmappedArrayDestroy(NULL), hipErrorInvalidValue);
    CHECK(hipffmTest_liveObjects("mapping") == 0 && hipffmTest_liveObjects("mipmappedArray") == 0);
    CHECK(hipffmTest_liveObjects("all") == 0);
    close(fd);
    (void)hipGetLastError();
}

/* ---------------------------------------------------------------------------------------------- */
/* Deferred work: what the runtimes' synchronous calls leave running, and where it runs (README.md) */

/* Whether n bytes at p are all v. */
static int all_are(const void* p, unsigned char v, size_t n) {
    const unsigned char* b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != v) return 0;
    return 1;
}

static void test_deferred_work(void) {
    enum { N = 256 };
    unsigned char *d1 = NULL, *d2 = NULL, *pin = NULL, pageable[N];
    OK(hipMalloc((void**)&d1, N));
    OK(hipMalloc((void**)&d2, N));
    OK(hipHostMalloc((void**)&pin, N, 0));
    hipStream_t blocking = NULL, nonblocking = NULL;
    OK(hipStreamCreate(&blocking));
    OK(hipStreamCreateWithFlags(&nonblocking, hipStreamNonBlocking));
    CHECK(hipffmTest_pendingWork() == 0);

    /* Deferred: a device-to-device hipMemcpy and hipMemcpyDtoD, fills of device memory (every width). */
    OK(hipMemset(d1, 1, N));
    OK(hipMemsetD8(d2, 2, N));
    OK(hipMemcpy(d2, d1, N / 2, hipMemcpyDeviceToDevice));
    OK(hipMemcpyDtoD(d2 + N / 2, d1, 1));
    OK(hipMemsetD16(d1, 0x0303, N / 2));
    OK(hipMemsetD32(d1, 0x04040404, N / 4));
    CHECK(hipffmTest_pendingWork() == 6);
    CHECK(all_are(d1, 0, N) && all_are(d2, 0, N)); /* a read of its own does not run anything */
    OK(hipStreamSynchronize(NULL));
    CHECK(hipffmTest_pendingWork() == 0);
    /* ... in the order queued: d2 got d1's 1s before d1 became 3s and then 4s */
    CHECK(all_are(d1, 4, N) && all_are(d2, 1, N / 2 + 1) && all_are(d2 + N / 2 + 1, 2, N / 2 - 1));

    /* Not deferred: copies that involve the host, fills of host memory; each runs the deferred work first. */
    OK(hipMemset(d1, 5, N));
    memset(pageable, 9, N);
    OK(hipMemcpy(pin, d1, N, hipMemcpyDeviceToHost)); /* D2H: after the fill, and waited for */
    CHECK(hipffmTest_pendingWork() == 0 && all_are(pin, 5, N));
    OK(hipMemset(d1, 6, N));
    OK(hipMemcpy(d2, pageable, N, hipMemcpyHostToDevice)); /* H2D: also after it */
    CHECK(all_are(d1, 6, N) && all_are(d2, 9, N));
    OK(hipMemset(d1, 7, N));
    OK(hipMemset(pin, 8, N)); /* pinned host memory */
    CHECK(all_are(d1, 7, N) && all_are(pin, 8, N));
    OK(hipMemset(d1, 10, N));
    OK(hipMemcpyHtoD(d2, pageable, 1));
    CHECK(all_are(d1, 10, N));
    OK(hipMemset(d1, 11, N));
    OK(hipMemcpyDtoH(pageable, d1, N));
    CHECK(all_are(pageable, 11, N));
    OK(hipMemset(d1, 12, N));
    OK(hipMemcpy(pageable, pin, N, hipMemcpyHostToHost)); /* host to host */
    CHECK(all_are(d1, 12, N) && all_are(pageable, 8, N));
    CHECK(hipffmTest_pendingWork() == 0);

    /* The null stream's waits. */
    OK(hipMemset(d1, 13, N));
    OK(hipStreamSynchronize(hipStreamLegacy));
    CHECK(all_are(d1, 13, N));
    OK(hipMemset(d1, 14, N));
    OK(hipDeviceSynchronize());
    CHECK(all_are(d1, 14, N));
    OK(hipMemset(d1, 15, N));
    OK(hipStreamQuery(NULL));
    CHECK(all_are(d1, 15, N));

    /* Not waits for it: another stream's synchronize or query, blocking or not (the deferred work is the null
       stream's; a stream waits for it only by queuing work after it). */
    OK(hipMemset(d1, 16, N));
    OK(hipStreamSynchronize(nonblocking));
    OK(hipStreamQuery(nonblocking));
    OK(hipStreamSynchronize(blocking));
    OK(hipStreamSynchronize(hipStreamPerThread));
    CHECK(all_are(d1, 15, N) && hipffmTest_pendingWork() == 1);
    /* ... nor work queued on a non-blocking stream, which runs before it (not ordered with the null stream) */
    OK(hipMemcpyAsync(pin, d1, N, hipMemcpyDeviceToHost, nonblocking));
    OK(hipMemsetAsync(d2, 17, N, nonblocking));
    OK(hipMemsetD32Async(d2, 0x11111111, 1, nonblocking));
    CHECK(all_are(pin, 15, N) && hipffmTest_pendingWork() == 1);
    /* Work queued on a blocking stream runs it first. */
    OK(hipMemcpyAsync(pin, d1, N, hipMemcpyDeviceToHost, blocking));
    CHECK(all_are(pin, 16, N) && hipffmTest_pendingWork() == 0);
    OK(hipMemset(d1, 18, N));
    OK(hipMemsetD8Async(d2, 0, 1, hipStreamPerThread));
    CHECK(all_are(d1, 18, N));
    OK(hipMemset(d1, 19, N));
    OK(hipMemcpyDtoDAsync(d2, d1, 1, NULL));
    CHECK(all_are(d1, 19, N) && d2[0] == 19);
    OK(hipMemset(d1, 20, N));
    OK(hipMemcpyWithStream(pin, d1, N, hipMemcpyDefault, NULL));
    CHECK(all_are(pin, 20, N));
    OK(hipMemset(d1, 21, N));
    OK(hipMemcpyWithStream(pin, d1, N, hipMemcpyDefault, nonblocking)); /* not ordered: the old bytes */
    CHECK(all_are(pin, 20, N) && hipffmTest_pendingWork() == 1);
    OK(hipDeviceSynchronize());

    /* Events: recorded on the null stream or a blocking stream after the work, they complete after it. */
    hipEvent_t before = NULL, after = NULL, other = NULL;
    OK(hipEventCreate(&before));
    OK(hipEventCreate(&after));
    OK(hipEventCreate(&other));
    OK(hipEventRecord(before, NULL));
    OK(hipMemset(d1, 22, N));
    OK(hipEventRecord(after, NULL));
    OK(hipMemset(d2, 23, N));
    OK(hipEventRecord(other, nonblocking));
    OK(hipEventSynchronize(before));
    OK(hipEventSynchronize(other));
    CHECK(all_are(d1, 21, N) && hipffmTest_pendingWork() == 2);
    OK(hipEventSynchronize(after)); /* runs the work up to the record, not the later fill */
    CHECK(all_are(d1, 22, N) && !all_are(d2, 23, N) && hipffmTest_pendingWork() == 1);
    OK(hipEventRecord(after, blocking));
    OK(hipEventQuery(after));
    CHECK(all_are(d2, 23, N) && hipffmTest_pendingWork() == 0);
    OK(hipMemset(d1, 24, N));
    OK(hipEventRecord(after, NULL));
    OK(hipStreamWaitEvent(nonblocking, after, 0)); /* the stream's later work waits for it */
    CHECK(all_are(d1, 24, N));
    OK(hipMemset(d1, 25, N));
    OK(hipEventRecord(other, nonblocking));
    OK(hipEventQuery(other));
    OK(hipStreamWaitEvent(blocking, other, 0));
    CHECK(all_are(d1, 24, N) && hipffmTest_pendingWork() == 1);
    OK(hipEventDestroy(before));
    OK(hipEventDestroy(after));
    OK(hipEventDestroy(other));

    /* A launch on the null stream or a blocking stream comes after it; on a non-blocking stream, not. */
    hipModule_t mod = NULL;
    hipFunction_t inc = NULL;
    OK(hipModuleLoadData(&mod, "hipffm-test-module\nincrement\n"));
    OK(hipModuleGetFunction(&inc, mod, "increment"));
    long long one = 1;
    void* args[] = {&d1, &one};
    OK(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, nonblocking, args, NULL));
    CHECK(d1[0] == 25 && hipffmTest_pendingWork() == 1); /* 24 + 1, the fill still to come */
    OK(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL));
    CHECK(d1[0] == 26 && d1[1] == 25 && hipffmTest_pendingWork() == 0); /* the fill (25), then + 1 */
    OK(hipMemset(d1, 27, N));
    OK(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, blocking, args, NULL));
    CHECK(d1[0] == 28 && d1[1] == 27);
    OK(hipModuleUnload(mod));

    /* A semaphore signalled on the null stream is signalled after it. */
    int sfd = make_memfd(8);
    hipExternalSemaphoreHandleDesc sd;
    memset(&sd, 0, sizeof sd);
    sd.type = hipExternalSemaphoreHandleTypeTimelineSemaphoreFd;
    sd.handle.fd = sfd;
    hipExternalSemaphore_t sem = NULL;
    OK(hipImportExternalSemaphore(&sem, &sd));
    hipExternalSemaphoreSignalParams sp;
    memset(&sp, 0, sizeof sp);
    sp.params.fence.value = 1;
    OK(hipMemset(d1, 29, N));
    OK(hipSignalExternalSemaphoresAsync(&sem, &sp, 1, nonblocking));
    CHECK(all_are(d1 + 1, 27, N - 1) && hipffmTest_pendingWork() == 1);
    sp.params.fence.value = 2;
    OK(hipSignalExternalSemaphoresAsync(&sem, &sp, 1, NULL));
    CHECK(all_are(d1, 29, N));
    OK(hipDestroyExternalSemaphore(sem));
    close(sfd);

    /* Freeing memory runs it first (deferred work may touch it), even memory it does not touch. */
    OK(hipMemset(d1, 30, N));
    OK(hipHostFree(pin));
    CHECK(all_are(d1, 30, N));
    OK(hipMemcpy(d2, d1, N, hipMemcpyDefault));
    OK(hipFree(d1));
    CHECK(all_are(d2, 30, N));

    /* Mapped external memory is device memory: read through the fd, deferred work is not done yet. */
    int fd = make_memfd(2 * 4096);
    hipExternalMemoryHandleDesc md = mem_desc(fd, 2 * 4096);
    hipExternalMemory_t mem = NULL;
    OK(hipImportExternalMemory(&mem, &md));
    hipExternalMemoryBufferDesc bd = buf_desc(0, 4096);
    unsigned char* buf = NULL;
    OK(hipExternalMemoryGetMappedBuffer((void**)&buf, mem, &bd));
    unsigned char rd[N];
    OK(hipMemcpy(buf, d2, N, hipMemcpyDefault)); /* device to mapped */
    CHECK(pread(fd, rd, N, 0) == N && all_are(rd, 0, N) && hipffmTest_pendingWork() == 1);
    OK(hipStreamSynchronize(NULL));
    CHECK(pread(fd, rd, N, 0) == N && all_are(rd, 30, N));
    OK(hipMemset(buf, 31, N));
    OK(hipMemcpy(d2, buf, N, hipMemcpyDefault)); /* mapped to device */
    CHECK(pread(fd, rd, N, 0) == N && all_are(rd, 30, N) && hipffmTest_pendingWork() == 2);
    OK(hipFree(buf)); /* runs it */
    CHECK(pread(fd, rd, N, 0) == N && all_are(rd, 31, N) && all_are(d2, 31, N));

    /* Array copies from or to device memory are deferred, from or to host memory not. A 16x4 level of bytes. */
    hipExternalMemoryMipmappedArrayDesc ad;
    memset(&ad, 0, sizeof ad);
    ad.offset = 4096;
    ad.formatDesc.x = 8;
    ad.formatDesc.f = hipChannelFormatKindUnsigned;
    ad.extent.width = 16;
    ad.extent.height = 4;
    ad.numLevels = 1;
    hipMipmappedArray_t mip = NULL;
    hipArray_t lv = NULL;
    OK(hipExternalMemoryGetMappedMipmappedArray(&mip, mem, &ad));
    OK(hipGetMipmappedArrayLevel(&lv, mip, 0));
    OK(hipMemcpy2DToArray(lv, 0, 0, d2, 16, 16, 4, hipMemcpyDeviceToDevice));
    CHECK(pread(fd, rd, 64, 4096) == 64 && all_are(rd, 0, 64) && hipffmTest_pendingWork() == 1);
    OK(hipStreamSynchronize(NULL));
    CHECK(pread(fd, rd, 64, 4096) == 64 && all_are(rd, 31, 64));
    memset(pageable, 32, N);
    OK(hipMemcpy2DToArray(lv, 0, 1, pageable, 16, 16, 1, hipMemcpyHostToDevice)); /* from the host: done */
    CHECK(pread(fd, rd, 64, 4096) == 64 && all_are(rd + 16, 32, 16) && hipffmTest_pendingWork() == 0);
    OK(hipMemcpy2DFromArray(d2, 16, lv, 0, 0, 16, 4, hipMemcpyDeviceToDevice)); /* into device memory: deferred */
    CHECK(all_are(d2, 31, 64) && hipffmTest_pendingWork() == 1);
    OK(hipMemcpy2DFromArray(pageable, 16, lv, 0, 0, 16, 2, hipMemcpyDeviceToHost)); /* to the host: done, after */
    CHECK(all_are(d2 + 16, 32, 16) && all_are(pageable + 16, 32, 16) && hipffmTest_pendingWork() == 0);
    OK(hipMemset(d2, 33, N));
    struct hipMemcpy3DParms p3;
    memset(&p3, 0, sizeof p3);
    p3.srcPtr = make_hipPitchedPtr(d2, 16, 16, 4);
    p3.dstArray = lv;
    p3.dstPos = make_hipPos(0, 2, 0);
    p3.extent = make_hipExtent(16, 2, 1);
    p3.kind = hipMemcpyDeviceToDevice;
    OK(hipMemcpy3D(&p3)); /* rows 2 and 3 from device memory: deferred, after the fill */
    CHECK(pread(fd, rd, 64, 4096) == 64 && all_are(rd + 32, 31, 32) && hipffmTest_pendingWork() == 2);
    OK(hipFreeMipmappedArray(mip)); /* runs it */
    CHECK(pread(fd, rd, 64, 4096) == 64 && all_are(rd + 32, 33, 32) && hipffmTest_pendingWork() == 0);
    OK(hipExternalMemoryGetMappedMipmappedArray(&mip, mem, &ad));
    OK(hipGetMipmappedArrayLevel(&lv, mip, 0));
    OK(hipMemset(d2, 34, N));
    memset(&p3, 0, sizeof p3);
    p3.srcArray = lv;
    p3.dstPtr = make_hipPitchedPtr(pageable, 16, 16, 4);
    p3.extent = make_hipExtent(16, 4, 1);
    p3.kind = hipMemcpyDeviceToHost;
    OK(hipMemcpy3D(&p3)); /* to the host: done, after the fill */
    CHECK(all_are(d2, 34, N) && all_are(pageable + 32, 33, 32));
    p3.dstPtr = make_hipPitchedPtr(d2, 16, 16, 4);
    OK(hipMemcpy3D(&p3)); /* into device memory: deferred */
    CHECK(all_are(d2, 34, N) && hipffmTest_pendingWork() == 1);
    OK(hipDestroyExternalMemory(mem)); /* runs it */
    CHECK(all_are(d2 + 32, 33, 32) && hipffmTest_pendingWork() == 0);
    OK(hipFreeMipmappedArray(mip));

    /* A mapped GL buffer is device memory; unmapping and unregistering run the deferred work. */
    hipffmTest_glSetContext(1);
    CHECK(hipffmTest_glDefineBuffer(77, 64) == 0);
    hipGraphicsResource_t res = NULL;
    OK(hipGraphicsGLRegisterBuffer(&res, 77, 0));
    OK(hipGraphicsMapResources(1, &res, nonblocking));
    unsigned char* glp = NULL;
    size_t glsize = 0;
    OK(hipGraphicsResourceGetMappedPointer((void**)&glp, &glsize, res));
    OK(hipMemcpy(glp, d2 + 64, 64, hipMemcpyDefault)); /* d2 past the level copied into it: 34s */
    CHECK(hipffmTest_glBufferData(77, 0, rd, 64) == 64 && all_are(rd, 0, 64) && hipffmTest_pendingWork() == 1);
    OK(hipGraphicsUnmapResources(1, &res, nonblocking));
    CHECK(hipffmTest_glBufferData(77, 0, rd, 64) == 64 && all_are(rd, 34, 64));
    OK(hipGraphicsMapResources(1, &res, NULL));
    OK(hipGraphicsResourceGetMappedPointer((void**)&glp, &glsize, res));
    OK(hipMemset(glp, 35, 64));
    CHECK(hipffmTest_glBufferData(77, 0, rd, 64) == 64 && all_are(rd, 34, 64));
    OK(hipGraphicsUnregisterResource(res));
    CHECK(hipffmTest_glBufferData(77, 0, rd, 64) == 64 && all_are(rd, 35, 64));
    CHECK(hipffmTest_glDelete(77) == 0);
    hipffmTest_glSetContext(0);

    /* An injected fault queues nothing; a refused call neither. */
    hipffmTest_failNext("hipMemset", hipErrorOutOfMemory, 0);
    EXPECT(hipMemset(d2, 36, N), hipErrorOutOfMemory);
    EXPECT(hipMemcpy(d2, d2, N, (hipMemcpyKind)77), hipErrorInvalidMemcpyDirection);
    EXPECT(hipMemcpy(d2, NULL, N, hipMemcpyDefault), hipErrorInvalidValue);
    CHECK(hipffmTest_pendingWork() == 0);

    OK(hipStreamDestroy(blocking));
    OK(hipStreamDestroy(nonblocking));
    OK(hipFree(d2));
    close(fd);
    CHECK(hipffmTest_liveObjects("all") == 0 && hipffmTest_pendingWork() == 0);
    (void)hipGetLastError();
}

/* ---------------------------------------------------------------------------------------------- */
/* Modules and kernel launch                                                                        */

static const char k_image[] = "hipffm-test-module\nscale_add\nincrement\nfill_u32\nnoop\ncustom\nincrement\n";

static void check_last_launch(long gx, long gy, long gz, long bx, long by, long bz, long shm) {
    long want[7] = {gx, gy, gz, bx, by, bz, shm};
    for (int i = 0; i < 7; i++) {
        long got = hipffmTest_lastLaunch(i);
        if (got != want[i]) fprintf(stderr, "lastLaunch(%d) = %ld, expected %ld\n", i, got, want[i]);
        CHECK(got == want[i]);
    }
}

static void test_modules(void) {
    hipModule_t mod = NULL;
    OK(hipModuleLoadData(&mod, k_image));
    CHECK(mod != NULL && hipffmTest_liveObjects("module") == 1);

    /* Images that are not test images, and bad arguments; the out-parameter stays untouched. */
    hipModule_t bad = (hipModule_t)0x77;
    EXPECT(hipModuleLoadData(&bad, ""), hipErrorInvalidImage);
    EXPECT(hipModuleLoadData(&bad, "hipffm-test-modulex\nincrement\n"), hipErrorInvalidImage);
    EXPECT(hipModuleLoadData(&bad, " hipffm-test-module\n"), hipErrorInvalidImage);
    EXPECT(hipModuleLoadData(&bad, "\177ELF\2\1\1"), hipErrorInvalidImage);
    EXPECT(hipModuleLoadData(&bad, NULL), hipErrorInvalidValue);
    EXPECT(hipModuleLoadData(NULL, k_image), hipErrorInvalidValue);
    CHECK(bad == (hipModule_t)0x77 && hipffmTest_liveObjects("module") == 1);

    /* The magic line alone: a module without kernels. CRLF line ends are accepted. */
    hipModule_t empty = NULL, crlf = NULL;
    OK(hipModuleLoadData(&empty, "hipffm-test-module"));
    hipFunction_t f = (hipFunction_t)0x99;
    EXPECT(hipModuleGetFunction(&f, empty, "increment"), hipErrorNotFound);
    CHECK(f == (hipFunction_t)0x99);
    OK(hipModuleLoadData(&crlf, "hipffm-test-module\r\nincrement\r\n\r\nnoop"));
    OK(hipModuleGetFunction(&f, crlf, "increment"));
    OK(hipModuleGetFunction(&f, crlf, "noop"));
    EXPECT(hipModuleGetFunction(&f, crlf, "increment\r"), hipErrorNotFound);
    CHECK(hipffmTest_liveObjects("module") == 3);

    hipFunction_t scale = NULL, inc = NULL, inc2 = NULL, fill = NULL, noop = NULL, custom = NULL;
    OK(hipModuleGetFunction(&scale, mod, "scale_add"));
    OK(hipModuleGetFunction(&inc, mod, "increment"));
    OK(hipModuleGetFunction(&inc2, mod, "increment"));
    CHECK(inc == inc2 && inc != scale);
    OK(hipModuleGetFunction(&fill, mod, "fill_u32"));
    OK(hipModuleGetFunction(&noop, mod, "noop"));
    OK(hipModuleGetFunction(&custom, mod, "custom"));
    EXPECT(hipModuleGetFunction(&f, mod, "missing"), hipErrorNotFound);
    EXPECT(hipModuleGetFunction(&f, mod, "scale"), hipErrorNotFound);
    EXPECT(hipModuleGetFunction(&f, mod, ""), hipErrorInvalidValue);
    EXPECT(hipModuleGetFunction(&f, mod, NULL), hipErrorInvalidValue);
    EXPECT(hipModuleGetFunction(NULL, mod, "noop"), hipErrorInvalidValue);
    EXPECT(hipModuleGetFunction(&f, NULL, "noop"), hipErrorInvalidHandle);
    EXPECT(hipModuleGetFunction(&f, (hipModule_t)(void*)&f, "noop"), hipErrorInvalidHandle);

    /* scale_add over 2 blocks of 4 threads: 8 of the 10 elements. */
    float* x = NULL;
    OK(hipMalloc((void**)&x, 16 * sizeof(float)));
    float host[16];
    for (int i = 0; i < 16; i++) host[i] = (float)i;
    OK(hipMemcpy(x, host, sizeof host, hipMemcpyHostToDevice));
    float a = 2.0f, b = 0.5f;
    long long n = 10;
    void* sargs[] = {&x, &a, &b, &n};
    OK(hipModuleLaunchKernel(scale, 2, 1, 1, 4, 1, 1, 0, NULL, sargs, NULL));
    OK(hipMemcpy(host, x, sizeof host, hipMemcpyDeviceToHost));
    int ok = 1;
    for (int i = 0; i < 16; i++) ok &= host[i] == (i < 8 ? (float)i * 2.0f + 0.5f : (float)i);
    CHECK(ok);
    check_last_launch(2, 1, 1, 4, 1, 1, 0);
    /* A grid larger than n: stops at n. */
    n = 3;
    OK(hipModuleLaunchKernel(scale, 64, 1, 1, 64, 1, 1, 0, hipStreamPerThread, sargs, NULL));
    OK(hipMemcpy(host, x, sizeof host, hipMemcpyDeviceToHost));
    CHECK(host[2] == (2.0f * 2.0f + 0.5f) * 2.0f + 0.5f && host[3] == 3.0f * 2.0f + 0.5f && host[9] == 9.0f);

    /* increment is 1-D: the y/z extent of the grid does not repeat it. */
    unsigned* u = NULL;
    OK(hipMalloc((void**)&u, 8 * sizeof(unsigned)));
    n = 5;
    void* iargs[] = {&u, &n};
    OK(hipModuleLaunchKernel(inc, 1, 2, 3, 2, 1, 1, 128, NULL, iargs, NULL));
    unsigned uh[8];
    OK(hipMemcpy(uh, u, sizeof uh, hipMemcpyDeviceToHost));
    CHECK(uh[0] == 1 && uh[1] == 1 && uh[2] == 0 && uh[4] == 0);
    check_last_launch(1, 2, 3, 2, 1, 1, 128);
    hipStream_t s = NULL;
    OK(hipStreamCreate(&s));
    OK(hipModuleLaunchKernel(inc, 3, 1, 1, 2, 4, 2, 0, s, iargs, NULL)); /* 6 threads cover all 5 */
    OK(hipMemcpy(uh, u, sizeof uh, hipMemcpyDeviceToHost));
    CHECK(uh[0] == 2 && uh[1] == 2 && uh[2] == 1 && uh[4] == 1 && uh[5] == 0);
    check_last_launch(3, 1, 1, 2, 4, 2, 0);

    /* fill_u32 into host memory from hipHostMalloc. */
    unsigned* hm = NULL;
    OK(hipHostMalloc((void**)&hm, 64 * sizeof(unsigned), 0));
    unsigned value = 0xA5A5F00Du;
    n = 64;
    void* fargs[] = {&hm, &value, &n};
    OK(hipModuleLaunchKernel(fill, 16, 1, 1, 2, 1, 1, 0, NULL, fargs, NULL));
    CHECK(hm[0] == value && hm[31] == value && hm[32] == 0);

    /* A kernel without arguments may have no kernelParams. */
    OK(hipModuleLaunchKernel(noop, 1, 1, 1, 1024, 1, 1, 65536, NULL, NULL, NULL));
    OK(hipModuleLaunchKernel(noop, 0x7FFFFFFF, 65536, 65536, 1, 1, 1, 0, NULL, NULL, NULL));
    check_last_launch(0x7FFFFFFF, 65536, 65536, 1, 1, 1, 0);

    /* Validation; nothing runs and the last launch stays. */
    n = 5;
    EXPECT(hipModuleLaunchKernel(custom, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL), hipErrorInvalidDeviceFunction);
    EXPECT(hipModuleLaunchKernel(inc, 0, 1, 1, 1, 1, 1, 0, NULL, iargs, NULL), hipErrorInvalidConfiguration);
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 0, 1, 1, 1, 0, NULL, iargs, NULL), hipErrorInvalidConfiguration);
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 0, 1, 0, NULL, iargs, NULL), hipErrorInvalidConfiguration);
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 32, 32, 2, 0, NULL, iargs, NULL), hipErrorInvalidConfiguration);
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 1025, 1, 1, 0, NULL, iargs, NULL), hipErrorInvalidConfiguration);
    EXPECT(hipModuleLaunchKernel(inc, 0x7FFFFFFF, 1, 1, 4, 1, 1, 0, NULL, iargs, NULL),
           hipErrorInvalidConfiguration);
    EXPECT(hipModuleLaunchKernel(inc, 0x80000000u, 1, 1, 1, 1, 1, 0, NULL, iargs, NULL), hipErrorInvalidValue);
    EXPECT(hipModuleLaunchKernel(inc, 1, 65537, 1, 1, 1, 1, 0, NULL, iargs, NULL), hipErrorInvalidValue);
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 65537, NULL, iargs, NULL), hipErrorInvalidValue);
    void* extra[] = {HIP_LAUNCH_PARAM_END};
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, extra), hipErrorInvalidValue);
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, NULL, iargs, extra), hipErrorInvalidValue);
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL), hipErrorInvalidValue);
    void* holey[] = {&u, NULL};
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, NULL, holey, NULL), hipErrorInvalidValue);
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, (hipStream_t)(void*)&n, iargs, NULL),
           hipErrorInvalidValue);
    EXPECT(hipModuleLaunchKernel(NULL, 1, 1, 1, 1, 1, 1, 0, NULL, iargs, NULL), hipErrorInvalidHandle);
    EXPECT(hipModuleLaunchKernel((hipFunction_t)(void*)&n, 1, 1, 1, 1, 1, 1, 0, NULL, iargs, NULL),
           hipErrorInvalidHandle);
    /* Memory the device cannot reach: nothing is written, not even the part that is reachable. */
    unsigned stack_buf[4] = {0, 0, 0, 0};
    unsigned* sp = stack_buf;
    void* stack_args[] = {&sp, &n};
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 4, 1, 1, 0, NULL, stack_args, NULL), hipErrorIllegalAddress);
    CHECK(stack_buf[0] == 0);
    n = 9; /* u holds 8 */
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 16, 1, 1, 0, NULL, iargs, NULL), hipErrorIllegalAddress);
    OK(hipMemcpy(uh, u, sizeof uh, hipMemcpyDeviceToHost));
    CHECK(uh[0] == 2 && uh[7] == 0);
    n = 8; /* exactly to the end */
    OK(hipModuleLaunchKernel(inc, 1, 1, 1, 16, 1, 1, 0, NULL, iargs, NULL));
    OK(hipMemcpy(uh, u, sizeof uh, hipMemcpyDeviceToHost));
    CHECK(uh[0] == 3 && uh[7] == 1);
    unsigned* nullp = NULL;
    long long zero = 0;
    void* nothing[] = {&nullp, &zero};
    OK(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, NULL, nothing, NULL)); /* touches nothing */
    nothing[0] = &sp;
    zero = -5;
    OK(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, NULL, nothing, NULL));
    check_last_launch(1, 1, 1, 1, 1, 1, 0);
    CHECK(hipffmTest_lastLaunch(7) == -1 && hipffmTest_lastLaunch(-1) == -1);

    /* Injected failure: no effect, counted. */
    long before = hipffmTest_callCount("hipModuleLaunchKernel");
    hipffmTest_failNext("hipModuleLaunchKernel", hipErrorLaunchFailure, 0);
    n = 8;
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 8, 1, 1, 0, NULL, iargs, NULL), hipErrorLaunchFailure);
    OK(hipMemcpy(uh, u, sizeof uh, hipMemcpyDeviceToHost));
    CHECK(uh[0] == 3);
    CHECK(hipffmTest_callCount("hipModuleLaunchKernel") == before + 1);
    hipffmTest_failNext("hipModuleLoadData", hipErrorOutOfMemory, 0);
    bad = (hipModule_t)0x77;
    EXPECT(hipModuleLoadData(&bad, k_image), hipErrorOutOfMemory);
    CHECK(bad == (hipModule_t)0x77 && hipffmTest_liveObjects("module") == 3);
    hipffmTest_failNext("hipModuleUnload", hipErrorUnknown, 0);
    EXPECT(hipModuleUnload(empty), hipErrorUnknown);
    CHECK(hipffmTest_liveObjects("module") == 3);

    /* Unloading kills the module's functions. */
    OK(hipModuleUnload(mod));
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, NULL, iargs, NULL), hipErrorInvalidHandle);
    EXPECT(hipModuleLaunchKernel(noop, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL), hipErrorInvalidHandle);
    EXPECT(hipModuleGetFunction(&f, mod, "noop"), hipErrorInvalidHandle);
    EXPECT(hipModuleUnload(mod), hipErrorInvalidHandle);
    EXPECT(hipModuleUnload(NULL), hipErrorInvalidHandle);
    OK(hipModuleUnload(empty));
    OK(hipModuleUnload(crlf));
    CHECK(hipffmTest_liveObjects("module") == 0);

    /* hipModuleLoad reads the image from a file. */
    char path[] = "/tmp/hipffm-selftest-module-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    static const char text[] = "hipffm-test-module\nfill_u32\n";
    CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    close(fd);
    OK(hipModuleLoad(&mod, path));
    OK(hipModuleGetFunction(&fill, mod, "fill_u32"));
    value = 7;
    n = 8;
    void* fargs2[] = {&u, &value, &n};
    OK(hipModuleLaunchKernel(fill, 1, 1, 1, 8, 1, 1, 0, NULL, fargs2, NULL));
    OK(hipMemcpy(uh, u, sizeof uh, hipMemcpyDeviceToHost));
    CHECK(uh[0] == 7 && uh[7] == 7);
    OK(hipModuleUnload(mod));
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    bad = (hipModule_t)0x77;
    EXPECT(hipModuleLoad(&bad, path), hipErrorInvalidImage); /* empty file */
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(write(fd, "not a module\n", 13) == 13);
    close(fd);
    EXPECT(hipModuleLoad(&bad, path), hipErrorInvalidImage);
    unlink(path);
    EXPECT(hipModuleLoad(&bad, path), hipErrorFileNotFound);
    EXPECT(hipModuleLoad(&bad, "/"), hipErrorFileNotFound);
    EXPECT(hipModuleLoad(&bad, NULL), hipErrorInvalidValue);
    EXPECT(hipModuleLoad(NULL, "/dev/null"), hipErrorInvalidValue);
    CHECK(bad == (hipModule_t)0x77);

    OK(hipStreamDestroy(s));
    OK(hipFree(x));
    OK(hipFree(u));
    OK(hipHostFree(hm));
    CHECK(hipffmTest_liveObjects("all") == 0);
    (void)hipGetLastError();
}

/* ---------------------------------------------------------------------------------------------- */
/* OpenGL interop                                                                                   */

static void* gl_devices_thread(void* arg) {
    (void)arg;
    unsigned count = 0;
    int dev = -1;
    return (void*)(intptr_t)hipGLGetDevices(&count, &dev, 1, hipGLDeviceListAll);
}

static void test_gl(void) {
    enum { BUF = 7, TEX = 9, BUF2 = 11, WD = 12, RO = 13 };
    unsigned count = 99;
    int devs[2] = {-1, -1};
    hipGraphicsResource_t buf = NULL, img = NULL, img2 = NULL, buf2 = NULL;

    /* No current GL context. */
    hipffmTest_glSetContext(0);
    CHECK(hipffmTest_glDefineBuffer(BUF, 64) == 0);
    CHECK(hipffmTest_glDefineTexture(TEX, GL_TEXTURE_2D_, 8, 4, 3, 4) == 0);
    EXPECT(hipGLGetDevices(&count, devs, 2, hipGLDeviceListAll), hipErrorInvalidValue);
    EXPECT(hipGraphicsGLRegisterBuffer(&buf, BUF, 0), hipErrorInvalidValue);
    EXPECT(hipGraphicsGLRegisterImage(&img, TEX, GL_TEXTURE_2D_, 0), hipErrorInvalidValue);
    CHECK(count == 99 && buf == NULL && img == NULL);

    hipffmTest_glSetContext(1);
    OK(hipGLGetDevices(&count, devs, 2, hipGLDeviceListAll));
    CHECK(count == 1 && devs[0] == 0 && devs[1] == -1);
    OK(hipGLGetDevices(&count, devs, 1, hipGLDeviceListCurrentFrame));
    EXPECT(hipGLGetDevices(&count, devs, 1, hipGLDeviceListNextFrame), hipErrorNotSupported);
    EXPECT(hipGLGetDevices(&count, devs, 1, (hipGLDeviceList)7), hipErrorInvalidValue);
    EXPECT(hipGLGetDevices(&count, devs, 0, hipGLDeviceListAll), hipErrorInvalidValue);
    EXPECT(hipGLGetDevices(NULL, devs, 1, hipGLDeviceListAll), hipErrorInvalidValue);
    EXPECT(hipGLGetDevices(&count, NULL, 1, hipGLDeviceListAll), hipErrorInvalidValue);
    /* The context is per thread. */
    pthread_t t;
    void* tr = NULL;
    pthread_create(&t, NULL, gl_devices_thread, NULL);
    pthread_join(t, &tr);
    CHECK((intptr_t)tr == hipErrorInvalidValue);

    /* Fake GL objects. */
    CHECK(hipffmTest_glDefineBuffer(0, 64) == -1);
    CHECK(hipffmTest_glDefineBuffer(BUF2, 0) == -1);
    CHECK(hipffmTest_glDefineTexture(BUF2, 0x0DE0, 8, 4, 1, 4) == -1);
    CHECK(hipffmTest_glDefineTexture(BUF2, GL_TEXTURE_2D_, 8, 4, 5, 4) == -1); /* 8x4 has 4 levels */
    CHECK(hipffmTest_glDefineTexture(BUF2, GL_TEXTURE_2D_, 8, 4, 1, 3) == -1);
    CHECK(hipffmTest_glDefineTexture(BUF2, GL_TEXTURE_2D_, 0, 4, 1, 4) == -1);
    CHECK(hipffmTest_glDefineTexture(BUF2, GL_TEXTURE_2D_, 0x7FFFFFFF, 0x7FFFFFFF, 1, 16) == -1); /* too big */
    CHECK(hipffmTest_glDefineTexture(BUF2, GL_TEXTURE_2D_, 65536, 65536, 1, 1) == -1);       /* > 1 GiB */
    CHECK(hipffmTest_glDefineBuffer(BUF2, 32) == 0);
    CHECK(hipffmTest_liveObjects("glObject") == 3);
    unsigned char pattern[64], back[64];
    for (int i = 0; i < 64; i++) pattern[i] = (unsigned char)(i + 1);
    CHECK(hipffmTest_glWriteBuffer(BUF, 0, pattern, 64) == 64);
    CHECK(hipffmTest_glWriteBuffer(BUF, 1, pattern, 64) == -1);
    CHECK(hipffmTest_glWriteBuffer(BUF, 64, pattern, 0) == 0);
    CHECK(hipffmTest_glWriteBuffer(TEX, 0, pattern, 4) == -1);
    CHECK(hipffmTest_glWriteBuffer(99, 0, pattern, 4) == -1);
    CHECK(hipffmTest_glBufferData(BUF, 60, back, 4) == 4 && memcmp(back, pattern + 60, 4) == 0);
    CHECK(hipffmTest_glBufferData(BUF, -1, back, 4) == -1);
    CHECK(hipffmTest_glTextureData(TEX, 3, back, 4) == -1);
    CHECK(hipffmTest_glTextureData(TEX, 2, back, 9) == -1); /* level 2 is 2x1 texels of 4 bytes */
    CHECK(hipffmTest_glTextureData(TEX, 2, back, 8) == 8 && back[0] == 0);
    CHECK(hipffmTest_glTextureData(BUF, 0, back, 4) == -1);

    /* Register. */
    OK(hipGraphicsGLRegisterBuffer(&buf, BUF, hipGraphicsRegisterFlagsNone));
    OK(hipGraphicsGLRegisterImage(&img, TEX, GL_TEXTURE_2D_, hipGraphicsRegisterFlagsNone));
    OK(hipGraphicsGLRegisterImage(&img2, TEX, GL_TEXTURE_2D_, hipGraphicsRegisterFlagsSurfaceLoadStore));
    hipGraphicsResource_t x = (hipGraphicsResource_t)0x5;
    EXPECT(hipGraphicsGLRegisterBuffer(&x, TEX, 0), hipErrorInvalidValue);
    EXPECT(hipGraphicsGLRegisterBuffer(&x, 99, 0), hipErrorInvalidValue);
    EXPECT(hipGraphicsGLRegisterBuffer(&x, 0, 0), hipErrorInvalidValue);
    EXPECT(hipGraphicsGLRegisterBuffer(&x, BUF, 3), hipErrorInvalidValue);
    EXPECT(hipGraphicsGLRegisterBuffer(&x, BUF, hipGraphicsRegisterFlagsSurfaceLoadStore), hipErrorInvalidValue);
    EXPECT(hipGraphicsGLRegisterBuffer(NULL, BUF, 0), hipErrorInvalidValue);
    EXPECT(hipGraphicsGLRegisterImage(&x, BUF, GL_TEXTURE_2D_, 0), hipErrorInvalidValue);
    EXPECT(hipGraphicsGLRegisterImage(&x, TEX, 0x8C1A, 0), hipErrorInvalidValue); /* GL_TEXTURE_2D_ARRAY */
    EXPECT(hipGraphicsGLRegisterImage(&x, TEX, GL_TEXTURE_2D_, 16), hipErrorInvalidValue);
    EXPECT(hipGraphicsGLRegisterImage(&x, TEX, GL_TEXTURE_2D_, 5), hipErrorInvalidValue);
    EXPECT(hipGraphicsGLRegisterImage(NULL, TEX, GL_TEXTURE_2D_, 0), hipErrorInvalidValue);
    CHECK(x == (hipGraphicsResource_t)0x5);
    CHECK(hipffmTest_liveObjects("graphicsResource") == 3 && hipffmTest_liveObjects("graphicsMapping") == 0);
    CHECK(hipffmTest_glDelete(BUF) == -1 && hipffmTest_glDefineBuffer(BUF, 8) == -1); /* registered */
    CHECK(hipffmTest_glDefineTexture(TEX, GL_TEXTURE_2D_, 2, 2, 1, 4) == -1);

    /* Not mapped yet. */
    void* p = NULL;
    size_t size = 0;
    hipArray_t arr = NULL;
    EXPECT(hipGraphicsResourceGetMappedPointer(&p, &size, buf), hipErrorNotMapped);
    EXPECT(hipGraphicsSubResourceGetMappedArray(&arr, img, 0, 0), hipErrorNotMapped);
    hipGraphicsResource_t pair[2] = {buf, img};
    EXPECT(hipGraphicsUnmapResources(2, pair, NULL), hipErrorNotMapped);

    /* Map. */
    OK(hipGraphicsMapResources(2, pair, NULL));
    CHECK(hipffmTest_liveObjects("graphicsMapping") == 2);
    EXPECT(hipGraphicsMapResources(1, &buf, NULL), hipErrorAlreadyMapped);
    hipGraphicsResource_t mixed[2] = {img2, buf}; /* all or nothing: img2 stays unmapped */
    EXPECT(hipGraphicsMapResources(2, mixed, NULL), hipErrorAlreadyMapped);
    EXPECT(hipGraphicsSubResourceGetMappedArray(&arr, img2, 0, 0), hipErrorNotMapped);
    hipGraphicsResource_t twice[2] = {img2, img2};
    EXPECT(hipGraphicsMapResources(2, twice, NULL), hipErrorAlreadyMapped);
    hipGraphicsResource_t unknown[2] = {img2, (hipGraphicsResource_t)(void*)&size};
    EXPECT(hipGraphicsMapResources(2, unknown, NULL), hipErrorInvalidHandle);
    EXPECT(hipGraphicsMapResources(1, &img2, (hipStream_t)(void*)&size), hipErrorInvalidHandle);
    EXPECT(hipGraphicsMapResources(-1, &img2, NULL), hipErrorInvalidValue);
    EXPECT(hipGraphicsMapResources(1, NULL, NULL), hipErrorInvalidValue);
    OK(hipGraphicsMapResources(0, NULL, NULL));
    CHECK(hipffmTest_liveObjects("graphicsMapping") == 2);

    /* The mapped buffer is the GL buffer's memory. */
    OK(hipGraphicsResourceGetMappedPointer(&p, &size, buf));
    CHECK(p != NULL && size == 64 && memcmp(p, pattern, 64) == 0);
    OK(hipGraphicsResourceGetMappedPointer(&p, NULL, buf));
    EXPECT(hipGraphicsResourceGetMappedPointer(NULL, &size, buf), hipErrorInvalidValue);
    EXPECT(hipGraphicsResourceGetMappedPointer(&p, &size, NULL), hipErrorInvalidValue);
    EXPECT(hipGraphicsResourceGetMappedPointer(&p, &size, img), hipErrorNotMappedAsPointer);
    EXPECT(hipGraphicsResourceGetMappedPointer(&p, &size, (hipGraphicsResource_t)(void*)&p), hipErrorInvalidHandle);
    OK(hipMemsetD8(p, 0x3C, 4)); /* a mapped GL buffer is device memory: deferred */
    CHECK(hipffmTest_glBufferData(BUF, 0, back, 8) == 8 && back[3] == 4 && hipffmTest_pendingWork() == 1);
    OK(hipStreamSynchronize(NULL));
    CHECK(hipffmTest_glBufferData(BUF, 0, back, 8) == 8 && back[3] == 0x3C && back[4] == 5);
    /* ... and kernels may use it while it is mapped. */
    hipModule_t mod = NULL;
    hipFunction_t inc = NULL;
    OK(hipModuleLoadData(&mod, "hipffm-test-module\nincrement\n"));
    OK(hipModuleGetFunction(&inc, mod, "increment"));
    long long n = 16;
    void* iargs[] = {&p, &n};
    OK(hipModuleLaunchKernel(inc, 1, 1, 1, 64, 1, 1, 0, NULL, iargs, NULL));
    uint32_t w0 = 0;
    CHECK(hipffmTest_glBufferData(BUF, 60, &w0, 4) == 4);
    uint32_t want;
    memcpy(&want, pattern + 60, 4);
    CHECK(w0 == want + 1);
    n = 17;
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 64, 1, 1, 0, NULL, iargs, NULL), hipErrorIllegalAddress);

    /* The texture's level arrays. */
    EXPECT(hipGraphicsSubResourceGetMappedArray(&arr, buf, 0, 0), hipErrorNotMappedAsArray);
    EXPECT(hipGraphicsSubResourceGetMappedArray(&arr, img, 1, 0), hipErrorInvalidValue);
    EXPECT(hipGraphicsSubResourceGetMappedArray(&arr, img, 0, 3), hipErrorInvalidValue);
    EXPECT(hipGraphicsSubResourceGetMappedArray(NULL, img, 0, 0), hipErrorInvalidValue);
    EXPECT(hipGraphicsSubResourceGetMappedArray(&arr, NULL, 0, 0), hipErrorInvalidValue);
    EXPECT(hipGraphicsSubResourceGetMappedArray(&arr, (hipGraphicsResource_t)(void*)&p, 0, 0),
           hipErrorInvalidHandle);
    hipArray_t l1 = NULL, l2 = NULL;
    OK(hipGraphicsSubResourceGetMappedArray(&l1, img, 0, 1));
    OK(hipGraphicsSubResourceGetMappedArray(&l2, img, 0, 2));
    hipChannelFormatDesc cd;
    hipExtent ex;
    unsigned fl = 99;
    OK(hipArrayGetInfo(&cd, &ex, &fl, l1));
    CHECK(ex.width == 4 && ex.height == 2 && ex.depth == 0 && fl == 0);
    CHECK(cd.x == 8 && cd.y == 8 && cd.z == 8 && cd.w == 8 && cd.f == hipChannelFormatKindUnsigned);
    unsigned char texels[32];
    for (int i = 0; i < 32; i++) texels[i] = (unsigned char)(0x80 + i);
    OK(hipMemcpy2DToArray(l1, 0, 0, texels, 16, 16, 2, hipMemcpyHostToDevice));
    CHECK(hipffmTest_glTextureData(TEX, 1, back, 32) == 32 && memcmp(back, texels, 32) == 0);
    CHECK(hipffmTest_glTextureData(TEX, 0, back, 4) == 4 && back[0] == 0);
    EXPECT(hipMemcpy2DToArray(l1, 0, 1, texels, 16, 16, 2, hipMemcpyHostToDevice), hipErrorInvalidValue);
    CHECK(hipffmTest_glWriteTexture(TEX, 2, "ABCDEFGH", 8) == 8);
    memset(back, 0, sizeof back);
    OK(hipMemcpy2DFromArray(back, 8, l2, 0, 0, 8, 1, hipMemcpyDeviceToHost));
    CHECK(memcmp(back, "ABCDEFGH", 8) == 0);

    /* Unmap: the pointer and arrays go. */
    OK(hipGraphicsUnmapResources(2, pair, NULL));
    CHECK(hipffmTest_liveObjects("graphicsMapping") == 0);
    EXPECT(hipArrayGetInfo(&cd, &ex, &fl, l1), hipErrorInvalidHandle);
    EXPECT(hipMemcpy2DFromArray(back, 8, l2, 0, 0, 8, 1, hipMemcpyDeviceToHost), hipErrorInvalidHandle);
    EXPECT(hipGraphicsResourceGetMappedPointer(&p, &size, buf), hipErrorNotMapped);
    n = 1;
    EXPECT(hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, NULL, iargs, NULL), hipErrorIllegalAddress);
    EXPECT(hipGraphicsUnmapResources(1, &buf, NULL), hipErrorNotMapped);
    EXPECT(hipGraphicsUnmapResources(1, &buf, (hipStream_t)(void*)&p), hipErrorInvalidHandle);
    OK(hipModuleUnload(mod));

    /* Map on a stream; map again after an unmap. SurfaceLoadStore shows in the array flags. */
    hipStream_t s = NULL;
    OK(hipStreamCreate(&s));
    OK(hipGraphicsMapResources(1, &img2, s));
    OK(hipGraphicsSubResourceGetMappedArray(&arr, img2, 0, 0));
    OK(hipArrayGetInfo(NULL, &ex, &fl, arr));
    CHECK(ex.width == 8 && ex.height == 4 && fl == hipArraySurfaceLoadStore);
    OK(hipGraphicsUnmapResources(1, &img2, s));
    OK(hipGraphicsMapResources(1, &img2, s));
    OK(hipStreamDestroy(s));

    /* WriteDiscard: the contents are garbage after the map. ReadOnly: they are kept. */
    CHECK(hipffmTest_glDefineBuffer(WD, 16) == 0 && hipffmTest_glDefineBuffer(RO, 16) == 0);
    CHECK(hipffmTest_glWriteBuffer(WD, 0, pattern, 16) == 16 && hipffmTest_glWriteBuffer(RO, 0, pattern, 16) == 16);
    hipGraphicsResource_t wd = NULL, ro = NULL;
    OK(hipGraphicsGLRegisterBuffer(&wd, WD, hipGraphicsRegisterFlagsWriteDiscard));
    OK(hipGraphicsGLRegisterBuffer(&ro, RO, hipGraphicsRegisterFlagsReadOnly));
    CHECK(hipffmTest_glBufferData(WD, 0, back, 16) == 16 && memcmp(back, pattern, 16) == 0); /* not before */
    hipGraphicsResource_t both[2] = {wd, ro};
    OK(hipGraphicsMapResources(2, both, NULL));
    CHECK(hipffmTest_glBufferData(WD, 0, back, 16) == 16 && back[0] == 0xDD && back[15] == 0xDD);
    CHECK(hipffmTest_glBufferData(RO, 0, back, 16) == 16 && memcmp(back, pattern, 16) == 0);

    /* Injected failure: nothing mapped. */
    hipffmTest_failNext("hipGraphicsMapResources", hipErrorUnknown, 0);
    EXPECT(hipGraphicsMapResources(1, &buf, NULL), hipErrorUnknown);
    CHECK(hipffmTest_liveObjects("graphicsMapping") == 3);
    hipffmTest_failNext("hipGraphicsGLRegisterBuffer", hipErrorOutOfMemory, 0);
    EXPECT(hipGraphicsGLRegisterBuffer(&buf2, BUF2, 0), hipErrorOutOfMemory);
    CHECK(buf2 == NULL && hipffmTest_liveObjects("graphicsResource") == 5);

    /* Unregistering a mapped resource unmaps it. */
    OK(hipGraphicsUnregisterResource(img2));
    CHECK(hipffmTest_liveObjects("graphicsMapping") == 2 && hipffmTest_liveObjects("graphicsResource") == 4);
    EXPECT(hipGraphicsUnregisterResource(img2), hipErrorInvalidHandle);
    EXPECT(hipGraphicsUnregisterResource(NULL), hipErrorInvalidValue);
    EXPECT(hipArrayGetInfo(NULL, &ex, NULL, arr), hipErrorInvalidHandle);
    OK(hipGraphicsUnregisterResource(wd));
    OK(hipGraphicsUnregisterResource(ro));
    OK(hipGraphicsUnregisterResource(buf));
    CHECK(hipffmTest_glDelete(TEX) == -1); /* img still registered */
    OK(hipGraphicsUnregisterResource(img));
    EXPECT(hipGraphicsMapResources(1, &img, NULL), hipErrorInvalidHandle);
    CHECK(hipffmTest_liveObjects("graphicsResource") == 0 && hipffmTest_liveObjects("graphicsMapping") == 0);

    /* Once unregistered, GL objects may be redefined and deleted. */
    CHECK(hipffmTest_glDefineBuffer(BUF, 8) == 0);
    CHECK(hipffmTest_glBufferData(BUF, 0, back, 8) == 8 && back[0] == 0);
    CHECK(hipffmTest_glDefineTexture(BUF, GL_TEXTURE_2D_, 1, 1, 1, 16) == 0); /* one name space */
    EXPECT(hipGraphicsGLRegisterBuffer(&buf, BUF, 0), hipErrorInvalidValue);
    CHECK(hipffmTest_liveObjects("glObject") == 5);
    static const unsigned names[] = {BUF, TEX, BUF2, WD, RO};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) CHECK(hipffmTest_glDelete(names[i]) == 0);
    CHECK(hipffmTest_glDelete(BUF) == -1);
    CHECK(hipffmTest_liveObjects("glObject") == 0);
    CHECK(hipffmTest_liveObjects("all") == 0);
    hipffmTest_glSetContext(0);
    (void)hipGetLastError();
}

static hipExternalSemaphoreHandleDesc sem_desc(hipExternalSemaphoreHandleType type, int fd) {
    hipExternalSemaphoreHandleDesc d;
    memset(&d, 0, sizeof d);
    d.type = type;
    d.handle.fd = fd;
    return d;
}

static hipExternalSemaphoreSignalParams sig(unsigned long long value) {
    hipExternalSemaphoreSignalParams p;
    memset(&p, 0, sizeof p);
    p.params.fence.value = value;
    return p;
}

static hipExternalSemaphoreWaitParams wt(unsigned long long value) {
    hipExternalSemaphoreWaitParams p;
    memset(&p, 0, sizeof p);
    p.params.fence.value = value;
    return p;
}

struct delayed_signal {
    hipExternalSemaphore_t sem;
    unsigned long long value;
};

static void* signal_later(void* arg) {
    struct delayed_signal* ds = arg;
    sleep_ms(100);
    hipExternalSemaphoreSignalParams p = sig(ds->value);
    return (void*)(intptr_t)hipSignalExternalSemaphoresAsync(&ds->sem, &p, 1, NULL);
}

static void test_semaphores(void) {
    int fd = make_memfd(4096);
    hipExternalSemaphoreHandleDesc d = sem_desc(hipExternalSemaphoreHandleTypeTimelineSemaphoreFd, fd);
    hipExternalSemaphore_t tl = NULL, bin = NULL;
    OK(hipImportExternalSemaphore(&tl, &d));
    d = sem_desc(hipExternalSemaphoreHandleTypeOpaqueFd, fd);
    OK(hipImportExternalSemaphore(&bin, &d));
    CHECK(hipffmTest_liveObjects("externalSemaphore") == 2);
    CHECK(fd_open(fd));

    hipExternalSemaphoreSignalParams sp = sig(5);
    hipExternalSemaphoreWaitParams wp = wt(3);
    OK(hipSignalExternalSemaphoresAsync(&tl, &sp, 1, NULL));
    OK(hipWaitExternalSemaphoresAsync(&tl, &wp, 1, NULL));
    wp = wt(5);
    OK(hipWaitExternalSemaphoresAsync(&tl, &wp, 1, NULL));
    sp = sig(2); /* timeline never goes back */
    OK(hipSignalExternalSemaphoresAsync(&tl, &sp, 1, NULL));
    OK(hipWaitExternalSemaphoresAsync(&tl, &wp, 1, NULL));

    /* A waiter blocks until another thread signals. */
    struct delayed_signal ds = {tl, 10};
    pthread_t t;
    pthread_create(&t, NULL, signal_later, &ds);
    wp = wt(10);
    double t0 = now_ms();
    OK(hipWaitExternalSemaphoresAsync(&tl, &wp, 1, NULL));
    double waited = now_ms() - t0;
    CHECK(waited >= 50 && waited < 900);
    void* tr = NULL;
    pthread_join(t, &tr);
    CHECK((intptr_t)tr == hipSuccess);

    /* Nobody signals: gives up after about one second. */
    wp = wt(20);
    t0 = now_ms();
    EXPECT(hipWaitExternalSemaphoresAsync(&tl, &wp, 1, NULL), hipErrorNotReady);
    waited = now_ms() - t0;
    CHECK(waited >= 900 && waited < 3000);

    sp = sig(30);
    sp.flags = 1;
    EXPECT(hipSignalExternalSemaphoresAsync(&tl, &sp, 1, NULL), hipErrorInvalidValue);
    wp = wt(1);
    wp.flags = 1;
    EXPECT(hipWaitExternalSemaphoresAsync(&tl, &wp, 1, NULL), hipErrorInvalidValue);
    sp = sig(30);
    EXPECT(hipSignalExternalSemaphoresAsync(NULL, &sp, 1, NULL), hipErrorInvalidValue);
    EXPECT(hipSignalExternalSemaphoresAsync(&tl, NULL, 1, NULL), hipErrorInvalidValue);
    OK(hipSignalExternalSemaphoresAsync(NULL, NULL, 0, NULL));
    hipExternalSemaphore_t bogus = (hipExternalSemaphore_t)&sp;
    EXPECT(hipSignalExternalSemaphoresAsync(&bogus, &sp, 1, NULL), hipErrorInvalidHandle);
    wp = wt(1);
    EXPECT(hipWaitExternalSemaphoresAsync(&bogus, &wp, 1, NULL), hipErrorInvalidHandle);
    EXPECT(hipSignalExternalSemaphoresAsync(&tl, &sp, 1, (hipStream_t)(void*)&sp), hipErrorInvalidHandle);
    hipStream_t s = NULL;
    OK(hipStreamCreate(&s));
    OK(hipSignalExternalSemaphoresAsync(&tl, &sp, 1, s));
    OK(hipStreamDestroy(s));

    /* Binary: a signal is consumed by one wait. */
    sp = sig(0);
    wp = wt(0);
    OK(hipSignalExternalSemaphoresAsync(&bin, &sp, 1, NULL));
    OK(hipWaitExternalSemaphoresAsync(&bin, &wp, 1, NULL));
    EXPECT(hipWaitExternalSemaphoresAsync(&bin, &wp, 1, NULL), hipErrorNotReady);

    /* Several at once. */
    hipExternalSemaphore_t both[2] = {tl, bin};
    hipExternalSemaphoreSignalParams sps[2] = {sig(40), sig(0)};
    hipExternalSemaphoreWaitParams wps[2] = {wt(40), wt(0)};
    OK(hipSignalExternalSemaphoresAsync(both, sps, 2, NULL));
    OK(hipWaitExternalSemaphoresAsync(both, wps, 2, NULL));

    /* Import validation. */
    hipExternalSemaphore_t x = (hipExternalSemaphore_t)0x42;
    d = sem_desc(hipExternalSemaphoreHandleTypeOpaqueFd, 0);
    EXPECT(hipImportExternalSemaphore(&x, &d), hipErrorInvalidValue);
    d = sem_desc(hipExternalSemaphoreHandleTypeOpaqueFd, -3);
    EXPECT(hipImportExternalSemaphore(&x, &d), hipErrorInvalidValue);
    int closed = dup(fd);
    close(closed);
    d = sem_desc(hipExternalSemaphoreHandleTypeTimelineSemaphoreFd, closed);
    EXPECT(hipImportExternalSemaphore(&x, &d), hipErrorInvalidValue);
    d = sem_desc(hipExternalSemaphoreHandleTypeD3D12Fence, fd);
    EXPECT(hipImportExternalSemaphore(&x, &d), hipErrorNotSupported);
    d = sem_desc(hipExternalSemaphoreHandleTypeOpaqueWin32, fd);
    EXPECT(hipImportExternalSemaphore(&x, &d), hipErrorNotSupported);
    EXPECT(hipImportExternalSemaphore(NULL, &d), hipErrorInvalidValue);
    EXPECT(hipImportExternalSemaphore(&x, NULL), hipErrorInvalidValue);
    CHECK(x == (hipExternalSemaphore_t)0x42);

    OK(hipDestroyExternalSemaphore(tl));
    EXPECT(hipDestroyExternalSemaphore(tl), hipErrorInvalidHandle);
    EXPECT(hipSignalExternalSemaphoresAsync(&tl, &sp, 1, NULL), hipErrorInvalidHandle);
    OK(hipDestroyExternalSemaphore(bin));
    EXPECT(hipDestroyExternalSemaphore(NULL), hipErrorInvalidHandle);
    CHECK(hipffmTest_liveObjects("externalSemaphore") == 0);
    CHECK(fd_open(fd));
    close(fd);
    (void)hipGetLastError();
}

static void test_fault_injection(void) {
    hipffmTest_reset();
    hipffmTest_resetCallCounts();
    CHECK(hipffmTest_isTestRuntime() == 1);
    CHECK(hipffmTest_callCount("hipMalloc") == 0);

    /* skip = 1: the second next call fails, without side effects. */
    hipffmTest_failNext("hipMalloc", hipErrorOutOfMemory, 1);
    void *a = NULL, *b = (void*)0x1, *c = NULL;
    OK(hipMalloc(&a, 64));
    EXPECT(hipMalloc(&b, 64), hipErrorOutOfMemory);
    CHECK(b == (void*)0x1);
    EXPECT(hipPeekAtLastError(), hipErrorOutOfMemory);
    (void)hipGetLastError();
    OK(hipMalloc(&c, 64));
    CHECK(hipffmTest_callCount("hipMalloc") == 3);
    CHECK(hipffmTest_liveObjects("memory") == 2);
    OK(hipFree(a));
    OK(hipFree(c));

    /* Several armed at once, on different functions and on the same one. */
    int fd = make_memfd(MIB);
    hipExternalMemoryHandleDesc d = mem_desc(fd, MIB);
    hipExternalMemory_t mem = NULL;
    OK(hipImportExternalMemory(&mem, &d));
    hipffmTest_failNext("hipExternalMemoryGetMappedBuffer", hipErrorOutOfMemory, 0);
    hipffmTest_failNext("hipExternalMemoryGetMappedBuffer", hipErrorMapFailed, 1);
    hipffmTest_failNext("hipDestroyExternalMemory", hipErrorUnknown, 0);
    hipExternalMemoryBufferDesc bd = buf_desc(0, 4096);
    void* p = (void*)0x2;
    EXPECT(hipExternalMemoryGetMappedBuffer(&p, mem, &bd), hipErrorOutOfMemory);
    EXPECT(hipExternalMemoryGetMappedBuffer(&p, mem, &bd), hipErrorMapFailed);
    CHECK(p == (void*)0x2);
    CHECK(hipffmTest_liveObjects("mappedBuffer") == 0);
    OK(hipExternalMemoryGetMappedBuffer(&p, mem, &bd));
    OK(hipFree(p));
    EXPECT(hipDestroyExternalMemory(mem), hipErrorUnknown);
    CHECK(hipffmTest_liveObjects("externalMemory") == 1); /* the failed destroy did nothing */
    OK(hipDestroyExternalMemory(mem));
    CHECK(hipffmTest_callCount("hipExternalMemoryGetMappedBuffer") == 3);
    CHECK(hipffmTest_callCount("hipDestroyExternalMemory") == 2);
    CHECK(hipffmTest_callCount("hipImportExternalMemory") == 1);
    CHECK(hipffmTest_callCount("hipStreamCreate") == 0);
    CHECK(hipffmTest_callCount("noSuchFunction") == 0);
    CHECK(hipffmTest_callCount(NULL) == 0);

    /* Import fails: nothing mapped, fd untouched. */
    hipffmTest_failNext("hipImportExternalMemory", hipErrorInvalidValue, 0);
    hipExternalMemory_t m2 = (hipExternalMemory_t)0x3;
    EXPECT(hipImportExternalMemory(&m2, &d), hipErrorInvalidValue);
    CHECK(m2 == (hipExternalMemory_t)0x3 && hipffmTest_liveObjects("mapping") == 0 && fd_open(fd));

    /* Every function goes through the check; hipGetLastError too. */
    hipffmTest_failNext("hipGetDeviceCount", hipErrorNoDevice, 0);
    int n = 7;
    EXPECT(hipGetDeviceCount(&n), hipErrorNoDevice);
    CHECK(n == 7);
    hipffmTest_failNext("hipGetDevicePropertiesR0600", hipErrorInvalidDevice, 0);
    hipDeviceProp_t props;
    EXPECT(hipGetDeviceProperties(&props, 0), hipErrorInvalidDevice);
    hipffmTest_failNext("hipStreamSynchronize", hipErrorLaunchFailure, 0);
    EXPECT(hipStreamSynchronize(NULL), hipErrorLaunchFailure);
    (void)hipGetLastError();

    /* reset disarms everything. */
    hipffmTest_failNext("hipFree", hipErrorUnknown, 0);
    hipffmTest_failNext("hipInit", hipErrorUnknown, 2);
    hipffmTest_reset();
    OK(hipFree(NULL));
    for (int i = 0; i < 4; i++) OK(hipInit(0));
    long before = hipffmTest_callCount("hipGetErrorName");
    (void)hipGetErrorName(hipSuccess);
    CHECK(hipffmTest_callCount("hipGetErrorName") == before + 1);
    hipffmTest_failNext(NULL, 1, 0); /* ignored */
    CHECK(hipffmTest_liveObjects("bogus-kind") == -1);
    close(fd);
    (void)hipGetLastError();
}

/* 8 threads import / map / write / free / destroy concurrently, plus streams, events, semaphores, modules,
   launches and GL resources. */
#define THREADS 8
#define ROUNDS 200
#define SHARED_GL_BUFFER 500

struct worker {
    int fd;
    int id;
    int errors;
};

static void* worker_main(void* arg) {
    struct worker* w = arg;
    hipffmTest_glSetContext(1);
    for (int r = 0; r < ROUNDS; r++) {
        hipExternalMemoryHandleDesc d = mem_desc(w->fd, 64 * 1024);
        hipExternalMemory_t mem = NULL;
        hipExternalMemoryBufferDesc bd = buf_desc((unsigned long long)w->id * 4096, 4096);
        void* p = NULL;
        hipStream_t s = NULL;
        hipEvent_t e = NULL;
        hipExternalSemaphore_t sem = NULL;
        hipExternalSemaphoreHandleDesc sd = sem_desc(hipExternalSemaphoreHandleTypeTimelineSemaphoreFd, w->fd);
        hipExternalSemaphoreSignalParams sp = sig((unsigned long long)r + 1);
        hipExternalSemaphoreWaitParams wp = wt((unsigned long long)r + 1);
        if (hipImportExternalMemory(&mem, &d) != hipSuccess) w->errors++;
        if (hipExternalMemoryGetMappedBuffer(&p, mem, &bd) != hipSuccess) w->errors++;
        if (hipMemsetD32(p, w->id * 1000 + r, 1024) != hipSuccess) w->errors++;
        if (hipStreamCreate(&s) != hipSuccess || hipEventCreate(&e) != hipSuccess) w->errors++;
        if (hipEventRecord(e, s) != hipSuccess || hipStreamSynchronize(s) != hipSuccess) w->errors++;
        if (hipImportExternalSemaphore(&sem, &sd) != hipSuccess) w->errors++;
        if (hipSignalExternalSemaphoresAsync(&sem, &sp, 1, s) != hipSuccess) w->errors++;
        if (hipWaitExternalSemaphoresAsync(&sem, &wp, 1, s) != hipSuccess) w->errors++;
        if (r % 2 == 0) {
            if (hipDestroyExternalMemory(mem) != hipSuccess || hipFree(p) != hipSuccess) w->errors++;
        } else {
            if (hipFree(p) != hipSuccess || hipDestroyExternalMemory(mem) != hipSuccess) w->errors++;
        }
        /* (no double-destroy here: another thread may already have been given the same address) */
        if (hipDestroyExternalSemaphore(sem) != hipSuccess) w->errors++;
        if (hipEventDestroy(e) != hipSuccess || hipStreamDestroy(s) != hipSuccess) w->errors++;
        uint32_t v = 0;
        if (pread(w->fd, &v, 4, (off_t)w->id * 4096 + 4092) != 4 || v != (uint32_t)(w->id * 1000 + r)) w->errors++;

        /* A module of its own, and a resource of its own on the shared GL buffer: increments its element. */
        hipModule_t mod = NULL;
        hipFunction_t inc = NULL;
        hipGraphicsResource_t res = NULL;
        void* gp = NULL;
        size_t gsize = 0;
        if (hipModuleLoadData(&mod, "hipffm-test-module\nincrement\n") != hipSuccess) w->errors++;
        if (hipModuleGetFunction(&inc, mod, "increment") != hipSuccess) w->errors++;
        if (hipGraphicsGLRegisterBuffer(&res, SHARED_GL_BUFFER, 0) != hipSuccess) w->errors++;
        if (hipGraphicsMapResources(1, &res, NULL) != hipSuccess) w->errors++;
        if (hipGraphicsResourceGetMappedPointer(&gp, &gsize, res) != hipSuccess || gsize != THREADS * 4) w->errors++;
        unsigned* mine = (unsigned*)gp + w->id;
        long long one = 1;
        void* args[] = {&mine, &one};
        if (hipModuleLaunchKernel(inc, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL) != hipSuccess) w->errors++;
        if (hipGraphicsUnmapResources(1, &res, NULL) != hipSuccess) w->errors++;
        if (hipGraphicsUnregisterResource(res) != hipSuccess || hipModuleUnload(mod) != hipSuccess) w->errors++;
    }
    return NULL;
}

static void test_threads(void) {
    int fd = make_memfd(64 * 1024);
    CHECK(hipffmTest_glDefineBuffer(SHARED_GL_BUFFER, THREADS * 4) == 0);
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){fd, i, 0};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    int errors = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        errors += w[i].errors;
    }
    CHECK(errors == 0);
    CHECK(hipffmTest_liveObjects("all") == 0);
    unsigned counts[THREADS];
    CHECK(hipffmTest_glBufferData(SHARED_GL_BUFFER, 0, counts, sizeof counts) == (long)sizeof counts);
    for (int i = 0; i < THREADS; i++) CHECK(counts[i] == ROUNDS);
    CHECK(hipffmTest_glDelete(SHARED_GL_BUFFER) == 0);
    CHECK(fd_open(fd));
    close(fd);
    (void)hipGetLastError();
}

/* Peer access between the two fake devices: allowed after enable, in that direction only. */
static void test_peer_access(void) {
    int can = -1;
    OK(hipDeviceCanAccessPeer(&can, 0, 0));
    CHECK(can == 0);
    EXPECT(hipDeviceCanAccessPeer(&can, 0, 1), hipErrorInvalidDevice); /* one device */
    hipffmTest_setDeviceCount(2);
    OK(hipDeviceCanAccessPeer(&can, 0, 1));
    CHECK(can == 1);
    EXPECT(hipDeviceCanAccessPeer(NULL, 0, 1), hipErrorInvalidValue);
    OK(hipSetDevice(1));
    void* m1 = NULL;
    OK(hipMalloc(&m1, 64));
    OK(hipSetDevice(0));
    EXPECT(hipMemsetAsync(m1, 1, 64, NULL), hipErrorInvalidValue); /* gpu0's work, gpu1's memory */
    EXPECT(hipDeviceDisablePeerAccess(1), hipErrorPeerAccessNotEnabled);
    EXPECT(hipDeviceEnablePeerAccess(0, 0), hipErrorInvalidDevice);     /* the current device */
    EXPECT(hipDeviceEnablePeerAccess(2, 0), hipErrorInvalidDevice);
    EXPECT(hipDeviceEnablePeerAccess(1, 1), hipErrorInvalidValue);
    OK(hipDeviceEnablePeerAccess(1, 0));
    EXPECT(hipDeviceEnablePeerAccess(1, 0), hipErrorPeerAccessAlreadyEnabled);
    OK(hipMemsetAsync(m1, 1, 64, NULL));
    OK(hipStreamSynchronize(NULL));
    OK(hipSetDevice(1));
    void* m0 = NULL;
    OK(hipSetDevice(0));
    OK(hipMalloc(&m0, 64));
    OK(hipSetDevice(1));
    EXPECT(hipMemsetAsync(m0, 1, 64, NULL), hipErrorInvalidValue);      /* not the other way */
    OK(hipSetDevice(0));
    OK(hipDeviceDisablePeerAccess(1));
    EXPECT(hipMemsetAsync(m1, 1, 64, NULL), hipErrorInvalidValue);
    OK(hipDeviceEnablePeerAccess(1, 0));
    hipffmTest_setDeviceCount(2);                                          /* clears peer access */
    EXPECT(hipMemsetAsync(m1, 1, 64, NULL), hipErrorInvalidValue);
    OK(hipFree(m0));
    OK(hipFree(m1));
    hipffmTest_reset();
    (void)hipGetLastError();
    hipffmTest_setDeviceCount(1);
}

int main(void) {
    test_errors();
    test_last_error_per_thread();
    test_device();
    test_peer_access();
    test_memory();
    test_streams_events();
    test_external_memory();
    test_mipmapped();
    test_deferred_work();
    test_semaphores();
    test_modules();
    test_gl();
    test_fault_injection();
    test_threads();

    static const char* kinds[] = {"memory", "externalMemory", "mappedBuffer", "mipmappedArray", "externalSemaphore",
                                  "stream", "event", "mapping", "module", "graphicsResource",
                                  "graphicsMapping", "glObject", "all"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) CHECK(hipffmTest_liveObjects(kinds[i]) == 0);
    CHECK(hipffmTest_liveObjects(NULL) == 0);

    return selftest_summary();
}
