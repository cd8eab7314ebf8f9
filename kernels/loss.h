// kernels/loss.h — launchers of kernels/loss.cu (host-only header, CUDA sources only): fused
// softmax + mean cross-entropy forward/backward, row argmax and count of equal entries.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace sdd::kern {

// logits[N,K], labels i64[N] -> probs[N,K], loss[1] (mean over rows); row_loss: device scratch [N].
// A label outside [0, K) makes the loss NaN (the device cannot throw).
void launch_softmax_xent_forward(const float* logits, const int64_t* labels, int64_t N, int64_t K, float* probs,
                                 float* row_loss, float* loss, cudaStream_t stream);
// glogits[N,K] = gloss[0] / N * (probs - onehot(labels)); gloss is a device scalar.
void launch_softmax_xent_backward(const float* probs, const int64_t* labels, const float* gloss, int64_t N,
                                  int64_t K, float* glogits, cudaStream_t stream);
// out i64[N] = index of the first maximum of each row of x[N,K]
void launch_argmax_rows(const float* x, int64_t N, int64_t K, int64_t* out, cudaStream_t stream);
// out i64[1] = #{i : a[i] == b[i]}
void launch_count_equal(const int64_t* a, const int64_t* b, int64_t n, int64_t* out, cudaStream_t stream);

}  // namespace sdd::kern
