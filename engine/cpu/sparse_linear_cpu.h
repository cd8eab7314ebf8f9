// engine/cpu/sparse_linear_cpu.h — the products of a linear layer whose weight is mostly zero (a
// pruned layer: masked training keeps pruned weights exactly 0), computed from the nonzero weights
// only: the forward, the input gradient, and the weight gradient on the entries the optimizer reads.
// CPU only; ops::linear uses them when the weight's density is below kSparseLinearMaxDensity (the
// gradient support's below kSparseWeightGradMaxDensity) and falls back to cblas_sgemm otherwise.
//
// The result is the same product as the dense one (zeros contribute nothing), summed in a different
// order, so it agrees with sgemm to float rounding. It is a pure function of (x, w): the path taken
// depends only on the weight values, so a run is reproducible whichever path its layers take.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace sdd::cpu {

// Densities at or below this use the sparse kernel. On a 2-core AVX2 machine the bench's crossover
// (bench/sparse_linear_bench.cpp) lies between 0.33 and 0.41 for the quickstart's pruned layers, but
// a whole training level with its first layer at 0.307 ran 5 % slower sparse than dense: hence 0.3
// (bench/results/2026-11-25-cpu-sparse-blocked.md).
constexpr double kSparseLinearMaxDensity = 0.3;

// out[N,O] = x[N,I] @ w[O,I]^T (+ bias[O] when given, added to each finished sum: the same values as
// adding it afterwards) when nnz(w) <= kSparseLinearMaxDensity * O * I; returns false and leaves out
// untouched otherwise. x, w, out, bias: contiguous f32 CPU tensors.
bool sparse_linear_forward(const Tensor& x, const Tensor& w, const Tensor& out, const Tensor& bias = Tensor());

// Always the sparse kernel, whatever the density (tests and benches).
void sparse_linear_forward_always(const Tensor& x, const Tensor& w, const Tensor& out,
                                  const Tensor& bias = Tensor());

// The weight gradient on a support (engine/optim/grad_support.h): acc[o,i] += sum_n gy[n,o] * x[n,i]
// for the entries where support[o,i] != 0, one dot product of length N each; other entries of acc are
// left alone. Taken when the support has at most kSparseWeightGradMaxDensity nonzeros (returns false
// and leaves acc untouched otherwise; measured crossover about 0.27). gy [N,O], x [N,I], support and
// acc [O,I]: f32 CPU, contiguous.
constexpr double kSparseWeightGradMaxDensity = 0.25;
bool sparse_linear_weight_grad(const Tensor& gy, const Tensor& x, const Tensor& support, const Tensor& acc);
void sparse_linear_weight_grad_always(const Tensor& gy, const Tensor& x, const Tensor& support, const Tensor& acc);

// The backward of a linear layer on the CPU from the nonzero entries, sharing one transpose of gy:
//   gx = gy @ w ([N,I], new tensor) when w is defined and nnz(w) <= kSparseLinearMaxDensity * O * I
//     (w's column-compressed nonzeros through the forward's kernel; the sum over outputs ascending);
//   acc += gy^T @ x on the support when acc is defined and nnz(support) <= kSparseWeightGradMaxDensity
//     * O * I (other entries of acc untouched).
// What it did not compute (gx undefined, weight false) the caller computes densely. always: the sparse
// kernels whatever the densities (tests and benches).
struct SparseBackward {
  Tensor gx;
  bool weight = false;
};
// support_nnz: the support's nonzero count when the caller knows it (optim::grad_support), else -1.
// support_registration: optim::grad_support's registration number (0: unknown). The support's pattern
// is cached: with the number of the registration it was checked under, it is reused without reading
// the support again (a registered support keeps its values).
SparseBackward sparse_linear_backward(const Tensor& gy, const Tensor& w, const Tensor& x, const Tensor& support,
                                      const Tensor& acc, bool always = false, int64_t support_nnz = -1,
                                      int64_t support_registration = 0);
Tensor sparse_linear_input_grad_always(const Tensor& gy, const Tensor& w);

// A promise that no weight is written while it lives (evaluation passes hold one): the forward then
// counts a weight's nonzeros and gathers its values once per scope and thread instead of on every call.
// Without arguments it covers every weight; with (begin, count) only the weights inside those floats
// (a model copy evaluated by other threads while the caller's thread trains the original). Nested
// scopes share the outermost one's range. Writing a covered weight inside a scope gives stale products.
class FrozenWeights {
 public:
  FrozenWeights();
  FrozenWeights(const float* begin, int64_t count);
  ~FrozenWeights();
  FrozenWeights(const FrozenWeights&) = delete;
  FrozenWeights& operator=(const FrozenWeights&) = delete;
};

// Tests: run the portable C++ loops instead of the AVX2 ones (the results agree to float rounding).
void force_portable_sparse_kernels(bool on);

}  // namespace sdd::cpu
