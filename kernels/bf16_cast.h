// kernels/bf16_cast.h — launchers of kernels/bf16_cast.cu (host-only header, CUDA sources only):
// the autocast conversions of the bf16 math mode (engine/precision.h).
//   to_bf16:   dst[i] = f32_to_bf16(src[i])   src f32 [n] -> dst bf16 bits (uint16) [n]
//   from_bf16: dst[i] = bf16_to_f32(src[i])   src bf16 bits [n] -> dst f32 [n]
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace sdd::kern {

void launch_to_bf16(const float* src, uint16_t* dst, int64_t n, cudaStream_t stream);
void launch_from_bf16(const uint16_t* src, float* dst, int64_t n, cudaStream_t stream);

}  // namespace sdd::kern
