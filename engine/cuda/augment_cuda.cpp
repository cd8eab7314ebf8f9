// engine/cuda/augment_cuda.cpp — CUDA entry of engine/backend_data.inc: one launch of
// kernels/augment.cu per batch over the uint8 split resident on the device.
#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/ops/op_checks.h"
#include "kernels/augment.h"

namespace sdd::cuda {

void crop_flip_batch(const Tensor& images, const Tensor& indices, const Tensor& out, int32_t pad, bool augment,
                     uint64_t seed, uint64_t epoch, const std::vector<float>& mean, const std::vector<float>& stdv) {
  ops::detail::check_crop_flip_batch_entry(images, indices, out, pad, mean, stdv);
  const int64_t N = images.size(0), H = images.size(1), W = images.size(2), C = images.size(3);
  const int64_t B = indices.size(0);
  Context& ctx = context_for(out);
  kern::CropFlipBatchOp op{};
  op.images = images.data<uint8_t>();
  op.indices = indices.data<int64_t>();
  op.out = out.data<float>();
  op.H = static_cast<int32_t>(H);
  op.W = static_cast<int32_t>(W);
  op.C = static_cast<int32_t>(C);
  op.pad = pad;
  op.augment = augment ? 1 : 0;
  op.seed = seed;
  op.epoch = epoch;
  for (int64_t c = 0; c < C; ++c) {
    op.mean[c] = mean[static_cast<size_t>(c)];
    op.stdv[c] = stdv[static_cast<size_t>(c)];
  }
  kern::launch_crop_flip_batch(op, B, N, ctx.stream);
}

}  // namespace sdd::cuda
