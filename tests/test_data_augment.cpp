// tests/test_data_augment.cpp — augmentation functors (kernels/augment_ops.h) and the CPU batch
// builder against direct computation; blur and rotation-label transforms.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <set>

#include "experiments/data/augment.h"
#include "experiments/data/label_noise.h"
#include "experiments/data/transforms.h"
#include "kernels/augment_ops.h"

using namespace sdd::exp;

namespace {

// N images of H x W x C with pixel value (n*31 + y*7 + x*3 + c*11) % 256.
Dataset synthetic(int64_t n, int64_t h, int64_t w, int64_t c) {
  Dataset d;
  d.name = "synthetic";
  d.n = n;
  d.h = h;
  d.w = w;
  d.c = c;
  d.num_classes = 10;
  for (int64_t i = 0; i < n; ++i) {
    d.labels.push_back(i % 10);
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t ch = 0; ch < c; ++ch) d.images.push_back(static_cast<uint8_t>((i * 31 + y * 7 + x * 3 + ch * 11) % 256));
  }
  d.original_labels = d.labels;
  d.mean.assign(static_cast<size_t>(c), 0.f);
  d.std.assign(static_cast<size_t>(c), 1.f);
  if (c == 3) {
    d.mean = {0.485f, 0.456f, 0.406f};
    d.std = {0.229f, 0.224f, 0.225f};
  }
  d.augmentable = true;
  return d;
}

uint8_t px(const Dataset& d, int64_t i, int64_t y, int64_t x, int64_t c) {
  return d.images[static_cast<size_t>(((i * d.h + y) * d.w + x) * d.c + c)];
}

}  // namespace

TEST_CASE("augment: crop/flip draws are deterministic, keyed and uniform", "[data]") {
  using namespace sdd::kern;
  const CropFlipParams a = draw_crop_flip(5, 2, 17, 4), b = draw_crop_flip(5, 2, 17, 4);
  CHECK(a.flip == b.flip);
  CHECK(a.dy == b.dy);
  CHECK(a.dx == b.dx);
  int flips = 0;
  std::vector<int> hy(9, 0), hx(9, 0);
  std::set<std::tuple<int, int, int>> distinct_epochs;
  for (uint64_t i = 0; i < 9000; ++i) {
    const CropFlipParams p = draw_crop_flip(1, 0, i, 4);
    REQUIRE(p.dy >= 0);
    REQUIRE(p.dy <= 8);
    REQUIRE(p.dx >= 0);
    REQUIRE(p.dx <= 8);
    flips += p.flip;
    hy[static_cast<size_t>(p.dy)]++;
    hx[static_cast<size_t>(p.dx)]++;
  }
  CHECK(flips == Approx(4500).margin(250));
  for (int k = 0; k < 9; ++k) {
    CHECK(hy[static_cast<size_t>(k)] == Approx(1000).margin(150));
    CHECK(hx[static_cast<size_t>(k)] == Approx(1000).margin(150));
  }
  for (uint64_t e = 0; e < 20; ++e) {
    const CropFlipParams p = draw_crop_flip(1, e, 3, 4);
    distinct_epochs.insert({p.flip, p.dy, p.dx});
  }
  CHECK(distinct_epochs.size() > 5);  // epochs see different augmentations
}

TEST_CASE("augment: batch equals flip + zero-pad crop + normalise computed directly", "[data]") {
  const Dataset d = synthetic(6, 32, 32, 3);
  const std::vector<int64_t> idx = {4, 1, 5};
  AugmentSpec spec;
  spec.enabled = true;
  spec.seed = 99;
  const Batch b = make_batch(d, idx, spec, 3);
  REQUIRE(b.x.shape() == sdd::Shape{3, 3, 32, 32});
  CHECK(b.y.to_vector<int64_t>() == std::vector<int64_t>{4, 1, 5});
  const std::vector<float> x = b.x.to_vector<float>();
  double worst = 0;
  for (size_t k = 0; k < idx.size(); ++k) {
    const auto p = sdd::kern::draw_crop_flip(99, 3, static_cast<uint64_t>(idx[k]), 4);
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t xx = 0; xx < 32; ++xx) {
          // Flip the 32x32 image, pad by 4 with zeros to 40x40, take the window at (dy, dx).
          const int64_t py = y + p.dy - 4, pxx = xx + p.dx - 4;
          uint8_t v = 0;
          if (py >= 0 && py < 32 && pxx >= 0 && pxx < 32) v = px(d, idx[k], py, p.flip ? 31 - pxx : pxx, c);
          const float want = (static_cast<float>(v) / 255.0f - d.mean[static_cast<size_t>(c)]) / d.std[static_cast<size_t>(c)];
          const float got = x[static_cast<size_t>(((static_cast<int64_t>(k) * 3 + c) * 32 + y) * 32 + xx)];
          worst = std::max(worst, static_cast<double>(std::fabs(got - want)));
        }
  }
  CHECK(worst == 0.0);
  // Same (seed, epoch, example) -> same batch, whatever the batch composition.
  const Batch b2 = make_batch(d, {5}, spec, 3);
  const std::vector<float> x2 = b2.x.to_vector<float>();
  CHECK(std::equal(x2.begin(), x2.end(), x.begin() + 2 * 3 * 32 * 32));
}

