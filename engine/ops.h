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

// ===========================================================================================
// ---- on-device data and pruning (helper P: engine/ops/augment.cpp, engine/ops/prune.cpp).
// Never recorded by autograd. Every tensor lives on one device; results are allocated there.
namespace sdd::ops {

// out f32 [B,C,H,W] = normalised (flip + pad-crop when augment) images[indices[b]] (DESIGN 5).
//   images u8 [N,H,W,C] (C in 1..4), indices i64 [B] in [0,N), mean/stdv: C values each.
// Bit-identical to exp::make_batch for pad-crop-flip datasets (kern::CropFlipBatchOp on every backend).
Tensor crop_flip_batch(const Tensor& images, const Tensor& indices, int64_t pad, bool augment, uint64_t seed,
                       uint64_t epoch, const std::vector<float>& mean, const std::vector<float>& stdv);

// Pruning scores, f32 like w: |w|, -|w| (negate) or, with g defined (same shape), |w * g|.
Tensor prune_scores(const Tensor& w, const Tensor& g, bool negate);
// Number of nonzero entries of an f32 mask.
int64_t count_nonzero(const Tensor& mask);
// Value at index n of the ascending-sorted scores[k][i] with masks[k][i] != 0 over every pair
// (SPEC 7.1); *candidates (may be null) gets their number. False when n is outside [0, candidates).
bool candidate_kth_value(const std::vector<Tensor>& scores, const std::vector<Tensor>& masks, int64_t n, float* thr,
                         int64_t* candidates);
// New mask: mask where scores > thr, else 0 (f32, same shape and device).
Tensor mask_keep_above(const Tensor& scores, const Tensor& mask, float thr);

}  // namespace sdd::ops
