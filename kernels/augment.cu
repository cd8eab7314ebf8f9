// kernels/augment.cu — one kernel per training batch: gather + flip + pad-crop + normalise from the
// uint8 split resident on the device (DESIGN section 5).
//   images u8 [N, H, W, C], indices i64 [B]  ->  out f32 [B, C, H, W]
//   out[b, c, y, x] = (src(indices[b], c, y, x) / 255 - mean[c]) / std[c]
// The per-element math is kern::CropFlipBatchOp (kernels/augment_ops.h), the functor the CPU batch
// builder (experiments/data/augment.cpp) and engine/cpu/augment_cpu.cpp loop over: bit-identical.
#include <math.h>

#include "engine/cuda/cuda_check.h"
#include "kernels/augment.h"
#include "kernels/launch.h"

namespace sdd::kern {

namespace {

__global__ void crop_flip_batch_kernel(CropFlipBatchOp op, int64_t total, int64_t per_example, int64_t num_examples) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ex = op.indices[i / per_example];
    if (ex < 0 || ex >= num_examples) {
      op.out[i] = NAN;  // a bad index must not read outside the split
      continue;
    }
    op(i);
  }
}

}  // namespace

void launch_crop_flip_batch(const CropFlipBatchOp& op, int64_t batch, int64_t num_examples, cudaStream_t stream) {
  const int64_t per_example = static_cast<int64_t>(op.C) * op.H * op.W;
  const int64_t total = batch * per_example;
  if (total <= 0) return;
  crop_flip_batch_kernel<<<grid_for(total), kThreads, 0, stream>>>(op, total, per_example, num_examples);
  SDD_CUDA_LAUNCH_CHECK("crop_flip_batch_kernel");
}

}  // namespace sdd::kern
