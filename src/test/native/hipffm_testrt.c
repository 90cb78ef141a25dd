/*
 * hipffm_testrt.c - a TEST DOUBLE of the HIP runtime (libamdhip64) for hip-ffm's tests.
 *
 * THIS IS NOT A HIP RUNTIME AND TALKS TO NO GPU. It implements a small subset of the HIP runtime ABI
 * (the functions the hip-ffm Java layer calls) over ordinary host memory and file descriptors, so that
 * the Java bindings can be exercised end-to-end in CI on machines without a GPU: "device" memory is
 * host memory, external memory is an mmap(2) of the imported fd, external semaphores are 64-bit
 * counters, streams and events are bookkeeping objects and every operation completes synchronously.
 * Whatever it returns says nothing about how the real runtime behaves beyond the few rules copied
 * from ROCm clr on purpose (named below); real-runtime behaviour is verified on a GPU separately.
 *
 * ABI: every HIP function here is defined with exactly the prototype of the pinned ROCm headers
 * (<hip/hip_runtime_api.h>, compiled with -D__HIP_PLATFORM_AMD__), so the jextract bindings that
 * were generated from the same headers call it unchanged; the compiler checks each definition
 * against the header's declaration.
 *
 * Test hooks, not HIP API (prefix hipffmTest_, called by the Java tests through FFM):
 *   int  hipffmTest_isTestRuntime(void)                             -> 1
 *   long hipffmTest_liveObjects(const char* kind)                   live-object counters
 *   void hipffmTest_failNext(const char* fn, int error, int skip)   fault injection
 *   void hipffmTest_reset(void)                                     disarm all injected faults
 *   long hipffmTest_callCount(const char* fn)                       calls of a HIP function so far
 *   void hipffmTest_resetCallCounts(void)                           zero all call counters
 *
 * Rules kept from clr on purpose: hipImportExternalMemory / hipImportExternalSemaphore never close the
 * fd (the caller keeps ownership) and reject fd 0; a buffer mapped from external memory must be
 * released with hipFree and holds a reference on the external memory (destroying the memory while
 * mapped buffers live succeeds, the unmap is deferred to the last hipFree); signal/wait parameters
 * must have flags == 0; only failing calls set the per-thread last error, hipGetLastError resets it.
 *
 * Thread safety: one mutex guards all registries; the polling in hipWaitExternalSemaphoresAsync sleeps
 * without holding it. Handles are validated against the registries before they are dereferenced, so
 * an unknown or destroyed handle yields an error code instead of a crash.
 */
#define _GNU_SOURCE
#include <hip/hip_runtime_api.h>
#include <hip/hip_version.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------------ */
/* Test hooks (exported)                                                                              */

int hipffmTest_isTestRuntime(void);
long hipffmTest_liveObjects(const char* kind);
void hipffmTest_failNext(const char* function, int error, int skip);
void hipffmTest_reset(void);
long hipffmTest_callCount(const char* function);
void hipffmTest_resetCallCounts(void);

/* ------------------------------------------------------------------------------------------------ */
/* Fake device                                                                                        */

#define TOTAL_MEM ((size_t)1 << 30) /* 1 GiB */
#define DEVICE_NAME "hip-ffm test runtime"
#define DEVICE_PCI_BUS_ID "0000:00:00.0"
#define DEVICE_ARCH "gfx942"
#define MALLOC_ALIGN 256

/* ------------------------------------------------------------------------------------------------ */
/* Last error (per thread) and call accounting / fault injection                                     */

static __thread hipError_t t_last_error = hipSuccess;

/* Every HIP function returns through this: a failing call records its code as the last error. */
static hipError_t ret(hipError_t e) {
    if (e != hipSuccess) t_last_error = e;
    return e;
}

#define FN_MAX 256
#define ARM_MAX 64
#define FN_NAME_MAX 96

struct fn_count {
    const char* name; /* __func__ of a HIP function: a string with static storage */
    long calls;
};

struct armed_fault {
    int active;
    char name[FN_NAME_MAX];
    hipError_t error;
    long countdown; /* calls to let through before failing */
};

static pthread_mutex_t g_hook_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fn_count g_fn[FN_MAX];
static int g_fn_n;
static struct armed_fault g_armed[ARM_MAX];

/* Counts the call and tells whether an armed fault fires for it (then *err is the code to return). */
static int hook_enter(const char* fn, hipError_t* err) {
    int fired = 0;
    pthread_mutex_lock(&g_hook_lock);
    int i;
    for (i = 0; i < g_fn_n; i++) {
        if (strcmp(g_fn[i].name, fn) == 0) break;
    }
    if (i == g_fn_n && g_fn_n < FN_MAX) g_fn[g_fn_n++].name = fn;
    if (i < FN_MAX) g_fn[i].calls++;
    for (int a = 0; a < ARM_MAX; a++) {
        struct armed_fault* f = &g_armed[a];
        if (!f->active || strcmp(f->name, fn) != 0) continue;
        if (f->countdown > 0) {
            f->countdown--;
        } else if (!fired) { /* one fault per call; another one due now fires on the next call */
            fired = 1;
            *err = f->error;
            f->active = 0;
        }
    }
    pthread_mutex_unlock(&g_hook_lock);
    return fired;
}

/* First statement of every HIP function: count the call, fail it without side effects if armed. */
#define API_ENTER()                                                                                  \
    do {                                                                                             \
        hipError_t injected_;                                                                        \
        if (hook_enter(__func__, &injected_)) return ret(injected_);                                 \
    } while (0)

/* For the functions that return no hipError_t (hipGetErrorName/String): counted, never failed. */
static void hook_count_only(const char* fn) {
    pthread_mutex_lock(&g_hook_lock);
    int i;
    for (i = 0; i < g_fn_n; i++) {
        if (strcmp(g_fn[i].name, fn) == 0) break;
    }
    if (i == g_fn_n && g_fn_n < FN_MAX) g_fn[g_fn_n++].name = fn;
    if (i < FN_MAX) g_fn[i].calls++;
    pthread_mutex_unlock(&g_hook_lock);
}

void hipffmTest_failNext(const char* function, int error, int skip) {
    if (function == NULL) return;
    pthread_mutex_lock(&g_hook_lock);
    for (int a = 0; a < ARM_MAX; a++) {
        struct armed_fault* f = &g_armed[a];
        if (f->active) continue;
        f->active = 1;
        strncpy(f->name, function, FN_NAME_MAX - 1);
        f->name[FN_NAME_MAX - 1] = '\0';
        f->error = (hipError_t)error;
        f->countdown = skip < 0 ? 0 : skip;
        break;
    }
    pthread_mutex_unlock(&g_hook_lock);
}

void hipffmTest_reset(void) {
    pthread_mutex_lock(&g_hook_lock);
    memset(g_armed, 0, sizeof g_armed);
    pthread_mutex_unlock(&g_hook_lock);
}

long hipffmTest_callCount(const char* function) {
    long n = 0;
    if (function == NULL) return 0;
    pthread_mutex_lock(&g_hook_lock);
    for (int i = 0; i < g_fn_n; i++) {
        if (strcmp(g_fn[i].name, function) == 0) {
            n = g_fn[i].calls;
            break;
        }
    }
    pthread_mutex_unlock(&g_hook_lock);
    return n;
}

void hipffmTest_resetCallCounts(void) {
    pthread_mutex_lock(&g_hook_lock);
    for (int i = 0; i < g_fn_n; i++) g_fn[i].calls = 0;
    pthread_mutex_unlock(&g_hook_lock);
}

int hipffmTest_isTestRuntime(void) {
    return 1;
}

/* ------------------------------------------------------------------------------------------------ */
/* Object registries                                                                                  */

enum kind { K_ALLOC, K_EXTMEM, K_MIPMAP, K_SEM, K_STREAM, K_EVENT, K_COUNT };

#define MAGIC_LIVE 0x48495046u /* "HIPF" */
#define MAGIC_DEAD 0xDEADF00Du

