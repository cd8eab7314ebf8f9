// kernels/pool.h — launchers of kernels/pool.cu (host-only header, CUDA sources only): 2-D max and
// average pooling forward and backward over NCHW f32 device arrays (geometry: engine/geometry.h).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/geometry.h"

namespace sdd::kern {

// y[N,C,P,Q], argmax i32 [N,C,P,Q] = flat index h*W + w of the maximum in the (n, c) plane
void launch_maxpool2d_forward(const Pool2dGeom& g, const float* x, float* y, int32_t* argmax, cudaStream_t stream);
// gx[N,C,H,W] = sum of gy over the outputs whose argmax is this input (every gx entry written)
void launch_maxpool2d_backward(const Pool2dGeom& g, const float* gy, const int32_t* argmax, float* gx,
                               cudaStream_t stream);
// y = mean over the window, padded zeros counted (divisor: the window clipped to the padded extent, as the CPU)
void launch_avgpool2d_forward(const Pool2dGeom& g, const float* x, float* y, cudaStream_t stream);
void launch_avgpool2d_backward(const Pool2dGeom& g, const float* gy, float* gx, cudaStream_t stream);

}  // namespace sdd::kern
