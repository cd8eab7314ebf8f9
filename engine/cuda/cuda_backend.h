// engine/cuda/cuda_backend.h — the CUDA backend: the same entry points as the CPU backend
// (engine/backend_core.inc), implemented with cuBLAS, cuDNN and our kernels in kernels/*.cu. In a
// build without CUDA every entry throws DeviceError("built without CUDA").
#pragma once
#include <cstddef>

#include "engine/geometry.h"
#include "engine/tensor.h"
#include "kernels/adam_ops.h"
#include "kernels/masked_sgd_ops.h"

namespace sdd::cuda {
#include "engine/backend_core.inc"
#include "engine/backend_pruning.inc"  // prune scores, k-th candidate value, mask update
#include "engine/backend_data.inc"     // on-device batch augmentation

// ---- device management (engine/cuda/context_cuda.cpp)
int probe_device_count();                       // never aborts; 0 when no usable device
void* device_alloc(size_t nbytes, int device);  // caching allocator
void device_free(void* p, size_t nbytes, int device);
// Host <-> device and device <-> device copies (synchronous with respect to the host).
void memcpy_any(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes);
void synchronize(int device);
struct MemoryStats { size_t current_bytes = 0, peak_bytes = 0, cached_bytes = 0; };
MemoryStats memory_stats(int device);

// ---- precision of cuDNN convolutions (engine/cuda/conv_cuda.cpp): TF32 allowed by default, like
// PyTorch's torch.backends.cudnn.allow_tf32; --precision=fp32 and the cross-backend tests switch it
// off. Header-only so CPU-only builds link without the CUDA backend.
inline bool& conv_allow_tf32() {
  static bool on = true;
  return on;
}
}  // namespace sdd::cuda
