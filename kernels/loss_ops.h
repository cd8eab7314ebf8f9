// kernels/loss_ops.h — the per-row softmax cross-entropy math, shared by the CPU and CUDA backends.
//
// For one row z[K] with label y:
//   m = max_k z_k;  s = sum_k exp(z_k - m);  p_k = exp(z_k - m) / s      (numerically stable)
//   loss_row = log(s) + m - z_y = -log p_y
// Mean cross-entropy over N rows: loss = (1/N) sum_rows loss_row; its gradient w.r.t. z_k is
//   g_k = gloss / N * (p_k - [k == y]).
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/hd.h"

namespace sdd::kern {

// Writes the softmax of z[K] into p[K] and returns -log p[label] (computed as log s + m - z_label,
// which stays finite even when p[label] underflows to 0).
SDD_HD float softmax_xent_row(const float* z, int64_t K, int64_t label, float* p) {
  float m = z[0];
  for (int64_t k = 1; k < K; ++k) m = z[k] > m ? z[k] : m;
  float s = 0.f;
  for (int64_t k = 0; k < K; ++k) {
    const float e = expf(z[k] - m);
    p[k] = e;
    s += e;
  }
  const float inv = 1.f / s;
  for (int64_t k = 0; k < K; ++k) p[k] *= inv;
  return logf(s) + m - z[label];
}

// Gradient of the mean cross-entropy w.r.t. one logit; scale = gloss / N.
SDD_HD float softmax_xent_grad_op(float p, bool is_label, float scale) {
  return (is_label ? p - 1.f : p) * scale;
}

// Index of the first maximum of x[K] (NaN never wins; K >= 1).
SDD_HD int64_t argmax_row(const float* x, int64_t K) {
  int64_t best = 0;
  float bv = x[0];
  for (int64_t k = 1; k < K; ++k)
    if (x[k] > bv) { bv = x[k]; best = k; }
  return best;
}

}  // namespace sdd::kern
