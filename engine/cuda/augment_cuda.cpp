// engine/cuda/augment_cuda.cpp — CUDA entry of engine/backend_data.inc: one launch of
// kernels/augment.cu per batch over the uint8 split resident on the device.
#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "kernels/augment.h"

namespace sdd::cuda {

void crop_flip_batch(const Tensor& images, const Tensor& indices, const Tensor& out, int32_t pad, bool augment,
                     uint64_t seed, uint64_t epoch, const std::vector<float>& mean, const std::vector<float>& stdv) {
  SDD_CHECK(images.dtype() == DType::u8 && images.dim() == 4, "crop_flip_batch: images must be u8 [N, H, W, C], got "
                                                                   << images.str());
  const int64_t N = images.size(0), H = images.size(1), W = images.size(2), C = images.size(3);
  SDD_CHECK(C >= 1 && C <= 4, "crop_flip_batch supports 1..4 channels, got " << C);
  SDD_CHECK(indices.dtype() == DType::i64 && indices.dim() == 1, "crop_flip_batch: indices must be i64 [B], got "
                                                                      << indices.str());
  const int64_t B = indices.size(0);
  SDD_CHECK(out.dtype() == DType::f32 && out.shape() == Shape({B, C, H, W}),
            "crop_flip_batch: out must be f32 [" << B << ", " << C << ", " << H << ", " << W << "], got " << out.str());
  SDD_CHECK(images.device() == out.device() && indices.device() == out.device(),
            "crop_flip_batch: images, indices and out must share one device (" << images.str() << ", "
                                                                               << indices.str() << ", " << out.str() << ")");
  SDD_CHECK(static_cast<int64_t>(mean.size()) == C && static_cast<int64_t>(stdv.size()) == C,
            "crop_flip_batch: " << mean.size() << " means and " << stdv.size() << " stds for " << C << " channels");
  SDD_CHECK(pad >= 0, "crop_flip_batch: negative pad " << pad);
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
