// engine/cuda/context.h — per-device CUDA state, for CUDA sources only (includes CUDA headers).
//
// One Context per device, created lazily on first use: a stream on which every op of that device
// runs (a blocking stream, so it also orders with the legacy default stream), a cuBLAS handle and a
// cuDNN handle bound to that stream, and one reusable workspace that only grows (cuDNN convolution
// workspaces). context(d) also makes d the current device of the calling thread.
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
  void* workspace_ptr = nullptr;
  size_t workspace_bytes = 0;

  // A device buffer of at least nbytes, reused between calls (grows; never shrinks). Valid until the
  // next workspace() call on this context; work using it must be enqueued on `stream`.
  void* workspace(size_t nbytes);
};

// The context of `device`; sets it as the calling thread's current device.
Context& context(int device);
// The context of the device a tensor lives on (the tensor must be on CUDA).
Context& context_for(const Tensor& t);

}  // namespace sdd::cuda
