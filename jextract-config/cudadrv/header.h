/* The CUDA driver API (libcuda), for what the runtime API lacks: virtual memory management (cuMem*), issue #16. */
#include <cuda.h>