struct obj {
    struct obj* prev;
    struct obj* next;
    uint32_t magic;
    enum kind kind;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct obj* g_list[K_COUNT];
static long g_count[K_COUNT];
static long g_mapped_buffers; /* allocations of type A_MAPPED (subset of K_ALLOC) */
static long g_mappings;       /* live mmaps of external memory */
static size_t g_used_bytes;   /* hipMalloc'd bytes + imported (still mapped) external memory */

static void reg_add(struct obj* o, enum kind k) {
    o->kind = k;
    o->magic = MAGIC_LIVE;
    o->prev = NULL;
    o->next = g_list[k];
    if (g_list[k] != NULL) g_list[k]->prev = o;
    g_list[k] = o;
    g_count[k]++;
}

static void reg_del(struct obj* o) {
    if (o->prev != NULL) o->prev->next = o->next;
    else g_list[o->kind] = o->next;
    if (o->next != NULL) o->next->prev = o->prev;
    o->prev = o->next = NULL;
    o->magic = MAGIC_DEAD;
    g_count[o->kind]--;
}

/* The live object of kind k whose address is handle, or NULL; never dereferences handle. */
static struct obj* reg_find(enum kind k, const void* handle) {
    if (handle == NULL) return NULL;
    for (struct obj* o = g_list[k]; o != NULL; o = o->next) {
        if ((const void*)o == handle) return o->magic == MAGIC_LIVE ? o : NULL;
    }
    return NULL;
}

/* --- allocations --- */

enum alloc_type { A_DEVICE, A_HOST, A_MAPPED };

struct extmem;

struct alloc {
    struct obj h;
    void* ptr;
    size_t size;
    enum alloc_type type;
    unsigned flags;
    struct extmem* owner; /* A_MAPPED only */
};

static struct alloc* alloc_find_exact(const void* ptr) {
    for (struct obj* o = g_list[K_ALLOC]; o != NULL; o = o->next) {
        struct alloc* a = (struct alloc*)o;
        if (a->ptr == ptr) return a;
    }
    return NULL;
}

static struct alloc* alloc_find_containing(const void* ptr) {
    uintptr_t p = (uintptr_t)ptr;
    for (struct obj* o = g_list[K_ALLOC]; o != NULL; o = o->next) {
        struct alloc* a = (struct alloc*)o;
        uintptr_t b = (uintptr_t)a->ptr;
        if (p >= b && p - b < (a->size == 0 ? 1 : a->size)) return a;
    }
    return NULL;
}

/* --- external memory --- */

struct extmem {
    struct obj h;
    void* base;
    size_t size;
    int fd; /* not owned: never closed */
    int refs;      /* mapped buffers and mipmapped arrays alive */
    int destroyed; /* hipDestroyExternalMemory done (then no longer in the registry) */
};

/* Unmaps and frees once the handle is destroyed and nothing mapped from it lives. Lock held. */
static void extmem_release_if_unused(struct extmem* e) {
    if (!e->destroyed || e->refs > 0) return;
    munmap(e->base, e->size);
    g_mappings--;
    g_used_bytes -= e->size;
    free(e);
}

static void extmem_unref(struct extmem* e) {
    e->refs--;
    extmem_release_if_unused(e);
}

/* --- mipmapped arrays and their level arrays --- */

struct mipmap;

/* Opaque in the HIP headers (typedef struct hipArray* hipArray_t): the test runtime's own layout. */
struct hipArray {
    uint32_t magic;
    struct mipmap* parent;
    unsigned level;
    unsigned char* data;
    hipExtent extent; /* in elements; 0 height/depth for 1D/2D arrays as given */
    size_t elem_size;
    size_t row_bytes; /* width * elem_size: levels are tightly packed */
    size_t rows;      /* max(1,height) * max(1,depth) */
    hipChannelFormatDesc desc;
    unsigned flags;
};

struct mipmap {
    struct obj h;
    struct hipMipmappedArray pub; /* the handle given out is &pub (the struct is public in driver_types.h) */
    struct extmem* owner;
    unsigned num_levels;
    struct hipArray* levels;
};

static struct mipmap* mipmap_find(const void* handle) {
    if (handle == NULL) return NULL;
    for (struct obj* o = g_list[K_MIPMAP]; o != NULL; o = o->next) {
        struct mipmap* m = (struct mipmap*)o;
        if ((const void*)&m->pub == handle) return m;
    }
    return NULL;
}

static struct hipArray* array_find(const void* handle) {
    if (handle == NULL) return NULL;
    for (struct obj* o = g_list[K_MIPMAP]; o != NULL; o = o->next) {
        struct mipmap* m = (struct mipmap*)o;
        for (unsigned i = 0; i < m->num_levels; i++) {
            if ((const void*)&m->levels[i] == handle) {
                return m->levels[i].magic == MAGIC_LIVE ? &m->levels[i] : NULL;
            }
        }
    }
    return NULL;
}

/* --- semaphores, streams, events --- */

struct sem {
    struct obj h;
    hipExternalSemaphoreHandleType type;
    int fd; /* not owned: never closed */
    uint64_t counter;
};

struct stream {
    struct obj h;
    unsigned flags;
};

struct event {
    struct obj h;
    unsigned flags;
    int recorded;
    struct timespec when;
};

/* NULL (default stream), hipStreamLegacy, hipStreamPerThread or a live stream. Lock held. */
static int stream_valid(hipStream_t s) {
    return s == NULL || s == hipStreamLegacy || s == hipStreamPerThread || reg_find(K_STREAM, s) != NULL;
}

static int stream_ok(hipStream_t s) {
    pthread_mutex_lock(&g_lock);
    int ok = stream_valid(s);
    pthread_mutex_unlock(&g_lock);
    return ok;
}

long hipffmTest_liveObjects(const char* kind) {
    long n = -1;
    pthread_mutex_lock(&g_lock);
    if (kind == NULL || strcmp(kind, "all") == 0) {
        /* Distinct objects: mapped buffers are already part of "memory". */
        n = g_count[K_ALLOC] + g_count[K_EXTMEM] + g_count[K_MIPMAP] + g_count[K_SEM] + g_count[K_STREAM]
            + g_count[K_EVENT] + g_mappings;
    } else if (strcmp(kind, "memory") == 0) {
        n = g_count[K_ALLOC];
    } else if (strcmp(kind, "externalMemory") == 0) {
        n = g_count[K_EXTMEM];
    } else if (strcmp(kind, "mappedBuffer") == 0) {
        n = g_mapped_buffers;
    } else if (strcmp(kind, "mipmappedArray") == 0) {
        n = g_count[K_MIPMAP];
    } else if (strcmp(kind, "externalSemaphore") == 0) {
        n = g_count[K_SEM];
    } else if (strcmp(kind, "stream") == 0) {
        n = g_count[K_STREAM];
    } else if (strcmp(kind, "event") == 0) {
        n = g_count[K_EVENT];
    } else if (strcmp(kind, "mapping") == 0) {
        n = g_mappings;
    }
    pthread_mutex_unlock(&g_lock);
    return n;
}

/* ------------------------------------------------------------------------------------------------ */
/* Errors and versions                                                                                */

/* Primary name of every hipError_t code of the pinned header (aliases share a value). */
#define HIP_ERROR_LIST(X)                                                                            \
    X(hipSuccess, "no error")                                                                        \
    X(hipErrorInvalidValue, "invalid argument")                                                      \
    X(hipErrorOutOfMemory, "out of memory")                                                          \
    X(hipErrorNotInitialized, "initialization error")                                                \
    X(hipErrorDeinitialized, "driver shutting down")                                                 \
    X(hipErrorProfilerDisabled, "profiler disabled while using external profiling tool")             \
    X(hipErrorProfilerNotInitialized, "profiler is not initialized")                                 \
    X(hipErrorProfilerAlreadyStarted, "profiler already started")                                    \
    X(hipErrorProfilerAlreadyStopped, "profiler already stopped")                                    \
    X(hipErrorInvalidConfiguration, "invalid configuration argument")                                \
    X(hipErrorInvalidPitchValue, "invalid pitch argument")                                           \
    X(hipErrorInvalidSymbol, "invalid device symbol")                                                \
    X(hipErrorInvalidDevicePointer, "invalid device pointer")                                        \
    X(hipErrorInvalidMemcpyDirection, "invalid copy direction for memcpy")                           \
    X(hipErrorInsufficientDriver, "driver version is insufficient for runtime version")              \
    X(hipErrorMissingConfiguration, "__global__ function call is not configured")                    \
    X(hipErrorPriorLaunchFailure, "unspecified launch failure in prior launch")                      \
    X(hipErrorInvalidDeviceFunction, "invalid device function")                                      \
    X(hipErrorNoDevice, "no ROCm-capable device is detected")                                        \
    X(hipErrorInvalidDevice, "invalid device ordinal")                                               \
    X(hipErrorInvalidImage, "device kernel image is invalid")                                        \
    X(hipErrorInvalidContext, "invalid device context")                                              \
    X(hipErrorContextAlreadyCurrent, "context already current")                                      \
    X(hipErrorMapFailed, "mapping of buffer object failed")                                          \
    X(hipErrorUnmapFailed, "unmapping of buffer object failed")                                      \
    X(hipErrorArrayIsMapped, "array is mapped")                                                      \
    X(hipErrorAlreadyMapped, "resource already mapped")                                              \
    X(hipErrorNoBinaryForGpu, "no kernel image is available for execution on the device")            \
    X(hipErrorAlreadyAcquired, "resource already acquired")                                          \
    X(hipErrorNotMapped, "resource not mapped")                                                      \
    X(hipErrorNotMappedAsArray, "resource not mapped as array")                                      \
    X(hipErrorNotMappedAsPointer, "resource not mapped as pointer")                                  \
    X(hipErrorECCNotCorrectable, "uncorrectable ECC error encountered")                              \
    X(hipErrorUnsupportedLimit, "limit is not supported on this architecture")                       \
    X(hipErrorContextAlreadyInUse, "exclusive-thread device already in use by a different thread")   \
    X(hipErrorPeerAccessUnsupported, "peer access is not supported between these two devices")       \
    X(hipErrorInvalidKernelFile, "invalid kernel file")                                              \
    X(hipErrorInvalidGraphicsContext, "invalid OpenGL or DirectX context")                           \
    X(hipErrorInvalidSource, "device kernel image is invalid")                                       \
    X(hipErrorFileNotFound, "file not found")                                                        \
    X(hipErrorSharedObjectSymbolNotFound, "shared object symbol not found")                          \
    X(hipErrorSharedObjectInitFailed, "shared object initialization failed")                         \
    X(hipErrorOperatingSystem, "OS call failed or operation not supported on this OS")               \
    X(hipErrorInvalidHandle, "invalid resource handle")                                              \
    X(hipErrorIllegalState, "the operation cannot be performed in the present state")                \
    X(hipErrorNotFound, "named symbol not found")                                                    \
    X(hipErrorNotReady, "device not ready")                                                          \
    X(hipErrorIllegalAddress, "an illegal memory access was encountered")                            \
    X(hipErrorLaunchOutOfResources, "too many resources requested for launch")                       \
    X(hipErrorLaunchTimeOut, "the launch timed out and was terminated")                              \
    X(hipErrorPeerAccessAlreadyEnabled, "peer access is already enabled")                            \
    X(hipErrorPeerAccessNotEnabled, "peer access has not been enabled")                              \
    X(hipErrorSetOnActiveProcess, "cannot set while device is active in this process")               \
    X(hipErrorContextIsDestroyed, "context is destroyed")                                            \
    X(hipErrorAssert, "device-side assert triggered")                                                \
    X(hipErrorHostMemoryAlreadyRegistered, "part or all of the requested memory range is already mapped") \
    X(hipErrorHostMemoryNotRegistered, "pointer does not correspond to a registered memory region")  \
    X(hipErrorLaunchFailure, "unspecified launch failure")                                           \
    X(hipErrorCooperativeLaunchTooLarge, "too many blocks in cooperative launch")                    \
    X(hipErrorNotSupported, "operation not supported")                                               \
    X(hipErrorStreamCaptureUnsupported, "operation not permitted when stream is capturing")          \
    X(hipErrorStreamCaptureInvalidated, "operation failed due to a previous error during capture")   \
    X(hipErrorStreamCaptureMerge, "operation would result in a merge of separate capture sequences") \
    X(hipErrorStreamCaptureUnmatched, "capture was not ended in the same stream as it began")        \
    X(hipErrorStreamCaptureUnjoined, "capturing stream has unjoined work")                           \
    X(hipErrorStreamCaptureIsolation, "dependency created on uncaptured work in another stream")     \
    X(hipErrorStreamCaptureImplicit, "operation would make the legacy stream depend on a capturing blocking stream") \
    X(hipErrorCapturedEvent, "operation not permitted on an event last recorded in a capturing stream") \
    X(hipErrorStreamCaptureWrongThread, "attempt to terminate a thread-local capture sequence from another thread") \
    X(hipErrorGraphExecUpdateFailure, "the graph update was not performed because it included changes which violated constraints specific to instantiated graph update") \
    X(hipErrorInvalidChannelDescriptor, "invalid channel descriptor")                                \
    X(hipErrorInvalidTexture, "invalid texture")                                                     \
    X(hipErrorUnknown, "unknown error")                                                              \
    X(hipErrorRuntimeMemory, "runtime memory call returned error")                                   \
    X(hipErrorRuntimeOther, "runtime call other than memory returned error")                         \
    X(hipErrorTbd, "marker that more error codes are needed")

const char* hipGetErrorName(hipError_t hip_error) {
    hook_count_only(__func__);
    switch (hip_error) {
#define NAME_CASE(code, text) case code: return #code;
        HIP_ERROR_LIST(NAME_CASE)
#undef NAME_CASE
    default:
        return "hipErrorUnknown";
    }
}

const char* hipGetErrorString(hipError_t hipError) {
    hook_count_only(__func__);
    switch (hipError) {
#define TEXT_CASE(code, text) case code: return text;
        HIP_ERROR_LIST(TEXT_CASE)
#undef TEXT_CASE
    default:
        return "unknown error";
    }
}

hipError_t hipGetLastError(void) {
    API_ENTER();
    hipError_t e = t_last_error;
    t_last_error = hipSuccess;
    return e;
}

hipError_t hipPeekAtLastError(void) {
    API_ENTER();
    return t_last_error;
}

hipError_t hipRuntimeGetVersion(int* runtimeVersion) {
    API_ENTER();
    if (runtimeVersion == NULL) return ret(hipErrorInvalidValue);
    *runtimeVersion = HIP_VERSION;
    return hipSuccess;
}

hipError_t hipDriverGetVersion(int* driverVersion) {
    API_ENTER();
    if (driverVersion == NULL) return ret(hipErrorInvalidValue);
    *driverVersion = HIP_VERSION;
    return hipSuccess;
}

hipError_t hipInit(unsigned int flags) {
    API_ENTER();
    if (flags != 0) return ret(hipErrorInvalidValue);
    return hipSuccess;
}

/* ------------------------------------------------------------------------------------------------ */
/* Device                                                                                             */

static __thread int t_current_device = 0;

hipError_t hipGetDeviceCount(int* count) {
    API_ENTER();
    if (count == NULL) return ret(hipErrorInvalidValue);
    *count = 1;
    return hipSuccess;
}

hipError_t hipGetDevice(int* deviceId) {
    API_ENTER();
    if (deviceId == NULL) return ret(hipErrorInvalidValue);
    *deviceId = t_current_device;
    return hipSuccess;
}

hipError_t hipSetDevice(int deviceId) {
    API_ENTER();
    if (deviceId != 0) return ret(hipErrorInvalidDevice);
    t_current_device = deviceId;
    return hipSuccess;
}

hipError_t hipDeviceGet(hipDevice_t* device, int ordinal) {
    API_ENTER();
    if (device == NULL) return ret(hipErrorInvalidValue);
    if (ordinal != 0) return ret(hipErrorInvalidDevice);
    *device = 0;
    return hipSuccess;
}

hipError_t hipDeviceGetName(char* name, int len, hipDevice_t device) {
    API_ENTER();
    if (device != 0) return ret(hipErrorInvalidDevice);
    if (name == NULL || len <= 0) return ret(hipErrorInvalidValue);
    size_t n = strlen(DEVICE_NAME);
    if (n > (size_t)len - 1) n = (size_t)len - 1;
    memcpy(name, DEVICE_NAME, n);
    name[n] = '\0';
    return hipSuccess;
}

static const char k_uuid[16] = {'h', 'i', 'p', 'f', 'f', 'm', 0, 0x01, 0x23, 0x45, 0x67, (char)0x89, (char)0xab,
                                (char)0xcd, (char)0xef, 0x7e};

hipError_t hipDeviceGetUuid(hipUUID* uuid, hipDevice_t device) {
    API_ENTER();
    if (device != 0) return ret(hipErrorInvalidDevice);
    if (uuid == NULL) return ret(hipErrorInvalidValue);
    memcpy(uuid->bytes, k_uuid, sizeof k_uuid);
    return hipSuccess;
}

hipError_t hipDeviceGetPCIBusId(char* pciBusId, int len, int device) {
    API_ENTER();
    if (device != 0) return ret(hipErrorInvalidDevice);
    if (pciBusId == NULL || len < (int)sizeof DEVICE_PCI_BUS_ID) return ret(hipErrorInvalidValue);
    memcpy(pciBusId, DEVICE_PCI_BUS_ID, sizeof DEVICE_PCI_BUS_ID);
    return hipSuccess;
}

hipError_t hipDeviceGetAttribute(int* pi, hipDeviceAttribute_t attr, int deviceId) {
    API_ENTER();
    if (pi == NULL) return ret(hipErrorInvalidValue);
    if (deviceId != 0) return ret(hipErrorInvalidDevice);
    int v;
    switch (attr) {
    case hipDeviceAttributePciBusId: v = 0; break;
    case hipDeviceAttributePciDeviceId: v = 0; break;
    case hipDeviceAttributePciDomainID: v = 0; break;
    case hipDeviceAttributeComputeCapabilityMajor: v = 9; break; /* pretend */
    case hipDeviceAttributeComputeCapabilityMinor: v = 4; break;
    case hipDeviceAttributeMultiprocessorCount: v = 1; break;
    case hipDeviceAttributeWarpSize: v = 64; break;
    case hipDeviceAttributeMaxThreadsPerBlock: v = 1024; break;
    case hipDeviceAttributeMaxSharedMemoryPerBlock: v = 65536; break;
    case hipDeviceAttributeL2CacheSize: v = 4 << 20; break;
    case hipDeviceAttributeMemoryBusWidth: v = 64; break;
    case hipDeviceAttributeIntegrated: v = 0; break;
    case hipDeviceAttributeCanMapHostMemory: v = 1; break;
    case hipDeviceAttributeUnifiedAddressing: v = 1; break;
    case hipDeviceAttributeManagedMemory: v = 0; break;
    case hipDeviceAttributeConcurrentManagedAccess: v = 0; break;
    case hipDeviceAttributeHostRegisterSupported: v = 0; break;
    case hipDeviceAttributeMemoryPoolsSupported: v = 0; break;
    case hipDeviceAttributeVirtualMemoryManagementSupported: v = 0; break;
    case hipDeviceAttributeConcurrentKernels: v = 1; break;
    case hipDeviceAttributeAsyncEngineCount: v = 1; break;
    case hipDeviceAttributeComputeMode: v = 0; break; /* hipComputeModeDefault */
    case hipDeviceAttributeEccEnabled: v = 0; break;
    case hipDeviceAttributeCooperativeLaunch: v = 0; break;
    default: return ret(hipErrorInvalidValue);
    }
    *pi = v;
    return hipSuccess;
}

/* hipGetDeviceProperties is a macro for hipGetDevicePropertiesR0600 (and hipDeviceProp_t for
   hipDeviceProp_tR0600) in the ROCm 6 headers; the symbol defined here is hipGetDevicePropertiesR0600. */
hipError_t hipGetDeviceProperties(hipDeviceProp_t* prop, int deviceId) {
    API_ENTER();
    if (prop == NULL) return ret(hipErrorInvalidValue);
    if (deviceId != 0) return ret(hipErrorInvalidDevice);
    memset(prop, 0, sizeof *prop);
    strncpy(prop->name, DEVICE_NAME, sizeof prop->name - 1);
    memcpy(prop->uuid.bytes, k_uuid, sizeof k_uuid);
    prop->totalGlobalMem = TOTAL_MEM;
    prop->sharedMemPerBlock = 65536;
    prop->warpSize = 64;
    prop->maxThreadsPerBlock = 1024;
    prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = prop->maxThreadsDim[2] = 1024;
    prop->maxGridSize[0] = prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
    prop->major = 9;
    prop->minor = 4;
    prop->multiProcessorCount = 1;
    prop->canMapHostMemory = 1;
    prop->unifiedAddressing = 1;
    prop->concurrentKernels = 1;
    prop->asyncEngineCount = 1;
    prop->l2CacheSize = 4 << 20;
    prop->memoryBusWidth = 64;
    prop->pciBusID = 0;
    prop->pciDeviceID = 0;
    prop->pciDomainID = 0;
    strncpy(prop->gcnArchName, DEVICE_ARCH, sizeof prop->gcnArchName - 1);
    return hipSuccess;
}

hipError_t hipDeviceTotalMem(size_t* bytes, hipDevice_t device) {
    API_ENTER();
    if (bytes == NULL) return ret(hipErrorInvalidValue);
    if (device != 0) return ret(hipErrorInvalidDevice);
    *bytes = TOTAL_MEM;
    return hipSuccess;
}

hipError_t hipMemGetInfo(size_t* free, size_t* total) {
    API_ENTER();
    if (free == NULL || total == NULL) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    size_t used = g_used_bytes;
    pthread_mutex_unlock(&g_lock);
    *free = used >= TOTAL_MEM ? 0 : TOTAL_MEM - used;
    *total = TOTAL_MEM;
    return hipSuccess;
}

hipError_t hipDeviceSynchronize(void) {
    API_ENTER();
    return hipSuccess; /* everything completes synchronously */
}

hipError_t hipDeviceReset(void) {
    API_ENTER();
    return hipSuccess; /* unlike the real runtime, frees nothing: tests check for leaks themselves */
}

/* ------------------------------------------------------------------------------------------------ */
/* Memory                                                                                             */

/* Registers a new allocation of size bytes. Returns hipSuccess and sets *out, or an error. */
static hipError_t alloc_new(void** out, size_t size, enum alloc_type type, unsigned flags) {
    if (out == NULL) return hipErrorInvalidValue;
    if (size == 0) {
        *out = NULL;
        return hipSuccess;
    }
    pthread_mutex_lock(&g_lock);
    if (type == A_DEVICE && (g_used_bytes >= TOTAL_MEM || size > TOTAL_MEM - g_used_bytes)) {
        pthread_mutex_unlock(&g_lock);
        return hipErrorOutOfMemory;
    }
    struct alloc* a = calloc(1, sizeof *a);
    void* p = NULL;
    if (a == NULL || posix_memalign(&p, MALLOC_ALIGN, size) != 0) {
        free(a);
        pthread_mutex_unlock(&g_lock);
        return hipErrorOutOfMemory;
    }
    memset(p, 0, size);
    a->ptr = p;
    a->size = size;
    a->type = type;
    a->flags = flags;
    reg_add(&a->h, K_ALLOC);
    if (type == A_DEVICE) g_used_bytes += size;
    pthread_mutex_unlock(&g_lock);
    *out = p;
    return hipSuccess;
}

/* Frees the allocation starting at ptr if its type is accepted. Lock not held. */
static hipError_t alloc_free(void* ptr, int accept_device, int accept_host) {
    if (ptr == NULL) return hipSuccess;
    pthread_mutex_lock(&g_lock);
    struct alloc* a = alloc_find_exact(ptr);
    if (a == NULL || (a->type == A_HOST && !accept_host) || (a->type != A_HOST && !accept_device)) {
        pthread_mutex_unlock(&g_lock);
        return hipErrorInvalidValue;
    }
    reg_del(&a->h);
    switch (a->type) {
    case A_DEVICE:
        g_used_bytes -= a->size;
        free(a->ptr);
        break;
    case A_HOST:
        free(a->ptr);
        break;
    case A_MAPPED:
        g_mapped_buffers--;
        extmem_unref(a->owner);
        break;
    }
    free(a);
    pthread_mutex_unlock(&g_lock);
    return hipSuccess;
}

hipError_t hipMalloc(void** ptr, size_t size) {
    API_ENTER();
    return ret(alloc_new(ptr, size, A_DEVICE, 0));
}

hipError_t hipExtMallocWithFlags(void** ptr, size_t sizeBytes, unsigned int flags) {
    API_ENTER();
    if (flags > hipDeviceMallocContiguous) return ret(hipErrorInvalidValue);
    return ret(alloc_new(ptr, sizeBytes, A_DEVICE, flags));
}

hipError_t hipHostMalloc(void** ptr, size_t size, unsigned int flags) {
    API_ENTER();
    const unsigned known = hipHostMallocPortable | hipHostMallocMapped | hipHostMallocWriteCombined
                           | hipHostMallocNumaUser | hipHostMallocCoherent | hipHostMallocNonCoherent;
    if ((flags & ~known) != 0) return ret(hipErrorInvalidValue);
    if ((flags & hipHostMallocCoherent) && (flags & hipHostMallocNonCoherent)) return ret(hipErrorInvalidValue);
    return ret(alloc_new(ptr, size, A_HOST, flags));
}

hipError_t hipFree(void* ptr) {
    API_ENTER();
    return ret(alloc_free(ptr, 1, 1)); /* like clr, hipFree also takes host allocations */
}

hipError_t hipHostFree(void* ptr) {
    API_ENTER();
    return ret(alloc_free(ptr, 0, 1));
}

hipError_t hipPointerGetAttributes(hipPointerAttribute_t* attributes, const void* ptr) {
    API_ENTER();
    if (attributes == NULL || ptr == NULL) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    struct alloc* a = alloc_find_containing(ptr);
    if (a == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidValue);
    }
    memset(attributes, 0, sizeof *attributes);
    attributes->device = 0;
    attributes->isManaged = 0;
    attributes->allocationFlags = a->flags;
    if (a->type == A_HOST) {
        attributes->type = hipMemoryTypeHost;
        attributes->hostPointer = (void*)ptr;
        attributes->devicePointer = (void*)ptr;
    } else {
        attributes->type = hipMemoryTypeDevice;
        attributes->devicePointer = (void*)ptr;
        attributes->hostPointer = NULL;
    }
    pthread_mutex_unlock(&g_lock);
    return hipSuccess;
}

