// kernels/masked_sgd.h — launcher of kernels/masked_sgd.cu (host-only header, CUDA sources only).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/masked_sgd_ops.h"

namespace sdd::kern {

// One fused launch over n elements of the flat arenas (pointers already offset to `begin`):
// w, buf updated in place; buf may be null when momentum is 0; mask / reset may be null (no mask: all kept; no reset: pruned -> 0).
void launch_masked_sgd(float* w, const float* g, float* buf, const float* mask, const float* reset, int64_t n,
                       const SgdHyper& h, cudaStream_t stream);

}  // namespace sdd::kern
