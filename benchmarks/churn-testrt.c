// The C side of benchmarks/profile-churn: the same runtime calls as ChurnProfile's operations, in C, against the
// C test runtime (target/native/libhipffm_testrt.so), so that what hip-ffm adds can be told from what the test
// runtime and the kernel cost. Per operation: stream hipStreamCreateWithFlags + hipStreamDestroy; event
// hipEventCreateWithFlags(0) + hipEventDestroy; import dup + hipImportExternalMemory (a 1 MiB memfd) +
// hipExternalMemoryGetMappedBuffer + hipFree + hipDestroyExternalMemory + close, as hip-ffm's importCopy on AMD
// (ROCm does not close the fd it imports). Prints C,<op>,<ns/op>,<ops> after a warm-up of the same length.
//   churn-testrt [SECONDS]
#define _GNU_SOURCE
#include <hip/hip_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CK(x) do { hipError_t e_ = (x); if (e_ != hipSuccess) { fprintf(stderr, "%s failed: %d\n", #x, e_); exit(1); } } while (0)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int memfd;

static void op(int kind) {
    if (kind == 0) {
        hipStream_t s;
        CK(hipStreamCreateWithFlags(&s, hipStreamDefault));
        CK(hipStreamDestroy(s));
    } else if (kind == 1) {
        hipEvent_t e;
        CK(hipEventCreateWithFlags(&e, 0));
        CK(hipEventDestroy(e));
    } else {
        int copy = dup(memfd);
        hipExternalMemoryHandleDesc d;
        memset(&d, 0, sizeof d);
        d.type = hipExternalMemoryHandleTypeOpaqueFd;
        d.handle.fd = copy;
        d.size = 1 << 20;
        hipExternalMemory_t m;
        CK(hipImportExternalMemory(&m, &d));
        hipExternalMemoryBufferDesc b;
        memset(&b, 0, sizeof b);
        b.size = 1 << 20;
        void *p;
        CK(hipExternalMemoryGetMappedBuffer(&p, m, &b));
        CK(hipFree(p));
        CK(hipDestroyExternalMemory(m));
        close(copy);
    }
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 2;
    memfd = memfd_create("hipffm-churn", 0);
    if (memfd < 0 || ftruncate(memfd, 1 << 20) != 0) {
        perror("memfd");
        return 1;
    }
    const char *names[] = {"stream", "event", "import"};
    for (int k = 0; k < 3; k++) {
        for (int round = 0; round < 2; round++) {
            long n = 0;
            double t0 = now(), t;
            do {
                for (int i = 0; i < 100; i++) op(k);
                n += 100;
            } while ((t = now()) - t0 < seconds);
            if (round == 1) printf("C,%s,%.1f,%ld\n", names[k], (t - t0) / n * 1e9, n);
        }
    }
    return 0;
}