static int memcpy_kind_valid(hipMemcpyKind kind) {
    switch (kind) {
    case hipMemcpyHostToHost:
    case hipMemcpyHostToDevice:
    case hipMemcpyDeviceToHost:
    case hipMemcpyDeviceToDevice:
    case hipMemcpyDefault:
    case hipMemcpyDeviceToDeviceNoCU:
        return 1;
    default:
        return 0;
    }
}

static hipError_t do_copy(void* dst, const void* src, size_t n) {
    if (n == 0) return hipSuccess;
    if (dst == NULL || src == NULL) return hipErrorInvalidValue;
    memmove(dst, src, n);
    return hipSuccess;
}

static hipError_t do_copy_kind(void* dst, const void* src, size_t n, hipMemcpyKind kind) {
    if (!memcpy_kind_valid(kind)) return hipErrorInvalidMemcpyDirection;
    return do_copy(dst, src, n);
}

hipError_t hipMemcpy(void* dst, const void* src, size_t sizeBytes, hipMemcpyKind kind) {
    API_ENTER();
    return ret(do_copy_kind(dst, src, sizeBytes, kind));
}

hipError_t hipMemcpyWithStream(void* dst, const void* src, size_t sizeBytes, hipMemcpyKind kind,
                               hipStream_t stream) {
    API_ENTER();
    if (!stream_ok(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_copy_kind(dst, src, sizeBytes, kind));
}

hipError_t hipMemcpyAsync(void* dst, const void* src, size_t sizeBytes, hipMemcpyKind kind, hipStream_t stream) {
    API_ENTER();
    if (!stream_ok(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_copy_kind(dst, src, sizeBytes, kind));
}

hipError_t hipMemcpyHtoD(hipDeviceptr_t dst, void* src, size_t sizeBytes) {
    API_ENTER();
    return ret(do_copy(dst, src, sizeBytes));
}

hipError_t hipMemcpyDtoH(void* dst, hipDeviceptr_t src, size_t sizeBytes) {
    API_ENTER();
    return ret(do_copy(dst, src, sizeBytes));
}

hipError_t hipMemcpyDtoD(hipDeviceptr_t dst, hipDeviceptr_t src, size_t sizeBytes) {
    API_ENTER();
    return ret(do_copy(dst, src, sizeBytes));
}

hipError_t hipMemcpyHtoDAsync(hipDeviceptr_t dst, void* src, size_t sizeBytes, hipStream_t stream) {
    API_ENTER();
    if (!stream_ok(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_copy(dst, src, sizeBytes));
}

hipError_t hipMemcpyDtoHAsync(void* dst, hipDeviceptr_t src, size_t sizeBytes, hipStream_t stream) {
    API_ENTER();
    if (!stream_ok(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_copy(dst, src, sizeBytes));
}

hipError_t hipMemcpyDtoDAsync(hipDeviceptr_t dst, hipDeviceptr_t src, size_t sizeBytes, hipStream_t stream) {
    API_ENTER();
    if (!stream_ok(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_copy(dst, src, sizeBytes));
}

static hipError_t do_set8(void* dst, unsigned char value, size_t count) {
    if (count == 0) return hipSuccess;
    if (dst == NULL) return hipErrorInvalidValue;
    memset(dst, value, count);
    return hipSuccess;
}

static hipError_t do_set16(void* dst, unsigned short value, size_t count) {
    if (count == 0) return hipSuccess;
    if (dst == NULL) return hipErrorInvalidValue;
    unsigned char* p = dst;
    for (size_t i = 0; i < count; i++) memcpy(p + i * sizeof value, &value, sizeof value);
    return hipSuccess;
}

static hipError_t do_set32(void* dst, int value, size_t count) {
    if (count == 0) return hipSuccess;
    if (dst == NULL) return hipErrorInvalidValue;
    uint32_t v = (uint32_t)value;
    unsigned char* p = dst;
    for (size_t i = 0; i < count; i++) memcpy(p + i * sizeof v, &v, sizeof v);
    return hipSuccess;
}

hipError_t hipMemset(void* dst, int value, size_t sizeBytes) {
    API_ENTER();
    return ret(do_set8(dst, (unsigned char)value, sizeBytes));
}

hipError_t hipMemsetAsync(void* dst, int value, size_t sizeBytes, hipStream_t stream) {
    API_ENTER();
    if (!stream_ok(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_set8(dst, (unsigned char)value, sizeBytes));
}

hipError_t hipMemsetD8(hipDeviceptr_t dest, unsigned char value, size_t count) {
    API_ENTER();
    return ret(do_set8(dest, value, count));
}

hipError_t hipMemsetD8Async(hipDeviceptr_t dest, unsigned char value, size_t count, hipStream_t stream) {
    API_ENTER();
    if (!stream_ok(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_set8(dest, value, count));
}

hipError_t hipMemsetD16(hipDeviceptr_t dest, unsigned short value, size_t count) {
    API_ENTER();
    return ret(do_set16(dest, value, count));
}

hipError_t hipMemsetD16Async(hipDeviceptr_t dest, unsigned short value, size_t count, hipStream_t stream) {
    API_ENTER();
    if (!stream_ok(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_set16(dest, value, count));
}

hipError_t hipMemsetD32(hipDeviceptr_t dest, int value, size_t count) {
    API_ENTER();
    return ret(do_set32(dest, value, count));
}

hipError_t hipMemsetD32Async(hipDeviceptr_t dst, int value, size_t count, hipStream_t stream) {
    API_ENTER();
    if (!stream_ok(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_set32(dst, value, count));
}

/* ------------------------------------------------------------------------------------------------ */
/* Streams and events                                                                                 */

hipError_t hipStreamCreateWithFlags(hipStream_t* stream, unsigned int flags) {
    API_ENTER();
    if (stream == NULL) return ret(hipErrorInvalidValue);
    if (flags != hipStreamDefault && flags != hipStreamNonBlocking) return ret(hipErrorInvalidValue);
    struct stream* s = calloc(1, sizeof *s);
    if (s == NULL) return ret(hipErrorOutOfMemory);
    s->flags = flags;
    pthread_mutex_lock(&g_lock);
    reg_add(&s->h, K_STREAM);
    pthread_mutex_unlock(&g_lock);
    *stream = (hipStream_t)(void*)s;
    return hipSuccess;
}

hipError_t hipStreamCreate(hipStream_t* stream) {
    API_ENTER();
    if (stream == NULL) return ret(hipErrorInvalidValue);
    struct stream* s = calloc(1, sizeof *s);
    if (s == NULL) return ret(hipErrorOutOfMemory);
    pthread_mutex_lock(&g_lock);
    reg_add(&s->h, K_STREAM);
    pthread_mutex_unlock(&g_lock);
    *stream = (hipStream_t)(void*)s;
    return hipSuccess;
}

hipError_t hipStreamDestroy(hipStream_t stream) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    struct obj* o = reg_find(K_STREAM, stream); /* the null stream cannot be destroyed */
    if (o == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidHandle);
    }
    reg_del(o);
    pthread_mutex_unlock(&g_lock);
    free(o);
    return hipSuccess;
}

hipError_t hipStreamSynchronize(hipStream_t stream) {
    API_ENTER();
    if (!stream_ok(stream)) return ret(hipErrorInvalidHandle);
    return hipSuccess;
}

hipError_t hipStreamQuery(hipStream_t stream) {
    API_ENTER();
    if (!stream_ok(stream)) return ret(hipErrorInvalidHandle);
    return hipSuccess;
}

hipError_t hipStreamWaitEvent(hipStream_t stream, hipEvent_t event, unsigned int flags) {
    API_ENTER();
    if (flags != hipEventWaitDefault && flags != hipEventWaitExternal) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    int ok = stream_valid(stream) && reg_find(K_EVENT, event) != NULL;
    pthread_mutex_unlock(&g_lock);
    return ok ? hipSuccess : ret(hipErrorInvalidHandle);
}

static hipError_t event_create(hipEvent_t* event, unsigned flags) {
    const unsigned known = hipEventBlockingSync | hipEventDisableTiming | hipEventInterprocess
                           | hipEventDisableSystemFence | hipEventReleaseToDevice | hipEventReleaseToSystem;
    if (event == NULL || (flags & ~known) != 0) return hipErrorInvalidValue;
    struct event* e = calloc(1, sizeof *e);
    if (e == NULL) return hipErrorOutOfMemory;
    e->flags = flags;
    pthread_mutex_lock(&g_lock);
    reg_add(&e->h, K_EVENT);
    pthread_mutex_unlock(&g_lock);
    *event = (hipEvent_t)(void*)e;
    return hipSuccess;
}

hipError_t hipEventCreateWithFlags(hipEvent_t* event, unsigned flags) {
    API_ENTER();
    return ret(event_create(event, flags));
}

hipError_t hipEventCreate(hipEvent_t* event) {
    API_ENTER();
    return ret(event_create(event, hipEventDefault));
}

hipError_t hipEventDestroy(hipEvent_t event) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    struct obj* o = reg_find(K_EVENT, event);
    if (o == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidHandle);
    }
    reg_del(o);
    pthread_mutex_unlock(&g_lock);
    free(o);
    return hipSuccess;
}

hipError_t hipEventRecord(hipEvent_t event, hipStream_t stream) {
    API_ENTER();
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&g_lock);
    struct event* e = (struct event*)reg_find(K_EVENT, event);
    if (e == NULL || !stream_valid(stream)) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidHandle);
    }
    e->recorded = 1;
    e->when = now;
    pthread_mutex_unlock(&g_lock);
    return hipSuccess;
}

static hipError_t event_check(hipEvent_t event) {
    pthread_mutex_lock(&g_lock);
    int ok = reg_find(K_EVENT, event) != NULL;
    pthread_mutex_unlock(&g_lock);
    return ok ? hipSuccess : hipErrorInvalidHandle;
}

hipError_t hipEventSynchronize(hipEvent_t event) {
    API_ENTER();
    return ret(event_check(event));
}

hipError_t hipEventQuery(hipEvent_t event) {
    API_ENTER();
    return ret(event_check(event));
}

hipError_t hipEventElapsedTime(float* ms, hipEvent_t start, hipEvent_t stop) {
    API_ENTER();
    if (ms == NULL) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    struct event* a = (struct event*)reg_find(K_EVENT, start);
    struct event* b = (struct event*)reg_find(K_EVENT, stop);
    if (a == NULL || b == NULL || !a->recorded || !b->recorded || (a->flags & hipEventDisableTiming)
        || (b->flags & hipEventDisableTiming)) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidHandle);
    }
    double d = (double)(b->when.tv_sec - a->when.tv_sec) * 1e3 + (double)(b->when.tv_nsec - a->when.tv_nsec) / 1e6;
    pthread_mutex_unlock(&g_lock);
    *ms = (float)d;
    return hipSuccess;
}

