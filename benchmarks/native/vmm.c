// C twin of VmmRoundTrip (hip-ffm's VirtualMemory): allocate + export + import + release of VMM device memory, as
// VirtualMemory.allocate, exportFd, importFd and the arena's close make the driver calls:
//   cuMemCreate (pinned, device 0, POSIX fd handle type) + cuMemAddressReserve + cuMemMap + cuMemSetAccess (rw),
//   cuMemExportToShareableHandle (POSIX fd), cuMemImportFromShareableHandle + reserve + map + setAccess,
//   then for the import cuMemUnmap + cuMemAddressFree + cuMemRelease + close(fd), and the same for the allocation.
// Import in the same process (the driver's path is the same as in another one; the fd crosses no socket).
// The driver API comes from libcuda.so.1, opened at run time (no libcuda is needed to build), in the CUDA runtime's
// primary context of device 0. Exits 2 with C-SKIP without a GPU or a driver.
//   vmm [BYTES...]        (default 2 MiB and 64 MiB) -> C,vmm,<bytes>,<median us per round trip>,us
#define _GNU_SOURCE
#include "bench.h"
#include <cuda.h>
#include <dlfcn.h>
#include <stdint.h>
#include <unistd.h>

#define F(name, ...) static CUresult (*p_##name)(__VA_ARGS__);
F(cuMemCreate, CUmemGenericAllocationHandle *, size_t, const CUmemAllocationProp *, unsigned long long)
F(cuMemAddressReserve, CUdeviceptr *, size_t, size_t, CUdeviceptr, unsigned long long)
F(cuMemMap, CUdeviceptr, size_t, size_t, CUmemGenericAllocationHandle, unsigned long long)
F(cuMemSetAccess, CUdeviceptr, size_t, const CUmemAccessDesc *, size_t)
F(cuMemUnmap, CUdeviceptr, size_t)
F(cuMemAddressFree, CUdeviceptr, size_t)
F(cuMemRelease, CUmemGenericAllocationHandle)
F(cuMemExportToShareableHandle, void *, CUmemGenericAllocationHandle, CUmemAllocationHandleType, unsigned long long)
F(cuMemImportFromShareableHandle, CUmemGenericAllocationHandle *, void *, CUmemAllocationHandleType)
F(cuMemGetAllocationGranularity, size_t *, const CUmemAllocationProp *, CUmemAllocationGranularity_flags)
F(cuGetErrorName, CUresult, const char **)
#undef F

#define DK(x) do { CUresult r_ = (x); if (r_ != CUDA_SUCCESS) { const char *n_ = "?"; p_cuGetErrorName(r_, &n_); \
    fprintf(stderr, "C-ERROR %s:%d: %s -> %s\n", __FILE__, __LINE__, #x, n_); exit(1); } } while (0)

static CUmemAllocationProp prop;
static CUmemAccessDesc access_;

static void load(void) {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "C-SKIP no GPU: no driver (dlopen libcuda.so.1: %s)\n", dlerror());
        exit(2);
    }
#define L(name) if ((*(void **) &p_##name = dlsym(lib, #name)) == NULL) { \
        fprintf(stderr, "C-ERROR libcuda.so.1 has no %s\n", #name); exit(1); }
    L(cuMemCreate) L(cuMemAddressReserve) L(cuMemMap) L(cuMemSetAccess) L(cuMemUnmap) L(cuMemAddressFree)
    L(cuMemRelease) L(cuMemExportToShareableHandle) L(cuMemImportFromShareableHandle)
    L(cuMemGetAllocationGranularity) L(cuGetErrorName)
#undef L
}

static CUdeviceptr map(CUmemGenericAllocationHandle h, size_t size) {
    CUdeviceptr p;
    DK(p_cuMemAddressReserve(&p, size, 0, 0, 0));
    DK(p_cuMemMap(p, size, 0, h, 0));
    DK(p_cuMemSetAccess(p, size, &access_, 1));
    return p;
}

static void release(CUmemGenericAllocationHandle h, CUdeviceptr p, size_t size) {
    DK(p_cuMemUnmap(p, size));
    DK(p_cuMemAddressFree(p, size));
    DK(p_cuMemRelease(h));
}

static void roundtrip(size_t size) {
    CUmemGenericAllocationHandle h, h2;
    DK(p_cuMemCreate(&h, size, &prop, 0));
    CUdeviceptr p = map(h, size);
    int fd = -1;
    DK(p_cuMemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
    DK(p_cuMemImportFromShareableHandle(&h2, (void *) (uintptr_t) fd, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
    CUdeviceptr p2 = map(h2, size);
    release(h2, p2, size);
    close(fd);
    release(h, p, size);
}

int main(int argc, char **argv) {
    require_gpu();
    CK(cudaFree(0));                                  // the primary context, current
    load();
    prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
    prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    prop.location.id = 0;
    prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
    access_.location = prop.location;
    access_.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
    size_t granularity;
    DK(p_cuMemGetAllocationGranularity(&granularity, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
    long long sizes[8] = {2LL << 20, 64LL << 20};
    int n = 2;
    if (argc > 1) {
        n = argc - 1 < 8 ? argc - 1 : 8;
        for (int i = 0; i < n; i++) sizes[i] = atoll(argv[i + 1]);
    }
    for (int i = 0; i < n; i++) {
        size_t size = (sizes[i] + granularity - 1) / granularity * granularity;   // as VirtualMemory rounds
        double us;
        MEASURE(us, 1e6, 1, roundtrip(size), (void) 0);
        emitl("vmm", sizes[i], us, "us");
    }
    return 0;
}
