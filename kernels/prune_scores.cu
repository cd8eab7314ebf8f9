// kernels/prune_scores.cu — pruning scores and the mask update over a flat arena or one tensor [n].
// Math (kernels/prune_scores_ops.h, the functions the CPU backend runs):
//   scores: s = |w| | -|w| | |w*g|;   mask update: m' = (m != 0 && !(s > thr)) ? 0 : m
#include "engine/cuda/cuda_check.h"
#include "kernels/launch.h"
#include "kernels/prune_scores.h"
#include "kernels/prune_scores_ops.h"

namespace sdd::kern {

namespace {

__global__ void prune_scores_kernel(int32_t mode, const float* w, const float* g, float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = prune_score(mode, w[i], g ? g[i] : 0.f);
}

__global__ void mask_keep_above_kernel(const float* scores, const float* mask, float thr, float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = mask_keep_above(mask[i], scores[i], thr);
}

}  // namespace

void launch_prune_scores(int32_t mode, const float* w, const float* g, float* out, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  prune_scores_kernel<<<grid_for(n), kThreads, 0, stream>>>(mode, w, g, out, n);
  SDD_CUDA_LAUNCH_CHECK("prune_scores_kernel");
}

void launch_mask_keep_above(const float* scores, const float* mask, float thr, float* out, int64_t n,
                            cudaStream_t stream) {
  if (n <= 0) return;
  mask_keep_above_kernel<<<grid_for(n), kThreads, 0, stream>>>(scores, mask, thr, out, n);
  SDD_CUDA_LAUNCH_CHECK("mask_keep_above_kernel");
}

}  // namespace sdd::kern
