// kernels/bf16_cast.cu — the autocast conversions f32 <-> bf16 of the bf16 math mode, grid-stride
// loops over the shared functors of kernels/bf16_ops.h (round to nearest even).
//   to_bf16:   dst[n] (bf16 bits) = rne(src[n] f32)
//   from_bf16: dst[n] (f32)       = src[n] (bf16 bits) << 16
#include "engine/cuda/cuda_check.h"
#include "kernels/bf16_cast.h"
#include "kernels/bf16_ops.h"
#include "kernels/launch.h"

namespace sdd::kern {

namespace {

__global__ void to_bf16_kernel(const float* __restrict__ src, uint16_t* __restrict__ dst, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = f32_to_bf16(src[i]);
}

__global__ void from_bf16_kernel(const uint16_t* __restrict__ src, float* __restrict__ dst, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = bf16_to_f32(src[i]);
}

}  // namespace

void launch_to_bf16(const float* src, uint16_t* dst, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  to_bf16_kernel<<<grid_for(n), kThreads, 0, stream>>>(src, dst, n);
  SDD_CUDA_LAUNCH_CHECK("to_bf16_kernel");
}

void launch_from_bf16(const uint16_t* src, float* dst, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  from_bf16_kernel<<<grid_for(n), kThreads, 0, stream>>>(src, dst, n);
  SDD_CUDA_LAUNCH_CHECK("from_bf16_kernel");
}

}  // namespace sdd::kern
