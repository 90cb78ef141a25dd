// C twin of ImportBench: import a dup of a Vulkan-exported fd, map all of it, release (free, destroy), for a
// 1 MiB and a 256 MiB allocation. CUDA takes (closes) the dup.
#include "vk.h"
#include <unistd.h>

int main(void) {
    require_gpu();
    Vk v = vk_open();
    unsigned long long sizes[] = {1ull << 20, 256ull << 20};
    for (int s = 0; s < 2; s++) {
        VkExportedBuffer b = vk_buffer(&v, sizes[s]);
        int fd = vk_buffer_fd(&v, &b);
        double us;
        MEASURE(us, 1e6, 1, {
            int copy = dup(fd);
            if (copy < 0) { perror("dup"); exit(1); }
            cudaExternalMemory_t m = cuda_import_memory(copy, b.allocation_size);
            void *p = cuda_map(m, 0, b.allocation_size);
            CK(cudaFree(p));
            CK(cudaDestroyExternalMemory(m));
        }, );
        emitl("importMapRelease", (long long) sizes[s], us, "us");
        close(fd);
        vk_buffer_free(&v, &b);
    }
    vk_close(&v);
    return 0;
}