/* ------------------------------------------------------------------------------------------------ */
/* External memory                                                                                    */

hipError_t hipImportExternalMemory(hipExternalMemory_t* extMem_out, const hipExternalMemoryHandleDesc* memHandleDesc) {
    API_ENTER();
    if (extMem_out == NULL || memHandleDesc == NULL) return ret(hipErrorInvalidValue);
    if (memHandleDesc->type != hipExternalMemoryHandleTypeOpaqueFd) return ret(hipErrorNotSupported);
    if (memHandleDesc->size == 0 || (memHandleDesc->flags & ~(unsigned)hipExternalMemoryDedicated) != 0)
        return ret(hipErrorInvalidValue);
    int fd = memHandleDesc->handle.fd;
    if (fd <= 0) return ret(hipErrorInvalidValue); /* clr rejects fd 0 */
    if ((unsigned long long)(size_t)memHandleDesc->size != memHandleDesc->size) return ret(hipErrorInvalidValue);
    size_t size = (size_t)memHandleDesc->size;
    struct stat st;
    if (fstat(fd, &st) != 0) return ret(hipErrorInvalidValue);
    /* A mapping past the end of a regular file (memfd) would SIGBUS on access: refuse it. */
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size < memHandleDesc->size) return ret(hipErrorInvalidValue);
    struct extmem* e = calloc(1, sizeof *e);
    if (e == NULL) return ret(hipErrorOutOfMemory);
    void* base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        free(e);
        return ret(hipErrorInvalidValue);
    }
    /* The fd stays the caller's: like clr, it is never closed here. */
    e->base = base;
    e->size = size;
    e->fd = fd;
    pthread_mutex_lock(&g_lock);
    reg_add(&e->h, K_EXTMEM);
    g_mappings++;
    g_used_bytes += size;
    pthread_mutex_unlock(&g_lock);
    *extMem_out = e;
    return hipSuccess;
}

