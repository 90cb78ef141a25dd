/*
 * hipffm_testrt.c - a TEST DOUBLE of the HIP runtime (libamdhip64) for hip-ffm's tests.
 *
 * THIS IS NOT A HIP RUNTIME AND TALKS TO NO GPU. It implements a small subset of the HIP runtime ABI
 * (the functions the hip-ffm Java layer calls) over ordinary host memory and file descriptors, so that
 * the Java bindings can be exercised end-to-end in CI on machines without a GPU: "device" memory is
 * host memory, external memory is an mmap(2) of the imported fd, external semaphores are 64-bit
 * counters and streams and events are bookkeeping objects. Every operation completes before its call returns,
 * except the work that the real runtimes' *synchronous* calls leave running on the GPU (a device-to-device
 * hipMemcpy, a hipMemset of device memory, an array copy from device memory): that work is queued on the null
 * stream and runs only where a real runtime would have finished it for the caller (README.md, "Deferred work").
 * Modules are text images listing kernel names; the few built-in kernels run on the CPU at launch.
 * OpenGL interop works on fake GL buffers and textures that the tests define through hooks.
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
 *   long hipffmTest_lastLaunch(int what)                            grid/block/shared mem of the last launch
 *   long hipffmTest_pendingWork(void)                               deferred operations not yet run
 *   void hipffmTest_setDeviceCount(int n)                           1 (default) or 2 fake devices, no peer access
 *   int  hipffmTest_stickyError(void)                               the sticky error of a launch that faulted
 *   long hipffmTest_semaphoreCounter / semaphoreSignals(sem)        a semaphore's value, signals received
 *   void hipffmTest_glSetContext(int current)                       "a GL context is current" (per thread)
 *   int  hipffmTest_glDefineBuffer / glDefineTexture / glDelete     fake GL objects
 *   long hipffmTest_glBufferData / glWriteBuffer / glTextureData / glWriteTexture   the GL side's data
 *   int  hipffmTest_textureFetch(tex, x, y, z, level, out)          a texture object sampled on the CPU
 *   int  hipffmTest_surfaceRead / surfaceWrite(surf, xBytes, y, z, data, n)   a surface object's element
 *
 * Rules kept from clr on purpose: hipImportExternalMemory / hipImportExternalSemaphore never close the
 * fd (the caller keeps ownership) and reject fd 0; a buffer mapped from external memory must be
 * released with hipFree and holds a reference on the external memory (destroying the memory while
 * mapped buffers live succeeds, the unmap is deferred to the last hipFree); signal/wait parameters
 * must have flags == 0; only failing calls set the per-thread last error, hipGetLastError resets it.
 *
 * Thread safety: one mutex guards all registries and the queue of deferred work; the polling in hipWaitExternalSemaphoresAsync sleeps
 * without holding it. Handles are validated against the registries before they are dereferenced, so
 * an unknown or destroyed handle yields an error code instead of a crash.
 */
#define _GNU_SOURCE
#include <hip/hip_runtime_api.h>
#include <hip/hip_version.h>
#include <hip/hip_gl_interop.h> /* after hip_runtime_api.h: it uses hipError_t and hipGraphicsResource */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h> /* snprintf */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------------ */
/* Test hooks (exported)                                                                              */

#include "hipffm_test_hooks.h" /* their prototypes, shared with the cudart layer and the self-tests */

/* ------------------------------------------------------------------------------------------------ */
/* Fake device                                                                                        */

#define TOTAL_MEM ((size_t)1 << 30) /* 1 GiB */
#define DEVICE_NAME "hip-ffm test runtime"
#define DEVICE_PCI_BUS_ID "0000:00:00.0"
#define DEVICE_ARCH "gfx942"
#define MALLOC_ALIGN 256
#define TEX_ALIGN 256       /* hipDeviceAttributeTextureAlignment */
#define TEX_PITCH_ALIGN 128 /* hipDeviceAttributeTexturePitchAlignment */

static __thread int t_current_device = 0;

/* The device of device memory at p (an allocation or a mapped buffer), or -1 (host, unknown). Lock held. */
static int ptr_device(const void* p);
/* Whether [p, p + bytes) lies in memory the device may access (defined with the kernels' helpers). Lock held. */
static int device_range_ok(const void* p, size_t bytes);

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

/* Whether this thread's latest HIP call failed by an injected fault. Not exported: for the cudart double
   (hipffm_cudart.c, linked into the same library), which must tell an injected failure (no side effects) from a
   real refusal. */
static __thread int t_injected;
__attribute__((visibility("hidden"))) int hipffm_testrt_lastCallInjected(void);
int hipffm_testrt_lastCallInjected(void) {
    return t_injected;
}

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
    t_injected = fired;
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

static void sticky_clear(void); /* the sticky error of a faulted launch (see "Fake devices") */

static void views_orphaned_clear(void); /* "Textures" */

void hipffmTest_reset(void) {
    pthread_mutex_lock(&g_hook_lock);
    memset(g_armed, 0, sizeof g_armed);
    pthread_mutex_unlock(&g_hook_lock);
    sticky_clear();
    views_orphaned_clear();
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

enum kind { K_ALLOC, K_EXTMEM, K_MIPMAP, K_SEM, K_STREAM, K_EVENT, K_MODULE, K_GFX, K_GRAPH, K_GEXEC, K_TEX, K_SURF,
            K_VMM, K_VMMVA, K_COUNT };

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
static long g_gfx_mapped;     /* graphics resources currently mapped (subset of K_GFX) */
static long g_gl_objects;     /* fake GL buffers and textures defined (test fixtures, not HIP objects) */
static long g_graph_nodes;    /* nodes of live graphs (they die with their graph) */
static long g_vmm_mappings;   /* hipMemMap'ed ranges (allocations of type A_VMM, in K_ALLOC) */
static long g_ipc_opened;     /* memory opened from IPC handles (allocations of type A_IPC, in K_ALLOC) */

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

/* A_VMM: a hipMemMap'ed range (released by hipMemUnmap); A_IPC: memory opened from an IPC handle (released by
   hipIpcCloseMemHandle). Neither is freed by hipFree. */
enum alloc_type { A_DEVICE, A_HOST, A_MAPPED, A_VMM, A_IPC };
struct vmm_handle;

struct extmem;

struct alloc {
    struct obj h;
    void* ptr;
    size_t size;
    enum alloc_type type;
    unsigned flags;
    struct extmem* owner; /* A_MAPPED only */
    int device;           /* the device it lives on (A_DEVICE: current at hipMalloc; A_MAPPED: the memory's) */
    int ipc_fd;           /* A_DEVICE with an IPC handle taken: the memfd now backing it (0: none) */
    struct vmm_handle* vmm; /* A_VMM only: the physical allocation mapped */
};

static size_t page_round(size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (n + page - 1) / page * page;
}

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
    int device; /* current at the import */
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
    struct mipmap* parent; /* NULL for the level arrays of a mapped GL texture */
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

static struct hipArray* gfx_array_find(const void* handle);

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
    return gfx_array_find(handle); /* the level arrays of mapped GL textures */
}

/* --- semaphores, streams, events --- */

struct sem {
    struct obj h;
    hipExternalSemaphoreHandleType type;
    int fd; /* not owned: never closed */
    uint64_t counter;
    long signals; /* signals received (hipffmTest_semaphoreSignals) */
};

struct stream {
    struct obj h;
    unsigned flags;
    int device;
    void* capture;      /* while capturing: the graph its work goes into (a struct graph*), else NULL */
    void* capture_last; /* the node captured last (a struct gnode*), NULL before the first */
    int capture_broken; /* a captured call failed: the capture ends hipErrorStreamCaptureInvalidated */
};

/* Stream capture ("Graphs" below): when stream s captures, the call becomes a node of its graph (after the node
   captured before) and these return 1 with *err the result; else 0, and the call runs as usual. Lock not held. */
static int capture_copy(hipStream_t s, void* dst, const void* src, size_t n, hipMemcpyKind kind, hipError_t* err);
static int capture_set8(hipStream_t s, void* dst, int value, size_t n, hipError_t* err);
static int capture_event(hipStream_t s, hipEvent_t event, int record, hipError_t* err);
static int capture_kernel(hipStream_t s, hipFunction_t f, const unsigned grid[3], const unsigned block[3],
                          unsigned shared, void** kernelParams, void** extra, hipError_t* err);
static int capture_sem(hipStream_t s, int signal, const hipExternalSemaphore_t* sems, const void* params, unsigned n,
                       hipError_t* err);
static int capture_refuses_sync(hipStream_t s); /* a sync of a capturing stream: refused, and the capture broken */
static void graph_free_unlocked(void* graph);   /* unregisters and frees a graph and its nodes */

struct event {
    struct obj h;
    unsigned flags;
    int device;
    int recorded;
    struct timespec when;
    unsigned long long pending_seq; /* deferred work it waits for: see "Deferred work" below; 0: none */
};

/* NULL (default stream), hipStreamLegacy, hipStreamPerThread or a live stream. Lock held. */
static int stream_valid(hipStream_t s) {
    return s == NULL || s == hipStreamLegacy || s == hipStreamPerThread || reg_find(K_STREAM, s) != NULL;
}

/* The device of a valid stream: the current device for the null and per-thread streams. Lock held. */
static int stream_device(hipStream_t s) {
    struct stream* st = (struct stream*)reg_find(K_STREAM, s);
    return st != NULL ? st->device : t_current_device;
}

static int dev_reaches(int d, int p);

/* Whether device memory at p is on another device than d that d has no peer access to (then a fill or a kernel
   cannot reach it). Lock held. */
static int other_device(const void* p, int d) {
    int pd = ptr_device(p);
    return pd >= 0 && !dev_reaches(d, pd);
}

/* Whether work queued on s is ordered after the null stream's: the null stream itself (NULL, hipStreamLegacy),
   hipStreamPerThread (which synchronizes with the legacy stream, as in CUDA) and streams created without
   hipStreamNonBlocking. Lock held; s valid. */
