// kernels/adam.cu — the fused Adam step over a slice [n] of the flat arenas, one launch.
// Math: kern::adam_element (kernels/adam_ops.h), the function the CPU backend runs:
//   g' = g + wd*w;  m = b1*m + (1-b1)*g';  v = b2*v + (1-b2)*g'^2
//   w = mask ? w - (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps) : (reset or 0)
#include "engine/cuda/cuda_check.h"
#include "kernels/adam.h"
#include "kernels/launch.h"

namespace sdd::kern {

namespace {

__global__ void adam_kernel(float* w, const float* g, float* m, float* v, const float* mask, const float* reset,
                            int64_t n, AdamHyper h) {
  const bool has_mask = mask != nullptr, has_reset = reset != nullptr;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float wi = w[i], mi = m[i], vi = v[i];
    adam_element(wi, g[i], mi, vi, has_mask ? mask[i] : 1.f, has_reset ? reset[i] : 0.f, has_mask, has_reset, h);
    w[i] = wi;
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace

void launch_adam(float* w, const float* g, float* m, float* v, const float* mask, const float* reset, int64_t n,
                 const AdamHyper& h, cudaStream_t stream) {
  if (n <= 0) return;
  adam_kernel<<<grid_for(n), kThreads, 0, stream>>>(w, g, m, v, mask, reset, n, h);
  SDD_CUDA_LAUNCH_CHECK("adam_kernel");
}

}  // namespace sdd::kern
