// kernels/adam.h — launcher of kernels/adam.cu (host-only header, CUDA sources only).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/adam_ops.h"

namespace sdd::kern {

// One fused launch over n elements (pointers already offset to `begin`); w, m, v in place;
// mask / reset may be null, as for masked SGD.
void launch_adam(float* w, const float* g, float* m, float* v, const float* mask, const float* reset, int64_t n,
                 const AdamHyper& h, cudaStream_t stream);

}  // namespace sdd::kern
