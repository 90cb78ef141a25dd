// C twin of ChurnBench: create + destroy of a stream and of an event, the calls hip-ffm makes on NVIDIA:
// cudaStreamCreateWithFlags(&s, cudaStreamDefault) (which is cudaStreamCreate) + cudaStreamDestroy, and
// cudaEventCreateWithFlags with cudaEventDefault (timing) or cudaEventDisableTiming + cudaEventDestroy.
#include "bench.h"

int main(void) {
    require_gpu();
    double ns;
    MEASURE(ns, 1e9, 16, {
        cudaStream_t s;
        CK(cudaStreamCreateWithFlags(&s, cudaStreamDefault));
        CK(cudaStreamDestroy(s));
    }, );
    emit("streamCreateDestroy", "", ns, "ns");
    const char *kinds[] = {"true", "false"};
    unsigned flags[] = {cudaEventDefault, cudaEventDisableTiming};
    for (int k = 0; k < 2; k++) {
        MEASURE(ns, 1e9, 16, {
            cudaEvent_t e;
            CK(cudaEventCreateWithFlags(&e, flags[k]));
            CK(cudaEventDestroy(e));
        }, );
        emit("eventCreateDestroy", kinds[k], ns, "ns");     // param: timing=true|false, as ChurnBench's
    }
    return 0;
}
