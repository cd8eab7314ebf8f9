// engine/ops.h — the validating dispatch layer (DESIGN rule 3): every op models, pruning and
// experiments may call. Each op checks shapes, dtypes and devices once, allocates its output on the
// inputs' device, routes to cpu:: or cuda::, and (for differentiable ops) records an autograd Node.
// Shapes in comments: N batch, C/K channels, H/W spatial, F features.
#pragma once
#include <cstdint>

#include "engine/autograd/autograd.h"
#include "engine/tensor.h"

namespace sdd::ops {

// ---- elementwise, differentiable (same shapes, f32)
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul_scalar(const Tensor& x, float s);
Tensor add_scalar(const Tensor& x, float s);
Tensor relu(const Tensor& x);
Tensor sum(const Tensor& x);    // [1]
Tensor mean(const Tensor& x);   // [1]

// ---- shape, differentiable (share storage with the input)
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x);   // [N, ...] -> [N, prod(...)]

// ---- linear algebra, differentiable
Tensor matmul(const Tensor& a, const Tensor& b);                           // [M,K] @ [K,N]
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);           // x[N,I] w[O,I] b[O] or undefined -> [N,O]

// ---- convolution, differentiable: x[N,C,H,W] w[K,C,R,S] b[K] or undefined -> [N,K,P,Q]
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t padding);

// ---- batch norm, differentiable in x, weight, bias. Training mode normalises with the batch
// statistics and updates running_mean / running_var in place (PyTorch semantics); eval mode uses
// the running statistics. x: [N,C,H,W] or [N,C].
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps);

// ---- pooling, differentiable
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding);
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding);
Tensor adaptive_avg_pool2d_1x1(const Tensor& x);   // [N,C,H,W] -> [N,C,1,1]

// ---- loss, differentiable in logits: mean cross-entropy of log-softmax(logits[N,K]) at labels (i64 [N]).
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);

// ---- metrics, not differentiable
Tensor argmax(const Tensor& x);                          // x[N,K] -> i64 [N], first maximum
int64_t count_equal(const Tensor& a, const Tensor& b);   // i64 tensors of equal shape

// ---- in place, never recorded
void axpy_(const Tensor& y, float alpha, const Tensor& x);   // y += alpha * x
void scale_(const Tensor& x, float s);                        // x *= s

}  // namespace sdd::ops
