// kernels/masked_sgd.cu — the fused masked SGD step over a slice [n] of the flat arenas, one launch.
// Math: kern::masked_sgd_element (kernels/masked_sgd_ops.h), the function the CPU backend runs:
//   g' = g + wd*w;  buf = first ? g' : mu*buf + g';  d = nesterov ? g' + mu*buf : buf
//   w = mask ? w - lr*d : (reset or 0)
#include "engine/cuda/cuda_check.h"
#include "kernels/launch.h"
#include "kernels/masked_sgd.h"

namespace sdd::kern {

namespace {

__global__ void masked_sgd_kernel(float* w, const float* g, float* buf, const float* mask, const float* reset,
                                  int64_t n, SgdHyper h) {
  const bool has_mask = mask != nullptr, has_reset = reset != nullptr;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float wi = w[i];
    float bi = buf ? buf[i] : 0.f;
    masked_sgd_element(wi, g[i], bi, has_mask ? mask[i] : 1.f, has_reset ? reset[i] : 0.f, has_mask, has_reset, h);
    w[i] = wi;
    if (buf) buf[i] = bi;
  }
}

}  // namespace

void launch_masked_sgd(float* w, const float* g, float* buf, const float* mask, const float* reset, int64_t n,
                       const SgdHyper& h, cudaStream_t stream) {
  if (n <= 0) return;
  masked_sgd_kernel<<<grid_for(n), kThreads, 0, stream>>>(w, g, buf, mask, reset, n, h);
  SDD_CUDA_LAUNCH_CHECK("masked_sgd_kernel");
}

}  // namespace sdd::kern
