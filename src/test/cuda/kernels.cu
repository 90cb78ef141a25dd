// Kernels for hip-ffm's GPU tests and the interop demo, compiled to PTX at build time (nvcc --ptx) and loaded
// with HipModule on the NVIDIA platform. Plain C linkage, so the names are the kernel names.

// x[i] = x[i] * a + b for i < n
extern "C" __global__ void scale_add(float* x, float a, float b, long long n) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = x[i] * a + b;
}

// x[i] += 1 for i < n (one frame of the demo: every frame adds one to every word)
extern "C" __global__ void increment(unsigned int* x, long long n) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += 1u;
}
