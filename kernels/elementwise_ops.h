// kernels/elementwise_ops.h — per-element math shared by the CPU and CUDA backends (DESIGN rule 2):
// binary ops, affine, relu and its gradient, and the batch-norm per-element transforms.
// Every function is SDD_HD: the CPU backend loops over them, CUDA kernels grid-stride over them.
#pragma once
#include <math.h>

#include "kernels/hd.h"

namespace sdd::kern {

// ---- binary ops (the functor form lets backends instantiate one loop per op)
struct AddOp { SDD_HD float operator()(float a, float b) const { return a + b; } };
struct SubOp { SDD_HD float operator()(float a, float b) const { return a - b; } };
struct MulOp { SDD_HD float operator()(float a, float b) const { return a * b; } };
struct DivOp { SDD_HD float operator()(float a, float b) const { return a / b; } };

// out = alpha * x + beta
SDD_HD float affine_op(float x, float alpha, float beta) { return alpha * x + beta; }

// y += alpha * x
SDD_HD float axpy_op(float y, float alpha, float x) { return y + alpha * x; }

// y = max(x, 0). NaN propagates (x > 0 is false for NaN, so we test x <= 0 instead).
SDD_HD float relu_op(float x) { return x <= 0.f ? 0.f : x; }

// gx = gy * (y > 0): the gradient of relu expressed through its output.
SDD_HD float relu_grad_op(float y, float gy) { return y > 0.f ? gy : 0.f; }

// ---- batch norm (per channel c: mean, invstd = 1 / sqrt(var + eps), gamma, beta)
// xhat = (x - mean) * invstd;  y = gamma * xhat + beta
SDD_HD float bn_normalize_op(float x, float mean, float invstd, float gamma, float beta) {
  return (x - mean) * invstd * gamma + beta;
}

// Training-mode input gradient, M = N*H*W elements per channel:
//   gx = gamma * invstd * (gy - sum_gy / M - xhat * sum_gy_xhat / M)
SDD_HD float bn_train_grad_op(float x, float gy, float mean, float invstd, float gamma, float mean_gy,
                              float mean_gy_xhat) {
  const float xhat = (x - mean) * invstd;
  return gamma * invstd * (gy - mean_gy - xhat * mean_gy_xhat);
}

// Running statistic update (PyTorch): running = (1 - momentum) * running + momentum * batch.
SDD_HD float running_update_op(float running, float batch, float momentum) {
  return (1.f - momentum) * running + momentum * batch;
}

}  // namespace sdd::kern
