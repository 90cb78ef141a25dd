// The C side of ChurnCompare (libchurnloop.so): the C twins' churn loop bodies (churn.c, import.c), exported as
// functions that run N iterations natively in the calling thread, so that the JVM can time C and hip-ffm in one
// process, one thread, alternating rounds. Each returns 0, or the first error: the runtime's error code (> 0), or
// -errno when dup fails; the loop stops there.
//   churn_stream(n)               cudaStreamCreateWithFlags(&s, cudaStreamDefault) + cudaStreamDestroy
//   churn_event(timing, n)        cudaEventCreateWithFlags (cudaEventDefault or cudaEventDisableTiming) + Destroy
//   churn_import(fd, bytes, n)    dup(fd) + cudaImportExternalMemory (OPAQUE_FD, bytes) + GetMappedBuffer (all of
//                                 it) + cudaFree + cudaDestroyExternalMemory
// The fd: as import.c, each iteration imports a dup of the caller's fd, and CUDA closes the dup when the import
// succeeds (so nothing closes it here). On HIP (ROCm never closes what it imports; hip-ffm's importCopy and
// churn-testrt.c close the dup after the destroy) the dup is closed after the destroy. When an import is refused,
// the dup is closed on HIP; on CUDA only while it still is a duplicate of the caller's fd (kcmp; left open where
// kcmp is refused), since CUDA closes it on some refusals and the number may be reused, as hip-ffm's FdImport does
// (import.c exits on any error instead). After a failed map, free or destroy the rest of the release is still made,
// then the first error returned.
//
// One runtime in the process: on NVIDIA this links the libcudart.so.13 that hip-ffm loads
// (/usr/local/cuda/lib64, rpath'd), so the JVM's and this library's calls reach one runtime instance;
// churn_runtime_symbol() and churn_runtime_path() let ChurnCompare check that they do.
//   gcc -O2 -std=gnu11 -shared -fPIC -I/usr/local/cuda/include -o libchurnloop.so churnloop.c
//       /usr/local/cuda/lib64/libcudart.so.13 -Wl,-rpath,/usr/local/cuda/lib64      (scripts/bench)
// -DCHURN_HIP compiles the same loops against HIP's names (the C test runtime, benchmarks/paired-churn-testrt).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef CHURN_HIP
#include <hip/hip_runtime_api.h>
#define RT(name) hip##name                  // hipStreamCreateWithFlags, hipStream_t, hipSuccess, ...
#define RT_STRUCT(name) hip##name           // HIP's descriptors are typedefs
#define IMPORT_CLOSES_FD 0                  // ROCm keeps the fd open: the caller closes it after the destroy
#else
#include <cuda_runtime_api.h>
#define RT(name) cuda##name
#define RT_STRUCT(name) struct cuda##name
#define IMPORT_CLOSES_FD 1                  // CUDA owns (closes) the fd of a successful import
#endif

#define KEEP(e) do { if (first == 0 && (e) != RT(Success)) first = (int) (e); } while (0)

int churn_stream(long n) {
    for (long i = 0; i < n; i++) {
        RT(Stream_t) s;
        RT(Error_t) e = RT(StreamCreateWithFlags)(&s, RT(StreamDefault));
        if (e != RT(Success)) return (int) e;
        e = RT(StreamDestroy)(s);
        if (e != RT(Success)) return (int) e;
    }
    return 0;
}

int churn_event(int timing, long n) {
    unsigned flags = timing ? RT(EventDefault) : RT(EventDisableTiming);
    for (long i = 0; i < n; i++) {
        RT(Event_t) ev;
        RT(Error_t) e = RT(EventCreateWithFlags)(&ev, flags);
        if (e != RT(Success)) return (int) e;
        e = RT(EventDestroy)(ev);
        if (e != RT(Success)) return (int) e;
    }
    return 0;
}

// Whether fd `copy` is still a duplicate of `fd` (the same open file description).
static int still_duplicate(int copy, int fd) {
    long pid = getpid();
    return syscall(SYS_kcmp, pid, pid, 0 /* KCMP_FILE */, (long) copy, (long) fd) == 0;
}

int churn_import(int fd, long bytes, long n) {
    for (long i = 0; i < n; i++) {
        int copy = dup(fd);
        if (copy < 0) return -errno;
        RT_STRUCT(ExternalMemoryHandleDesc) d;
        memset(&d, 0, sizeof d);
        d.type = RT(ExternalMemoryHandleTypeOpaqueFd);
        d.handle.fd = copy;
        d.size = (unsigned long long) bytes;
        RT(ExternalMemory_t) m;
        RT(Error_t) e = RT(ImportExternalMemory)(&m, &d);
        if (e != RT(Success)) {
            if (!IMPORT_CLOSES_FD || still_duplicate(copy, fd)) close(copy);
            return (int) e;
        }
        RT_STRUCT(ExternalMemoryBufferDesc) b;
        memset(&b, 0, sizeof b);
        b.offset = 0;
        b.size = (unsigned long long) bytes;
        void *p;
        int first = 0;
        e = RT(ExternalMemoryGetMappedBuffer)(&p, m, &b);
        KEEP(e);
        if (e == RT(Success)) KEEP(RT(Free)(p));
        KEEP(RT(DestroyExternalMemory)(m));
        if (!IMPORT_CLOSES_FD) close(copy);
        if (first != 0) return first;
    }
    return 0;
}

// The address of the runtime's StreamDestroy as this library resolved it (ChurnCompare compares it with hip-ffm's).
void *churn_runtime_symbol(void) {
    return (void *) &RT(StreamDestroy);
}

// The file of the runtime this library calls (dladdr), or "" when unknown.
const char *churn_runtime_path(void) {
    Dl_info info;
    return dladdr((void *) &RT(StreamDestroy), &info) && info.dli_fname ? info.dli_fname : "";
}
