// kernels/elementwise.h — launchers of the CUDA elementwise kernels (kernels/elementwise.cu), a
// host-only header for CUDA sources. All pointers are device pointers to n contiguous f32 values;
// outputs may alias inputs. Each launcher owns its grid math, enqueues on `stream` and checks the
// launch. The per-element math is kernels/elementwise_ops.h, the same the CPU backend runs.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/geometry.h"

namespace sdd::kern {

void launch_binary(BinaryOp op, const float* a, const float* b, float* out, int64_t n, cudaStream_t stream);
void launch_affine(const float* x, float alpha, float beta, float* out, int64_t n, cudaStream_t stream);
void launch_axpy(float alpha, const float* x, float* y, int64_t n, cudaStream_t stream);
void launch_relu_forward(const float* x, float* y, int64_t n, cudaStream_t stream);
void launch_relu_backward(const float* y, const float* gy, float* gx, int64_t n, cudaStream_t stream);

}  // namespace sdd::kern
