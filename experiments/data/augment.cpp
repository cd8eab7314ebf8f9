// experiments/data/augment.cpp — CPU batch assembly over kern::CropFlipBatchOp (CIFAR, MNIST) and
// kern::ResampleBatchOp (Tiny ImageNet: random resized crop or resize + centre crop).
#include "experiments/data/augment.h"

#include <cmath>

#include "engine/cpu/augment_cpu.h"
#include "engine/errors.h"
#include "kernels/augment_ops.h"

namespace sdd::exp {

void resize_shorter_side(int64_t ih, int64_t iw, int64_t size, int64_t* oh, int64_t* ow) {
  if (ih <= iw) {
    *oh = size;
    *ow = static_cast<int64_t>(static_cast<double>(size) * static_cast<double>(iw) / static_cast<double>(ih));
  } else {
    *ow = size;
    *oh = static_cast<int64_t>(static_cast<double>(size) * static_cast<double>(ih) / static_cast<double>(iw));
  }
}

int64_t center_crop_offset(int64_t in, int64_t out) {
  return static_cast<int64_t>(std::nearbyint(static_cast<double>(in - out) / 2.0));  // round half to even
}

namespace {

// Tiny-ImageNet-style batch: per-example boxes drawn on the host, then one ResampleBatchOp pass.
void make_resampled(const Dataset& d, const std::vector<int64_t>& indices, bool augment, uint64_t seed, int64_t epoch,
                    float* out) {
  const int64_t B = static_cast<int64_t>(indices.size()), OH = d.batch_h(), OW = d.batch_w();
  std::vector<kern::ResampleBox> boxes(static_cast<size_t>(B));
  int64_t rh = OH, rw = OW, oy = 0, ox = 0;
  if (!augment && d.eval_resize > 0) {
    resize_shorter_side(d.h, d.w, d.eval_resize, &rh, &rw);
    SDD_CHECK(rh >= OH && rw >= OW, "resize to " << rh << "x" << rw << " is smaller than the crop " << OH << "x" << OW);
    oy = center_crop_offset(rh, OH);
    ox = center_crop_offset(rw, OW);
  }
  for (int64_t b = 0; b < B; ++b) {
    kern::ResampleBox& p = boxes[static_cast<size_t>(b)];
    if (augment) {
      const kern::ResizedCropParams r =
          kern::draw_resized_crop(seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(indices[static_cast<size_t>(b)]),
                                  static_cast<int32_t>(d.h), static_cast<int32_t>(d.w), 0.08f, 1.0f, 3.f / 4.f, 4.f / 3.f);
      p = {r.top, r.left, r.height, r.width, static_cast<int32_t>(OH), static_cast<int32_t>(OW), 0, 0, r.flip};
    } else {
      p = {0, 0, static_cast<int32_t>(d.h), static_cast<int32_t>(d.w), static_cast<int32_t>(rh), static_cast<int32_t>(rw),
           static_cast<int32_t>(oy), static_cast<int32_t>(ox), 0};
    }
  }
  kern::ResampleBatchOp op{};
  op.images = d.images.data();
  op.indices = indices.data();
  op.boxes = boxes.data();
  op.out = out;
  op.H = static_cast<int32_t>(d.h);
  op.W = static_cast<int32_t>(d.w);
  op.C = static_cast<int32_t>(d.c);
  op.OH = static_cast<int32_t>(OH);
  op.OW = static_cast<int32_t>(OW);
  for (int64_t c = 0; c < d.c; ++c) {
    op.mean[c] = d.mean[static_cast<size_t>(c)];
    op.stdv[c] = d.std[static_cast<size_t>(c)];
  }
  const int64_t total = B * d.c * OH * OW;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < total; ++i) op(i);
}

}  // namespace

Batch make_batch(const Dataset& d, const std::vector<int64_t>& indices, const AugmentSpec& spec, int64_t epoch) {
  SDD_CHECK(d.c >= 1 && d.c <= 4, "batch assembly supports 1..4 channels, dataset has " << d.c);
  SDD_CHECK(static_cast<int64_t>(d.mean.size()) == d.c && static_cast<int64_t>(d.std.size()) == d.c,
            "dataset " << d.name << " lacks per-channel mean/std");
  const auto B = static_cast<int64_t>(indices.size());
  for (int64_t i : indices) SDD_CHECK(i >= 0 && i < d.n, "example index " << i << " outside 0.." << d.n - 1);
  Batch out;
  out.indices = indices;
  out.x = Tensor::empty({B, d.c, d.batch_h(), d.batch_w()}, DType::f32);
  std::vector<int64_t> labels(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) labels[static_cast<size_t>(b)] = d.labels[static_cast<size_t>(indices[static_cast<size_t>(b)])];
  out.y = Tensor::from_vector(labels, {B});
  if (d.augmentation == Dataset::Augmentation::resized_crop_flip || d.batch_h() != d.h || d.batch_w() != d.w) {
    make_resampled(d, indices, spec.enabled && d.augmentable, spec.seed, epoch, out.x.data<float>());
    return out;
  }

  kern::CropFlipBatchOp op{};
  op.images = d.images.data();
  op.indices = indices.data();
  op.out = out.x.data<float>();
  op.H = static_cast<int32_t>(d.h);
  op.W = static_cast<int32_t>(d.w);
  op.C = static_cast<int32_t>(d.c);
  op.pad = spec.pad;
  op.augment = spec.enabled && d.augmentable ? 1 : 0;
  op.seed = spec.seed;
  op.epoch = static_cast<uint64_t>(epoch);
  for (int64_t c = 0; c < d.c; ++c) {
    op.mean[c] = d.mean[static_cast<size_t>(c)];
    op.stdv[c] = d.std[static_cast<size_t>(c)];
  }
  cpu::crop_flip_rows(op, B);
  return out;
}

}  // namespace sdd::exp
