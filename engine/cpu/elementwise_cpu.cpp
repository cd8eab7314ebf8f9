// engine/cpu/elementwise_cpu.cpp — CPU elementwise ops (binary, affine, axpy, relu, sum), OpenMP
// loops over the functors of kernels/elementwise_ops.h. Outputs may alias inputs.
#include <omp.h>

#include <algorithm>

#include "engine/cpu/cpu_backend.h"
#include "kernels/elementwise_ops.h"

namespace sdd::cpu {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelMin = 1 << 17;

// Calls body(begin, end) on [0, n): directly when n is small, otherwise on one contiguous chunk per
// OpenMP thread. The bodies are plain loops over the functors, which GCC vectorises (an OpenMP
// combined simd loop with an `if` clause was left scalar and branchy: relu ran 5x slower).
template <class Body>
void chunked(int64_t n, const Body& body) {
  if (n <= kParallelMin) return body(int64_t{0}, n);
#pragma omp parallel
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t per = (n + nt - 1) / nt;
    const int64_t b = std::min(n, t * per), e = std::min(n, b + per);
    if (b < e) body(b, e);
  }
}

template <class Op>
void binary_loop(const float* a, const float* b, float* o, int64_t n) {
  chunked(n, [=](int64_t lo, int64_t hi) {
    const Op op;
    for (int64_t i = lo; i < hi; ++i) o[i] = op(a[i], b[i]);
  });
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
  chunked(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) po[i] = kern::affine_op(px[i], alpha, beta);
  });
}

// y += alpha * x
void axpy(float alpha, const Tensor& x, const Tensor& y) {
  const float* px = x.data<float>();
  float* py = y.data<float>();
  const int64_t n = y.numel();
  chunked(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) py[i] = kern::axpy_op(py[i], alpha, px[i]);
  });
}

// y = max(x, 0)
void relu_forward(const Tensor& x, const Tensor& y) {
  const float* px = x.data<float>();
  float* py = y.data<float>();
  const int64_t n = y.numel();
  chunked(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) py[i] = kern::relu_op(px[i]);
  });
}

// gx = gy * (y > 0)
void relu_backward(const Tensor& y, const Tensor& gy, const Tensor& gx) {
  const float* py = y.data<float>();
  const float* pg = gy.data<float>();
  float* po = gx.data<float>();
  const int64_t n = gx.numel();
  chunked(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) po[i] = kern::relu_grad_op(py[i], pg[i]);
  });
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
