// C twin of PerCallBench: one CUDA runtime call in a loop (error codes cycle through 0..7 as in anchor.c).
// The error-name calls need no GPU; the device calls do (without one: C-SKIP on stderr, exit 2).
#include "bench.h"

int main(void) {
    volatile const char *sink;
    volatile int isink;
    unsigned i = 0;
    double ns;
    MEASURE(ns, 1e9, 1024, sink = cudaGetErrorName((cudaError_t) (i++ & 7)), );
    emit("errorName", "", ns, "ns");
    MEASURE(ns, 1e9, 1024, sink = cudaGetErrorString((cudaError_t) (i++ & 7)), );
    emit("errorString", "", ns, "ns");
    (void) sink;

    require_gpu();
    int dev;
    MEASURE(ns, 1e9, 256, CK(cudaGetDevice(&dev)); isink = dev, );
    emit("getDevice", "", ns, "ns");
    int count;
    MEASURE(ns, 1e9, 256, CK(cudaGetDeviceCount(&count)); isink = count, );
    emit("getDeviceCount", "", ns, "ns");
    (void) isink;
    return 0;
}
