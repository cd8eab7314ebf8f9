// engine/cuda/pool_cuda.cpp — CUDA entry points of max and average pooling (kernels/pool.cu; our
// own kernels rather than cuDNN, because max pooling must return the i32 argmax the CPU API has).
#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "kernels/pool.h"

namespace sdd::cuda {

void maxpool2d_forward(const Pool2dGeom& g, const Tensor& x, const Tensor& y, const Tensor& argmax) {
  Context& ctx = context_for(y);
  kern::launch_maxpool2d_forward(g, x.data<float>(), y.data<float>(), argmax.data<int32_t>(), ctx.stream);
}

void maxpool2d_backward(const Pool2dGeom& g, const Tensor& gy, const Tensor& argmax, const Tensor& gx) {
  Context& ctx = context_for(gx);
  kern::launch_maxpool2d_backward(g, gy.data<float>(), argmax.data<int32_t>(), gx.data<float>(), ctx.stream);
}

void avgpool2d_forward(const Pool2dGeom& g, const Tensor& x, const Tensor& y) {
  Context& ctx = context_for(y);
  kern::launch_avgpool2d_forward(g, x.data<float>(), y.data<float>(), ctx.stream);
}

void avgpool2d_backward(const Pool2dGeom& g, const Tensor& gy, const Tensor& gx) {
  Context& ctx = context_for(gx);
  kern::launch_avgpool2d_backward(g, gy.data<float>(), gx.data<float>(), ctx.stream);
}

}  // namespace sdd::cuda
