// engine/cuda/cuda_backend.h — the CUDA backend: the same entry points as the CPU backend
// (engine/backend_core.inc), implemented with cuBLAS, cuDNN and our kernels in kernels/*.cu. In a
// build without CUDA every entry throws DeviceError("built without CUDA").
#pragma once
#include <cstddef>

#include "engine/geometry.h"
#include "engine/precision.h"
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

// ---- math mode (engine/precision.h). The older switch for TF32 convolutions, kept for bench/:
// reading it says whether the mode is tf32; assigning true / false sets the precision to tf32 /
// fp32 (determinism unchanged). Header-only so CPU-only builds link without the CUDA backend.
struct ConvTf32Switch {
  operator bool() const { return math_mode().precision == Precision::tf32; }
  ConvTf32Switch& operator=(bool on) {
    MathMode m = math_mode();
    m.precision = on ? Precision::tf32 : Precision::fp32;
    set_math_mode(m);
    return *this;
  }
};
inline ConvTf32Switch conv_allow_tf32() { return {}; }
}  // namespace sdd::cuda
