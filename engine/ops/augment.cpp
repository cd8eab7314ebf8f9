// engine/ops/augment.cpp — dispatch of on-device batch assembly (DESIGN section 5): the uint8 split
// lives on the device, one crop_flip_batch call per batch builds the normalised f32 NCHW images.
//   out[b, c, y, x] = (src(flip, pad-crop of images[indices[b]])[y, x, c] / 255 - mean[c]) / stdv[c]
#include <algorithm>

#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/op_checks.h"

namespace sdd::ops {

// images u8 [N,H,W,C], indices i64 [B] -> f32 [B,C,H,W]
Tensor crop_flip_batch(const Tensor& images, const Tensor& indices, int64_t pad, bool augment, uint64_t seed,
                       uint64_t epoch, const std::vector<float>& mean, const std::vector<float>& stdv) {
  detail::check_dtype("crop_flip_batch", images, DType::u8, "images");
  detail::check_dtype("crop_flip_batch", indices, DType::i64, "indices");
  detail::check_dim("crop_flip_batch", images, 4, "images");
  detail::check_dim("crop_flip_batch", indices, 1, "indices");
  detail::check_same_device("crop_flip_batch", {images, indices});
  const int64_t H = images.size(1), W = images.size(2), C = images.size(3), B = indices.size(0);
  SDD_CHECK(C >= 1 && C <= 4, "crop_flip_batch: images " << images.str() << " must have 1..4 channels");
  SDD_CHECK(static_cast<int64_t>(mean.size()) == C && static_cast<int64_t>(stdv.size()) == C,
            "crop_flip_batch: " << mean.size() << " means and " << stdv.size() << " stds for " << C << " channels");
  SDD_CHECK(pad >= 0 && pad <= H && pad <= W, "crop_flip_batch: pad " << pad << " outside 0.." << std::min(H, W));
  const Device dev = images.device();
  Tensor out = Tensor::empty({B, C, H, W}, DType::f32, dev);
  if (B == 0) return out;
  SDD_CHECK(images.size(0) > 0, "crop_flip_batch: no images to take " << B << " examples from");
  SDD_DISPATCH(dev, crop_flip_batch, images, indices, out, static_cast<int32_t>(pad), augment, seed, epoch, mean, stdv);
  return out;
}

}  // namespace sdd::ops
