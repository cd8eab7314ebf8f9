// engine/cuda/context.h — per-device CUDA state, for CUDA sources only (includes CUDA headers).
//
// One Context per device, created lazily on first use: a stream on which every op of that device
// runs (a blocking stream, so it also orders with the legacy default stream), a cuBLAS handle and a
// cuDNN handle bound to that stream, one reusable workspace that only grows (cuDNN convolution
// workspaces), and a few scratch buffers that only grow (the bf16 operand copies of the bf16 math
// mode, engine/precision.h). context(d) also makes d the current device of the calling thread.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstddef>

#include "engine/cuda/cuda_check.h"
#include "engine/tensor.h"

namespace sdd::cuda {

struct Context {
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  int cc_major = 0, cc_minor = 0;  // compute capability
  void* workspace_ptr = nullptr;
  size_t workspace_bytes = 0;
  static constexpr int kScratchSlots = 3;
  void* scratch_ptr[kScratchSlots] = {nullptr, nullptr, nullptr};
  size_t scratch_bytes[kScratchSlots] = {0, 0, 0};

  // A device buffer of at least nbytes, reused between calls (grows; never shrinks). Valid until the
  // next workspace() call on this context; work using it must be enqueued on `stream`.
  void* workspace(size_t nbytes);
  // Scratch buffer `slot` (0 .. kScratchSlots-1) of at least nbytes, same rules as workspace(); one op
  // uses distinct slots for its operands, and stream order makes reuse by the next op safe.
  void* scratch(int slot, size_t nbytes);
};

// The context of `device`; sets it as the calling thread's current device.
Context& context(int device);
// The context of the device a tensor lives on (the tensor must be on CUDA).
Context& context_for(const Tensor& t);

// The bf16 math mode needs bf16 tensor cores (compute capability 8.0 or newer); UserError otherwise.
void require_bf16(const Context& c);

}  // namespace sdd::cuda
