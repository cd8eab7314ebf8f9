// kernels/augment.h — launcher of kernels/augment.cu (host-only header, CUDA sources only).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/augment_ops.h"

namespace sdd::kern {

// One launch over every element of op.out ([B, C, H, W]); op's pointers are device pointers and
// op.images holds N examples. An example index outside [0, N) yields NaN for that example.
void launch_crop_flip_batch(const CropFlipBatchOp& op, int64_t batch, int64_t num_examples, cudaStream_t stream);

}  // namespace sdd::kern