TEST_CASE("augment: disabled or non-augmentable data is only normalised", "[data]") {
  Dataset d = synthetic(2, 28, 28, 1);
  d.mean = {0.1307f};
  d.std = {0.3081f};
  d.augmentable = false;  // MNIST-format data
  AugmentSpec spec;
  spec.enabled = true;
  const Batch b = make_batch(d, {1}, spec, 0);
  const std::vector<float> x = b.x.to_vector<float>();
  for (int64_t y = 0; y < 28; ++y)
    for (int64_t xx = 0; xx < 28; ++xx)
      REQUIRE(x[static_cast<size_t>(y * 28 + xx)] == (static_cast<float>(px(d, 1, y, xx, 0)) / 255.0f - 0.1307f) / 0.3081f);
}

TEST_CASE("augment: padded pixels become -mean/std", "[data]") {
  using namespace sdd::kern;
  std::vector<uint8_t> img(32 * 32 * 3, 200);
  const CropFlipParams p{0, 0, 0};  // window starts in the padding corner
  CHECK(crop_flip_normalize(img.data(), 32, 32, 3, 4, p, 1, 0, 0, 0.456f, 0.224f) == (0.0f - 0.456f) / 0.224f);
  CHECK(crop_flip_normalize(img.data(), 32, 32, 3, 4, p, 1, 4, 4, 0.456f, 0.224f) ==
        (200.0f / 255.0f - 0.456f) / 0.224f);
}

TEST_CASE("augment: random resized crop stays inside the image and samples exactly on identity", "[data]") {
  using namespace sdd::kern;
  for (uint64_t i = 0; i < 500; ++i) {
    const ResizedCropParams p = draw_resized_crop(3, 0, i, 64, 48, 0.08f, 1.0f, 3.f / 4.f, 4.f / 3.f);
    REQUIRE(p.height >= 1);
    REQUIRE(p.width >= 1);
    REQUIRE(p.top >= 0);
    REQUIRE(p.left >= 0);
    REQUIRE(p.top + p.height <= 64);
    REQUIRE(p.left + p.width <= 48);
  }
  // A crop box of the output size reproduces the pixels (flip mirrors them).
  std::vector<uint8_t> img(8 * 8);
  for (int k = 0; k < 64; ++k) img[static_cast<size_t>(k)] = static_cast<uint8_t>(k * 3);
  ResizedCropParams p{2, 1, 4, 4, 0};
  CHECK(resized_crop_sample(img.data(), 8, 1, p, 4, 4, 0, 1, 2) == static_cast<float>(img[3 * 8 + 3]));
  p.flip = 1;
  CHECK(resized_crop_sample(img.data(), 8, 1, p, 4, 4, 0, 1, 0) == static_cast<float>(img[3 * 8 + 4]));
  // Downscaling 4x4 -> 2x2 averages 2x2 blocks (half-pixel centres).
  ResizedCropParams q{0, 0, 4, 4, 0};
  const float want = (img[0 * 8 + 0] + img[0 * 8 + 1] + img[1 * 8 + 0] + img[1 * 8 + 1]) / 4.0f;
  CHECK(resized_crop_sample(img.data(), 8, 1, q, 2, 2, 0, 0, 0) == Approx(want));
}

