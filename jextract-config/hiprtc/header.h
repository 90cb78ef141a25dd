#include <hip/hiprtc.h>