hipError_t hipExternalMemoryGetMappedBuffer(void** devPtr, hipExternalMemory_t extMem,
                                            const hipExternalMemoryBufferDesc* bufferDesc) {
    API_ENTER();
    if (devPtr == NULL || bufferDesc == NULL) return ret(hipErrorInvalidValue);
    struct alloc* a = calloc(1, sizeof *a);
    if (a == NULL) return ret(hipErrorOutOfMemory);
    pthread_mutex_lock(&g_lock);
    struct extmem* e = (struct extmem*)reg_find(K_EXTMEM, extMem);
    hipError_t err = hipSuccess;
    if (e == NULL) {
        err = hipErrorInvalidHandle;
    } else if (bufferDesc->flags != 0 || bufferDesc->size == 0 || bufferDesc->offset > e->size
               || bufferDesc->size > e->size - bufferDesc->offset) {
        err = hipErrorInvalidValue;
    }
    if (err != hipSuccess) {
        pthread_mutex_unlock(&g_lock);
        free(a);
        return ret(err);
    }
    a->ptr = (unsigned char*)e->base + bufferDesc->offset;
    a->size = (size_t)bufferDesc->size;
    a->type = A_MAPPED;
    a->owner = e;
    e->refs++;
    reg_add(&a->h, K_ALLOC);
    g_mapped_buffers++;
    pthread_mutex_unlock(&g_lock);
    *devPtr = a->ptr;
    return hipSuccess;
}

