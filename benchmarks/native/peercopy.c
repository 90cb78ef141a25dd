// C twin of PeerCopyBench: a copy of random bytes (splitmix64, CopyBench's seed) from device 0's memory to device 1's
// as hip-ffm's Memory.copyPeer makes it on NVIDIA: with device 0 (the source's) current, cudaMemcpyPeerAsync on the
// NULL stream, then cudaStreamSynchronize(0), so every copy has finished before the next one is timed. Time per copy
// in us at 1 MiB .. 1 GiB, first without peer access (peercopy.off), then with cudaDeviceEnablePeerAccess both ways
// (peercopy.on). Exits 2 with "C-SKIP needs 2 GPUs" on a machine with fewer; without peer access between the two
// (cudaDeviceCanAccessPeer) it prints only the .off figures and says why on stderr.
#include "bench.h"

static inline void peer_sync(void *dst, int dst_device, const void *src, int src_device, size_t n) {
    CK(cudaMemcpyPeerAsync(dst, dst_device, src, src_device, n, 0));
    CK(cudaStreamSynchronize(0));
}

int main(void) {
    require_gpu();
    int count = 0;
    CK(cudaGetDeviceCount(&count));
    if (count < 2) {
        fprintf(stderr, "C-SKIP needs 2 GPUs (nvidia-h200-x2); this machine has %d\n", count);
        return 2;
    }
    size_t sizes[] = {1 << 20, 16 << 20, 256 << 20, 1ull << 30};
    const int nsizes = (int) (sizeof sizes / sizeof sizes[0]);
    size_t max = sizes[nsizes - 1];
    void *src, *dst;
    CK(cudaSetDevice(1));
    CK(cudaMalloc(&dst, max));
    CK(cudaSetDevice(0));
    CK(cudaMalloc(&src, max));
    fill_random(src, max, FILL_SEED);
    peer_sync(dst, 1, src, 0, max);                  // untimed first touch of both
    int to1 = 0, to0 = 0;
    CK(cudaDeviceCanAccessPeer(&to1, 0, 1));
    CK(cudaDeviceCanAccessPeer(&to0, 1, 0));
    for (int access = 0; access < 2; access++) {
        if (access) {
            if (!to1 || !to0) {
                fprintf(stderr, "C-SKIP peercopy.on: no peer access between devices 0 and 1 "
                        "(cudaDeviceCanAccessPeer 0->1 %d, 1->0 %d)\n", to1, to0);
                break;
            }
            CK(cudaDeviceEnablePeerAccess(1, 0));    // device 0 current: 0 may use 1's memory
            CK(cudaSetDevice(1));
            CK(cudaDeviceEnablePeerAccess(0, 0));
            CK(cudaSetDevice(0));
            peer_sync(dst, 1, src, 0, max);
        }
        for (int s = 0; s < nsizes; s++) {
            size_t n = sizes[s];
            double us;
            MEASURE(us, 1e6, 1, peer_sync(dst, 1, src, 0, n), );
            emitl(access ? "peercopy.on" : "peercopy.off", (long long) n, us, "us");
        }
    }
    CK(cudaFree(src));
    CK(cudaSetDevice(1));
    CK(cudaFree(dst));
    return 0;
}
