// kernels/fill_cast.h — launchers of kernels/fill_cast.cu (host-only header, CUDA sources only):
// fill n elements of any dtype with one value, and convert n elements between dtypes.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/dtype.h"

namespace sdd::kern {

void launch_fill(DType dt, void* p, double value, int64_t n, cudaStream_t stream);
void launch_cast(DType src_dt, const void* src, DType dst_dt, void* dst, int64_t n, cudaStream_t stream);

}  // namespace sdd::kern
