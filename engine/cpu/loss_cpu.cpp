// engine/cpu/loss_cpu.cpp — CPU fused softmax + mean cross-entropy (forward saves the probabilities),
// its backward, row argmax and count_equal. Row math: kernels/loss_ops.h.
#include "engine/cpu/cpu_backend.h"
#include "kernels/loss_ops.h"

namespace sdd::cpu {

// logits[N,K], labels i64[N] -> probs[N,K], loss[1] = mean_n -log p[n, label_n]
void softmax_xent_forward(const Tensor& logits, const Tensor& labels, const Tensor& probs, const Tensor& loss) {
  const int64_t N = logits.size(0), K = logits.size(1);
  const float* z = logits.data<float>();
  const int64_t* y = labels.data<int64_t>();
  float* p = probs.data<float>();
  for (int64_t n = 0; n < N; ++n)
    SDD_CHECK(y[n] >= 0 && y[n] < K, "cross_entropy: label " << y[n] << " at row " << n << " outside [0, " << K << ")");
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) if (N * K > (1 << 14))
  for (int64_t n = 0; n < N; ++n) total += kern::softmax_xent_row(z + n * K, K, y[n], p + n * K);
  *loss.data<float>() = N == 0 ? 0.f : static_cast<float>(total / static_cast<double>(N));
}

// glogits[N,K] = gloss / N * (probs - onehot(labels))
void softmax_xent_backward(const Tensor& probs, const Tensor& labels, const Tensor& gloss, const Tensor& glogits) {
  const int64_t N = probs.size(0), K = probs.size(1);
  const float* p = probs.data<float>();
  const int64_t* y = labels.data<int64_t>();
  float* g = glogits.data<float>();
  const float scale = N == 0 ? 0.f : *gloss.data<float>() / static_cast<float>(N);
#pragma omp parallel for if (N * K > (1 << 14))
  for (int64_t n = 0; n < N; ++n) {
    const int64_t lab = y[n];
    for (int64_t k = 0; k < K; ++k) g[n * K + k] = kern::softmax_xent_grad_op(p[n * K + k], k == lab, scale);
  }
}

// out i64[N] = first index of the row maximum of x[N,K]
void argmax_rows(const Tensor& x, const Tensor& out) {
  const int64_t N = x.size(0), K = x.size(1);
  const float* px = x.data<float>();
  int64_t* po = out.data<int64_t>();
  for (int64_t n = 0; n < N; ++n) po[n] = kern::argmax_row(px + n * K, K);
}

// out i64[1] = number of equal entries of two i64 tensors
void count_equal(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t* pa = a.data<int64_t>();
  const int64_t* pb = b.data<int64_t>();
  const int64_t n = a.numel();
  int64_t c = 0;
  for (int64_t i = 0; i < n; ++i) c += pa[i] == pb[i];
  *out.data<int64_t>() = c;
}

}  // namespace sdd::cpu
