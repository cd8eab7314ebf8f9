// experiments/data/augment.h — building a training or evaluation batch on the CPU from an in-memory
// split: gather the examples, apply CIFAR augmentation (flip p=0.5, then 4-pixel zero-pad random
// crop) when asked, normalise, and return float NCHW images plus int64 labels. The per-element work is
// kern::CropFlipBatchOp (kernels/augment_ops.h), the same functor the CUDA path runs. Datasets whose
// Dataset::augmentation is resized_crop_flip (Tiny ImageNet) go through kern::ResampleBatchOp instead:
// RandomResizedCrop + flip when augmenting, else Resize + CenterCrop, to batch_h() x batch_w().
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "experiments/data/dataset.h"

namespace sdd::exp {

struct Batch {
  Tensor x;  // f32 [B, C, OH, OW], normalised (OH x OW = Dataset::batch_h() x batch_w())
  Tensor y;  // i64 [B]
  std::vector<int64_t> indices;  // [B] example indices into the split
};

struct AugmentSpec {
  bool enabled = false;  // flip + pad-crop (only meaningful for augmentable datasets)
  int32_t pad = 4;
  uint64_t seed = 0;     // augmentation key; with the epoch and the example index it fixes every draw
};

// Batch of examples d[indices[0]], d[indices[1]], ... for `epoch`. Augmentation is applied only when
// spec.enabled and d.augmentable (MNIST-format data is never augmented, as the reference).
Batch make_batch(const Dataset& d, const std::vector<int64_t>& indices, const AugmentSpec& spec, int64_t epoch);

// torchvision's Resize(size) on the shorter side: the (h, w) an image of ih x iw is resized to.
void resize_shorter_side(int64_t ih, int64_t iw, int64_t size, int64_t* oh, int64_t* ow);
// torchvision's CenterCrop offset: round-half-even((in - out) / 2).
int64_t center_crop_offset(int64_t in, int64_t out);

}  // namespace sdd::exp
