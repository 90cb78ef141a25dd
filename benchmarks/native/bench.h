// Shared by hip-ffm's C twins: timing in the style of shared/probes/anchor.c (CLOCK_MONOTONIC around a loop),
// with the JMH benchmarks' schedule (2 warm-up rounds of 0.3 s, 5 measured rounds of 0.4 s, the median of the
// rounds reported, as report.py takes the median of JMH's iterations), a CUDA check that names the call, and the machine-readable output:
//   C,<figure>,<param>,<value>,<unit>
#ifndef HIPFFM_BENCH_H
#define HIPFFM_BENCH_H
#include <cuda_runtime_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// A failed CUDA call ends the twin with the call and the error's name (exit 1; 2 when there is no GPU/driver).
#define CK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "C-ERROR %s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorName(e_), \
            cudaGetErrorString(e_)); \
    exit(e_ == cudaErrorNoDevice || e_ == cudaErrorInsufficientDriver ? 2 : 1); } } while (0)

static inline void emit(const char *figure, const char *param, double value, const char *unit) {
    printf("C,%s,%s,%.4f,%s\n", figure, param, value, unit);
    fflush(stdout);
}

static inline void emitl(const char *figure, long long param, double value, const char *unit) {
    char p[32];
    snprintf(p, sizeof p, "%lld", param);
    emit(figure, p, value, unit);
}

#define WARMUP_ROUNDS 2
#define WARMUP_S 0.3
#define ROUNDS 5
#define ROUND_S 0.4

static inline int cmp_double_(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

// Runs `body` in chunks of `chunk` until each round's time is up; `out` gets the median over the measured rounds
// of the time per body, in `scale` units per second (1e9: ns, 1e6: us). `after_round` runs after each round,
// untimed (e.g. draining a stream, as the JMH benchmarks do after each iteration).
#define MEASURE(out, scale, chunk, body, after_round) do { \
    double rounds_[ROUNDS]; \
    for (int k_ = -WARMUP_ROUNDS; k_ < ROUNDS; k_++) { \
        double limit_ = k_ < 0 ? WARMUP_S : ROUND_S, t0_ = now(), t_; long n_ = 0; \
        do { for (long j_ = 0; j_ < (chunk); j_++) { body; } n_ += (chunk); } while ((t_ = now()) - t0_ < limit_); \
        { after_round; } \
        if (k_ >= 0) rounds_[k_] = (t_ - t0_) / n_ * (scale); \
    } \
    qsort(rounds_, ROUNDS, sizeof rounds_[0], cmp_double_); \
    (out) = rounds_[ROUNDS / 2]; } while (0)

// Device 0, made current; exits 2 with a clear message when there is none.
static inline void require_gpu(void) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n < 1) {
        fprintf(stderr, "C-SKIP no GPU: cudaGetDeviceCount -> %s (%d devices)\n",
                e == cudaSuccess ? "cudaSuccess" : cudaGetErrorName(e), n);
        exit(2);
    }
    CK(cudaSetDevice(0));
}

// hip-ffm's synchronous copy on NVIDIA (Memory.copy): cudaMemcpyAsync (cudaMemcpyDefault) on the NULL stream, then
// cudaStreamSynchronize(0), so the copy has finished on the GPU when it returns.
static inline void copy_sync(void *dst, const void *src, size_t n) {
    CK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDefault, 0));
    CK(cudaStreamSynchronize(0));
}

#define FILL_SEED 0x5eed2026ull   // CopyBench.FILL_SEED: the same seed and generator (splitmix64)

// Fills device memory with random (incompressible) bytes: splitmix64 from `seed` on the host, copied in once.
static inline void fill_random(void *device, size_t n, uint64_t seed) {
    uint64_t *h;
    CK(cudaMallocHost((void **) &h, n));
    for (size_t i = 0; i < n / 8; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        h[i] = z ^ (z >> 31);
    }
    copy_sync(device, h, n);
    CK(cudaFreeHost(h));
}

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

// Nearest-rank percentile of sorted values (FrameLatency.java uses the same rule).
static inline double percentile(const double *sorted, int n, double p) {
    int rank = (int) __builtin_ceil(p / 100.0 * n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}
#endif
