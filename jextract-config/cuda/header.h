#include <cuda_runtime_api.h>
#include <cuda_gl_interop.h>
