// kernels/reduce.h — launchers of kernels/reduce.cu (host-only header, CUDA sources only): sums and
// bias broadcasts over contiguous f32 device arrays. Sums accumulate in double, in a fixed order
// (deterministic: no atomics).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace sdd::kern {

// Number of doubles of scratch that launch_sum_all needs.
constexpr int kSumPartials = 512;

// out[0] = sum x[n]; scratch: device doubles [kSumPartials].
void launch_sum_all(const float* x, int64_t n, double* scratch, float* out, cudaStream_t stream);
// out[F] = sum_n g[N, F]
void launch_sum_rows(const float* g, int64_t N, int64_t F, float* out, cudaStream_t stream);
// out[C] = sum_{n, s} g[N, C, HW]
void launch_sum_channels(const float* g, int64_t N, int64_t C, int64_t HW, float* out, cudaStream_t stream);
// y[N, F] += bias[F]
void launch_add_row_bias(float* y, const float* bias, int64_t N, int64_t F, cudaStream_t stream);
// y[N, C, HW] += bias[C]
void launch_add_channel_bias(float* y, const float* bias, int64_t N, int64_t C, int64_t HW, cudaStream_t stream);

}  // namespace sdd::kern
