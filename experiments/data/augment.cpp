// experiments/data/augment.cpp — CPU batch assembly over kern::CropFlipBatchOp.
#include "experiments/data/augment.h"

#include "engine/errors.h"
#include "kernels/augment_ops.h"

namespace sdd::exp {

Batch make_batch(const Dataset& d, const std::vector<int64_t>& indices, const AugmentSpec& spec, int64_t epoch) {
  SDD_CHECK(d.c >= 1 && d.c <= 4, "batch assembly supports 1..4 channels, dataset has " << d.c);
  SDD_CHECK(static_cast<int64_t>(d.mean.size()) == d.c && static_cast<int64_t>(d.std.size()) == d.c,
            "dataset " << d.name << " lacks per-channel mean/std");
  const auto B = static_cast<int64_t>(indices.size());
  for (int64_t i : indices) SDD_CHECK(i >= 0 && i < d.n, "example index " << i << " outside 0.." << d.n - 1);
  Batch out;
  out.indices = indices;
  out.x = Tensor::empty({B, d.c, d.h, d.w}, DType::f32);
  std::vector<int64_t> labels(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) labels[static_cast<size_t>(b)] = d.labels[static_cast<size_t>(indices[static_cast<size_t>(b)])];
  out.y = Tensor::from_vector(labels, {B});

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
  const int64_t total = out.x.numel();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < total; ++i) op(i);
  return out;
}

}  // namespace sdd::exp
