// kernels/prune_scores.h — launchers of kernels/prune_scores.cu (host-only header, CUDA sources only).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace sdd::kern {

// out[i] = prune_score(mode, w[i], g[i]) for i < n (kernels/prune_scores_ops.h); g may be null unless
// mode is kScoreGradient. out may alias w.
void launch_prune_scores(int32_t mode, const float* w, const float* g, float* out, int64_t n, cudaStream_t stream);

// out[i] = mask_keep_above(mask[i], scores[i], thr) for i < n; out may alias mask.
void launch_mask_keep_above(const float* scores, const float* mask, float thr, float* out, int64_t n,
                            cudaStream_t stream);

}  // namespace sdd::kern