static int stream_blocking(hipStream_t s) {
    if (s == NULL || s == hipStreamLegacy || s == hipStreamPerThread) return 1;
    struct stream* st = (struct stream*)reg_find(K_STREAM, s);
    return st != NULL && (st->flags & hipStreamNonBlocking) == 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Deferred work (README.md, "Deferred work")                                                         */
/*                                                                                                    */
/* The work that a real runtime's synchronous call leaves running on the GPU when it returns (a       */
/* device-to-device hipMemcpy, a hipMemset of device memory, an array copy from device memory) is     */
/* queued here, in order, as work of the null stream, and is not done when the call returns. It runs  */
/* (flush_upto / flush_all) where a real runtime would have finished it for the caller: a wait for    */
/* the null stream or the device, an event recorded after it, any later work queued on the null       */
/* stream or a blocking stream (the double does that work at once, so the queue runs first to keep    */
/* the order), a synchronous copy that involves the host, and before anything frees or unmaps memory. */
/* Reading the memory through the imported fd, a mapping of its own or the GL hooks runs nothing.     */

struct pending {
    struct pending* next;
    unsigned long long seq; /* 1, 2, ... in the order queued */
    int is_set;             /* 0: a copy, 1: a fill */
    unsigned char* dst;
    const unsigned char* src;    /* copies */
    size_t width, height, depth; /* copies: bytes a row, rows a slice, slices; fills: width elements */
    size_t dpitch, dslice;       /* copies: bytes from row to row and slice to slice at dst ... */
    size_t spitch, sslice;       /* ... and at src */
    unsigned char pattern[4];    /* fills: the element's bytes, elem (1, 2 or 4) of them */
    size_t elem;
};

static struct pending* g_pending;                    /* the oldest first */
static struct pending** g_pending_tail = &g_pending; /* where the next one goes */
static unsigned long long g_null_seq;                /* seq of the latest work queued (0: none yet) */
static long g_pending_n;

static void pending_run(const struct pending* p) {
    if (p->is_set) {
        if (p->elem == 1) {
            memset(p->dst, p->pattern[0], p->width);
            return;
        }
        for (size_t i = 0; i < p->width; i++) memcpy(p->dst + i * p->elem, p->pattern, p->elem);
        return;
    }
    for (size_t z = 0; z < p->depth; z++)
        for (size_t y = 0; y < p->height; y++)
            memmove(p->dst + z * p->dslice + y * p->dpitch, p->src + z * p->sslice + y * p->spitch, p->width);
}

/* Runs, in order, the deferred work queued up to seq. Lock held. */
static void flush_upto(unsigned long long seq) {
    while (g_pending != NULL && g_pending->seq <= seq) {
        struct pending* p = g_pending;
        g_pending = p->next;
        if (g_pending == NULL) g_pending_tail = &g_pending;
        g_pending_n--;
        pending_run(p);
        free(p);
    }
}

/* Runs all deferred work. Lock held. */
static void flush_all(void) {
    flush_upto(~0ULL);
}

/* The synchronous work w of a call: deferred (queued on the null stream), or done now after the deferred work
   (then the call waited for the null stream, as the real runtimes do for the work they wait for). Lock held. */
static void sync_work(const struct pending* w, int defer) {
    struct pending* p = defer ? malloc(sizeof *p) : NULL;
    if (p == NULL) { /* not deferred (or no memory to defer it: then it is done now, still in order) */
        flush_all();
        pending_run(w);
        return;
    }
    *p = *w;
    p->next = NULL;
    p->seq = ++g_null_seq;
    *g_pending_tail = p;
    g_pending_tail = &p->next;
    g_pending_n++;
}

/* Validates stream s for work queued on it and, when s is ordered after the null stream, runs the deferred work
   first: the double does the stream's work at once. */
static int stream_order(hipStream_t s) {
    pthread_mutex_lock(&g_lock);
    int ok = stream_valid(s);
    if (ok && stream_blocking(s)) flush_all();
    pthread_mutex_unlock(&g_lock);
    return ok;
}

/* Runs all deferred work (lock not held). */
static void flush_all_unlocked(void) {
    pthread_mutex_lock(&g_lock);
    flush_all();
    pthread_mutex_unlock(&g_lock);
}

/* Whether p is "device memory" for the deferral: in a hipMalloc allocation, a mapped external buffer or a mapped
   GL buffer (not pinned host memory, not memory the runtime does not know). Lock held. */
static int device_ptr(const void* p);

long hipffmTest_pendingWork(void) {
    pthread_mutex_lock(&g_lock);
    long n = g_pending_n;
    pthread_mutex_unlock(&g_lock);
    return n;
}

static long views_orphaned(void); /* texture and surface objects that outlived what they view ("Textures") */

long hipffmTest_liveObjects(const char* kind) {
    long n = -1;
    pthread_mutex_lock(&g_lock);
    if (kind == NULL || strcmp(kind, "all") == 0) {
        /* Distinct HIP objects: mapped buffers are already part of "memory", graphics mappings are a state of
           a graphics resource, and fake GL objects are test fixtures. */
        n = g_count[K_ALLOC] + g_count[K_EXTMEM] + g_count[K_MIPMAP] + g_count[K_SEM] + g_count[K_STREAM]
            + g_count[K_EVENT] + g_mappings + g_count[K_MODULE] + g_count[K_GFX] + g_count[K_GRAPH]
            + g_count[K_GEXEC] /* graph nodes belong to their graph: counted apart ("graphNode") */
            + g_count[K_TEX] + g_count[K_SURF]
            + g_count[K_VMM] + g_count[K_VMMVA]; /* VMM mappings and opened IPC memory are in "memory" */
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
    } else if (strcmp(kind, "module") == 0) {
        n = g_count[K_MODULE];
    } else if (strcmp(kind, "graphicsResource") == 0) {
        n = g_count[K_GFX];
    } else if (strcmp(kind, "graphicsMapping") == 0) {
        n = g_gfx_mapped;
    } else if (strcmp(kind, "glObject") == 0) {
        n = g_gl_objects;
    } else if (strcmp(kind, "graph") == 0) {
        n = g_count[K_GRAPH];
    } else if (strcmp(kind, "graphExec") == 0) {
        n = g_count[K_GEXEC];
    } else if (strcmp(kind, "graphNode") == 0) {
        n = g_graph_nodes;
    } else if (strcmp(kind, "textureObject") == 0) {
        n = g_count[K_TEX];
    } else if (strcmp(kind, "surfaceObject") == 0) {
        n = g_count[K_SURF];
    } else if (strcmp(kind, "orphanedView") == 0) {
        n = views_orphaned();
    } else if (strcmp(kind, "vmmHandle") == 0) {
        n = g_count[K_VMM];
    } else if (strcmp(kind, "vmmReservation") == 0) {
        n = g_count[K_VMMVA];
    } else if (strcmp(kind, "vmmMapping") == 0) {
        n = g_vmm_mappings;
    } else if (strcmp(kind, "ipcMemory") == 0) {
        n = g_ipc_opened;
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

/* Fake devices: 1 unless a test asks for 2 (hipffmTest_setDeviceCount). Every allocation, import, stream, event
   and module belongs to the device current when it was made; work that mixes devices is refused as CUDA does
   (a fill: hipErrorInvalidValue; a kernel touching another device's memory: a sticky hipErrorIllegalAddress,
   returned by the synchronizing calls until hipffmTest_reset), unless the work's device enabled peer access to
   the memory's device. */
#define MAX_DEVICES 2
static int g_devices = 1;
static hipError_t g_sticky = hipSuccess; /* guarded by g_lock */
/* Peer access: g_peer[d][p] once device d enabled access to p's memory (hipDeviceEnablePeerAccess with d current);
   then fills, copies and kernels of d may use p's memory. Every pair of distinct fake devices can access each
   other. Guarded by g_lock; cleared by hipffmTest_setDeviceCount. */
static unsigned char g_peer[MAX_DEVICES][MAX_DEVICES];

static int dev_ok(int d) {
    return d >= 0 && d < g_devices;
}

/* Whether work of device d may use memory of device p: the same device, or peer access enabled. Lock held. */
static int dev_reaches(int d, int p) {
    return d == p || (d >= 0 && p >= 0 && d < MAX_DEVICES && p < MAX_DEVICES && g_peer[d][p]);
}

void hipffmTest_setDeviceCount(int n) {
    g_devices = n < 1 ? 1 : n > MAX_DEVICES ? MAX_DEVICES : n;
    if (t_current_device >= g_devices) t_current_device = 0;
    pthread_mutex_lock(&g_lock);
    memset(g_peer, 0, sizeof g_peer);
    pthread_mutex_unlock(&g_lock);
}

static void sticky_clear(void) {
    pthread_mutex_lock(&g_lock);
    g_sticky = hipSuccess;
    pthread_mutex_unlock(&g_lock);
}

int hipffmTest_stickyError(void) {
    pthread_mutex_lock(&g_lock);
    int e = g_sticky;
    pthread_mutex_unlock(&g_lock);
    return e;
}

hipError_t hipGetDeviceCount(int* count) {
    API_ENTER();
    if (count == NULL) return ret(hipErrorInvalidValue);
    *count = g_devices;
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
    if (!dev_ok(deviceId)) return ret(hipErrorInvalidDevice);
    t_current_device = deviceId;
    return hipSuccess;
}

/* Peer access as CUDA and clr define it: any two distinct devices can; enabling it for the current device is
   hipErrorInvalidDevice, twice hipErrorPeerAccessAlreadyEnabled, flags other than 0 hipErrorInvalidValue; disabling
   what is not enabled hipErrorPeerAccessNotEnabled. */
hipError_t hipDeviceCanAccessPeer(int* canAccessPeer, int deviceId, int peerDeviceId) {
    API_ENTER();
    if (canAccessPeer == NULL) return ret(hipErrorInvalidValue);
    if (!dev_ok(deviceId) || !dev_ok(peerDeviceId)) return ret(hipErrorInvalidDevice);
    *canAccessPeer = deviceId != peerDeviceId;
    return hipSuccess;
}

hipError_t hipDeviceEnablePeerAccess(int peerDeviceId, unsigned int flags) {
    API_ENTER();
    if (!dev_ok(peerDeviceId) || peerDeviceId == t_current_device) return ret(hipErrorInvalidDevice);
    if (flags != 0) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    int already = g_peer[t_current_device][peerDeviceId];
    g_peer[t_current_device][peerDeviceId] = 1;
    pthread_mutex_unlock(&g_lock);
    return already ? ret(hipErrorPeerAccessAlreadyEnabled) : hipSuccess;
}

hipError_t hipDeviceDisablePeerAccess(int peerDeviceId) {
    API_ENTER();
    if (!dev_ok(peerDeviceId) || peerDeviceId == t_current_device) return ret(hipErrorInvalidDevice);
    pthread_mutex_lock(&g_lock);
    int enabled = g_peer[t_current_device][peerDeviceId];
    g_peer[t_current_device][peerDeviceId] = 0;
    pthread_mutex_unlock(&g_lock);
    return enabled ? hipSuccess : ret(hipErrorPeerAccessNotEnabled);
}

hipError_t hipDeviceGet(hipDevice_t* device, int ordinal) {
    API_ENTER();
    if (device == NULL) return ret(hipErrorInvalidValue);
    if (!dev_ok(ordinal)) return ret(hipErrorInvalidDevice);
    *device = ordinal;
    return hipSuccess;
}

hipError_t hipDeviceGetName(char* name, int len, hipDevice_t device) {
    API_ENTER();
    if (!dev_ok(device)) return ret(hipErrorInvalidDevice);
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
    if (!dev_ok(device)) return ret(hipErrorInvalidDevice);
    if (uuid == NULL) return ret(hipErrorInvalidValue);
    memcpy(uuid->bytes, k_uuid, sizeof k_uuid);
    uuid->bytes[15] = (char)(k_uuid[15] + device); /* device 1: ...7f */
    return hipSuccess;
}

hipError_t hipDeviceGetPCIBusId(char* pciBusId, int len, int device) {
    API_ENTER();
    if (!dev_ok(device)) return ret(hipErrorInvalidDevice);
    if (pciBusId == NULL || len < (int)sizeof DEVICE_PCI_BUS_ID) return ret(hipErrorInvalidValue);
    memcpy(pciBusId, DEVICE_PCI_BUS_ID, sizeof DEVICE_PCI_BUS_ID);
    pciBusId[6] = (char)('0' + device); /* device 1: 0000:01:00.0 */
    return hipSuccess;
}

hipError_t hipDeviceGetAttribute(int* pi, hipDeviceAttribute_t attr, int deviceId) {
    API_ENTER();
    if (pi == NULL) return ret(hipErrorInvalidValue);
    if (!dev_ok(deviceId)) return ret(hipErrorInvalidDevice);
    int v;
    switch (attr) {
    case hipDeviceAttributePciBusId: v = deviceId; break;
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
    case hipDeviceAttributeTextureAlignment: v = TEX_ALIGN; break;
    case hipDeviceAttributeTexturePitchAlignment: v = TEX_PITCH_ALIGN; break;
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
    if (!dev_ok(deviceId)) return ret(hipErrorInvalidDevice);
    memset(prop, 0, sizeof *prop);
    strncpy(prop->name, DEVICE_NAME, sizeof prop->name - 1);
    memcpy(prop->uuid.bytes, k_uuid, sizeof k_uuid);
    prop->uuid.bytes[15] = (char)(k_uuid[15] + deviceId);
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
    prop->pciBusID = deviceId;
    prop->pciDeviceID = 0;
    prop->pciDomainID = 0;
    strncpy(prop->gcnArchName, DEVICE_ARCH, sizeof prop->gcnArchName - 1);
    return hipSuccess;
}

hipError_t hipDeviceTotalMem(size_t* bytes, hipDevice_t device) {
    API_ENTER();
    if (bytes == NULL) return ret(hipErrorInvalidValue);
    if (!dev_ok(device)) return ret(hipErrorInvalidDevice);
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
    flush_all_unlocked(); /* the deferred work; everything else completed in its call */
    pthread_mutex_lock(&g_lock);
    hipError_t sticky = g_sticky;
    pthread_mutex_unlock(&g_lock);
    return ret(sticky);
}

hipError_t hipDeviceReset(void) {
    API_ENTER();
    flush_all_unlocked();
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
    /* Device memory is whole pages of its own (mmap), so that hipIpcGetMemHandle can put a memfd under it in place. */
    if (type == A_DEVICE) {
        p = mmap(NULL, page_round(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) p = NULL;
    } else if (posix_memalign(&p, MALLOC_ALIGN, size) != 0) {
        p = NULL;
    }
    if (a == NULL || p == NULL) {
        free(a);
        if (p != NULL && type != A_DEVICE) free(p);
        pthread_mutex_unlock(&g_lock);
        return hipErrorOutOfMemory;
    }
    memset(p, 0, size);
    a->ptr = p;
    a->size = size;
    a->type = type;
    a->flags = flags;
    a->device = t_current_device;
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
    if (a == NULL || (a->type == A_HOST && !accept_host) || (a->type != A_HOST && !accept_device)
        || a->type == A_VMM || a->type == A_IPC) {
        pthread_mutex_unlock(&g_lock);
        return hipErrorInvalidValue;
    }
    flush_all(); /* as clr's hipFree, which waits for the device: deferred work may touch the memory */
    reg_del(&a->h);
    switch (a->type) {
    case A_DEVICE:
        g_used_bytes -= a->size;
        munmap(a->ptr, page_round(a->size));
        if (a->ipc_fd > 0) close(a->ipc_fd);
        break;
    case A_VMM:
    case A_IPC: /* refused above */
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

/* The copy of an async call (or of hipMemcpyWithStream): done now, after stream_order. */
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

/* The copy of a synchronous call (hipMemcpy, hipMemcpyHtoD/DtoH/DtoD), direction from the pointers: deferred when
   both sides are device memory (neither runtime waits for a device-to-device copy), else done now, after the
   deferred work (a copy that involves the host runs after the null stream's work and is waited for). */
static hipError_t sync_copy(void* dst, const void* src, size_t n) {
    if (n == 0) return hipSuccess;
    if (dst == NULL || src == NULL) return hipErrorInvalidValue;
    struct pending w = {.dst = dst, .src = src, .width = n, .height = 1, .depth = 1};
    pthread_mutex_lock(&g_lock);
    sync_work(&w, device_ptr(dst) && device_ptr(src));
    pthread_mutex_unlock(&g_lock);
    return hipSuccess;
}

hipError_t hipMemcpy(void* dst, const void* src, size_t sizeBytes, hipMemcpyKind kind) {
    API_ENTER();
    if (!memcpy_kind_valid(kind)) return ret(hipErrorInvalidMemcpyDirection);
    return ret(sync_copy(dst, src, sizeBytes));
}

/* Synchronous on a stream: not deferred; ordered like the stream's other work. */
hipError_t hipMemcpyWithStream(void* dst, const void* src, size_t sizeBytes, hipMemcpyKind kind,
                               hipStream_t stream) {
    API_ENTER();
    if (!stream_order(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_copy_kind(dst, src, sizeBytes, kind));
}

hipError_t hipMemcpyAsync(void* dst, const void* src, size_t sizeBytes, hipMemcpyKind kind, hipStream_t stream) {
    API_ENTER();
    hipError_t captured;
    if (capture_copy(stream, dst, src, sizeBytes, kind, &captured)) return ret(captured);
    if (!stream_order(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_copy_kind(dst, src, sizeBytes, kind));
}

/* ROCm 7 declares the host source of hipMemcpyHtoD(Async) const (6.x: void*); the ABI is the same. */
#if HIP_VERSION_MAJOR >= 7
#define HIPFFM_HTOD_SRC const void*
#else
#define HIPFFM_HTOD_SRC void*
#endif

/* A peer copy: each pointer must be device memory of the device named for it (any other is refused, as a real
   runtime faults or refuses); needs no peer access. Runs after the stream's ordering, done now. */
hipError_t hipMemcpyPeerAsync(void* dst, int dstDeviceId, const void* src, int srcDevice, size_t sizeBytes,
                              hipStream_t stream) {
    API_ENTER();
    if (!dev_ok(dstDeviceId) || !dev_ok(srcDevice)) return ret(hipErrorInvalidDevice);
    pthread_mutex_lock(&g_lock);
    int ok = ptr_device(dst) == dstDeviceId && ptr_device(src) == srcDevice && device_range_ok(dst, sizeBytes)
             && device_range_ok(src, sizeBytes);
    pthread_mutex_unlock(&g_lock);
    if (!ok) return ret(hipErrorInvalidValue);
    if (!stream_order(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_copy(dst, src, sizeBytes));
}

hipError_t hipMemcpyPeer(void* dst, int dstDeviceId, const void* src, int srcDeviceId, size_t sizeBytes) {
    API_ENTER();
    hipError_t e = hipMemcpyPeerAsync(dst, dstDeviceId, src, srcDeviceId, sizeBytes, NULL);
    return e; /* done before it returns */
}

hipError_t hipMemcpyHtoD(hipDeviceptr_t dst, HIPFFM_HTOD_SRC src, size_t sizeBytes) {
    API_ENTER();
    return ret(sync_copy(dst, src, sizeBytes));
}

hipError_t hipMemcpyDtoH(void* dst, hipDeviceptr_t src, size_t sizeBytes) {
    API_ENTER();
    return ret(sync_copy(dst, src, sizeBytes));
}

hipError_t hipMemcpyDtoD(hipDeviceptr_t dst, hipDeviceptr_t src, size_t sizeBytes) {
    API_ENTER();
    return ret(sync_copy(dst, src, sizeBytes));
}

hipError_t hipMemcpyHtoDAsync(hipDeviceptr_t dst, HIPFFM_HTOD_SRC src, size_t sizeBytes, hipStream_t stream) {
    API_ENTER();
    if (!stream_order(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_copy(dst, src, sizeBytes));
}

hipError_t hipMemcpyDtoHAsync(void* dst, hipDeviceptr_t src, size_t sizeBytes, hipStream_t stream) {
    API_ENTER();
    if (!stream_order(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_copy(dst, src, sizeBytes));
}

hipError_t hipMemcpyDtoDAsync(hipDeviceptr_t dst, hipDeviceptr_t src, size_t sizeBytes, hipStream_t stream) {
    API_ENTER();
    if (!stream_order(stream)) return ret(hipErrorInvalidHandle);
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

/* The fill of a synchronous call (hipMemset, hipMemsetD8/D16/D32): count elements of elem bytes. Deferred when the
   destination is device memory (neither runtime waits for a fill of device memory), else done now, after the
   deferred work. */
static hipError_t sync_set(void* dst, const void* element, size_t elem, size_t count) {
    if (count == 0) return hipSuccess;
    if (dst == NULL) return hipErrorInvalidValue;
    struct pending w = {.is_set = 1, .dst = dst, .width = count, .elem = elem};
    memcpy(w.pattern, element, elem);
    pthread_mutex_lock(&g_lock);
    sync_work(&w, device_ptr(dst));
    pthread_mutex_unlock(&g_lock);
    return hipSuccess;
}

/* A fill of another device's memory: refused as CUDA refuses it (without peer access). */
static int fill_refused(const void* dst, hipStream_t stream) {
    pthread_mutex_lock(&g_lock);
    int refused = stream_valid(stream) && other_device(dst, stream_device(stream));
    pthread_mutex_unlock(&g_lock);
    return refused;
}

hipError_t hipMemset(void* dst, int value, size_t sizeBytes) {
    API_ENTER();
    if (fill_refused(dst, NULL)) return ret(hipErrorInvalidValue);
    unsigned char b = (unsigned char)value;
    return ret(sync_set(dst, &b, 1, sizeBytes));
}

hipError_t hipMemsetAsync(void* dst, int value, size_t sizeBytes, hipStream_t stream) {
    API_ENTER();
    hipError_t captured;
    if (capture_set8(stream, dst, value, sizeBytes, &captured)) return ret(captured);
    if (fill_refused(dst, stream)) return ret(hipErrorInvalidValue);
    if (!stream_order(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_set8(dst, (unsigned char)value, sizeBytes));
}

hipError_t hipMemsetD8(hipDeviceptr_t dest, unsigned char value, size_t count) {
    API_ENTER();
    return ret(sync_set(dest, &value, 1, count));
}

hipError_t hipMemsetD8Async(hipDeviceptr_t dest, unsigned char value, size_t count, hipStream_t stream) {
    API_ENTER();
    if (!stream_order(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_set8(dest, value, count));
}

hipError_t hipMemsetD16(hipDeviceptr_t dest, unsigned short value, size_t count) {
    API_ENTER();
    return ret(sync_set(dest, &value, sizeof value, count));
}

hipError_t hipMemsetD16Async(hipDeviceptr_t dest, unsigned short value, size_t count, hipStream_t stream) {
    API_ENTER();
    if (!stream_order(stream)) return ret(hipErrorInvalidHandle);
    return ret(do_set16(dest, value, count));
}

hipError_t hipMemsetD32(hipDeviceptr_t dest, int value, size_t count) {
    API_ENTER();
    uint32_t v = (uint32_t)value;
    return ret(sync_set(dest, &v, sizeof v, count));
}

hipError_t hipMemsetD32Async(hipDeviceptr_t dst, int value, size_t count, hipStream_t stream) {
    API_ENTER();
    if (!stream_order(stream)) return ret(hipErrorInvalidHandle);
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
    s->device = t_current_device;
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
    s->device = t_current_device;
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
    void* capture = ((struct stream*)o)->capture;
    pthread_mutex_unlock(&g_lock);
    if (capture != NULL) graph_free_unlocked(capture); /* a capture never ended: its graph goes with the stream */
    free(o);
    return hipSuccess;
}

/* The null stream's wait (NULL, hipStreamLegacy): runs the deferred work. Another stream's work is already done;
   the deferred work is the null stream's, which a stream created later waits for only by queuing work. Lock held. */
static void stream_wait(hipStream_t stream) {
    if (stream == NULL || stream == hipStreamLegacy) flush_all();
}

hipError_t hipStreamSynchronize(hipStream_t stream) {
    API_ENTER();
    if (capture_refuses_sync(stream)) return ret(hipErrorStreamCaptureUnsupported);
    pthread_mutex_lock(&g_lock);
    int ok = stream_valid(stream);
    if (ok) stream_wait(stream);
    hipError_t sticky = g_sticky;
    pthread_mutex_unlock(&g_lock);
    return !ok ? ret(hipErrorInvalidHandle) : ret(sticky);
}

/* Never hipErrorNotReady: a query of the null stream runs its deferred work (as if it had finished meanwhile). */
hipError_t hipStreamQuery(hipStream_t stream) {
    API_ENTER();
    if (capture_refuses_sync(stream)) return ret(hipErrorStreamCaptureUnsupported);
    pthread_mutex_lock(&g_lock);
    int ok = stream_valid(stream);
    if (ok) stream_wait(stream);
    pthread_mutex_unlock(&g_lock);
    return ok ? hipSuccess : ret(hipErrorInvalidHandle);
}

/* The stream's later work (done at once here) comes after what the event waits for: that deferred work runs. */
/* The wait of hipStreamWaitEvent and of a graph's event-wait node (not counted as a call). */
static hipError_t stream_wait_event(hipStream_t stream, hipEvent_t event) {
    pthread_mutex_lock(&g_lock);
    struct event* e = (struct event*)reg_find(K_EVENT, event);
    int ok = stream_valid(stream) && e != NULL;
    if (ok) flush_upto(e->pending_seq);
    pthread_mutex_unlock(&g_lock);
    return ok ? hipSuccess : hipErrorInvalidHandle;
}

hipError_t hipStreamWaitEvent(hipStream_t stream, hipEvent_t event, unsigned int flags) {
    API_ENTER();
    if (flags != hipEventWaitDefault && flags != hipEventWaitExternal) return ret(hipErrorInvalidValue);
    hipError_t captured;
    if (capture_event(stream, event, 0, &captured)) return ret(captured);
    return ret(stream_wait_event(stream, event));
}

static hipError_t event_create(hipEvent_t* event, unsigned flags) {
    const unsigned known = hipEventBlockingSync | hipEventDisableTiming | hipEventInterprocess
                           | hipEventDisableSystemFence | hipEventReleaseToDevice | hipEventReleaseToSystem;
    if (event == NULL || (flags & ~known) != 0) return hipErrorInvalidValue;
    struct event* e = calloc(1, sizeof *e);
    if (e == NULL) return hipErrorOutOfMemory;
    e->flags = flags;
    e->device = t_current_device;
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

/* The record of hipEventRecord and of a graph's event-record node (not counted as a call). */
static hipError_t event_record(hipEvent_t event, hipStream_t stream) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&g_lock);
    struct event* e = (struct event*)reg_find(K_EVENT, event);
    if (e == NULL || !stream_valid(stream) || e->device != stream_device(stream)) { /* as CUDA: same device */
        pthread_mutex_unlock(&g_lock);
        return hipErrorInvalidHandle;
    }
    e->recorded = 1;
    e->when = now;
    /* Recorded on the null stream or a blocking stream, it completes after the deferred work queued so far. */
    e->pending_seq = stream_blocking(stream) ? g_null_seq : 0;
    pthread_mutex_unlock(&g_lock);
    return hipSuccess;
}

hipError_t hipEventRecord(hipEvent_t event, hipStream_t stream) {
    API_ENTER();
    hipError_t captured;
    if (capture_event(stream, event, 1, &captured)) return ret(captured);
    return ret(event_record(event, stream));
}

/* A valid event: synchronizing or querying it runs the deferred work it completes after (never hipErrorNotReady). */
static hipError_t event_check(hipEvent_t event) {
    pthread_mutex_lock(&g_lock);
    struct event* e = (struct event*)reg_find(K_EVENT, event);
    if (e != NULL) flush_upto(e->pending_seq);
    pthread_mutex_unlock(&g_lock);
    return e != NULL ? hipSuccess : hipErrorInvalidHandle;
}

hipError_t hipEventSynchronize(hipEvent_t event) {
    API_ENTER();
    hipError_t e = event_check(event);
    pthread_mutex_lock(&g_lock);
    if (e == hipSuccess) e = g_sticky;
    pthread_mutex_unlock(&g_lock);
    return ret(e);
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

/* Lavapipe (mesa's CPU Vulkan driver, used by hip-ffm-vulkan's tests) exports OPAQUE_FD memory as a memfd named
   "llvmpipe memory fd" that starts with mesa's own header: the memfd's size (u64) and the offset of the
   allocation's bytes (u64), 4096; the memfd is the allocation + 4136 bytes (mesa 22.3.6, measured and asserted by
   hip-ffm-vulkan's LavapipeLayoutTest). A real runtime imports what its driver exported; this double maps the
   allocation's bytes, so that Vulkan and "HIP" see the same memory. Returns the offset (0 for any other fd, which
   maps from its start as before), or -1 for a lavapipe memfd whose header does not say that. */
#define HIPFFM_LAVAPIPE_MEMFD "/memfd:llvmpipe memory fd"

static off_t external_memory_data_offset(int fd, const struct stat* st) {
    char path[64], target[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0) return 0;
    target[n] = '\0';
    if (strncmp(target, HIPFFM_LAVAPIPE_MEMFD, strlen(HIPFFM_LAVAPIPE_MEMFD)) != 0) return 0;
    uint64_t header[2];
    if (pread(fd, header, sizeof header, 0) != (ssize_t)sizeof header) return -1;
    if (header[0] != (uint64_t)st->st_size || header[1] == 0 || header[1] % 4096 != 0 || header[1] >= header[0])
        return -1;
    return (off_t)header[1];
}

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
    const off_t data_offset = external_memory_data_offset(fd, &st);
    if (data_offset < 0) return ret(hipErrorInvalidValue);
    /* A mapping past the end of a regular file (memfd) would SIGBUS on access: refuse it. */
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size < memHandleDesc->size + (unsigned long long)data_offset)
        return ret(hipErrorInvalidValue);
    struct extmem* e = calloc(1, sizeof *e);
    if (e == NULL) return ret(hipErrorOutOfMemory);
    void* base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, data_offset);
    if (base == MAP_FAILED) {
        free(e);
        return ret(hipErrorInvalidValue);
    }
    /* The fd stays the caller's: like clr, it is never closed here. */
    e->base = base;
    e->size = size;
    e->fd = fd;
    e->device = t_current_device;
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
    a->device = e->device;
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
    flush_all(); /* deferred work may touch its memory */
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
    /* Layered arrays and cube maps keep their layers (the depth) at every level, and a 1D layered array has
       height 0 (as in CUDA and hip-ffm's Extent). */
    const int layered = (mipmapDesc->flags & (hipArrayLayered | hipArrayCubemap)) != 0;
    if (ext.width == 0 || (ext.height == 0 && ext.depth != 0 && !layered)) return ret(hipErrorInvalidValue);
    size_t maxdim = ext.width > ext.height ? ext.width : ext.height;
    if (!layered && ext.depth > maxdim) maxdim = ext.depth;
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
        a->extent.depth = layered ? ext.depth : level_dim(ext.depth, i);
        a->elem_size = elem;
        size_t bytes;
        if (__builtin_mul_overflow(a->extent.width, elem, &a->row_bytes)
            || __builtin_mul_overflow(at_least_1(a->extent.height), at_least_1(a->extent.depth), &a->rows)
            || __builtin_mul_overflow(a->row_bytes, a->rows, &bytes) || bytes > e->size - cursor) {
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
    flush_all(); /* deferred work may touch its levels */
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
        /* Under the lock: the level's mapping cannot be unmapped meanwhile. Deferred when the linear side is device
           memory (neither runtime waits for an array copy from or to device memory), else done now. */
        unsigned char* cell = a->data + hOffset * a->row_bytes + wOffset;
        struct pending w = {.width = width, .height = height, .depth = 1};
        w.dst = to_array ? cell : (unsigned char*)lin;
        w.src = to_array ? (const unsigned char*)lin : cell;
        w.dpitch = to_array ? a->row_bytes : lpitch;
        w.spitch = to_array ? lpitch : a->row_bytes;
        sync_work(&w, device_ptr(lin));
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

/* 3D copy between linear memory and a level array (exactly one side an array). As in HIP and CUDA: the extent
   and the array's position are in elements, the linear side's x position in bytes, its pitch in bytes and its
   ysize in rows per slice. Array rows: slice z, row y is row z * max(1,height) + y of the level. */
hipError_t hipMemcpy3D(const struct hipMemcpy3DParms* p) {
    API_ENTER();
    if (p == NULL) return ret(hipErrorInvalidValue);
    if (!memcpy_kind_valid(p->kind)) return ret(hipErrorInvalidMemcpyDirection);
    int to_array = p->dstArray != NULL;
    if ((p->srcArray != NULL) == to_array) return ret(hipErrorInvalidValue);
    hipPitchedPtr lin = to_array ? p->srcPtr : p->dstPtr;
    hipPos apos = to_array ? p->dstPos : p->srcPos;
    hipPos lpos = to_array ? p->srcPos : p->dstPos;
    hipExtent ex = p->extent;
    if (ex.width == 0 || ex.height == 0 || ex.depth == 0) return hipSuccess;
    if (lin.ptr == NULL) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    struct hipArray* a = array_find(to_array ? (const void*)p->dstArray : (const void*)p->srcArray);
    hipError_t err = hipSuccess;
    if (a == NULL) {
        err = hipErrorInvalidHandle;
    } else {
        size_t e = a->elem_size, rows = at_least_1(a->extent.height), slices = at_least_1(a->extent.depth);
        size_t wbytes = ex.width * e;
        if (apos.x > a->extent.width || ex.width > a->extent.width - apos.x || apos.y > rows || ex.height > rows - apos.y
            || apos.z > slices || ex.depth > slices - apos.z)
            err = hipErrorInvalidValue;
        else if (lin.pitch < lpos.x || wbytes > lin.pitch - lpos.x)
            err = hipErrorInvalidPitchValue;
        else if (lin.ysize < lpos.y || ex.height > lin.ysize - lpos.y)
            err = hipErrorInvalidValue;
        else {
            /* Slice z, row y: row (apos.z + z) * rows + apos.y + y of the level; deferred as in copy_2d_array. */
            unsigned char* cell = a->data + (apos.z * rows + apos.y) * a->row_bytes + apos.x * e;
            unsigned char* line = (unsigned char*)lin.ptr + (lpos.z * lin.ysize + lpos.y) * lin.pitch + lpos.x;
            size_t cslice = rows * a->row_bytes, lslice = lin.ysize * lin.pitch;
            struct pending w = {.width = wbytes, .height = ex.height, .depth = ex.depth};
            w.dst = to_array ? cell : line;
            w.src = to_array ? line : cell;
            w.dpitch = to_array ? a->row_bytes : lin.pitch;
            w.dslice = to_array ? cslice : lslice;
            w.spitch = to_array ? lin.pitch : a->row_bytes;
            w.sslice = to_array ? lslice : cslice;
            sync_work(&w, device_ptr(lin.ptr));
        }
    }
    pthread_mutex_unlock(&g_lock);
    return ret(err);
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

/* The signal of hipSignalExternalSemaphoresAsync and of a graph's signal node (not counted as a call). */
static hipError_t sem_signal(const hipExternalSemaphore_t* extSemArray,
                             const hipExternalSemaphoreSignalParams* paramsArray, unsigned int numExtSems,
                             hipStream_t stream) {
    if (numExtSems > 0 && (extSemArray == NULL || paramsArray == NULL)) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    hipError_t err = stream_valid(stream) ? hipSuccess : hipErrorInvalidHandle;
    for (unsigned i = 0; err == hipSuccess && i < numExtSems; i++) {
        if (paramsArray[i].flags != 0) err = hipErrorInvalidValue;
        else if (reg_find(K_SEM, extSemArray[i]) == NULL) err = hipErrorInvalidHandle;
    }
    if (err == hipSuccess && stream_blocking(stream)) flush_all(); /* the signal comes after the null stream's work */
    for (unsigned i = 0; err == hipSuccess && i < numExtSems; i++) {
        struct sem* s = (struct sem*)reg_find(K_SEM, extSemArray[i]);
        if (s->type == hipExternalSemaphoreHandleTypeTimelineSemaphoreFd) {
            uint64_t v = paramsArray[i].params.fence.value;
            if (v > s->counter) s->counter = v;
        } else {
            s->counter = 1;
        }
        s->signals++;
    }
    pthread_mutex_unlock(&g_lock);
    return err;
}

hipError_t hipSignalExternalSemaphoresAsync(const hipExternalSemaphore_t* extSemArray,
                                            const hipExternalSemaphoreSignalParams* paramsArray,
                                            unsigned int numExtSems, hipStream_t stream) {
    API_ENTER();
    hipError_t captured;
    if (capture_sem(stream, 1, extSemArray, paramsArray, numExtSems, &captured)) return ret(captured);
    return ret(sem_signal(extSemArray, paramsArray, numExtSems, stream));
}

#define WAIT_TIMEOUT_NS 1000000000LL /* 1 s */
#define WAIT_POLL_NS 1000000L        /* 1 ms */

/* The wait of hipWaitExternalSemaphoresAsync and of a graph's wait node (not counted as a call); lock not held. */
static hipError_t sem_wait(const hipExternalSemaphore_t* extSemArray,
                           const hipExternalSemaphoreWaitParams* paramsArray, unsigned int numExtSems,
                           hipStream_t stream) {
    if (numExtSems > 0 && (extSemArray == NULL || paramsArray == NULL)) return hipErrorInvalidValue;
    for (unsigned i = 0; i < numExtSems; i++) {
        if (paramsArray[i].flags != 0) return hipErrorInvalidValue;
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
            if (stream_blocking(stream)) flush_all(); /* queued after the null stream's work */
            for (unsigned i = 0; i < numExtSems; i++) { /* binary semaphores are consumed by the wait */
                struct sem* s = (struct sem*)reg_find(K_SEM, extSemArray[i]);
                if (s->type != hipExternalSemaphoreHandleTypeTimelineSemaphoreFd) s->counter = 0;
            }
        }
        pthread_mutex_unlock(&g_lock);
        if (err != hipSuccess) return err;
        if (ready) return hipSuccess;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long elapsed = (long long)(now.tv_sec - start.tv_sec) * 1000000000LL + (now.tv_nsec - start.tv_nsec);
        if (elapsed >= WAIT_TIMEOUT_NS) return hipErrorNotReady; /* HIP has no timeout code */
        struct timespec nap = {0, WAIT_POLL_NS};
        while (nanosleep(&nap, &nap) != 0 && errno == EINTR) {
        }
    }
}

hipError_t hipWaitExternalSemaphoresAsync(const hipExternalSemaphore_t* extSemArray,
                                          const hipExternalSemaphoreWaitParams* paramsArray, unsigned int numExtSems,
                                          hipStream_t stream) {
    API_ENTER();
    hipError_t captured;
    if (capture_sem(stream, 0, extSemArray, paramsArray, numExtSems, &captured)) return ret(captured);
    return ret(sem_wait(extSemArray, paramsArray, numExtSems, stream));
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

/* ------------------------------------------------------------------------------------------------ */
/* Graphs (external-semaphore nodes)                                                                  */
/*                                                                                                    */
/* A graph keeps its nodes in the order added, each with the nodes it depends on (earlier nodes of    */
/* the same graph) and its parameters BY VALUE, as ROCm clr does: the struct is copied, so its        */
/* extSemArray and paramsArray stay pointers into the caller's memory, read when the node runs. An    */
/* exec copies the graph's nodes (by value again) at hipGraphInstantiate; hipGraphExec*NodeSetParams  */
/* replace the exec's copy only, hipGraph*NodeSetParams the graph's node only (an exec made before    */
/* keeps its copy, arrays' pointers and all). A launch runs the exec's nodes on the double's stream   */
/* model, in an order that respects the dependencies and otherwise prefers the LATEST node added (so  */
/* that a missing dependency shows: without it, a wait added after its signal runs first). A          */
/* semaphore node signals or waits like hipSignal/WaitExternalSemaphoresAsync, with the exec's        */
/* current fence values; a failing node ends the launch with its error.                               */
/* hipffm_testrt_graphAdopt/execAdopt/nodeAdopt (hidden: for the cudart layer) hand memory to a graph */
/* (a node's) or exec, freed at its destroy.                                                          */

#define GRAPH_NODE_MAGIC 0x474E4F44u /* "GNOD" */
#define GRAPH_KERNEL_ARGS_MAX 8      /* more than any built-in kernel takes */

/* What a node does, by value (as clr copies it). A kernel node's arguments are copied (8 bytes each: every built-in
   kernel's parameter fits), as the real runtimes copy them. */
struct node_params {
    hipGraphNodeType type;
    hipExternalSemaphoreSignalNodeParams sig; /* the arrays are the caller's */
    hipExternalSemaphoreWaitNodeParams wait;
    hipFunction_t func;
    unsigned grid[3], block[3], shared;
    unsigned nargs;
    unsigned long long args[GRAPH_KERNEL_ARGS_MAX];
    void* dst;
    const void* src;
    size_t count;
    hipMemcpyKind kind;
    hipMemsetParams memset;
    hipEvent_t event;
    struct graph* child; /* a child-graph node: its own clone of the child graph (not registered) */
};

struct gnode {
    struct gnode* next; /* the graph's nodes in the order added */
    uint32_t magic;
    struct graph* graph;
    unsigned index; /* 0, 1, ... in the order added */
    struct node_params p;
    size_t ndeps;
    unsigned* deps; /* indices of the nodes it depends on */
};

/* Memory handed over by the cudart layer (CUDA copies what ROCm keeps pointers to), shared by a graph, its clones
   (child-graph nodes) and its execs: freed when the last of them goes. */
struct blob {
    void* p;
    long refs; /* atomic */
};

struct adopted {
    struct adopted* next;
    struct blob* b;
};

struct graph {
    struct obj h;
    struct gnode* first;
    struct gnode** tail;
    unsigned n;
    struct adopted* adopted;
};

struct xnode { /* an exec's copy of a node */
    const struct gnode* src; /* compared, never dereferenced after the graph's destroy */
    struct node_params p;
    size_t ndeps;
    unsigned* deps;
};

struct gexec {
    struct obj h;
    unsigned n;
    struct xnode* nodes;
    unsigned* order; /* the launch order */
    struct adopted* adopted;
};

static void adopted_free(struct adopted* a) {
    while (a != NULL) {
        struct adopted* next = a->next;
        if (__atomic_sub_fetch(&a->b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
            free(a->b->p);
            free(a->b);
        }
        free(a);
        a = next;
    }
}

/* One more holder of blob b. */
static int adopt_share(struct adopted** list, struct blob* b) {
    struct adopted* a = malloc(sizeof *a);
    if (a == NULL) return 0;
    __atomic_add_fetch(&b->refs, 1, __ATOMIC_ACQ_REL);
    a->b = b;
    a->next = *list;
    *list = a;
    return 1;
}

static int adopt(struct adopted** list, void* p) {
    struct blob* b = malloc(sizeof *b);
    if (b == NULL) return 0;
    b->p = p;
    b->refs = 0;
    if (!adopt_share(list, b)) {
        free(b);
        return 0;
    }
    return 1;
}

/* dst holds everything src holds too; 0 when out of memory. */
static int adopted_share_all(struct adopted** dst, const struct adopted* src) {
    for (; src != NULL; src = src->next) {
        if (!adopt_share(dst, src->b)) return 0;
    }
    return 1;
}

__attribute__((visibility("hidden"))) int hipffm_testrt_graphAdopt(hipGraph_t graph, void* p);
__attribute__((visibility("hidden"))) int hipffm_testrt_execAdopt(hipGraphExec_t exec, void* p);

/* Hands p (malloc'd) to a live graph, freed at its destroy; 0 (p not taken) for an unknown graph or no memory. */
int hipffm_testrt_graphAdopt(hipGraph_t graph, void* p) {
    pthread_mutex_lock(&g_lock);
    struct graph* g = (struct graph*)reg_find(K_GRAPH, graph);
    int ok = g != NULL && adopt(&g->adopted, p);
    pthread_mutex_unlock(&g_lock);
    return ok;
}

int hipffm_testrt_execAdopt(hipGraphExec_t exec, void* p) {
    pthread_mutex_lock(&g_lock);
    struct gexec* x = (struct gexec*)reg_find(K_GEXEC, exec);
    int ok = x != NULL && adopt(&x->adopted, p);
    pthread_mutex_unlock(&g_lock);
    return ok;
}

hipError_t hipGraphCreate(hipGraph_t* pGraph, unsigned int flags) {
    API_ENTER();
    if (pGraph == NULL || flags != 0) return ret(hipErrorInvalidValue);
    struct graph* g = calloc(1, sizeof *g);
    if (g == NULL) return ret(hipErrorOutOfMemory);
    g->tail = &g->first;
    pthread_mutex_lock(&g_lock);
    reg_add(&g->h, K_GRAPH);
    pthread_mutex_unlock(&g_lock);
    *pGraph = (hipGraph_t)(void*)g;
    return hipSuccess;
}

static void graph_nodes_free(struct graph* g);

static void graph_free_unlocked(void* graph) {
    pthread_mutex_lock(&g_lock);
    struct graph* g = (struct graph*)reg_find(K_GRAPH, graph);
    if (g != NULL) {
        reg_del(&g->h);
        g_graph_nodes -= g->n;
    }
    pthread_mutex_unlock(&g_lock);
    if (g != NULL) graph_nodes_free(g);
}

hipError_t hipGraphDestroy(hipGraph_t graph) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    struct graph* g = (struct graph*)reg_find(K_GRAPH, graph);
    if (g == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidValue);
    }
    reg_del(&g->h);
    g_graph_nodes -= g->n;
    pthread_mutex_unlock(&g_lock);
    graph_nodes_free(g);
    return hipSuccess;
}

static void graph_nodes_free(struct graph* g) {
    for (struct gnode* n = g->first; n != NULL;) {
        struct gnode* next = n->next;
        if (n->p.type == hipGraphNodeTypeGraph && n->p.child != NULL) graph_nodes_free(n->p.child);
        n->magic = MAGIC_DEAD;
        free(n->deps);
        free(n);
        n = next;
    }
    adopted_free(g->adopted);
    free(g);
}

/* The node of graph g that handle is, or NULL; never dereferences handle. Lock held. */
static struct gnode* gnode_find(const struct graph* g, const void* handle) {
    for (struct gnode* n = g->first; n != NULL; n = n->next) {
        if ((const void*)n == handle) return n;
    }
    return NULL;
}

/* Whether every semaphore of a node's array is live and its params' flags are 0 (as the async calls). Lock held. */
static int sem_node_ok(const hipExternalSemaphore_t* sems, unsigned n, const unsigned* flags, size_t stride) {
    if (n == 0 || sems == NULL) return 0;
    for (unsigned i = 0; i < n; i++) {
        if (reg_find(K_SEM, sems[i]) == NULL) return 0;
        if (*(const unsigned*)((const char*)flags + i * stride) != 0) return 0;
    }
    return 1;
}

static struct ihipModuleSymbol_t* func_find(const void* handle); /* "Modules and kernel launch" below */
static unsigned func_nargs(const struct ihipModuleSymbol_t* fn);

/* Whether a node's parameters name live objects (semaphores, event, function), and, for a kernel node, copies its
   arguments. Lock held. */
static hipError_t node_params_check(struct node_params* p, void** kernelParams) {
    switch (p->type) {
    case hipGraphNodeTypeExtSemaphoreSignal:
        return p->sig.paramsArray != NULL
                       && sem_node_ok(p->sig.extSemArray, p->sig.numExtSems, &p->sig.paramsArray[0].flags,
                                      sizeof p->sig.paramsArray[0])
                   ? hipSuccess
                   : hipErrorInvalidValue;
    case hipGraphNodeTypeExtSemaphoreWait:
        return p->wait.paramsArray != NULL
                       && sem_node_ok(p->wait.extSemArray, p->wait.numExtSems, &p->wait.paramsArray[0].flags,
                                      sizeof p->wait.paramsArray[0])
                   ? hipSuccess
                   : hipErrorInvalidValue;
    case hipGraphNodeTypeEventRecord:
    case hipGraphNodeTypeWaitEvent:
        return reg_find(K_EVENT, p->event) != NULL ? hipSuccess : hipErrorInvalidHandle;
    case hipGraphNodeTypeKernel: {
        struct ihipModuleSymbol_t* fn = func_find(p->func);
        if (fn == NULL) return hipErrorInvalidDeviceFunction;
        unsigned n = func_nargs(fn);
        if (n > GRAPH_KERNEL_ARGS_MAX || (n > 0 && kernelParams == NULL)) return hipErrorInvalidValue;
        for (unsigned i = 0; i < n; i++) {
            if (kernelParams[i] == NULL) return hipErrorInvalidValue;
            memcpy(&p->args[i], kernelParams[i], sizeof p->args[i]);
        }
        p->nargs = n;
        return hipSuccess;
    }
    default:
        return hipSuccess;
    }
}

/* Adds a node of parameters p (checked here, under the lock) depending on numDependencies nodes of the graph. */
static hipError_t graph_add_node(hipGraphNode_t* pGraphNode, hipGraph_t graph, const hipGraphNode_t* pDependencies,
                                 size_t numDependencies, const struct node_params* p, void** kernelParams) {
    if (pGraphNode == NULL || (numDependencies > 0 && pDependencies == NULL)) return hipErrorInvalidValue;
    struct gnode* node = calloc(1, sizeof *node);
    unsigned* deps = numDependencies > 0 ? calloc(numDependencies, sizeof *deps) : NULL;
    if (node == NULL || (numDependencies > 0 && deps == NULL)) {
        free(node);
        free(deps);
        return hipErrorOutOfMemory;
    }
    node->p = *p;
    pthread_mutex_lock(&g_lock);
    struct graph* g = (struct graph*)reg_find(K_GRAPH, graph);
    hipError_t err = g == NULL ? hipErrorInvalidValue : hipSuccess;
    for (size_t i = 0; err == hipSuccess && i < numDependencies; i++) {
        struct gnode* d = gnode_find(g, pDependencies[i]);
        if (d == NULL) err = hipErrorInvalidValue; /* not a node of this graph */
        for (size_t j = 0; err == hipSuccess && j < i; j++) {
            if (pDependencies[j] == pDependencies[i]) err = hipErrorInvalidValue; /* duplicate, as CUDA */
        }
        if (err == hipSuccess) deps[i] = d->index;
    }
    if (err == hipSuccess) err = node_params_check(&node->p, kernelParams);
    if (err != hipSuccess) {
        pthread_mutex_unlock(&g_lock);
        free(node);
        free(deps);
        return err;
    }
    node->magic = GRAPH_NODE_MAGIC;
    node->graph = g;
    node->index = g->n++;
    node->ndeps = numDependencies;
    node->deps = deps;
    *g->tail = node;
    g->tail = &node->next;
    g_graph_nodes++;
    pthread_mutex_unlock(&g_lock);
    *pGraphNode = (hipGraphNode_t)(void*)node;
    return hipSuccess;
}

hipError_t hipGraphAddExternalSemaphoresSignalNode(hipGraphNode_t* pGraphNode, hipGraph_t graph,
                                                   const hipGraphNode_t* pDependencies, size_t numDependencies,
                                                   const hipExternalSemaphoreSignalNodeParams* nodeParams) {
    API_ENTER();
    if (nodeParams == NULL) return ret(hipErrorInvalidValue);
    struct node_params p = {.type = hipGraphNodeTypeExtSemaphoreSignal, .sig = *nodeParams}; /* by value, as clr */
    return ret(graph_add_node(pGraphNode, graph, pDependencies, numDependencies, &p, NULL));
}

hipError_t hipGraphAddExternalSemaphoresWaitNode(hipGraphNode_t* pGraphNode, hipGraph_t graph,
                                                 const hipGraphNode_t* pDependencies, size_t numDependencies,
                                                 const hipExternalSemaphoreWaitNodeParams* nodeParams) {
    API_ENTER();
    if (nodeParams == NULL) return ret(hipErrorInvalidValue);
    struct node_params p = {.type = hipGraphNodeTypeExtSemaphoreWait, .wait = *nodeParams};
    return ret(graph_add_node(pGraphNode, graph, pDependencies, numDependencies, &p, NULL));
}

hipError_t hipGraphAddEmptyNode(hipGraphNode_t* pGraphNode, hipGraph_t graph, const hipGraphNode_t* pDependencies,
                                size_t numDependencies) {
    API_ENTER();
    struct node_params p = {.type = hipGraphNodeTypeEmpty};
    return ret(graph_add_node(pGraphNode, graph, pDependencies, numDependencies, &p, NULL));
}

hipError_t hipGraphAddEventRecordNode(hipGraphNode_t* pGraphNode, hipGraph_t graph,
                                      const hipGraphNode_t* pDependencies, size_t numDependencies, hipEvent_t event) {
    API_ENTER();
    struct node_params p = {.type = hipGraphNodeTypeEventRecord, .event = event};
    return ret(graph_add_node(pGraphNode, graph, pDependencies, numDependencies, &p, NULL));
}

hipError_t hipGraphAddEventWaitNode(hipGraphNode_t* pGraphNode, hipGraph_t graph, const hipGraphNode_t* pDependencies,
                                    size_t numDependencies, hipEvent_t event) {
    API_ENTER();
    struct node_params p = {.type = hipGraphNodeTypeWaitEvent, .event = event};
    return ret(graph_add_node(pGraphNode, graph, pDependencies, numDependencies, &p, NULL));
}

hipError_t hipGraphAddMemcpyNode1D(hipGraphNode_t* pGraphNode, hipGraph_t graph, const hipGraphNode_t* pDependencies,
                                   size_t numDependencies, void* dst, const void* src, size_t count,
                                   hipMemcpyKind kind) {
    API_ENTER();
    if (!memcpy_kind_valid(kind)) return ret(hipErrorInvalidMemcpyDirection);
    if (count > 0 && (dst == NULL || src == NULL)) return ret(hipErrorInvalidValue);
    struct node_params p = {.type = hipGraphNodeTypeMemcpy, .dst = dst, .src = src, .count = count, .kind = kind};
    return ret(graph_add_node(pGraphNode, graph, pDependencies, numDependencies, &p, NULL));
}

/* 1D fills only (height 1), of 1, 2 or 4-byte elements. */
hipError_t hipGraphAddMemsetNode(hipGraphNode_t* pGraphNode, hipGraph_t graph, const hipGraphNode_t* pDependencies,
                                 size_t numDependencies, const hipMemsetParams* pMemsetParams) {
    API_ENTER();
    if (pMemsetParams == NULL || pMemsetParams->dst == NULL || pMemsetParams->height != 1
        || (pMemsetParams->elementSize != 1 && pMemsetParams->elementSize != 2 && pMemsetParams->elementSize != 4))
        return ret(hipErrorInvalidValue);
    struct node_params p = {.type = hipGraphNodeTypeMemset, .memset = *pMemsetParams};
    return ret(graph_add_node(pGraphNode, graph, pDependencies, numDependencies, &p, NULL));
}

/* Only kernelParams (no extra), as hipModuleLaunchKernel here; the function a hipFunction_t of the double. */
hipError_t hipGraphAddKernelNode(hipGraphNode_t* pGraphNode, hipGraph_t graph, const hipGraphNode_t* pDependencies,
                                 size_t numDependencies, const hipKernelNodeParams* pNodeParams) {
    API_ENTER();
    if (pNodeParams == NULL || pNodeParams->extra != NULL) return ret(hipErrorInvalidValue);
    struct node_params p = {.type = hipGraphNodeTypeKernel, .func = (hipFunction_t)pNodeParams->func,
                            .grid = {pNodeParams->gridDim.x, pNodeParams->gridDim.y, pNodeParams->gridDim.z},
                            .block = {pNodeParams->blockDim.x, pNodeParams->blockDim.y, pNodeParams->blockDim.z},
                            .shared = pNodeParams->sharedMemBytes};
    return ret(graph_add_node(pGraphNode, graph, pDependencies, numDependencies, &p, pNodeParams->kernelParams));
}

/* A deep copy of g's nodes (child graphs too) in a graph of its own, not registered; NULL when out of memory. */
static struct graph* graph_clone(const struct graph* g) {
    struct graph* c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->tail = &c->first;
    for (const struct gnode* n = g->first; n != NULL; n = n->next) {
        struct gnode* k = calloc(1, sizeof *k);
        unsigned* deps = n->ndeps > 0 ? malloc(n->ndeps * sizeof *deps) : NULL;
        struct graph* child = n->p.type == hipGraphNodeTypeGraph ? graph_clone(n->p.child) : NULL;
        if (k == NULL || (n->ndeps > 0 && deps == NULL) || (n->p.type == hipGraphNodeTypeGraph && child == NULL)) {
            free(k);
            free(deps);
            if (child != NULL) graph_nodes_free(child);
            graph_nodes_free(c);
            return NULL;
        }
        *k = *n;
        k->next = NULL;
        k->graph = c;
        k->deps = deps;
        if (n->ndeps > 0) memcpy(deps, n->deps, n->ndeps * sizeof *deps);
        k->p.child = child;
        *c->tail = k;
        c->tail = &k->next;
        c->n++;
    }
    if (!adopted_share_all(&c->adopted, g->adopted)) {
        graph_nodes_free(c);
        return NULL;
    }
    return c;
}

/* Adds a node that runs a clone of childGraph, made now (later changes of the child do not reach it), as the real
   runtimes clone it. */
hipError_t hipGraphAddChildGraphNode(hipGraphNode_t* pGraphNode, hipGraph_t graph, const hipGraphNode_t* pDependencies,
                                     size_t numDependencies, hipGraph_t childGraph) {
    API_ENTER();
    if (childGraph == graph) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    struct graph* child = (struct graph*)reg_find(K_GRAPH, childGraph);
    struct graph* clone = child != NULL ? graph_clone(child) : NULL;
    pthread_mutex_unlock(&g_lock);
    if (child == NULL) return ret(hipErrorInvalidValue);
    if (clone == NULL) return ret(hipErrorOutOfMemory);
    struct node_params p = {.type = hipGraphNodeTypeGraph, .child = clone};
    hipError_t err = graph_add_node(pGraphNode, graph, pDependencies, numDependencies, &p, NULL);
    if (err != hipSuccess) graph_nodes_free(clone);
    return ret(err);
}

static void gexec_free(struct gexec* x) {
    if (x == NULL) return;
    for (unsigned i = 0; x->nodes != NULL && i < x->n; i++) {
        if (x->nodes[i].p.type == hipGraphNodeTypeGraph && x->nodes[i].p.child != NULL)
            graph_nodes_free(x->nodes[i].p.child);
    }
    for (unsigned i = 0; x->nodes != NULL && i < x->n; i++) free(x->nodes[i].deps);
    free(x->nodes);
    free(x->order);
    adopted_free(x->adopted);
    free(x);
}

hipError_t hipGraphInstantiate(hipGraphExec_t* pGraphExec, hipGraph_t graph, hipGraphNode_t* pErrorNode,
                               char* pLogBuffer, size_t bufferSize) {
    API_ENTER();
    (void)pLogBuffer;
    (void)bufferSize;
    if (pGraphExec == NULL) return ret(hipErrorInvalidValue);
    if (pErrorNode != NULL) *pErrorNode = NULL;
    pthread_mutex_lock(&g_lock);
    struct graph* g = (struct graph*)reg_find(K_GRAPH, graph);
    if (g == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidValue);
    }
    struct gexec* x = calloc(1, sizeof *x);
    int ok = x != NULL;
    if (ok && g->n > 0) {
        x->nodes = calloc(g->n, sizeof *x->nodes);
        x->order = calloc(g->n, sizeof *x->order);
        ok = x->nodes != NULL && x->order != NULL;
    }
    if (ok) x->n = g->n;
    unsigned i = 0;
    for (struct gnode* n = g->first; ok && n != NULL; n = n->next, i++) {
        struct xnode* c = &x->nodes[i];
        c->src = n;
        c->p = n->p;
        if (n->p.type == hipGraphNodeTypeGraph) { /* the exec's own copy: it may outlive the graph */
            c->p.child = graph_clone(n->p.child);
            ok = c->p.child != NULL;
        }
        c->ndeps = n->ndeps;
        if (n->ndeps > 0) {
            c->deps = malloc(n->ndeps * sizeof *c->deps);
            ok = c->deps != NULL;
            if (ok) memcpy(c->deps, n->deps, n->ndeps * sizeof *c->deps);
        }
    }
    if (ok) ok = adopted_share_all(&x->adopted, g->adopted); /* the exec may outlive the graph, as in CUDA */
    /* The launch order: repeatedly the latest node whose dependencies have all run (deps are earlier nodes). */
    unsigned char* done = ok && x->n > 0 ? calloc(x->n, 1) : NULL;
    if (ok && x->n > 0 && done == NULL) ok = 0;
    for (unsigned k = 0; ok && k < x->n; k++) {
        for (unsigned j = x->n; j-- > 0;) {
            if (done[j]) continue;
            int ready = 1;
            for (size_t d = 0; ready && d < x->nodes[j].ndeps; d++) ready = done[x->nodes[j].deps[d]];
            if (ready) {
                done[j] = 1;
                x->order[k] = j;
                break;
            }
        }
    }
    free(done);
    if (!ok) {
        pthread_mutex_unlock(&g_lock);
        gexec_free(x);
        return ret(hipErrorOutOfMemory);
    }
    reg_add(&x->h, K_GEXEC);
    pthread_mutex_unlock(&g_lock);
    *pGraphExec = (hipGraphExec_t)(void*)x;
    return hipSuccess;
}

/* The nodes must match the exec's in number, kind and dependencies (else hipErrorGraphExecUpdateFailure, with
   hipGraphExecUpdateErrorTopologyChanged or ...NodeTypeChanged); then each node's parameters are copied, by value,
   except those of the external-semaphore nodes, which the double keeps, as ROCm's update is taken not to carry
   them (hip-ffm sets them at exec level after an update). */
hipError_t hipGraphExecUpdate(hipGraphExec_t hGraphExec, hipGraph_t hGraph, hipGraphNode_t* hErrorNode_out,
                              hipGraphExecUpdateResult* updateResult_out) {
    API_ENTER();
    if (hErrorNode_out == NULL || updateResult_out == NULL) return ret(hipErrorInvalidValue);
    *hErrorNode_out = NULL;
    pthread_mutex_lock(&g_lock);
    struct gexec* x = (struct gexec*)reg_find(K_GEXEC, hGraphExec);
    struct graph* g = (struct graph*)reg_find(K_GRAPH, hGraph);
    if (x == NULL || g == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidValue);
    }
    hipGraphExecUpdateResult result = g->n == x->n ? hipGraphExecUpdateSuccess : hipGraphExecUpdateErrorTopologyChanged;
    unsigned i = 0;
    for (struct gnode* n = g->first; result == hipGraphExecUpdateSuccess && n != NULL; n = n->next, i++) {
        const struct xnode* c = &x->nodes[i];
        if (n->p.type != c->p.type) result = hipGraphExecUpdateErrorNodeTypeChanged;
        else if (n->ndeps != c->ndeps || (n->ndeps > 0 && memcmp(n->deps, c->deps, n->ndeps * sizeof *n->deps) != 0))
            result = hipGraphExecUpdateErrorTopologyChanged;
        if (result != hipGraphExecUpdateSuccess) *hErrorNode_out = (hipGraphNode_t)(void*)n;
    }
    struct graph** clones = result == hipGraphExecUpdateSuccess && x->n > 0 ? calloc(x->n, sizeof *clones) : NULL;
    int ok = result != hipGraphExecUpdateSuccess || x->n == 0 || clones != NULL;
    i = 0;
    for (struct gnode* n = g->first; ok && result == hipGraphExecUpdateSuccess && n != NULL; n = n->next, i++) {
        if (n->p.type == hipGraphNodeTypeGraph) ok = (clones[i] = graph_clone(n->p.child)) != NULL;
    }
    if (ok && result == hipGraphExecUpdateSuccess) ok = adopted_share_all(&x->adopted, g->adopted);
    if (ok && result == hipGraphExecUpdateSuccess) {
        i = 0;
        for (struct gnode* n = g->first; n != NULL; n = n->next, i++) {
            struct xnode* c = &x->nodes[i];
            if (c->p.type == hipGraphNodeTypeExtSemaphoreSignal || c->p.type == hipGraphNodeTypeExtSemaphoreWait)
                continue;
            if (c->p.type == hipGraphNodeTypeGraph) graph_nodes_free(c->p.child);
            c->p = n->p;
            if (c->p.type == hipGraphNodeTypeGraph) c->p.child = clones[i];
        }
    } else if (clones != NULL) {
        for (i = 0; i < x->n; i++) {
            if (clones[i] != NULL) graph_nodes_free(clones[i]);
        }
    }
    free(clones);
    pthread_mutex_unlock(&g_lock);
    *updateResult_out = result;
    if (!ok) return ret(hipErrorOutOfMemory);
    return result == hipGraphExecUpdateSuccess ? hipSuccess : ret(hipErrorGraphExecUpdateFailure);
}

hipError_t hipGraphExecDestroy(hipGraphExec_t graphExec) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    struct gexec* x = (struct gexec*)reg_find(K_GEXEC, graphExec);
    if (x == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidValue);
    }
    reg_del(&x->h);
    pthread_mutex_unlock(&g_lock);
    gexec_free(x);
    return hipSuccess;
}

static hipError_t exec_set_sem_node(hipGraphExec_t hGraphExec, hipGraphNode_t hNode, const struct node_params* p) {
    pthread_mutex_lock(&g_lock);
    struct gexec* x = (struct gexec*)reg_find(K_GEXEC, hGraphExec);
    hipError_t err = x == NULL ? hipErrorInvalidValue : hipSuccess;
    struct xnode* c = NULL;
    for (unsigned i = 0; err == hipSuccess && i < x->n; i++) {
        if ((const void*)x->nodes[i].src == (const void*)hNode) c = &x->nodes[i];
    }
    if (err == hipSuccess && (c == NULL || c->p.type != p->type)) err = hipErrorInvalidValue;
    struct node_params checked = *p;
    if (err == hipSuccess) err = node_params_check(&checked, NULL);
    if (err == hipSuccess) {
        if (p->type == hipGraphNodeTypeExtSemaphoreSignal) c->p.sig = p->sig; /* by value, as clr */
        else c->p.wait = p->wait;
    }
    pthread_mutex_unlock(&g_lock);
    return err;
}

hipError_t hipGraphExecExternalSemaphoresSignalNodeSetParams(hipGraphExec_t hGraphExec, hipGraphNode_t hNode,
                                                             const hipExternalSemaphoreSignalNodeParams* nodeParams) {
    API_ENTER();
    if (nodeParams == NULL) return ret(hipErrorInvalidValue);
    struct node_params p = {.type = hipGraphNodeTypeExtSemaphoreSignal, .sig = *nodeParams};
    return ret(exec_set_sem_node(hGraphExec, hNode, &p));
}

hipError_t hipGraphExecExternalSemaphoresWaitNodeSetParams(hipGraphExec_t hGraphExec, hipGraphNode_t hNode,
                                                           const hipExternalSemaphoreWaitNodeParams* nodeParams) {
    API_ENTER();
    if (nodeParams == NULL) return ret(hipErrorInvalidValue);
    struct node_params p = {.type = hipGraphNodeTypeExtSemaphoreWait, .wait = *nodeParams};
    return ret(exec_set_sem_node(hGraphExec, hNode, &p));
}

/* The node that handle is, of any live graph (not of a child-graph node's clone), or NULL; never dereferences
   handle. Lock held. */
static struct gnode* gnode_find_any(const void* handle) {
    for (struct obj* o = g_list[K_GRAPH]; o != NULL; o = o->next) {
        struct gnode* n = gnode_find((const struct graph*)(void*)o, handle);
        if (n != NULL) return n;
    }
    return NULL;
}

/* The node-level calls on a semaphore node of the kind p->type: set (p's parameters replace the node's, by value, as
   clr: an exec made before keeps its own copy, made at its instantiation) or get (*p the node's parameters). clr
   casts the node without checking its kind; the double refuses a node of another kind, or of no live graph, with
   hipErrorInvalidValue, and checks the parameters as hipGraphAdd...Node does. */
static hipError_t node_sem_params(hipGraphNode_t hNode, struct node_params* p, int set) {
    pthread_mutex_lock(&g_lock);
    struct gnode* n = gnode_find_any(hNode);
    hipError_t err = n == NULL || n->p.type != p->type ? hipErrorInvalidValue : hipSuccess;
    struct node_params checked = *p;
    if (err == hipSuccess && set) err = node_params_check(&checked, NULL);
    if (err == hipSuccess && set) {
        if (p->type == hipGraphNodeTypeExtSemaphoreSignal) n->p.sig = p->sig;
        else n->p.wait = p->wait;
    } else if (err == hipSuccess) {
        *p = n->p;
    }
    pthread_mutex_unlock(&g_lock);
    return err;
}

hipError_t hipGraphExternalSemaphoresSignalNodeSetParams(hipGraphNode_t hNode,
                                                         const hipExternalSemaphoreSignalNodeParams* nodeParams) {
    API_ENTER();
    if (nodeParams == NULL) return ret(hipErrorInvalidValue);
    struct node_params p = {.type = hipGraphNodeTypeExtSemaphoreSignal, .sig = *nodeParams};
    return ret(node_sem_params(hNode, &p, 1));
}

hipError_t hipGraphExternalSemaphoresWaitNodeSetParams(hipGraphNode_t hNode,
                                                       const hipExternalSemaphoreWaitNodeParams* nodeParams) {
    API_ENTER();
    if (nodeParams == NULL) return ret(hipErrorInvalidValue);
    struct node_params p = {.type = hipGraphNodeTypeExtSemaphoreWait, .wait = *nodeParams};
    return ret(node_sem_params(hNode, &p, 1));
}

hipError_t hipGraphExternalSemaphoresSignalNodeGetParams(hipGraphNode_t hNode,
                                                         hipExternalSemaphoreSignalNodeParams* params_out) {
    API_ENTER();
    if (params_out == NULL) return ret(hipErrorInvalidValue);
    struct node_params p = {.type = hipGraphNodeTypeExtSemaphoreSignal};
    hipError_t err = node_sem_params(hNode, &p, 0);
    if (err == hipSuccess) *params_out = p.sig;
    return ret(err);
}

hipError_t hipGraphExternalSemaphoresWaitNodeGetParams(hipGraphNode_t hNode,
                                                       hipExternalSemaphoreWaitNodeParams* params_out) {
    API_ENTER();
    if (params_out == NULL) return ret(hipErrorInvalidValue);
    struct node_params p = {.type = hipGraphNodeTypeExtSemaphoreWait};
    hipError_t err = node_sem_params(hNode, &p, 0);
    if (err == hipSuccess) *params_out = p.wait;
    return ret(err);
}

__attribute__((visibility("hidden"))) int hipffm_testrt_nodeAdopt(hipGraphNode_t node, void* p);

/* Hands p (malloc'd) to the graph of a live node, as hipffm_testrt_graphAdopt. */
int hipffm_testrt_nodeAdopt(hipGraphNode_t node, void* p) {
    pthread_mutex_lock(&g_lock);
    struct gnode* n = gnode_find_any(node);
    int ok = n != NULL && adopt(&n->graph->adopted, p);
    pthread_mutex_unlock(&g_lock);
    return ok;
}

static hipError_t launch_kernel(hipFunction_t f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
                                unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
                                unsigned int sharedMemBytes, hipStream_t stream, void** kernelParams, void** extra);

static hipError_t graph_run(const struct graph* g, hipStream_t stream);

/* Runs one node on the stream as the matching stream call would (not counted as calls of those). */
static hipError_t node_run(const struct node_params* p, hipStream_t stream) {
    switch (p->type) {
    case hipGraphNodeTypeExtSemaphoreSignal:
        return sem_signal(p->sig.extSemArray, p->sig.paramsArray, p->sig.numExtSems, stream);
    case hipGraphNodeTypeExtSemaphoreWait:
        return sem_wait(p->wait.extSemArray, p->wait.paramsArray, p->wait.numExtSems, stream);
    case hipGraphNodeTypeEventRecord:
        return event_record(p->event, stream);
    case hipGraphNodeTypeWaitEvent:
        return stream_wait_event(stream, p->event);
    case hipGraphNodeTypeMemcpy:
        if (!stream_order(stream)) return hipErrorInvalidHandle;
        return do_copy_kind(p->dst, p->src, p->count, p->kind);
    case hipGraphNodeTypeMemset:
        if (!stream_order(stream)) return hipErrorInvalidHandle;
        if (p->memset.elementSize == 1) return do_set8(p->memset.dst, (unsigned char)p->memset.value, p->memset.width);
        if (p->memset.elementSize == 2) return do_set16(p->memset.dst, (unsigned short)p->memset.value, p->memset.width);
        return do_set32(p->memset.dst, (int)p->memset.value, p->memset.width);
    case hipGraphNodeTypeKernel: {
        unsigned long long args[GRAPH_KERNEL_ARGS_MAX];
        void* pointers[GRAPH_KERNEL_ARGS_MAX];
        memcpy(args, p->args, sizeof args);
        for (unsigned i = 0; i < GRAPH_KERNEL_ARGS_MAX; i++) pointers[i] = &args[i];
        return launch_kernel(p->func, p->grid[0], p->grid[1], p->grid[2], p->block[0], p->block[1], p->block[2],
                             p->shared, stream, pointers, NULL);
    }
    case hipGraphNodeTypeGraph:
        return graph_run(p->child, stream);
    default:
        return hipSuccess; /* empty */
    }
}

/* Runs a (cloned) graph's nodes on the stream in the launch order: the latest ready node first. */
static hipError_t graph_run(const struct graph* g, hipStream_t stream) {
    unsigned n = g->n;
    if (n == 0) return hipSuccess;
    const struct gnode** nodes = malloc(n * sizeof *nodes);
    unsigned char* done = calloc(n, 1);
    if (nodes == NULL || done == NULL) {
        free(nodes);
        free(done);
        return hipErrorOutOfMemory;
    }
    unsigned i = 0;
    for (const struct gnode* k = g->first; k != NULL; k = k->next) nodes[i++] = k;
    hipError_t err = hipSuccess;
    for (unsigned k = 0; err == hipSuccess && k < n; k++) {
        for (unsigned j = n; j-- > 0;) {
            if (done[j]) continue;
            int ready = 1;
            for (size_t d = 0; ready && d < nodes[j]->ndeps; d++) ready = done[nodes[j]->deps[d]];
            if (ready) {
                done[j] = 1;
                err = node_run(&nodes[j]->p, stream);
                break;
            }
        }
    }
    free(nodes);
    free(done);
    return err;
}

/* Runs the exec's nodes in its order on the stream (a semaphore node's arrays read now). */
hipError_t hipGraphLaunch(hipGraphExec_t graphExec, hipStream_t stream) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    struct gexec* x = (struct gexec*)reg_find(K_GEXEC, graphExec);
    hipError_t err = x == NULL ? hipErrorInvalidValue : stream_valid(stream) ? hipSuccess : hipErrorInvalidHandle;
    unsigned n = err == hipSuccess ? x->n : 0;
    struct xnode* copy = n > 0 ? malloc(n * sizeof *copy) : NULL;
    if (n > 0 && copy == NULL) err = hipErrorOutOfMemory;
    for (unsigned k = 0; err == hipSuccess && k < n; k++) copy[k] = x->nodes[x->order[k]];
    pthread_mutex_unlock(&g_lock);
    for (unsigned k = 0; err == hipSuccess && k < n; k++) err = node_run(&copy[k].p, stream);
    free(copy);
    return ret(err);
}

/* --- stream capture --- */

/* The stream s if it captures. Lock held. */
static struct stream* capturing(hipStream_t s) {
    struct stream* st = (struct stream*)reg_find(K_STREAM, s);
    return st != NULL && st->capture != NULL ? st : NULL;
}

/* Adds p to the capture of s after its last node, if s captures (then returns 1, *err the result). */
static int capture_node(hipStream_t s, const struct node_params* p, void** kernelParams, hipError_t* err) {
    pthread_mutex_lock(&g_lock);
    struct stream* st = capturing(s);
    void* graph = st != NULL ? st->capture : NULL;
    hipGraphNode_t last = st != NULL ? (hipGraphNode_t)st->capture_last : NULL;
    pthread_mutex_unlock(&g_lock);
    if (st == NULL) return 0;
    hipGraphNode_t node = NULL;
    *err = graph_add_node(&node, (hipGraph_t)graph, last != NULL ? &last : NULL, last != NULL ? 1 : 0, p, kernelParams);
    pthread_mutex_lock(&g_lock);
    if (capturing(s) == st) {
        if (*err == hipSuccess) st->capture_last = node;
        else st->capture_broken = 1;
    }
    pthread_mutex_unlock(&g_lock);
    return 1;
}

static int capture_copy(hipStream_t s, void* dst, const void* src, size_t n, hipMemcpyKind kind, hipError_t* err) {
    struct node_params p = {.type = hipGraphNodeTypeMemcpy, .dst = dst, .src = src, .count = n, .kind = kind};
    return capture_node(s, &p, NULL, err);
}

static int capture_set8(hipStream_t s, void* dst, int value, size_t n, hipError_t* err) {
    struct node_params p = {.type = hipGraphNodeTypeMemset};
    p.memset.dst = dst;
    p.memset.elementSize = 1;
    p.memset.height = 1;
    p.memset.value = (unsigned char)value;
    p.memset.width = n;
    return capture_node(s, &p, NULL, err);
}

static int capture_event(hipStream_t s, hipEvent_t event, int record, hipError_t* err) {
    struct node_params p = {.type = record ? hipGraphNodeTypeEventRecord : hipGraphNodeTypeWaitEvent, .event = event};
    return capture_node(s, &p, NULL, err);
}

static int capture_kernel(hipStream_t s, hipFunction_t f, const unsigned grid[3], const unsigned block[3],
                          unsigned shared, void** kernelParams, void** extra, hipError_t* err) {
    struct node_params p = {.type = hipGraphNodeTypeKernel, .func = f, .grid = {grid[0], grid[1], grid[2]},
                            .block = {block[0], block[1], block[2]}, .shared = shared};
    if (extra != NULL) {
        pthread_mutex_lock(&g_lock);
        int c = capturing(s) != NULL;
        pthread_mutex_unlock(&g_lock);
        if (!c) return 0;
        *err = hipErrorInvalidValue;
        return 1;
    }
    return capture_node(s, &p, kernelParams, err);
}

/* As clr: the node keeps the arrays' pointers, the caller's memory (hip-ffm never captures these: it refuses). */
static int capture_sem(hipStream_t s, int signal, const hipExternalSemaphore_t* sems, const void* params, unsigned n,
                       hipError_t* err) {
    struct node_params p = {.type = signal ? hipGraphNodeTypeExtSemaphoreSignal : hipGraphNodeTypeExtSemaphoreWait};
    if (signal) {
        p.sig.extSemArray = (hipExternalSemaphore_t*)sems;
        p.sig.paramsArray = params;
        p.sig.numExtSems = n;
    } else {
        p.wait.extSemArray = (hipExternalSemaphore_t*)sems;
        p.wait.paramsArray = params;
        p.wait.numExtSems = n;
    }
    return capture_node(s, &p, NULL, err);
}

static int capture_refuses_sync(hipStream_t s) {
    pthread_mutex_lock(&g_lock);
    struct stream* st = capturing(s);
    if (st != NULL) st->capture_broken = 1;
    pthread_mutex_unlock(&g_lock);
    return st != NULL;
}

/* A created stream only (not the null or per-thread stream), not already capturing; any of the three modes. */
hipError_t hipStreamBeginCapture(hipStream_t stream, hipStreamCaptureMode mode) {
    API_ENTER();
    if (mode != hipStreamCaptureModeGlobal && mode != hipStreamCaptureModeThreadLocal
        && mode != hipStreamCaptureModeRelaxed)
        return ret(hipErrorInvalidValue);
    struct graph* g = calloc(1, sizeof *g);
    if (g == NULL) return ret(hipErrorOutOfMemory);
    g->tail = &g->first;
    pthread_mutex_lock(&g_lock);
    struct stream* st = (struct stream*)reg_find(K_STREAM, stream);
    hipError_t err = st == NULL ? (stream_valid(stream) ? hipErrorStreamCaptureUnsupported : hipErrorInvalidHandle)
                     : st->capture != NULL ? hipErrorIllegalState : hipSuccess;
    if (err == hipSuccess) {
        reg_add(&g->h, K_GRAPH);
        st->capture = g;
        st->capture_last = NULL;
        st->capture_broken = 0;
    }
    pthread_mutex_unlock(&g_lock);
    if (err != hipSuccess) free(g);
    return ret(err);
}

hipError_t hipStreamEndCapture(hipStream_t stream, hipGraph_t* pGraph) {
    API_ENTER();
    if (pGraph == NULL) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    struct stream* st = (struct stream*)reg_find(K_STREAM, stream);
    hipError_t err = st == NULL ? hipErrorInvalidHandle : st->capture == NULL ? hipErrorIllegalState : hipSuccess;
    void* graph = NULL;
    int broken = 0;
    if (err == hipSuccess) {
        graph = st->capture;
        broken = st->capture_broken;
        st->capture = NULL;
        st->capture_last = NULL;
        st->capture_broken = 0;
    }
    pthread_mutex_unlock(&g_lock);
    if (err != hipSuccess) return ret(err);
    if (broken) {
        graph_free_unlocked(graph);
        return ret(hipErrorStreamCaptureInvalidated);
    }
    *pGraph = (hipGraph_t)graph;
    return hipSuccess;
}

hipError_t hipStreamIsCapturing(hipStream_t stream, hipStreamCaptureStatus* pCaptureStatus) {
    API_ENTER();
    if (pCaptureStatus == NULL) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    int ok = stream_valid(stream);
    struct stream* st = capturing(stream);
    *pCaptureStatus = st == NULL ? hipStreamCaptureStatusNone
                      : st->capture_broken ? hipStreamCaptureStatusInvalidated : hipStreamCaptureStatusActive;
    pthread_mutex_unlock(&g_lock);
    return ok ? hipSuccess : ret(hipErrorInvalidHandle);
}

long hipffmTest_semaphoreCounter(const void* semaphore) {
    pthread_mutex_lock(&g_lock);
    struct sem* s = (struct sem*)reg_find(K_SEM, semaphore);
    long v = s != NULL ? (long)s->counter : -1;
    pthread_mutex_unlock(&g_lock);
    return v;
}

long hipffmTest_semaphoreSignals(const void* semaphore) {
    pthread_mutex_lock(&g_lock);
    struct sem* s = (struct sem*)reg_find(K_SEM, semaphore);
    long v = s != NULL ? s->signals : -1;
    pthread_mutex_unlock(&g_lock);
    return v;
}

/* ------------------------------------------------------------------------------------------------ */
/* Modules and kernel launch                                                                          */

/* A module image is NUL-terminated text: the line "hipffm-test-module", then one kernel name a line. */
#define MODULE_MAGIC "hipffm-test-module"
#define MODULE_FILE_MAX ((size_t)16 << 20) /* a larger module file is not a test image */
#define MAX_BLOCK_THREADS 1024u
#define MAX_SHARED_MEM 65536u /* hipDeviceAttributeMaxSharedMemoryPerBlock */

/* A built-in kernel: the CPU code run at launch. threads = gridDim.x * blockDim.x; the kernels are 1-D
   (only the threads with y = z = 0 work), and element i is done by thread i < threads. Lock held.
   Validates its arguments before it touches anything, so a failing launch has no effect. */
struct builtin {
    const char* name;
    unsigned nargs;
    hipError_t (*run)(void** args, unsigned long long threads);
};

/* Whether [p, p + bytes) lies in memory the device may access: a live allocation (device, host or a
   mapped external buffer) or a mapped GL buffer. Lock held. */
static int device_range_ok(const void* p, size_t bytes);

static size_t covered(long long n, unsigned long long threads) {
    if (n <= 0) return 0;
    return (unsigned long long)n < threads ? (size_t)n : (size_t)threads;
}

static hipError_t k_scale_add(void** args, unsigned long long threads) {
    unsigned char* x;
    float a, b;
    long long n;
    memcpy(&x, args[0], sizeof x);
    memcpy(&a, args[1], sizeof a);
    memcpy(&b, args[2], sizeof b);
    memcpy(&n, args[3], sizeof n);
    size_t m = covered(n, threads);
    if (m == 0) return hipSuccess;
    if (m > SIZE_MAX / sizeof(float) || !device_range_ok(x, m * sizeof(float))) return hipErrorIllegalAddress;
    for (size_t i = 0; i < m; i++) {
        float v;
        memcpy(&v, x + i * sizeof v, sizeof v);
        v = v * a + b;
        memcpy(x + i * sizeof v, &v, sizeof v);
    }
    return hipSuccess;
}

static hipError_t k_increment(void** args, unsigned long long threads) {
    unsigned char* x;
    long long n;
    memcpy(&x, args[0], sizeof x);
    memcpy(&n, args[1], sizeof n);
    size_t m = covered(n, threads);
    if (m == 0) return hipSuccess;
    if (m > SIZE_MAX / sizeof(unsigned) || !device_range_ok(x, m * sizeof(unsigned))) return hipErrorIllegalAddress;
    for (size_t i = 0; i < m; i++) {
        unsigned v;
        memcpy(&v, x + i * sizeof v, sizeof v);
        v += 1;
        memcpy(x + i * sizeof v, &v, sizeof v);
    }
    return hipSuccess;
}

static hipError_t k_fill_u32(void** args, unsigned long long threads) {
    unsigned char* x;
    unsigned value;
    long long n;
    memcpy(&x, args[0], sizeof x);
    memcpy(&value, args[1], sizeof value);
    memcpy(&n, args[2], sizeof n);
    size_t m = covered(n, threads);
    if (m == 0) return hipSuccess;
    if (m > SIZE_MAX / sizeof(unsigned) || !device_range_ok(x, m * sizeof(unsigned))) return hipErrorIllegalAddress;
    for (size_t i = 0; i < m; i++) memcpy(x + i * sizeof value, &value, sizeof value);
    return hipSuccess;
}

static hipError_t k_noop(void** args, unsigned long long threads) {
    (void)args;
    (void)threads;
    return hipSuccess;
}

static const struct builtin k_builtins[] = {
    {"scale_add", 4, k_scale_add},
    {"increment", 2, k_increment},
    {"fill_u32", 3, k_fill_u32},
    {"noop", 0, k_noop},
};

static const struct builtin* builtin_find(const char* name) {
    for (size_t i = 0; i < sizeof k_builtins / sizeof k_builtins[0]; i++) {
        if (strcmp(k_builtins[i].name, name) == 0) return &k_builtins[i];
    }
    return NULL;
}

/* hipFunction_t is struct ihipModuleSymbol_t*, opaque in the headers: the test runtime's own layout. */
struct ihipModuleSymbol_t {
    uint32_t magic;               /* MAGIC_LIVE until the module is unloaded */
    struct ihipModule_t* module;
    char* name;
    const struct builtin* kernel; /* NULL: listed in the image but not built in */
};

/* hipModule_t is struct ihipModule_t*; the handle is the object itself. */
struct ihipModule_t {
    struct obj h;
    int device; /* current at the load */
    unsigned num_funcs;
    struct ihipModuleSymbol_t* funcs;
};

static struct ihipModuleSymbol_t* func_find(const void* handle) {
    if (handle == NULL) return NULL;
    for (struct obj* o = g_list[K_MODULE]; o != NULL; o = o->next) {
        struct ihipModule_t* m = (struct ihipModule_t*)o;
        for (unsigned i = 0; i < m->num_funcs; i++) {
            if ((const void*)&m->funcs[i] == handle) return m->funcs[i].magic == MAGIC_LIVE ? &m->funcs[i] : NULL;
        }
    }
    return NULL;
}

/* How many arguments a function's built-in kernel takes (0 without one). Lock held. */
static unsigned func_nargs(const struct ihipModuleSymbol_t* fn) {
    return fn->kernel != NULL ? fn->kernel->nargs : 0;
}

static void module_free(struct ihipModule_t* m) {
    for (unsigned i = 0; i < m->num_funcs; i++) {
        m->funcs[i].magic = MAGIC_DEAD;
        free(m->funcs[i].name);
    }
    free(m->funcs);
    free(m);
}

/* Parses a module image (not yet registered). */
static hipError_t module_parse(const char* text, struct ihipModule_t** out) {
    size_t magic_len = strlen(MODULE_MAGIC);
    if (strncmp(text, MODULE_MAGIC, magic_len) != 0) return hipErrorInvalidImage;
    const char* p = text + magic_len;
    if (*p == '\r') p++;
    if (*p != '\n' && *p != '\0') return hipErrorInvalidImage;
    struct ihipModule_t* m = calloc(1, sizeof *m);
    if (m == NULL) return hipErrorOutOfMemory;
    unsigned cap = 0;
    while (*p != '\0') {
        p++; /* past the '\n' that ended the previous line */
        const char* end = strchr(p, '\n');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        size_t name_len = len > 0 && p[len - 1] == '\r' ? len - 1 : len;
        int dup = name_len == 0;
        for (unsigned i = 0; !dup && i < m->num_funcs; i++) {
            dup = strlen(m->funcs[i].name) == name_len && memcmp(m->funcs[i].name, p, name_len) == 0;
        }
        if (!dup) {
            if (m->num_funcs == cap) {
                unsigned ncap = cap == 0 ? 4 : cap * 2;
                struct ihipModuleSymbol_t* nf = realloc(m->funcs, ncap * sizeof *nf);
                if (nf == NULL) {
                    module_free(m);
                    return hipErrorOutOfMemory;
                }
                m->funcs = nf;
                cap = ncap;
            }
            char* name = strndup(p, name_len);
            if (name == NULL) {
                module_free(m);
                return hipErrorOutOfMemory;
            }
            struct ihipModuleSymbol_t* f = &m->funcs[m->num_funcs++];
            f->magic = MAGIC_LIVE;
            f->module = m;
            f->name = name;
            f->kernel = builtin_find(name);
        }
        p += len;
    }
    *out = m;
    return hipSuccess;
}

static hipError_t module_load_text(hipModule_t* module, const char* text) {
    struct ihipModule_t* m = NULL;
    hipError_t err = module_parse(text, &m);
    if (err != hipSuccess) return err;
    m->device = t_current_device;
    pthread_mutex_lock(&g_lock);
    reg_add(&m->h, K_MODULE);
    pthread_mutex_unlock(&g_lock);
    *module = m;
    return hipSuccess;
}

hipError_t hipModuleLoadData(hipModule_t* module, const void* image) {
    API_ENTER();
    if (module == NULL || image == NULL) return ret(hipErrorInvalidValue);
    return ret(module_load_text(module, image));
}

hipError_t hipModuleLoad(hipModule_t* module, const char* fname) {
    API_ENTER();
    if (module == NULL || fname == NULL) return ret(hipErrorInvalidValue);
    int fd = open(fname, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ret(hipErrorFileNotFound);
    char* text = NULL;
    size_t len = 0, cap = 0;
    hipError_t err = hipSuccess;
    for (;;) {
        if (cap - len < 4097) {
            if (cap >= MODULE_FILE_MAX) {
                err = hipErrorInvalidImage;
                break;
            }
            size_t ncap = cap == 0 ? 8192 : cap * 2;
            char* nt = realloc(text, ncap);
            if (nt == NULL) {
                err = hipErrorOutOfMemory;
                break;
            }
            text = nt;
            cap = ncap;
        }
        ssize_t r = read(fd, text + len, cap - len - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            err = hipErrorFileNotFound; /* unreadable, e.g. a directory */
            break;
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    close(fd);
    if (err == hipSuccess) {
        text[len] = '\0'; /* the file is the image, up to its first NUL */
        err = module_load_text(module, text);
    }
    free(text);
    return ret(err);
}

hipError_t hipModuleUnload(hipModule_t module) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    struct obj* o = reg_find(K_MODULE, module);
    if (o == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidHandle);
    }
    reg_del(o);
    struct ihipModule_t* m = (struct ihipModule_t*)o;
    for (unsigned i = 0; i < m->num_funcs; i++) m->funcs[i].magic = MAGIC_DEAD;
    pthread_mutex_unlock(&g_lock);
    module_free(m);
    return hipSuccess;
}

hipError_t hipModuleGetFunction(hipFunction_t* function, hipModule_t module, const char* kname) {
    API_ENTER();
    if (function == NULL || kname == NULL || kname[0] == '\0') return ret(hipErrorInvalidValue); /* as clr */
    pthread_mutex_lock(&g_lock);
    struct ihipModule_t* m = (struct ihipModule_t*)reg_find(K_MODULE, module);
    hipError_t err = m == NULL ? hipErrorInvalidHandle : hipErrorNotFound;
    for (unsigned i = 0; m != NULL && i < m->num_funcs; i++) {
        if (strcmp(m->funcs[i].name, kname) == 0) {
            *function = &m->funcs[i];
            err = hipSuccess;
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return ret(err);
}

/* Whether func is a live kernel, and the double's attributes of it (no registers, no local or constant memory;
   1024 threads a block). NVIDIA's cudaFuncGetAttributes, which hip-ffm calls to load a kernel before its first
   launch, maps onto it. */
hipError_t hipFuncGetAttributes(struct hipFuncAttributes* attr, const void* func) {
    API_ENTER();
    if (attr == NULL) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    int live = func_find(func) != NULL;
    pthread_mutex_unlock(&g_lock);
    if (!live) return ret(hipErrorInvalidDeviceFunction);
    memset(attr, 0, sizeof *attr);
    attr->maxThreadsPerBlock = 1024;
    attr->maxDynamicSharedSizeBytes = MAX_SHARED_MEM;
    attr->sharedSizeBytes = 0;
    return hipSuccess;
}

static int g_launch_device = -1; /* while a kernel runs: its stream's device; guarded by g_lock */
static int g_launch_fault;       /* the running kernel touched another device's memory */
static long g_last_launch[7]; /* gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMem */

long hipffmTest_lastLaunch(int what) {
    if (what < 0 || what >= (int)(sizeof g_last_launch / sizeof g_last_launch[0])) return -1;
    pthread_mutex_lock(&g_lock);
    long v = g_last_launch[what];
    pthread_mutex_unlock(&g_lock);
    return v;
}

/* The launch of hipModuleLaunchKernel and of a graph's kernel node (not counted as a call). */
static hipError_t launch_kernel(hipFunction_t f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
                                unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
                                unsigned int sharedMemBytes, hipStream_t stream, void** kernelParams, void** extra) {
    const unsigned long long u32max = 0xFFFFFFFFull;
    pthread_mutex_lock(&g_lock);
    struct ihipModuleSymbol_t* fn = func_find(f);
    hipError_t err = hipSuccess;
    if (fn == NULL) err = hipErrorInvalidHandle; /* NULL, unknown, or its module was unloaded */
    else if (!stream_valid(stream)) err = hipErrorInvalidValue; /* as clr */
    else if (fn->module->device != stream_device(stream)) err = hipErrorInvalidHandle; /* module of another device */
    else if (extra != NULL) err = hipErrorInvalidValue; /* only kernelParams are supported */
    else if (gridDimX == 0 || gridDimY == 0 || gridDimZ == 0 || blockDimX == 0 || blockDimY == 0 || blockDimZ == 0)
        err = hipErrorInvalidConfiguration;
    else if (gridDimX > 0x7FFFFFFFu || gridDimY > 65536u || gridDimZ > 65536u) err = hipErrorInvalidValue; /* clr */
    else if ((unsigned long long)gridDimX * blockDimX > u32max || (unsigned long long)gridDimY * blockDimY > u32max
             || (unsigned long long)gridDimZ * blockDimZ > u32max)
        err = hipErrorInvalidConfiguration; /* clr */
    else if ((unsigned long long)blockDimX * blockDimY * blockDimZ > MAX_BLOCK_THREADS)
        err = hipErrorInvalidConfiguration;
    else if (sharedMemBytes > MAX_SHARED_MEM) err = hipErrorInvalidValue; /* clr */
    else if (fn->kernel == NULL) err = hipErrorInvalidDeviceFunction; /* listed, but no CPU code for it */
    else if (fn->kernel->nargs > 0 && kernelParams == NULL) err = hipErrorInvalidValue;
    for (unsigned i = 0; err == hipSuccess && i < fn->kernel->nargs; i++) {
        if (kernelParams[i] == NULL) err = hipErrorInvalidValue;
    }
    if (err == hipSuccess) {
        /* Runs under the lock, so nothing it writes is freed meanwhile; everything is done on return. On the null
           stream or a blocking stream, after the deferred work. */
        if (stream_blocking(stream)) flush_all();
        g_launch_device = stream_device(stream);
        g_launch_fault = 0;
        err = fn->kernel->run(kernelParams, (unsigned long long)gridDimX * blockDimX);
        g_launch_device = -1;
        if (g_launch_fault) { /* another device's memory: the launch "succeeds", the fault is sticky, as on a GPU */
            g_sticky = hipErrorIllegalAddress;
            err = hipSuccess;
        }
    }
    if (err == hipSuccess) {
        long* l = g_last_launch;
        l[0] = gridDimX;
        l[1] = gridDimY;
        l[2] = gridDimZ;
        l[3] = blockDimX;
        l[4] = blockDimY;
        l[5] = blockDimZ;
        l[6] = sharedMemBytes;
    }
    pthread_mutex_unlock(&g_lock);
    return err;
}

hipError_t hipModuleLaunchKernel(hipFunction_t f, unsigned int gridDimX, unsigned int gridDimY,
                                 unsigned int gridDimZ, unsigned int blockDimX,
                                 unsigned int blockDimY, unsigned int blockDimZ,
                                 unsigned int sharedMemBytes, hipStream_t stream,
                                 void** kernelParams, void** extra) {
    API_ENTER();
    hipError_t captured;
    const unsigned grid[3] = {gridDimX, gridDimY, gridDimZ}, block[3] = {blockDimX, blockDimY, blockDimZ};
    if (capture_kernel(stream, f, grid, block, sharedMemBytes, kernelParams, extra, &captured)) return ret(captured);
    return ret(launch_kernel(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes, stream,
                             kernelParams, extra));
}

/* ------------------------------------------------------------------------------------------------ */
/* OpenGL interop over fake GL objects                                                                */

#define HIPFFM_GL_TEXTURE_2D 0x0DE1u /* GL_TEXTURE_2D; the headers do not define GL enums */
#define GL_LEVELS_MAX 32
#define GL_OBJECT_MAX_BYTES ((size_t)1 << 30)

/* Whether "a GL context is current on this thread" (hipffmTest_glSetContext). */
static __thread int t_gl_context;

/* A fake GL buffer or 2D texture; buffers and textures share one name space here. Guarded by g_lock. */
struct globj {
    struct globj* next;
    GLuint name;
    int is_texture;
    unsigned char* data; /* zero-filled at definition; texture levels one after another, rows packed */
    size_t size;
    unsigned width, height, levels, texel_bytes; /* textures only */
    size_t level_off[GL_LEVELS_MAX];
    unsigned level_w[GL_LEVELS_MAX], level_h[GL_LEVELS_MAX];
    int refs; /* graphics resources registered on it */
};

static struct globj* g_gl;

static struct globj* gl_find(GLuint name) {
    for (struct globj* g = g_gl; g != NULL; g = g->next) {
        if (g->name == name) return g;
    }
    return NULL;
}

/* Unlinks and frees the object named name if it exists and is not registered. Lock held.
   Returns 0, or -1 when it is registered (then nothing changes). */
static int gl_remove(GLuint name) {
    for (struct globj** pp = &g_gl; *pp != NULL; pp = &(*pp)->next) {
        struct globj* g = *pp;
        if (g->name != name) continue;
        if (g->refs > 0) return -1;
        *pp = g->next;
        g_gl_objects--;
        free(g->data);
        free(g);
        return 0;
    }
    return 0;
}

/* Adds g, replacing an unregistered object of the same name. Takes ownership of g. */
static int gl_define(struct globj* g) {
    if (posix_memalign((void**)&g->data, MALLOC_ALIGN, g->size) != 0) {
        free(g);
        return -1;
    }
    memset(g->data, 0, g->size);
    pthread_mutex_lock(&g_lock);
    if (gl_remove(g->name) != 0) {
        pthread_mutex_unlock(&g_lock);
        free(g->data);
        free(g);
        return -1;
    }
    g->next = g_gl;
    g_gl = g;
    g_gl_objects++;
    pthread_mutex_unlock(&g_lock);
    return 0;
}

void hipffmTest_glSetContext(int current) {
    t_gl_context = current != 0;
}

int hipffmTest_glDefineBuffer(unsigned int name, long size) {
    if (name == 0 || size <= 0 || (unsigned long)size > GL_OBJECT_MAX_BYTES) return -1;
    struct globj* g = calloc(1, sizeof *g);
    if (g == NULL) return -1;
    g->name = name;
    g->size = (size_t)size;
    return gl_define(g);
}

int hipffmTest_glDefineTexture(unsigned int name, unsigned int target, int width, int height, int levels,
                               int bytesPerTexel) {
    if (name == 0 || target != HIPFFM_GL_TEXTURE_2D || width <= 0 || height <= 0 || levels <= 0) return -1;
    if (bytesPerTexel != 1 && bytesPerTexel != 2 && bytesPerTexel != 4 && bytesPerTexel != 8 && bytesPerTexel != 16)
        return -1;
    unsigned maxdim = (unsigned)(width > height ? width : height);
    int max_levels = 0;
    while ((maxdim >> max_levels) != 0) max_levels++; /* floor(log2(max extent)) + 1 */
    if (levels > max_levels) return -1;
    struct globj* g = calloc(1, sizeof *g);
    if (g == NULL) return -1;
    g->name = name;
    g->is_texture = 1;
    g->width = (unsigned)width;
    g->height = (unsigned)height;
    g->levels = (unsigned)levels;
    g->texel_bytes = (unsigned)bytesPerTexel;
    size_t total = 0;
    for (int i = 0; i < levels; i++) {
        unsigned w = g->width >> i, h = g->height >> i;
        g->level_w[i] = w == 0 ? 1 : w;
        g->level_h[i] = h == 0 ? 1 : h;
        g->level_off[i] = total;
        size_t bytes;
        if (__builtin_mul_overflow((size_t)g->level_w[i] * g->level_h[i], (size_t)g->texel_bytes, &bytes)
            || bytes > GL_OBJECT_MAX_BYTES - total) {
            free(g);
            return -1;
        }
        total += bytes;
    }
    g->size = total;
    return gl_define(g);
}

int hipffmTest_glDelete(unsigned int name) {
    pthread_mutex_lock(&g_lock);
    int r = gl_find(name) == NULL ? -1 : gl_remove(name);
    pthread_mutex_unlock(&g_lock);
    return r;
}

/* Copies n bytes between the GL side and host memory. Returns n, or -1 (nothing copied). */
static long gl_copy(unsigned int name, int texture, long offset_or_level, void* host, long n, int to_gl) {
    if (n < 0 || (n > 0 && host == NULL)) return -1;
    pthread_mutex_lock(&g_lock);
    struct globj* g = gl_find(name);
    long r = -1;
    if (g != NULL && g->is_texture == texture) {
        size_t start = 0, avail = 0;
        int ok = 0;
        if (!texture && offset_or_level >= 0 && (size_t)offset_or_level <= g->size) {
            start = (size_t)offset_or_level;
            avail = g->size - start;
            ok = 1;
        } else if (texture && offset_or_level >= 0 && offset_or_level < (long)g->levels) {
            unsigned lv = (unsigned)offset_or_level;
            start = g->level_off[lv];
            avail = (size_t)g->level_w[lv] * g->level_h[lv] * g->texel_bytes;
            ok = 1;
        }
        if (ok && (size_t)n <= avail) {
            if (n > 0) {
                if (to_gl) memmove(g->data + start, host, (size_t)n);
                else memmove(host, g->data + start, (size_t)n);
            }
            r = n;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return r;
}

long hipffmTest_glBufferData(unsigned int name, long offset, void* dst, long n) {
    return gl_copy(name, 0, offset, dst, n, 0);
}

long hipffmTest_glWriteBuffer(unsigned int name, long offset, const void* src, long n) {
    return gl_copy(name, 0, offset, (void*)src, n, 1);
}

long hipffmTest_glTextureData(unsigned int name, int level, void* dst, long n) {
    return gl_copy(name, 1, level, dst, n, 0);
}

long hipffmTest_glWriteTexture(unsigned int name, int level, const void* src, long n) {
    return gl_copy(name, 1, level, (void*)src, n, 1);
}

/* hipGraphicsResource_t is struct _hipGraphicsResource*, opaque in the headers; the handle is the object. */
struct _hipGraphicsResource {
    struct obj h;
    struct globj* gl; /* holds a reference (gl->refs): the GL object cannot be deleted meanwhile */
    unsigned flags;
    int mapped;
    unsigned num_levels;      /* textures only */
    struct hipArray* levels; /* textures only: MAGIC_LIVE while mapped, MAGIC_DEAD otherwise */
};

static struct hipArray* gfx_array_find(const void* handle) {
    for (struct obj* o = g_list[K_GFX]; o != NULL; o = o->next) {
        struct _hipGraphicsResource* r = (struct _hipGraphicsResource*)o;
        for (unsigned i = 0; i < r->num_levels; i++) {
            if ((const void*)&r->levels[i] == handle) return r->levels[i].magic == MAGIC_LIVE ? &r->levels[i] : NULL;
        }
    }
    return NULL;
}

static int device_ptr(const void* p) {
    struct alloc* al = alloc_find_containing(p);
    if (al != NULL) return al->type != A_HOST;
    uintptr_t a = (uintptr_t)p;
    for (struct obj* o = g_list[K_GFX]; o != NULL; o = o->next) {
        struct _hipGraphicsResource* r = (struct _hipGraphicsResource*)o;
        if (!r->mapped || r->gl->is_texture) continue;
        uintptr_t b = (uintptr_t)r->gl->data;
        if (a >= b && a - b < r->gl->size) return 1;
    }
    return 0;
}

static int ptr_device(const void* p) {
    struct alloc* al = alloc_find_containing(p);
    return al != NULL && al->type != A_HOST ? al->device : -1;
}

static int device_range_ok(const void* p, size_t bytes) {
    if (p == NULL) return 0;
    uintptr_t a = (uintptr_t)p;
    struct alloc* al = alloc_find_containing(p);
    if (al != NULL && g_launch_device >= 0 && al->type != A_HOST && !dev_reaches(g_launch_device, al->device)) {
        g_launch_fault = 1;
        return 0;
    }
    if (al != NULL) return bytes <= al->size - (a - (uintptr_t)al->ptr);
    for (struct obj* o = g_list[K_GFX]; o != NULL; o = o->next) {
        struct _hipGraphicsResource* r = (struct _hipGraphicsResource*)o;
        if (!r->mapped || r->gl->is_texture) continue;
        uintptr_t b = (uintptr_t)r->gl->data;
        if (a >= b && a - b < r->gl->size && bytes <= r->gl->size - (a - b)) return 1;
    }
    return 0;
}

hipError_t hipGLGetDevices(unsigned int* pHipDeviceCount, int* pHipDevices, unsigned int hipDeviceCount,
                           hipGLDeviceList deviceList) {
    API_ENTER();
    /* Checks in clr's order; with no current GL context clr answers hipErrorInvalidValue too. */
    if (deviceList == hipGLDeviceListNextFrame) return ret(hipErrorNotSupported);
    if (pHipDeviceCount == NULL || pHipDevices == NULL || hipDeviceCount == 0) return ret(hipErrorInvalidValue);
    if (!t_gl_context) return ret(hipErrorInvalidValue);
    if (deviceList != hipGLDeviceListAll && deviceList != hipGLDeviceListCurrentFrame)
        return ret(hipErrorInvalidValue);
    pHipDevices[0] = 0;
    *pHipDeviceCount = 1;
    return hipSuccess;
}

static hipError_t gfx_register(hipGraphicsResource** resource, GLuint name, int texture, GLenum target,
                               unsigned flags) {
    if (resource == NULL) return hipErrorInvalidValue;
    if (!t_gl_context) return hipErrorInvalidValue; /* clr: "invalid context, gl interop not initialized" */
    struct _hipGraphicsResource* r = calloc(1, sizeof *r);
    if (r == NULL) return hipErrorOutOfMemory;
    pthread_mutex_lock(&g_lock);
    struct globj* g = gl_find(name);
    hipError_t err = hipSuccess;
    if (g == NULL || g->is_texture != texture) err = hipErrorInvalidValue;
    else if (texture && target != HIPFFM_GL_TEXTURE_2D) err = hipErrorInvalidValue;
    if (err == hipSuccess && texture) {
        r->levels = calloc(g->levels, sizeof *r->levels);
        if (r->levels == NULL) err = hipErrorOutOfMemory;
    }
    if (err != hipSuccess) {
        pthread_mutex_unlock(&g_lock);
        free(r);
        return err;
    }
    r->gl = g;
    r->flags = flags;
    if (texture) {
        r->num_levels = g->levels;
        static const int channel_bits[17][4] = {[1] = {8, 0, 0, 0},    [2] = {8, 8, 0, 0},
                                                [4] = {8, 8, 8, 8},    [8] = {16, 16, 16, 16},
                                                [16] = {32, 32, 32, 32}};
        const int* bits = channel_bits[g->texel_bytes];
        for (unsigned i = 0; i < g->levels; i++) {
            struct hipArray* a = &r->levels[i];
            a->magic = MAGIC_DEAD; /* valid only while mapped */
            a->parent = NULL;
            a->level = i;
            a->data = g->data + g->level_off[i];
            a->extent.width = g->level_w[i];
            a->extent.height = g->level_h[i];
            a->extent.depth = 0;
            a->elem_size = g->texel_bytes;
            a->row_bytes = (size_t)g->level_w[i] * g->texel_bytes;
            a->rows = g->level_h[i];
            a->desc.x = bits[0];
            a->desc.y = bits[1];
            a->desc.z = bits[2];
            a->desc.w = bits[3];
            a->desc.f = hipChannelFormatKindUnsigned;
            a->flags = (flags == hipGraphicsRegisterFlagsSurfaceLoadStore ? hipArraySurfaceLoadStore : 0)
                       | (flags == hipGraphicsRegisterFlagsTextureGather ? hipArrayTextureGather : 0);
        }
    }
    g->refs++;
    reg_add(&r->h, K_GFX);
    pthread_mutex_unlock(&g_lock);
    *resource = r;
    return hipSuccess;
}

hipError_t hipGraphicsGLRegisterBuffer(hipGraphicsResource** resource, GLuint buffer, unsigned int flags) {
    API_ENTER();
    if (flags != hipGraphicsRegisterFlagsNone && flags != hipGraphicsRegisterFlagsReadOnly
        && flags != hipGraphicsRegisterFlagsWriteDiscard)
        return ret(hipErrorInvalidValue);
    return ret(gfx_register(resource, buffer, 0, 0, flags));
}

hipError_t hipGraphicsGLRegisterImage(hipGraphicsResource** resource, GLuint image, GLenum target,
                                      unsigned int flags) {
    API_ENTER();
    if (flags != hipGraphicsRegisterFlagsNone && flags != hipGraphicsRegisterFlagsReadOnly
        && flags != hipGraphicsRegisterFlagsWriteDiscard && flags != hipGraphicsRegisterFlagsSurfaceLoadStore
        && flags != hipGraphicsRegisterFlagsTextureGather)
        return ret(hipErrorInvalidValue);
    return ret(gfx_register(resource, image, 1, target, flags));
}

/* Map (map = 1) or unmap all of resources[0..count), or none of them. Lock held. */
static hipError_t gfx_map(int count, hipGraphicsResource_t* resources, hipStream_t stream, int map) {
    if (count < 0 || (count > 0 && resources == NULL)) return hipErrorInvalidValue;
    if (!stream_valid(stream)) return hipErrorInvalidHandle;
    for (int i = 0; i < count; i++) {
        struct _hipGraphicsResource* r = (struct _hipGraphicsResource*)reg_find(K_GFX, resources[i]);
        if (r == NULL) return hipErrorInvalidHandle;
    }
    for (int i = 0; i < count; i++) {
        struct _hipGraphicsResource* r = resources[i];
        int twice = 0; /* the same resource twice: the second one would be mapped (unmapped) already */
        for (int j = 0; j < i && !twice; j++) twice = resources[j] == r;
        if (map && (r->mapped || twice)) return hipErrorAlreadyMapped;
        if (!map && (!r->mapped || twice)) return hipErrorNotMapped;
    }
    /* An unmap hands the memory back to GL: deferred work may touch it. A map on the null stream or a blocking
       stream is that stream's work. */
    if (!map || stream_blocking(stream)) flush_all();
    for (int i = 0; i < count; i++) {
        struct _hipGraphicsResource* r = resources[i];
        r->mapped = map;
        g_gfx_mapped += map ? 1 : -1;
        for (unsigned l = 0; l < r->num_levels; l++) r->levels[l].magic = map ? MAGIC_LIVE : MAGIC_DEAD;
        /* WriteDiscard: the contents are undefined after the map; make that visible. */
        if (map && r->flags == hipGraphicsRegisterFlagsWriteDiscard) memset(r->gl->data, 0xDD, r->gl->size);
    }
    return hipSuccess;
}

hipError_t hipGraphicsMapResources(int count, hipGraphicsResource_t* resources, hipStream_t stream) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    hipError_t err = gfx_map(count, resources, stream, 1);
    pthread_mutex_unlock(&g_lock);
    return ret(err);
}

hipError_t hipGraphicsUnmapResources(int count, hipGraphicsResource_t* resources, hipStream_t stream) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    hipError_t err = gfx_map(count, resources, stream, 0);
    pthread_mutex_unlock(&g_lock);
    return ret(err);
}

hipError_t hipGraphicsResourceGetMappedPointer(void** devPtr, size_t* size, hipGraphicsResource_t resource) {
    API_ENTER();
    if (devPtr == NULL || resource == NULL) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    struct _hipGraphicsResource* r = (struct _hipGraphicsResource*)reg_find(K_GFX, resource);
    hipError_t err = hipSuccess;
    if (r == NULL) err = hipErrorInvalidHandle;
    else if (!r->mapped) err = hipErrorNotMapped;
    else if (r->gl->is_texture) err = hipErrorNotMappedAsPointer;
    else {
        *devPtr = r->gl->data;
        if (size != NULL) *size = r->gl->size;
    }
    pthread_mutex_unlock(&g_lock);
    return ret(err);
}

hipError_t hipGraphicsSubResourceGetMappedArray(hipArray_t* array, hipGraphicsResource_t resource,
                                                unsigned int arrayIndex, unsigned int mipLevel) {
    API_ENTER();
    if (array == NULL || resource == NULL) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    struct _hipGraphicsResource* r = (struct _hipGraphicsResource*)reg_find(K_GFX, resource);
    hipError_t err = hipSuccess;
    if (r == NULL) err = hipErrorInvalidHandle;
    else if (!r->mapped) err = hipErrorNotMapped;
    else if (!r->gl->is_texture) err = hipErrorNotMappedAsArray;
    else if (arrayIndex != 0 || mipLevel >= r->num_levels) err = hipErrorInvalidValue;
    else *array = &r->levels[mipLevel];
    pthread_mutex_unlock(&g_lock);
    return ret(err);
}

hipError_t hipGraphicsUnregisterResource(hipGraphicsResource_t resource) {
    API_ENTER();
    if (resource == NULL) return ret(hipErrorInvalidValue); /* as clr */
    pthread_mutex_lock(&g_lock);
    struct _hipGraphicsResource* r = (struct _hipGraphicsResource*)reg_find(K_GFX, resource);
    if (r == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidHandle);
    }
    flush_all(); /* deferred work may touch its memory */
    if (r->mapped) g_gfx_mapped--; /* unregistering a mapped resource unmaps it */
    for (unsigned l = 0; l < r->num_levels; l++) r->levels[l].magic = MAGIC_DEAD;
    r->gl->refs--;
    reg_del(&r->h);
    pthread_mutex_unlock(&g_lock);
    free(r->levels);
    free(r);
    return hipSuccess;
}

/* ------------------------------------------------------------------------------------------------ */
/* Textures: texture and surface objects (README.md, "Texture and surface objects")                  */
/*                                                                                                    */
/* A texture object records its resource and texture descriptors (by value, as clr's __hip_texture    */
/* does); a surface object its resource descriptor. Creation checks what clr's ihipCreateTextureObject */
/* checks (a live resource, normalizedCoords for a mipmapped array, devPtr aligned to                 */
/* textureAlignment, the pitch to texturePitchAlignment) plus the range of linear and pitched memory, */
/* and a surface's array must have hipArraySurfaceLoadStore (as in CUDA). Resource views are not      */
/* modelled (hipErrorNotSupported). The hooks sample a texture on the CPU (point and linear filtering,*/
/* the four address modes, element and normalised reads, border colours; nearest mip level) and read  */
/* or write a surface's element, so the Java tests can check round trips. A view that outlives what   */
/* it views is counted ("orphanedView"): hip-ffm destroys views before their array.                    */

struct view { /* what texture and surface objects share */
    struct obj h;
    hipResourceDesc res;
};

struct texobj {
    struct view v;
    hipTextureDesc tex;
};

struct surfobj {
    struct view v;
};

static long g_views_orphaned; /* views destroyed after what they viewed was released */

static void views_orphaned_clear(void) {
    pthread_mutex_lock(&g_lock);
    g_views_orphaned = 0;
    pthread_mutex_unlock(&g_lock);
}

static size_t channel_bytes(const hipChannelFormatDesc* d) {
    return (size_t)(d->x + d->y + d->z + d->w) / 8;
}

static int format_ok(const hipChannelFormatDesc* d) {
    int c[4] = {d->x, d->y, d->z, d->w};
    if (c[0] != 8 && c[0] != 16 && c[0] != 32) return 0;
    for (int i = 1; i < 4; i++) {
        if (c[i] != 0 && c[i] != c[0]) return 0;
        if (c[i] != 0 && c[i - 1] == 0) return 0;
    }
    return d->f == hipChannelFormatKindSigned || d->f == hipChannelFormatKindUnsigned
           || (d->f == hipChannelFormatKindFloat && c[0] != 8);
}

/* Whether [p, p + n) lies in one live device allocation (hipMalloc'd or a mapped buffer). Lock held. */
static int device_span_ok(const void* p, size_t n) {
    struct alloc* a = alloc_find_containing(p);
    if (a == NULL || a->type == A_HOST) return 0;
    size_t off = (size_t)((const unsigned char*)p - (const unsigned char*)a->ptr);
    return n <= a->size - off;
}

/* Whether what a resource descriptor views is still live. Lock held. */
static int resource_live(const hipResourceDesc* r) {
    switch (r->resType) {
    case hipResourceTypeArray: return array_find(r->res.array.array) != NULL;
    case hipResourceTypeMipmappedArray: return mipmap_find(r->res.mipmap.mipmap) != NULL;
    case hipResourceTypeLinear: return alloc_find_containing(r->res.linear.devPtr) != NULL;
    case hipResourceTypePitch2D: return alloc_find_containing(r->res.pitch2D.devPtr) != NULL;
    }
    return 0;
}

static long views_orphaned(void) { /* lock held by the caller (hipffmTest_liveObjects) */
    long n = g_views_orphaned;
    for (struct obj* o = g_list[K_TEX]; o != NULL; o = o->next) n += !resource_live(&((struct view*)o)->res);
    for (struct obj* o = g_list[K_SURF]; o != NULL; o = o->next) n += !resource_live(&((struct view*)o)->res);
    return n;
}

/* The checks of a resource descriptor for a texture. Lock held. */
static hipError_t resource_check(const hipResourceDesc* r, const hipTextureDesc* t) {
    switch (r->resType) {
    case hipResourceTypeArray:
        if (r->res.array.array == NULL) return hipErrorInvalidValue;
        return array_find(r->res.array.array) != NULL ? hipSuccess : hipErrorInvalidHandle;
    case hipResourceTypeMipmappedArray:
        if (r->res.mipmap.mipmap == NULL || t->normalizedCoords == 0) return hipErrorInvalidValue;
        return mipmap_find(r->res.mipmap.mipmap) != NULL ? hipSuccess : hipErrorInvalidHandle;
    case hipResourceTypeLinear: {
        const void* p = r->res.linear.devPtr;
        if (p == NULL || (uintptr_t)p % TEX_ALIGN != 0 || !format_ok(&r->res.linear.desc)
            || r->res.linear.sizeInBytes < channel_bytes(&r->res.linear.desc)
            || !device_span_ok(p, r->res.linear.sizeInBytes))
            return hipErrorInvalidValue;
        return hipSuccess;
    }
    case hipResourceTypePitch2D: {
        const void* p = r->res.pitch2D.devPtr;
        size_t w = r->res.pitch2D.width, h = r->res.pitch2D.height, pitch = r->res.pitch2D.pitchInBytes, row, span;
        if (p == NULL || (uintptr_t)p % TEX_ALIGN != 0 || !format_ok(&r->res.pitch2D.desc) || w == 0 || h == 0
            || pitch % TEX_PITCH_ALIGN != 0 || __builtin_mul_overflow(w, channel_bytes(&r->res.pitch2D.desc), &row)
            || pitch < row || __builtin_mul_overflow(h - 1, pitch, &span) || __builtin_add_overflow(span, row, &span)
            || !device_span_ok(p, span))
            return hipErrorInvalidValue;
        return hipSuccess;
    }
    }
    return hipErrorInvalidValue;
}

hipError_t hipCreateTextureObject(hipTextureObject_t* pTexObject, const hipResourceDesc* pResDesc,
                                  const hipTextureDesc* pTexDesc, const struct hipResourceViewDesc* pResViewDesc) {
    API_ENTER();
    if (pTexObject == NULL || pResDesc == NULL || pTexDesc == NULL) return ret(hipErrorInvalidValue);
    if (pResViewDesc != NULL) return ret(hipErrorNotSupported); /* not modelled */
    for (int i = 0; i < 3; i++) {
        if ((unsigned)pTexDesc->addressMode[i] > hipAddressModeBorder) return ret(hipErrorInvalidValue);
    }
    if ((unsigned)pTexDesc->filterMode > hipFilterModeLinear || (unsigned)pTexDesc->mipmapFilterMode > hipFilterModeLinear
        || (unsigned)pTexDesc->readMode > hipReadModeNormalizedFloat)
        return ret(hipErrorInvalidValue);
    struct texobj* t = calloc(1, sizeof *t);
    if (t == NULL) return ret(hipErrorOutOfMemory);
    pthread_mutex_lock(&g_lock);
    hipError_t err = resource_check(pResDesc, pTexDesc);
    if (err == hipSuccess) {
        t->v.res = *pResDesc;
        t->tex = *pTexDesc;
        reg_add(&t->v.h, K_TEX);
        *pTexObject = (hipTextureObject_t)(void*)t;
    }
    pthread_mutex_unlock(&g_lock);
    if (err != hipSuccess) free(t);
    return ret(err);
}

/* Destroys a texture (K_TEX) or surface (K_SURF) object, counting it when it outlived what it views. */
static hipError_t view_destroy(enum kind k, const void* handle) {
    pthread_mutex_lock(&g_lock);
    struct view* v = (struct view*)reg_find(k, handle);
    if (v != NULL) {
        g_views_orphaned += !resource_live(&v->res);
        reg_del(&v->h);
    }
    pthread_mutex_unlock(&g_lock);
    if (v == NULL) return hipErrorInvalidValue;
    free(v);
    return hipSuccess;
}

hipError_t hipDestroyTextureObject(hipTextureObject_t textureObject) {
    API_ENTER();
    if (textureObject == NULL) return hipSuccess; /* as clr */
    return ret(view_destroy(K_TEX, textureObject));
}

hipError_t hipCreateSurfaceObject(hipSurfaceObject_t* pSurfObject, const hipResourceDesc* pResDesc) {
    API_ENTER();
    if (pSurfObject == NULL || pResDesc == NULL || pResDesc->resType != hipResourceTypeArray
        || pResDesc->res.array.array == NULL)
        return ret(hipErrorInvalidValue);
    struct surfobj* o = calloc(1, sizeof *o);
    if (o == NULL) return ret(hipErrorOutOfMemory);
    pthread_mutex_lock(&g_lock);
    struct hipArray* a = array_find(pResDesc->res.array.array);
    hipError_t err = a == NULL ? hipErrorInvalidHandle
                     : (a->flags & hipArraySurfaceLoadStore) == 0 ? hipErrorInvalidValue : hipSuccess;
    if (err == hipSuccess) {
        o->v.res = *pResDesc;
        reg_add(&o->v.h, K_SURF);
        *pSurfObject = (hipSurfaceObject_t)(void*)o;
    }
    pthread_mutex_unlock(&g_lock);
    if (err != hipSuccess) free(o);
    return ret(err);
}

hipError_t hipDestroySurfaceObject(hipSurfaceObject_t surfaceObject) {
    API_ENTER();
    return ret(view_destroy(K_SURF, surfaceObject));
}

/* Texels as the sampler sees them: a 1D, 2D or 3D grid of elements of one format. */
struct texels {
    const unsigned char* data;
    hipChannelFormatDesc desc;
    size_t elem, size[3], pitch[3]; /* size 0: the dimension is absent; pitch in bytes per step */
    int dims;
};

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else { /* subnormal */
            int e = -1;
            do { e++; man <<= 1; } while ((man & 0x400) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 0x1f) bits = sign | 0x7f800000u | (man << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* One channel of the element at p: as a float (float formats, normalised reads) or as an int32's bits. */
static uint32_t channel(const struct texels* t, const unsigned char* p, int c, int normalized, float* f) {
    int bits = t->desc.x;
    const unsigned char* q = p + (size_t)c * (size_t)bits / 8;
    int32_t v = 0;
    if (t->desc.f == hipChannelFormatKindFloat) {
        if (bits == 16) {
            uint16_t h;
            memcpy(&h, q, 2);
            *f = half_to_float(h);
        } else memcpy(f, q, 4);
        uint32_t u;
        memcpy(&u, f, 4);
        return u;
    }
    int is_signed = t->desc.f == hipChannelFormatKindSigned;
    if (bits == 8) v = is_signed ? (int32_t)(int8_t)q[0] : (int32_t)q[0];
    else if (bits == 16) {
        uint16_t u;
        memcpy(&u, q, 2);
        v = is_signed ? (int32_t)(int16_t)u : (int32_t)u;
    } else memcpy(&v, q, 4);
    if (normalized && bits < 32) {
        float max = (float)((1u << (is_signed ? bits - 1 : bits)) - 1);
        *f = (float)v / max;
        if (*f < -1.0f) *f = -1.0f;
    } else *f = (float)v;
    return (uint32_t)v;
}

/* The channels of the element at p into out: floats' or int32s' bits (absent channels stay as they are). */
static void element(const struct texels* t, const unsigned char* p, int normalized, int floats, uint32_t out[4]) {
    int channels = (t->desc.x > 0) + (t->desc.y > 0) + (t->desc.z > 0) + (t->desc.w > 0);
    for (int c = 0; c < channels; c++) {
        float f;
        uint32_t v = channel(t, p, c, normalized, &f);
        if (floats) memcpy(&out[c], &f, 4);
        else out[c] = v;
    }
}

/* floor(v) as an integer, without libm. */
static long ifloor(float v) {
    long i = (long)v;
    return v < (float)i ? i - 1 : i;
}

/* Applies an address mode to texel index i of a dimension of n texels; -1: outside (border). */
static long address(long i, long n, enum hipTextureAddressMode mode, int normalized) {
    if (!normalized && (mode == hipAddressModeWrap || mode == hipAddressModeMirror)) mode = hipAddressModeClamp;
    switch (mode) {
    case hipAddressModeWrap: return ((i % n) + n) % n;
    case hipAddressModeMirror: {
        long j = ((i % (2 * n)) + 2 * n) % (2 * n);
        return j < n ? j : 2 * n - 1 - j;
    }
    case hipAddressModeBorder: return i < 0 || i >= n ? -1 : i;
    default: return i < 0 ? 0 : i >= n ? n - 1 : i;
    }
}

/* The element at integer texel coordinates, or NULL for the border. */
static const unsigned char* texel_at(const struct texels* t, const long idx[3], const hipTextureDesc* d) {
    size_t off = 0;
    for (int k = 0; k < t->dims; k++) {
        long i = address(idx[k], (long)t->size[k], d->addressMode[k], d->normalizedCoords);
        if (i < 0) return NULL;
        off += (size_t)i * t->pitch[k];
    }
    return t->data + off;
}

int hipffmTest_textureFetch(const void* texture, float x, float y, float z, float level, void* out) {
    if (out == NULL) return -3;
    pthread_mutex_lock(&g_lock);
    struct texobj* o = (struct texobj*)reg_find(K_TEX, texture);
    if (o == NULL) {
        pthread_mutex_unlock(&g_lock);
        return -1;
    }
    const hipResourceDesc* r = &o->v.res;
    const hipTextureDesc* d = &o->tex;
    struct texels t;
    memset(&t, 0, sizeof t);
    const struct hipArray* a = NULL;
    if (r->resType == hipResourceTypeArray) a = array_find(r->res.array.array);
    else if (r->resType == hipResourceTypeMipmappedArray) {
        struct mipmap* m = mipmap_find(r->res.mipmap.mipmap);
        if (m != NULL) { /* the nearest level, after the bias and the clamps (mip filtering not modelled) */
            float l = level + d->mipmapLevelBias;
            if (l > d->maxMipmapLevelClamp) l = d->maxMipmapLevelClamp;
            if (l < d->minMipmapLevelClamp) l = d->minMipmapLevelClamp;
            long li = (long)(l + 0.5f);
            if (li < 0) li = 0;
            if (li >= (long)m->num_levels) li = (long)m->num_levels - 1;
            a = &m->levels[li];
        }
    }
    if (a != NULL) {
        t.data = a->data;
        t.desc = a->desc;
        t.elem = a->elem_size;
        t.size[0] = a->extent.width;
        t.size[1] = a->extent.height;
        t.size[2] = a->extent.depth;
        t.pitch[0] = a->elem_size;
        t.pitch[1] = a->row_bytes;
        t.pitch[2] = a->row_bytes * at_least_1(a->extent.height);
    } else if (r->resType == hipResourceTypeLinear && alloc_find_containing(r->res.linear.devPtr) != NULL) {
        t.data = r->res.linear.devPtr;
        t.desc = r->res.linear.desc;
        t.elem = channel_bytes(&t.desc);
        t.size[0] = r->res.linear.sizeInBytes / t.elem;
        t.pitch[0] = t.elem;
    } else if (r->resType == hipResourceTypePitch2D && alloc_find_containing(r->res.pitch2D.devPtr) != NULL) {
        t.data = r->res.pitch2D.devPtr;
        t.desc = r->res.pitch2D.desc;
        t.elem = channel_bytes(&t.desc);
        t.size[0] = r->res.pitch2D.width;
        t.size[1] = r->res.pitch2D.height;
        t.pitch[0] = t.elem;
        t.pitch[1] = r->res.pitch2D.pitchInBytes;
    } else {
        pthread_mutex_unlock(&g_lock);
        return -2; /* what it views was released */
    }
    flush_all(); /* deferred copies into what it views come first, as on a GPU's stream */
    t.dims = 1 + (t.size[1] > 0) + (t.size[2] > 0);
    int channels = (t.desc.x > 0) + (t.desc.y > 0) + (t.desc.z > 0) + (t.desc.w > 0);
    int normalized_read = d->readMode == hipReadModeNormalizedFloat && t.desc.f != hipChannelFormatKindFloat
                          && t.desc.x < 32;
    int floats = t.desc.f == hipChannelFormatKindFloat || normalized_read;
    uint32_t result[4] = {0, 0, 0, 0};
    float coord[3] = {x, y, z};
    if (r->resType == hipResourceTypeLinear) { /* tex1Dfetch: an element index, no filtering or addressing */
        long i = ifloor(x);
        if (i >= 0 && (size_t)i < t.size[0]) element(&t, t.data + (size_t)i * t.elem, normalized_read, floats, result);
    } else if (d->filterMode == hipFilterModeLinear && floats) {
        /* Weighted sum of the 2^dims texels around (coord - 0.5), exact weights (GPUs use 8 fractional bits). */
        long base[3] = {0, 0, 0};
        float frac[3] = {0, 0, 0}, sum[4] = {0, 0, 0, 0};
        for (int k = 0; k < t.dims; k++) {
            float c = (d->normalizedCoords ? coord[k] * (float)t.size[k] : coord[k]) - 0.5f;
            base[k] = ifloor(c);
            frac[k] = c - (float)base[k];
        }
        for (int corner = 0; corner < (1 << t.dims); corner++) {
            long idx[3];
            float w = 1;
            for (int k = 0; k < t.dims; k++) {
                int hi = (corner >> k) & 1;
                idx[k] = base[k] + hi;
                w *= hi ? frac[k] : 1 - frac[k];
            }
            const unsigned char* p = texel_at(&t, idx, d);
            for (int c = 0; c < 4; c++) {
                float f = 0;
                if (p == NULL) f = d->borderColor[c];
                else if (c < channels) channel(&t, p, c, normalized_read, &f);
                sum[c] += w * f;
            }
        }
        memcpy(result, sum, sizeof sum);
    } else {
        long idx[3];
        for (int k = 0; k < t.dims; k++) {
            float c = d->normalizedCoords ? coord[k] * (float)t.size[k] : coord[k];
            idx[k] = ifloor(c);
        }
        const unsigned char* p = texel_at(&t, idx, d);
        if (p == NULL) memcpy(result, d->borderColor, sizeof result); /* ints: the border floats' bits, as CUDA */
        else element(&t, p, normalized_read, floats, result);
    }
    pthread_mutex_unlock(&g_lock);
    memcpy(out, result, sizeof result);
    return floats ? 0 : 1;
}

/* One element of a surface's array at (xBytes, y, z), as surf*Dread/write address it (trap mode). */
static int surface_element(const void* surface, long xBytes, long y, long z, long n, unsigned char** at) {
    struct surfobj* o = (struct surfobj*)reg_find(K_SURF, surface);
    if (o == NULL) return -1;
    struct hipArray* a = array_find(o->v.res.res.array.array);
    if (a == NULL) return -2;
    long h = (long)at_least_1(a->extent.height), d = (long)at_least_1(a->extent.depth);
    if (n != (long)a->elem_size || xBytes < 0 || xBytes % n != 0 || (size_t)xBytes >= a->row_bytes || y < 0 || y >= h
        || z < 0 || z >= d)
        return -3;
    *at = a->data + ((size_t)z * (size_t)h + (size_t)y) * a->row_bytes + (size_t)xBytes;
    return 0;
}

int hipffmTest_surfaceRead(const void* surface, long xBytes, long y, long z, void* dst, long n) {
    if (dst == NULL) return -3;
    unsigned char* at = NULL;
    pthread_mutex_lock(&g_lock);
    int rc = surface_element(surface, xBytes, y, z, n, &at);
    if (rc == 0) {
        flush_all();
        memcpy(dst, at, (size_t)n);
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

int hipffmTest_surfaceWrite(const void* surface, long xBytes, long y, long z, const void* src, long n) {
    if (src == NULL) return -3;
    unsigned char* at = NULL;
    pthread_mutex_lock(&g_lock);
    int rc = surface_element(surface, xBytes, y, z, n, &at);
    if (rc == 0) {
        flush_all();
        memcpy(at, src, (size_t)n);
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

/* Virtual memory management (hipMem{Create,Release,Map,Unmap,SetAccess,AddressReserve,AddressFree},   */
/* hipMem{Export,Import}{To,From}ShareableHandle, hipMemGetAllocationGranularity)                      */
/*                                                                                                    */
/* A physical allocation is a memfd of a multiple of VMM_GRANULARITY bytes (64 KiB here; CUDA's minimum  */
/* is 2 MiB on an H200: callers must query it). A reservation is an mmap(PROT_NONE) range; hipMemMap     */
/* maps the memfd over part of it (MAP_FIXED | MAP_SHARED, readable and writable at once: access is      */
/* recorded by hipMemSetAccess, not enforced) and registers the range as device memory (type A_VMM) for  */
/* copies, fills and kernels. hipMemExportToShareableHandle returns a new dup of the memfd on every call  */
/* (as CUDA does); the caller owns it. hipMemImportFromShareableHandle takes a memfd or regular file and  */
/* keeps a dup of its own: the caller's fd is never closed. As in CUDA, the memory lives until it is both  */
/* released and unmapped.                                                                              */

#define VMM_GRANULARITY ((size_t)64 << 10)

struct vmm_handle {
    struct obj h;
    int fd;       /* owned: closed when released and unmapped */
    size_t size;
    int device;
    int exportable; /* requested with hipMemHandleTypePosixFileDescriptor, or imported */
    int refs;     /* live mappings */
    int released;
};

struct vmm_range {
    struct obj h;
    void* base;
    size_t size;
};

static void vmm_free_if_unused(struct vmm_handle* v) {
    if (!v->released || v->refs > 0) return;
    g_used_bytes -= v->size;
    close(v->fd);
    free(v);
}

static int vmm_location_ok(const hipMemLocation* l) {
    return l->type == hipMemLocationTypeDevice && dev_ok(l->id);
}

hipError_t hipMemGetAllocationGranularity(size_t* granularity, const hipMemAllocationProp* prop,
                                          hipMemAllocationGranularity_flags option) {
    API_ENTER();
    if (granularity == NULL || prop == NULL || prop->type != hipMemAllocationTypePinned) return ret(hipErrorInvalidValue);
    if (!vmm_location_ok(&prop->location)) return ret(hipErrorInvalidDevice);
    if (option != hipMemAllocationGranularityMinimum && option != hipMemAllocationGranularityRecommended)
        return ret(hipErrorInvalidValue);
    *granularity = option == hipMemAllocationGranularityMinimum ? VMM_GRANULARITY : 2 * VMM_GRANULARITY;
    return hipSuccess;
}

/* A new handle over fd (owned from now on). Lock held. */
static hipError_t vmm_new(hipMemGenericAllocationHandle_t* handle, int fd, size_t size, int device, int exportable) {
    if (g_used_bytes >= TOTAL_MEM || size > TOTAL_MEM - g_used_bytes) return hipErrorOutOfMemory;
    struct vmm_handle* v = calloc(1, sizeof *v);
    if (v == NULL) return hipErrorOutOfMemory;
    v->fd = fd;
    v->size = size;
    v->device = device;
    v->exportable = exportable;
    reg_add(&v->h, K_VMM);
    g_used_bytes += size;
    *handle = (hipMemGenericAllocationHandle_t)(void*)v;
    return hipSuccess;
}

hipError_t hipMemCreate(hipMemGenericAllocationHandle_t* handle, size_t size, const hipMemAllocationProp* prop,
                        unsigned long long flags) {
    API_ENTER();
    if (handle == NULL || prop == NULL || flags != 0 || size == 0 || size % VMM_GRANULARITY != 0
        || prop->type != hipMemAllocationTypePinned
        || (prop->requestedHandleType != hipMemHandleTypeNone
            && prop->requestedHandleType != hipMemHandleTypePosixFileDescriptor))
        return ret(hipErrorInvalidValue);
    if (!vmm_location_ok(&prop->location)) return ret(hipErrorInvalidDevice);
    int fd = memfd_create("hipffm-vmm", MFD_CLOEXEC);
    if (fd < 0) return ret(hipErrorOutOfMemory);
    if (ftruncate(fd, (off_t)size) != 0) {
        close(fd);
        return ret(hipErrorOutOfMemory);
    }
    pthread_mutex_lock(&g_lock);
    hipError_t e = vmm_new(handle, fd, size, prop->location.id,
                           prop->requestedHandleType == hipMemHandleTypePosixFileDescriptor);
    pthread_mutex_unlock(&g_lock);
    if (e != hipSuccess) close(fd);
    return ret(e);
}

hipError_t hipMemRelease(hipMemGenericAllocationHandle_t handle) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    struct vmm_handle* v = (struct vmm_handle*)reg_find(K_VMM, handle);
    if (v == NULL) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidValue);
    }
    reg_del(&v->h);
    v->released = 1;
    vmm_free_if_unused(v);
    pthread_mutex_unlock(&g_lock);
    return hipSuccess;
}

hipError_t hipMemExportToShareableHandle(void* shareableHandle, hipMemGenericAllocationHandle_t handle,
                                         hipMemAllocationHandleType handleType, unsigned long long flags) {
    API_ENTER();
    if (shareableHandle == NULL || flags != 0 || handleType != hipMemHandleTypePosixFileDescriptor)
        return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    struct vmm_handle* v = (struct vmm_handle*)reg_find(K_VMM, handle);
    hipError_t e = v == NULL ? hipErrorInvalidValue : !v->exportable ? hipErrorNotSupported : hipSuccess;
    int fd = e == hipSuccess ? fcntl(v->fd, F_DUPFD_CLOEXEC, 3) : -1;
    pthread_mutex_unlock(&g_lock);
    if (e == hipSuccess && fd < 0) e = hipErrorOutOfMemory;
    if (e == hipSuccess) *(int*)shareableHandle = fd; /* a new fd on every call, the caller's */
    return ret(e);
}

hipError_t hipMemImportFromShareableHandle(hipMemGenericAllocationHandle_t* handle, void* osHandle,
                                           hipMemAllocationHandleType shHandleType) {
    API_ENTER();
    int fd = (int)(intptr_t)osHandle;
    struct stat st;
    if (handle == NULL || shHandleType != hipMemHandleTypePosixFileDescriptor || fd <= 0 || fstat(fd, &st) != 0
        || !S_ISREG(st.st_mode) || st.st_size <= 0 || (size_t)st.st_size % VMM_GRANULARITY != 0)
        return ret(hipErrorInvalidValue);
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 3); /* the caller keeps theirs */
    if (own < 0) return ret(hipErrorOutOfMemory);
    pthread_mutex_lock(&g_lock);
    hipError_t e = vmm_new(handle, own, (size_t)st.st_size, t_current_device, 1);
    pthread_mutex_unlock(&g_lock);
    if (e != hipSuccess) close(own);
    return ret(e);
}

hipError_t hipMemAddressReserve(void** ptr, size_t size, size_t alignment, void* addr, unsigned long long flags) {
    API_ENTER();
    (void)addr; /* a hint */
    if (ptr == NULL || size == 0 || size % VMM_GRANULARITY != 0 || flags != 0
        || (alignment != 0 && (alignment & (alignment - 1)) != 0) || alignment > VMM_GRANULARITY)
        return ret(hipErrorInvalidValue);
    struct vmm_range* r = calloc(1, sizeof *r);
    if (r == NULL) return ret(hipErrorOutOfMemory);
    /* aligned to the granularity, as the real runtimes' ranges: map more, trim both ends */
    void* raw = mmap(NULL, size + VMM_GRANULARITY, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) {
        free(r);
        return ret(hipErrorOutOfMemory);
    }
    uintptr_t start = ((uintptr_t)raw + VMM_GRANULARITY - 1) / VMM_GRANULARITY * VMM_GRANULARITY;
    if (start > (uintptr_t)raw) munmap(raw, start - (uintptr_t)raw);
    size_t tail = (uintptr_t)raw + size + VMM_GRANULARITY - (start + size);
    if (tail > 0) munmap((void*)(start + size), tail);
    void* p = (void*)start;
    r->base = p;
    r->size = size;
    pthread_mutex_lock(&g_lock);
    reg_add(&r->h, K_VMMVA);
    pthread_mutex_unlock(&g_lock);
    *ptr = p;
    return hipSuccess;
}

/* The reservation containing [p, p + size), or NULL. Lock held. */
static struct vmm_range* vmm_range_of(const void* p, size_t size) {
    uintptr_t a = (uintptr_t)p;
    for (struct obj* o = g_list[K_VMMVA]; o != NULL; o = o->next) {
        struct vmm_range* r = (struct vmm_range*)o;
        uintptr_t b = (uintptr_t)r->base;
        if (a >= b && a - b < r->size && size <= r->size - (a - b)) return r;
    }
    return NULL;
}

/* Whether a mapping overlaps [p, p + size). Lock held. */
static int vmm_mapped_in(const void* p, size_t size) {
    uintptr_t a = (uintptr_t)p;
    for (struct obj* o = g_list[K_ALLOC]; o != NULL; o = o->next) {
        struct alloc* m = (struct alloc*)o;
        uintptr_t b = (uintptr_t)m->ptr;
        if (m->type == A_VMM && a < b + m->size && b < a + size) return 1;
    }
    return 0;
}

hipError_t hipMemAddressFree(void* devPtr, size_t size) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    struct vmm_range* r = vmm_range_of(devPtr, size);
    if (devPtr == NULL || r == NULL || r->base != devPtr || r->size != size || vmm_mapped_in(devPtr, size)) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidValue); /* not a whole reservation, or still mapped */
    }
    reg_del(&r->h);
    pthread_mutex_unlock(&g_lock);
    munmap(r->base, r->size);
    free(r);
    return hipSuccess;
}

hipError_t hipMemMap(void* ptr, size_t size, size_t offset, hipMemGenericAllocationHandle_t handle,
                     unsigned long long flags) {
    API_ENTER();
    if (ptr == NULL || size == 0 || size % VMM_GRANULARITY != 0 || offset != 0 || flags != 0
        || (uintptr_t)ptr % VMM_GRANULARITY != 0)
        return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    struct vmm_handle* v = (struct vmm_handle*)reg_find(K_VMM, handle);
    hipError_t e = hipSuccess;
    if (v == NULL) e = hipErrorInvalidValue;
    else if (vmm_range_of(ptr, size) == NULL || vmm_mapped_in(ptr, size) || size > v->size) e = hipErrorInvalidValue;
    struct alloc* a = e == hipSuccess ? calloc(1, sizeof *a) : NULL;
    if (e == hipSuccess && a == NULL) e = hipErrorOutOfMemory;
    if (e == hipSuccess && mmap(ptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, v->fd, 0) == MAP_FAILED) {
        free(a);
        e = hipErrorOutOfMemory;
    }
    if (e == hipSuccess) {
        a->ptr = ptr;
        a->size = size;
        a->type = A_VMM;
        a->device = v->device;
        a->vmm = v;
        v->refs++;
        reg_add(&a->h, K_ALLOC);
        g_vmm_mappings++;
    }
    pthread_mutex_unlock(&g_lock);
    return ret(e);
}

hipError_t hipMemUnmap(void* ptr, size_t size) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    struct alloc* a = ptr == NULL ? NULL : alloc_find_exact(ptr);
    if (a == NULL || a->type != A_VMM || a->size != size) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidValue);
    }
    flush_all(); /* deferred work may touch the memory */
    mmap(ptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0); /* reserved again */
    reg_del(&a->h);
    g_vmm_mappings--;
    a->vmm->refs--;
    vmm_free_if_unused(a->vmm);
    pthread_mutex_unlock(&g_lock);
    free(a);
    return hipSuccess;
}

hipError_t hipMemSetAccess(void* ptr, size_t size, const hipMemAccessDesc* desc, size_t count) {
    API_ENTER();
    if (ptr == NULL || desc == NULL || count == 0) return ret(hipErrorInvalidValue);
    for (size_t i = 0; i < count; i++) {
        if (!vmm_location_ok(&desc[i].location)) return ret(hipErrorInvalidDevice);
        if (desc[i].flags != hipMemAccessFlagsProtNone && desc[i].flags != hipMemAccessFlagsProtRead
            && desc[i].flags != hipMemAccessFlagsProtReadWrite)
            return ret(hipErrorInvalidValue);
    }
    pthread_mutex_lock(&g_lock);
    struct alloc* a = alloc_find_exact(ptr);
    int ok = a != NULL && a->type == A_VMM && a->size == size;
    pthread_mutex_unlock(&g_lock);
    return ret(ok ? hipSuccess : hipErrorInvalidValue);
}

/* ------------------------------------------------------------------------------------------------ */
/* IPC handles (hipIpc{Get,Open}{Mem,Event}Handle, hipIpcCloseMemHandle)                              */
/*                                                                                                    */
/* A memory handle names the creating process and a memfd that now backs the hipMalloc allocation: the */
/* first hipIpcGetMemHandle copies the allocation's pages into a memfd and maps it over them in place   */
/* (MAP_FIXED, same address), so later writes on either side are shared. Opening maps that memfd through */
/* /proc/<pid>/fd/<n> (same user). An event handle names the creating process and an id; in this double  */
/* every event has completed, so an opened event is a new interprocess event. As CUDA, opening a handle   */
/* in the process that made it fails (hipErrorInvalidContext). Only the start of a hipMalloc allocation    */
/* gives a memory handle, only an event made with hipEventInterprocess an event handle (else               */
/* hipErrorInvalidValue / hipErrorInvalidResourceHandle).                                                 */

#define IPC_MAGIC 0x48504943u /* "HPIC" */

struct ipc_wire {
    uint32_t magic;
    int32_t pid;
    int32_t fd;     /* memory: the creator's memfd; event: 0 */
    uint32_t pad;
    uint64_t size;  /* memory: the allocation's size */
    uint64_t id;    /* event: its address in the creator */
};

hipError_t hipIpcGetMemHandle(hipIpcMemHandle_t* handle, void* devPtr) {
    API_ENTER();
    if (handle == NULL || devPtr == NULL) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    struct alloc* a = alloc_find_exact(devPtr);
    hipError_t e = a == NULL || a->type != A_DEVICE ? hipErrorInvalidValue : hipSuccess;
    if (e == hipSuccess && a->ipc_fd <= 0) {
        flush_all();
        size_t bytes = page_round(a->size);
        int fd = memfd_create("hipffm-ipc", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)bytes) != 0 || pwrite(fd, a->ptr, a->size, 0) != (ssize_t)a->size
            || mmap(a->ptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
            if (fd >= 0) close(fd);
            e = hipErrorOutOfMemory;
        } else {
            a->ipc_fd = fd;
        }
    }
    if (e == hipSuccess) {
        struct ipc_wire w = {.magic = IPC_MAGIC, .pid = getpid(), .fd = a->ipc_fd, .size = a->size};
        memset(handle, 0, sizeof *handle);
        memcpy(handle, &w, sizeof w);
    }
    pthread_mutex_unlock(&g_lock);
    return ret(e);
}

hipError_t hipIpcOpenMemHandle(void** devPtr, hipIpcMemHandle_t handle, unsigned int flags) {
    API_ENTER();
    struct ipc_wire w;
    memcpy(&w, &handle, sizeof w);
    if (devPtr == NULL || w.magic != IPC_MAGIC || w.fd <= 0 || w.size == 0
        || (flags & ~(unsigned)hipIpcMemLazyEnablePeerAccess) != 0)
        return ret(hipErrorInvalidValue);
    if (w.pid == getpid()) return ret(hipErrorInvalidContext);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)w.pid, (int)w.fd);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return ret(hipErrorInvalidValue); /* the creator is gone, or freed the memory */
    void* p = mmap(NULL, page_round(w.size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd); /* the mapping keeps the memory */
    if (p == MAP_FAILED) return ret(hipErrorOutOfMemory);
    struct alloc* a = calloc(1, sizeof *a);
    if (a == NULL) {
        munmap(p, page_round(w.size));
        return ret(hipErrorOutOfMemory);
    }
    a->ptr = p;
    a->size = w.size;
    a->type = A_IPC;
    a->device = t_current_device;
    pthread_mutex_lock(&g_lock);
    reg_add(&a->h, K_ALLOC);
    g_ipc_opened++;
    pthread_mutex_unlock(&g_lock);
    *devPtr = p;
    return hipSuccess;
}

hipError_t hipIpcCloseMemHandle(void* devPtr) {
    API_ENTER();
    pthread_mutex_lock(&g_lock);
    struct alloc* a = devPtr == NULL ? NULL : alloc_find_exact(devPtr);
    if (a == NULL || a->type != A_IPC) {
        pthread_mutex_unlock(&g_lock);
        return ret(hipErrorInvalidValue);
    }
    flush_all();
    reg_del(&a->h);
    g_ipc_opened--;
    pthread_mutex_unlock(&g_lock);
    munmap(a->ptr, page_round(a->size));
    free(a);
    return hipSuccess;
}

hipError_t hipIpcGetEventHandle(hipIpcEventHandle_t* handle, hipEvent_t event) {
    API_ENTER();
    if (handle == NULL) return ret(hipErrorInvalidValue);
    pthread_mutex_lock(&g_lock);
    struct event* e = (struct event*)reg_find(K_EVENT, event);
    hipError_t err = e == NULL ? hipErrorInvalidHandle
                     : (e->flags & hipEventInterprocess) == 0 ? hipErrorInvalidResourceHandle : hipSuccess;
    pthread_mutex_unlock(&g_lock);
    if (err == hipSuccess) {
        struct ipc_wire w = {.magic = IPC_MAGIC, .pid = getpid(), .id = (uint64_t)(uintptr_t)event};
        memset(handle, 0, sizeof *handle);
        memcpy(handle, &w, sizeof w);
    }
    return ret(err);
}

hipError_t hipIpcOpenEventHandle(hipEvent_t* event, hipIpcEventHandle_t handle) {
    API_ENTER();
    struct ipc_wire w;
    memcpy(&w, &handle, sizeof w);
    if (event == NULL || w.magic != IPC_MAGIC || w.id == 0) return ret(hipErrorInvalidValue);
    if (w.pid == getpid()) return ret(hipErrorInvalidContext);
    return ret(event_create(event, hipEventInterprocess | hipEventDisableTiming));
}
