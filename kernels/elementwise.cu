// kernels/elementwise.cu — CUDA elementwise kernels: binary ops, affine, axpy, relu and its
// gradient over n contiguous f32 values (all shapes flattened to [n]).
// Math (kernels/elementwise_ops.h, shared with the CPU backend):
//   binary: out = a (+ - * /) b;  affine: out = alpha*x + beta;  axpy: y += alpha*x
//   relu: y = max(x, 0);  relu backward: gx = gy * (y > 0)
// Every kernel is a grid-stride loop; outputs may alias inputs (each element reads before writing).
#include "engine/cuda/cuda_check.h"
#include "kernels/elementwise.h"
#include "kernels/elementwise_ops.h"
#include "kernels/launch.h"

namespace sdd::kern {

namespace {

template <class Op>
__global__ void binary_kernel(const float* a, const float* b, float* out, int64_t n) {
  const Op op;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = op(a[i], b[i]);
}

__global__ void affine_kernel(const float* x, float alpha, float beta, float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = affine_op(x[i], alpha, beta);
}

__global__ void axpy_kernel(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = axpy_op(y[i], alpha, x[i]);
}

__global__ void relu_forward_kernel(const float* x, float* y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = relu_op(x[i]);
}

__global__ void relu_backward_kernel(const float* y, const float* gy, float* gx, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    gx[i] = relu_grad_op(y[i], gy[i]);
}

}  // namespace

// The kernels may alias (out == a), so no __restrict__ on out; a and b are read before out is written.
void launch_binary(BinaryOp op, const float* a, const float* b, float* out, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  const unsigned grid = grid_for(n);
  switch (op) {
    case BinaryOp::add: binary_kernel<AddOp><<<grid, kThreads, 0, stream>>>(a, b, out, n); break;
    case BinaryOp::sub: binary_kernel<SubOp><<<grid, kThreads, 0, stream>>>(a, b, out, n); break;
    case BinaryOp::mul: binary_kernel<MulOp><<<grid, kThreads, 0, stream>>>(a, b, out, n); break;
    case BinaryOp::div: binary_kernel<DivOp><<<grid, kThreads, 0, stream>>>(a, b, out, n); break;
  }
  SDD_CUDA_LAUNCH_CHECK("binary_kernel");
}

void launch_affine(const float* x, float alpha, float beta, float* out, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  affine_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, alpha, beta, out, n);
  SDD_CUDA_LAUNCH_CHECK("affine_kernel");
}

void launch_axpy(float alpha, const float* x, float* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  axpy_kernel<<<grid_for(n), kThreads, 0, stream>>>(alpha, x, y, n);
  SDD_CUDA_LAUNCH_CHECK("axpy_kernel");
}

void launch_relu_forward(const float* x, float* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  relu_forward_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, y, n);
  SDD_CUDA_LAUNCH_CHECK("relu_forward_kernel");
}

void launch_relu_backward(const float* y, const float* gy, float* gx, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  relu_backward_kernel<<<grid_for(n), kThreads, 0, stream>>>(y, gy, gx, n);
  SDD_CUDA_LAUNCH_CHECK("relu_backward_kernel");
}

}  // namespace sdd::kern