TEST_CASE("transforms: rotation labels rotate by exactly 90 degrees times the label", "[data]") {
  Dataset d = synthetic(12, 5, 5, 2);
  const Dataset orig = d;
  d.train = false;  // applied to the test split too
  DataTransforms t;
  t.unsupervised_labels = "rotation";
  t.transformation_seed = 4;
  apply_transforms(d, t);
  CHECK(d.num_classes == 4);
  CHECK(d.labels == rotation_labels(12, 4));
  for (int64_t i = 0; i < 12; ++i) {
    const int64_t r = d.labels[static_cast<size_t>(i)];
    for (int64_t y = 0; y < 5; ++y)
      for (int64_t x = 0; x < 5; ++x)
        for (int64_t c = 0; c < 2; ++c) {
          // Counter-clockwise by r quarter turns: out(y, x) = in(sy, sx).
          int64_t sy = y, sx = x;
          for (int64_t k = 0; k < r; ++k) {
            const int64_t ny = sx, nx = 4 - sy;
            sy = ny;
            sx = nx;
          }
          REQUIRE(px(d, i, y, x, c) == px(orig, i, sy, sx, c));
        }
  }
  DataTransforms bad;
  bad.unsupervised_labels = "jigsaw";
  CHECK_THROWS_AS(apply_transforms(d, bad), sdd::UserError);
}

TEST_CASE("transforms: blur replaces factor x factor blocks by their mean (train only)", "[data]") {
  Dataset d = synthetic(2, 5, 5, 1);
  const Dataset orig = d;
  DataTransforms t;
  t.blur_factor = 2;
  Dataset test = d;
  test.train = false;
  apply_transforms(test, t);
  CHECK(test.images == orig.images);
  apply_transforms(d, t);
  // Block (0,0): pixels (0,0) (0,1) (1,0) (1,1); edge block (4,4) is a single pixel.
  const int sum = px(orig, 1, 0, 0, 0) + px(orig, 1, 0, 1, 0) + px(orig, 1, 1, 0, 0) + px(orig, 1, 1, 1, 0);
  CHECK(px(d, 1, 1, 1, 0) == static_cast<uint8_t>((sum * 2 + 4) / 8));
  CHECK(px(d, 1, 0, 0, 0) == px(d, 1, 1, 1, 0));
  CHECK(px(d, 1, 4, 4, 0) == px(orig, 1, 4, 4, 0));
  const int edge = px(orig, 1, 4, 0, 0) + px(orig, 1, 4, 1, 0);
  CHECK(px(d, 1, 4, 1, 0) == static_cast<uint8_t>((edge * 2 + 2) / 4));
  DataTransforms zero;
  zero.blur_factor = 0;
  CHECK_THROWS_AS(apply_transforms(d, zero), sdd::UserError);
}

TEST_CASE("augment: the CPU row loop equals the per-element functor the CUDA kernel runs", "[data]") {
  for (const int64_t c : {int64_t{1}, int64_t{3}}) {
    const Dataset d = synthetic(9, 7, 5, c);
    const std::vector<int64_t> idx = {8, 0, 3, 3, 6};
    for (const int augment : {0, 1}) {
      std::vector<float> by_element(idx.size() * static_cast<size_t>(c * 7 * 5), NAN);
      sdd::kern::CropFlipBatchOp op{};
      op.images = d.images.data();
      op.indices = idx.data();
      op.out = by_element.data();
      op.H = 7;
      op.W = 5;
      op.C = static_cast<int32_t>(c);
      op.pad = 2;
      op.augment = augment;
      op.seed = 41;
      op.epoch = 2;
      for (int64_t k = 0; k < c; ++k) {
        op.mean[k] = d.mean[static_cast<size_t>(k)];
        op.stdv[k] = d.std[static_cast<size_t>(k)];
      }
      for (int64_t i = 0; i < static_cast<int64_t>(by_element.size()); ++i) op(i);
      AugmentSpec spec;
      spec.enabled = augment != 0;
      spec.pad = 2;
      spec.seed = 41;
      const Batch b = make_batch(d, idx, spec, 2);
      const float* got = b.x.data<float>();
      for (size_t i = 0; i < by_element.size(); ++i) {
        INFO("c " << c << " augment " << augment << " element " << i);
        REQUIRE(std::memcmp(&got[i], &by_element[i], sizeof(float)) == 0);
      }
    }
  }
}