hipError_t hipDestroyExternalMemory(hipExternalMemory_t extMem) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    struct extmem* e = (struct extmem*)reg_find(K_EXTMEM, extMem);
    if (e == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidHandle);
    }
    reg_del(&e->h);
    e->destroyed = 1;
    extmem_release_if_unused(e); /* deferred while mapped buffers / mipmapped arrays live */
    pthread_mutex_unlock(&g_lock);
    return hipSuccess;
}

static enum hipArray_Format array_format(const hipChannelFormatDesc* d) {
    int bits = d->x;
    switch (d->f) {
    case hipChannelFormatKindFloat:
        return bits == 16 ? HIP_AD_FORMAT_HALF : HIP_AD_FORMAT_FLOAT;
    case hipChannelFormatKindSigned:
        return bits == 8 ? HIP_AD_FORMAT_SIGNED_INT8 : bits == 16 ? HIP_AD_FORMAT_SIGNED_INT16 : HIP_AD_FORMAT_SIGNED_INT32;
    default:
        return bits == 8 ? HIP_AD_FORMAT_UNSIGNED_INT8
                         : bits == 16 ? HIP_AD_FORMAT_UNSIGNED_INT16 : HIP_AD_FORMAT_UNSIGNED_INT32;
    }
}

static size_t level_dim(size_t d, unsigned level) {
    if (d == 0) return 0; /* an absent dimension stays absent */
    size_t v = level >= sizeof(size_t) * 8 ? 0 : d >> level;
    return v == 0 ? 1 : v;
}

