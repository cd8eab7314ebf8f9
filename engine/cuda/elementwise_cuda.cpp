// engine/cuda/elementwise_cuda.cpp — CUDA entry points for fill, cast and the elementwise ops
// (engine/backend_core.inc). Each makes the tensor's device current, takes its stream and calls the
// launchers of kernels/fill_cast.cu, kernels/elementwise.cu and kernels/reduce.cu.
#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "kernels/elementwise.h"
#include "kernels/fill_cast.h"
#include "kernels/reduce.h"

namespace sdd::cuda {

void fill(const Tensor& t, double value) {
  Context& c = context_for(t);
  kern::launch_fill(t.dtype(), t.raw(), value, t.numel(), c.stream);
}

void cast(const Tensor& src, const Tensor& dst) {
  SDD_CHECK(src.numel() == dst.numel(), "cast " << src.str() << " -> " << dst.str());
  Context& c = context_for(src);
  kern::launch_cast(src.dtype(), src.raw(), dst.dtype(), dst.raw(), src.numel(), c.stream);
}

// out = a (op) b
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  Context& c = context_for(out);
  kern::launch_binary(op, a.data<float>(), b.data<float>(), out.data<float>(), out.numel(), c.stream);
}

// out = alpha * x + beta
void affine(const Tensor& x, float alpha, float beta, const Tensor& out) {
  Context& c = context_for(out);
  kern::launch_affine(x.data<float>(), alpha, beta, out.data<float>(), out.numel(), c.stream);
}

// y += alpha * x
void axpy(float alpha, const Tensor& x, const Tensor& y) {
  Context& c = context_for(y);
  kern::launch_axpy(alpha, x.data<float>(), y.data<float>(), y.numel(), c.stream);
}

void relu_forward(const Tensor& x, const Tensor& y) {
  Context& c = context_for(y);
  kern::launch_relu_forward(x.data<float>(), y.data<float>(), y.numel(), c.stream);
}

void relu_backward(const Tensor& y, const Tensor& gy, const Tensor& gx) {
  Context& c = context_for(gx);
  kern::launch_relu_backward(y.data<float>(), gy.data<float>(), gx.data<float>(), gx.numel(), c.stream);
}

// out[1] = sum(x), accumulated in double
void sum_all(const Tensor& x, const Tensor& out) {
  Context& c = context_for(out);
  // Scratch from the caching allocator: no cudaMalloc in steady state.
  Tensor scratch = Tensor::empty({kern::kSumPartials}, DType::f64, out.device());
  kern::launch_sum_all(x.data<float>(), x.numel(), scratch.data<double>(), out.data<float>(), c.stream);
}

}  // namespace sdd::cuda
