// kernels/reduce.cu — sums and bias broadcasts for the linear and convolution layers.
//   sum_all:      out[0] = sum_i x[i]                 (two passes: kSumPartials block sums, then one)
//   sum_rows:     out[f] = sum_n g[n, f]               g[N, F]      (one thread per column)
//   sum_channels: out[c] = sum_{n,s} g[n, c, s]        g[N, C, HW]  (one block per channel)
//   add_row_bias:     y[n, f]    += bias[f]
//   add_channel_bias: y[n, c, s] += bias[c]
// Sums accumulate in double in a fixed order, so results are deterministic run to run.
#include "engine/cuda/cuda_check.h"
#include "kernels/launch.h"
#include "kernels/reduce.h"

namespace sdd::kern {

namespace {

constexpr int kReduceThreads = 256;

// Sum of `v` over the block (blockDim.x == kReduceThreads); the result is valid in thread 0.
__device__ double block_sum(double v) {
  __shared__ double part[kReduceThreads];
  part[threadIdx.x] = v;
  __syncthreads();
  for (int s = kReduceThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  return part[0];
}

// partials[blockIdx.x] = sum of this block's grid-stride share of x
__global__ void sum_partials_kernel(const float* x, int64_t n, double* partials) {
  double acc = 0.0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    acc += x[i];
  const double total = block_sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

// out[0] = sum partials[0..count)
__global__ void sum_final_kernel(const double* partials, int count, float* out) {
  double acc = 0.0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
  const double total = block_sum(acc);
  if (threadIdx.x == 0) out[0] = static_cast<float>(total);
}

__global__ void sum_rows_kernel(const float* g, int64_t N, int64_t F, float* out) {
  for (int64_t f = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; f < F; f += int64_t(gridDim.x) * blockDim.x) {
    double acc = 0.0;
    for (int64_t n = 0; n < N; ++n) acc += g[n * F + f];
    out[f] = static_cast<float>(acc);
  }
}

// grid.x = C
__global__ void sum_channels_kernel(const float* g, int64_t N, int64_t C, int64_t HW, float* out) {
  const int64_t c = blockIdx.x;
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < N * HW; i += blockDim.x) {
    const int64_t n = i / HW, s = i - n * HW;
    acc += g[(n * C + c) * HW + s];
  }
  const double total = block_sum(acc);
  if (threadIdx.x == 0) out[c] = static_cast<float>(total);
}

__global__ void add_row_bias_kernel(float* y, const float* bias, int64_t total, int64_t F) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    y[i] += bias[i % F];
}

__global__ void add_channel_bias_kernel(float* y, const float* bias, int64_t total, int64_t C, int64_t HW) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    y[i] += bias[(i / HW) % C];
}

}  // namespace

void launch_sum_all(const float* x, int64_t n, double* scratch, float* out, cudaStream_t stream) {
  int64_t blocks = (n + kReduceThreads - 1) / kReduceThreads;
  if (blocks < 1) blocks = 1;
  if (blocks > kSumPartials) blocks = kSumPartials;
  sum_partials_kernel<<<static_cast<unsigned>(blocks), kReduceThreads, 0, stream>>>(x, n, scratch);
  SDD_CUDA_LAUNCH_CHECK("sum_partials_kernel");
  sum_final_kernel<<<1, kReduceThreads, 0, stream>>>(scratch, static_cast<int>(blocks), out);
  SDD_CUDA_LAUNCH_CHECK("sum_final_kernel");
}

void launch_sum_rows(const float* g, int64_t N, int64_t F, float* out, cudaStream_t stream) {
  if (F <= 0) return;
  sum_rows_kernel<<<grid_for(F), kThreads, 0, stream>>>(g, N, F, out);
  SDD_CUDA_LAUNCH_CHECK("sum_rows_kernel");
}

void launch_sum_channels(const float* g, int64_t N, int64_t C, int64_t HW, float* out, cudaStream_t stream) {
  if (C <= 0) return;
  sum_channels_kernel<<<static_cast<unsigned>(C), kReduceThreads, 0, stream>>>(g, N, C, HW, out);
  SDD_CUDA_LAUNCH_CHECK("sum_channels_kernel");
}

void launch_add_row_bias(float* y, const float* bias, int64_t N, int64_t F, cudaStream_t stream) {
  const int64_t total = N * F;
  if (total <= 0) return;
  add_row_bias_kernel<<<grid_for(total), kThreads, 0, stream>>>(y, bias, total, F);
  SDD_CUDA_LAUNCH_CHECK("add_row_bias_kernel");
}

void launch_add_channel_bias(float* y, const float* bias, int64_t N, int64_t C, int64_t HW, cudaStream_t stream) {
  const int64_t total = N * C * HW;
  if (total <= 0) return;
  add_channel_bias_kernel<<<grid_for(total), kThreads, 0, stream>>>(y, bias, total, C, HW);
  SDD_CUDA_LAUNCH_CHECK("add_channel_bias_kernel");
}

}  // namespace sdd::kern