static size_t at_least_1(size_t v) {
    return v == 0 ? 1 : v;
}

hipError_t hipExternalMemoryGetMappedMipmappedArray(hipMipmappedArray_t* mipmap, hipExternalMemory_t extMem,
                                                    const hipExternalMemoryMipmappedArrayDesc* mipmapDesc) {
    API_ENTER();
    if (mipmap == NULL || mipmapDesc == NULL) return ret(hipErrorInvalidValue);
    const hipChannelFormatDesc* fd = &mipmapDesc->formatDesc;
    const hipExtent ext = mipmapDesc->extent;
    int comps[4] = {fd->x, fd->y, fd->z, fd->w};
    int bits = 0, channels = 0;
    for (int i = 0; i < 4; i++) {
        if (comps[i] < 0 || comps[i] % 8 != 0 || comps[i] > 64) return ret(hipErrorInvalidValue);
        bits += comps[i];
        if (comps[i] > 0) channels++;
    }
    if (bits == 0 || (unsigned)fd->f > hipChannelFormatKindFloat) return ret(hipErrorInvalidValue);
    if (ext.width == 0 || (ext.height == 0 && ext.depth != 0)) return ret(hipErrorInvalidValue);
    size_t maxdim = ext.width > ext.height ? ext.width : ext.height;
    if (ext.depth > maxdim) maxdim = ext.depth;
    unsigned max_levels = 0;
    while ((maxdim >> max_levels) != 0) max_levels++; /* floor(log2(maxdim)) + 1 */
    if (mipmapDesc->numLevels == 0 || mipmapDesc->numLevels > max_levels) return ret(hipErrorInvalidValue);
    const size_t elem = (size_t)bits / 8;
    const unsigned n = mipmapDesc->numLevels;

    struct mipmap* m = calloc(1, sizeof *m);
    struct hipArray* levels = calloc(n, sizeof *levels);
    if (m == NULL || levels == NULL) {
        free(m);
        free(levels);
        return ret(hipErrorOutOfMemory);
    }
    pthread_mutex_lock(&g_lock);
    struct extmem* e = (struct extmem*)reg_find(K_EXTMEM, extMem);
    hipError_t err = e == NULL ? hipErrorInvalidHandle : hipSuccess;
    size_t offset = 0;
    if (err == hipSuccess) {
        if (mipmapDesc->offset > e->size) err = hipErrorInvalidValue;
        else offset = (size_t)mipmapDesc->offset;
    }
    size_t cursor = offset;
    for (unsigned i = 0; err == hipSuccess && i < n; i++) {
        struct hipArray* a = &levels[i];
        a->extent.width = level_dim(ext.width, i);
        a->extent.height = level_dim(ext.height, i);
        a->extent.depth = level_dim(ext.depth, i);
        a->elem_size = elem;
        a->row_bytes = a->extent.width * elem;
        a->rows = at_least_1(a->extent.height) * at_least_1(a->extent.depth);
        size_t bytes;
        if (__builtin_mul_overflow(a->row_bytes, a->rows, &bytes) || bytes > e->size - cursor) {
            err = hipErrorInvalidValue;
            break;
        }
        a->magic = MAGIC_LIVE;
        a->parent = m;
        a->level = i;
        a->data = (unsigned char*)e->base + cursor;
        a->desc = *fd;
        a->flags = mipmapDesc->flags;
        cursor += bytes;
    }
    if (err != hipSuccess) {
        pthread_mutex_unlock(&g_lock);
        free(levels);
        free(m);
        return ret(err);
    }
    m->owner = e;
    m->num_levels = n;
    m->levels = levels;
    m->pub.data = (unsigned char*)e->base + offset;
    m->pub.desc = *fd;
    m->pub.type = ext.depth != 0 ? 3u : ext.height != 0 ? 2u : 1u;
    m->pub.width = (unsigned)ext.width;
    m->pub.height = (unsigned)ext.height;
    m->pub.depth = (unsigned)ext.depth;
    m->pub.min_mipmap_level = 0;
    m->pub.max_mipmap_level = n - 1;
    m->pub.flags = mipmapDesc->flags;
    m->pub.format = array_format(fd);
    m->pub.num_channels = (unsigned)channels;
    e->refs++;
    reg_add(&m->h, K_MIPMAP);
    pthread_mutex_unlock(&g_lock);
    *mipmap = &m->pub;
    return hipSuccess;
}

static hipError_t mipmap_level(hipArray_t* out, const void* handle, unsigned level) {
    if (out == NULL) return hipErrorInvalidValue;
    pthread_mutex_lock(&g_lock);
    struct mipmap* m = mipmap_find(handle);
    hipError_t err = hipSuccess;
    if (m == NULL) err = handle == NULL ? hipErrorInvalidValue : hipErrorInvalidHandle;
    else if (level >= m->num_levels) err = hipErrorInvalidValue;
    else *out = &m->levels[level];
    pthread_mutex_unlock(&g_lock);
    return err;
}

hipError_t hipGetMipmappedArrayLevel(hipArray_t* levelArray, hipMipmappedArray_const_t mipmappedArray,
                                     unsigned int level) {
    API_ENTER();
    return ret(mipmap_level(levelArray, mipmappedArray, level));
}

hipError_t hipMipmappedArrayGetLevel(hipArray_t* pLevelArray, hipMipmappedArray_t hMipMappedArray, unsigned int level) {
    API_ENTER();
    return ret(mipmap_level(pLevelArray, hMipMappedArray, level));
}

static hipError_t mipmap_free(const void* handle) {
    if (handle == NULL) return hipErrorInvalidValue;
    pthread_mutex_lock(&g_lock);
    struct mipmap* m = mipmap_find(handle);
    if (m == NULL) {
        pthread_mutex_unlock(&g_lock);
        return hipErrorInvalidHandle;
    }
    reg_del(&m->h);
    for (unsigned i = 0; i < m->num_levels; i++) m->levels[i].magic = MAGIC_DEAD;
    extmem_unref(m->owner);
    pthread_mutex_unlock(&g_lock);
    free(m->levels);
    free(m);
    return hipSuccess;
}

