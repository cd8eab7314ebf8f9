// engine/cpu/elementwise_cpu.cpp — CPU elementwise ops (binary, affine, axpy, relu, sum), OpenMP
// loops over the functors of kernels/elementwise_ops.h. Outputs may alias inputs.
#include "engine/cpu/cpu_backend.h"
#include "kernels/elementwise_ops.h"

namespace sdd::cpu {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelMin = 1 << 17;

template <class Op>
void binary_loop(const float* a, const float* b, float* o, int64_t n) {
  const Op op;
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) o[i] = op(a[i], b[i]);
}
}  // namespace

// out = a (op) b, all [numel]
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* po = out.data<float>();
  const int64_t n = out.numel();
  switch (op) {
    case BinaryOp::add: return binary_loop<kern::AddOp>(pa, pb, po, n);
    case BinaryOp::sub: return binary_loop<kern::SubOp>(pa, pb, po, n);
    case BinaryOp::mul: return binary_loop<kern::MulOp>(pa, pb, po, n);
    case BinaryOp::div: return binary_loop<kern::DivOp>(pa, pb, po, n);
  }
}

// out = alpha * x + beta
void affine(const Tensor& x, float alpha, float beta, const Tensor& out) {
  const float* px = x.data<float>();
  float* po = out.data<float>();
  const int64_t n = out.numel();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) po[i] = kern::affine_op(px[i], alpha, beta);
}

// y += alpha * x
void axpy(float alpha, const Tensor& x, const Tensor& y) {
  const float* px = x.data<float>();
  float* py = y.data<float>();
  const int64_t n = y.numel();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) py[i] = kern::axpy_op(py[i], alpha, px[i]);
}

// y = max(x, 0)
void relu_forward(const Tensor& x, const Tensor& y) {
  const float* px = x.data<float>();
  float* py = y.data<float>();
  const int64_t n = y.numel();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) py[i] = kern::relu_op(px[i]);
}

// gx = gy * (y > 0)
void relu_backward(const Tensor& y, const Tensor& gy, const Tensor& gx) {
  const float* py = y.data<float>();
  const float* pg = gy.data<float>();
  float* po = gx.data<float>();
  const int64_t n = gx.numel();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) po[i] = kern::relu_grad_op(py[i], pg[i]);
}

// out[1] = sum(x), accumulated in double
void sum_all(const Tensor& x, const Tensor& out) {
  const float* px = x.data<float>();
  const int64_t n = x.numel();
  double s = 0.0;
#pragma omp parallel for reduction(+ : s) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) s += px[i];
  *out.data<float>() = static_cast<float>(s);
}

}  // namespace sdd::cpu