hipError_t hipFreeMipmappedArray(hipMipmappedArray_t mipmappedArray) {
    API_ENTER();
    return ret(mipmap_free(mipmappedArray));
}

hipError_t hipMipmappedArrayDestroy(hipMipmappedArray_t hMipmappedArray) {
    API_ENTER();
    return ret(mipmap_free(hMipmappedArray));
}

hipError_t hipArrayGetInfo(hipChannelFormatDesc* desc, hipExtent* extent, unsigned int* flags, hipArray_t array) {
    API_ENTER();
    if (array == NULL) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    struct hipArray* a = array_find(array);
    if (a == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidHandle);
    }
    if (desc != NULL) *desc = a->desc;
    if (extent != NULL) *extent = a->extent;
    if (flags != NULL) *flags = a->flags;
    pthread_mutex_unlock(&g_lock);
    return hipSuccess;
}

/* 2D copy between linear memory and a level array: width in bytes, wOffset in bytes, hOffset in rows.
   to_array: linear (lin, lpitch) -> array; else array -> linear. */
static hipError_t copy_2d_array(const void* arr_handle, size_t wOffset, size_t hOffset, void* lin, size_t lpitch,
                                size_t width, size_t height, hipMemcpyKind kind, int to_array) {
    if (arr_handle == NULL) return hipErrorInvalidValue;
    if (!memcpy_kind_valid(kind)) return hipErrorInvalidMemcpyDirection;
    pthread_mutex_lock(&g_lock);
    struct hipArray* a = array_find(arr_handle);
    hipError_t err = hipSuccess;
    if (a == NULL) err = hipErrorInvalidHandle;
    else if (width == 0 || height == 0) err = hipSuccess;
    else if (lin == NULL) err = hipErrorInvalidValue;
    else if (lpitch < width) err = hipErrorInvalidPitchValue;
    else if (wOffset > a->row_bytes || width > a->row_bytes - wOffset || hOffset > a->rows || height > a->rows - hOffset)
        err = hipErrorInvalidValue;
    else {
        /* Copy under the lock: the level's mapping cannot be unmapped meanwhile. */
        for (size_t r = 0; r < height; r++) {
            unsigned char* cell = a->data + (hOffset + r) * a->row_bytes + wOffset;
            unsigned char* line = (unsigned char*)lin + r * lpitch;
            if (to_array) memmove(cell, line, width);
            else memmove(line, cell, width);
        }
    }
    pthread_mutex_unlock(&g_lock);
    return err;
}

hipError_t hipMemcpy2DToArray(hipArray_t dst, size_t wOffset, size_t hOffset, const void* src, size_t spitch,
                              size_t width, size_t height, hipMemcpyKind kind) {
    API_ENTER();
    return ret(copy_2d_array(dst, wOffset, hOffset, (void*)src, spitch, width, height, kind, 1));
}

hipError_t hipMemcpy2DFromArray(void* dst, size_t dpitch, hipArray_const_t src, size_t wOffset, size_t hOffset,
                                size_t width, size_t height, hipMemcpyKind kind) {
    API_ENTER();
    return ret(copy_2d_array(src, wOffset, hOffset, dst, dpitch, width, height, kind, 0));
}

/* ------------------------------------------------------------------------------------------------ */
/* External semaphores                                                                                */

hipError_t hipImportExternalSemaphore(hipExternalSemaphore_t* extSem_out,
                                      const hipExternalSemaphoreHandleDesc* semHandleDesc) {
    API_ENTER();
    if (extSem_out == NULL || semHandleDesc == NULL) return ret(hipErrorInvalidValue);
    hipExternalSemaphoreHandleType type = semHandleDesc->type;
    if (type != hipExternalSemaphoreHandleTypeOpaqueFd && type != hipExternalSemaphoreHandleTypeTimelineSemaphoreFd)
        return ret(hipErrorNotSupported);
    int fd = semHandleDesc->handle.fd;
    if (fd <= 0 || fcntl(fd, F_GETFD) == -1) return ret(hipErrorInvalidValue);
    struct sem* s = calloc(1, sizeof *s);
    if (s == NULL) return ret(hipErrorOutOfMemory);
    s->type = type;
    s->fd = fd; /* never closed here */
    pthread_mutex_lock(&g_lock);
    reg_add(&s->h, K_SEM);
    pthread_mutex_unlock(&g_lock);
    *extSem_out = s;
    return hipSuccess;
}

hipError_t hipSignalExternalSemaphoresAsync(const hipExternalSemaphore_t* extSemArray,
                                            const hipExternalSemaphoreSignalParams* paramsArray,
                                            unsigned int numExtSems, hipStream_t stream) {
    API_ENTER();
    if (numExtSems > 0 && (extSemArray == NULL || paramsArray == NULL)) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    hipError_t err = stream_valid(stream) ? hipSuccess : hipErrorInvalidHandle;
    for (unsigned i = 0; err == hipSuccess && i < numExtSems; i++) {
        if (paramsArray[i].flags != 0) err = hipErrorInvalidValue;
        else if (reg_find(K_SEM, extSemArray[i]) == NULL) err = hipErrorInvalidHandle;
    }
    for (unsigned i = 0; err == hipSuccess && i < numExtSems; i++) {
        struct sem* s = (struct sem*)reg_find(K_SEM, extSemArray[i]);
        if (s->type == hipExternalSemaphoreHandleTypeTimelineSemaphoreFd) {
            uint64_t v = paramsArray[i].params.fence.value;
            if (v > s->counter) s->counter = v;
        } else {
            s->counter = 1;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return ret(err);
}

#define WAIT_TIMEOUT_NS 1000000000LL /* 1 s */
#define WAIT_POLL_NS 1000000L        /* 1 ms */

hipError_t hipWaitExternalSemaphoresAsync(const hipExternalSemaphore_t* extSemArray,
                                          const hipExternalSemaphoreWaitParams* paramsArray, unsigned int numExtSems,
                                          hipStream_t stream) {
    API_ENTER();
    if (numExtSems > 0 && (extSemArray == NULL || paramsArray == NULL)) return ret(hipErrorInvalidValue);
    for (unsigned i = 0; i < numExtSems; i++) {
        if (paramsArray[i].flags != 0) return ret(hipErrorInvalidValue);
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        pthread_mutex_lock(&g_lock);
        hipError_t err = stream_valid(stream) ? hipSuccess : hipErrorInvalidHandle;
        int ready = 1;
        for (unsigned i = 0; err == hipSuccess && i < numExtSems; i++) {
            struct sem* s = (struct sem*)reg_find(K_SEM, extSemArray[i]);
            if (s == NULL) err = hipErrorInvalidHandle;
            else if (s->type == hipExternalSemaphoreHandleTypeTimelineSemaphoreFd)
                ready &= s->counter >= paramsArray[i].params.fence.value;
            else
                ready &= s->counter == 1;
        }
        if (err == hipSuccess && ready) {
            for (unsigned i = 0; i < numExtSems; i++) { /* binary semaphores are consumed by the wait */
                struct sem* s = (struct sem*)reg_find(K_SEM, extSemArray[i]);
                if (s->type != hipExternalSemaphoreHandleTypeTimelineSemaphoreFd) s->counter = 0;
            }
        }
        pthread_mutex_unlock(&g_lock);
        if (err != hipSuccess) return ret(err);
        if (ready) return hipSuccess;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long elapsed = (long long)(now.tv_sec - start.tv_sec) * 1000000000LL + (now.tv_nsec - start.tv_nsec);
        if (elapsed >= WAIT_TIMEOUT_NS) return ret(hipErrorNotReady); /* HIP has no timeout code */
        struct timespec nap = {0, WAIT_POLL_NS};
        while (nanosleep(&nap, &nap) != 0 && errno == EINTR) {
        }
    }
}

hipError_t hipDestroyExternalSemaphore(hipExternalSemaphore_t extSem) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    struct obj* o = reg_find(K_SEM, extSem);
    if (o == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidHandle);
    }
    reg_del(o);
    pthread_mutex_unlock(&g_lock);
    free(o);
    return hipSuccess;
}
