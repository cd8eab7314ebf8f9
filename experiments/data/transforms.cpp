// experiments/data/transforms.cpp — applying the dataset hyperparameters to a split (SPEC 5).
#include "experiments/data/transforms.h"

#include <algorithm>

#include "engine/errors.h"
#include "experiments/data/label_noise.h"

namespace sdd::exp {

void subsample(Dataset& d, double fraction, int64_t seed) {
  SDD_USER_CHECK(!d.subsampled, "the " << d.name << " training set is already subsampled: subsample_fraction may be "
                                                      "applied only once");
  d.select(subsample_indices(d.n, fraction, seed));
  d.subsampled = true;
}

void blur(Dataset& d, int64_t factor) {
  SDD_USER_CHECK(factor >= 1, "blur_factor must be a positive integer, got " << factor);
  if (factor == 1) return;
  const int64_t H = d.h, W = d.w, C = d.c;
  for (int64_t i = 0; i < d.n; ++i) {
    uint8_t* img = d.images.data() + i * d.example_bytes();  // [H, W, C]
    for (int64_t by = 0; by < H; by += factor)
      for (int64_t bx = 0; bx < W; bx += factor) {
        const int64_t ey = std::min(H, by + factor), ex = std::min(W, bx + factor);
        const int64_t cnt = (ey - by) * (ex - bx);
        for (int64_t ch = 0; ch < C; ++ch) {
          int64_t sum = 0;
          for (int64_t y = by; y < ey; ++y)
            for (int64_t x = bx; x < ex; ++x) sum += img[(y * W + x) * C + ch];
          const auto mean = static_cast<uint8_t>((sum * 2 + cnt) / (2 * cnt));  // round half up
          for (int64_t y = by; y < ey; ++y)
            for (int64_t x = bx; x < ex; ++x) img[(y * W + x) * C + ch] = mean;
        }
      }
  }
}

void apply_rotation_labels(Dataset& d, int64_t seed) {
  SDD_USER_CHECK(d.h == d.w, "unsupervised_labels=rotation needs square images, " << d.name << " has " << d.h << "x"
                                                                                  << d.w);
  const std::vector<int64_t> lab = rotation_labels(d.n, seed);
  const int64_t S = d.h, C = d.c;
  std::vector<uint8_t> tmp(static_cast<size_t>(d.example_bytes()));
  for (int64_t i = 0; i < d.n; ++i) {
    uint8_t* img = d.images.data() + i * d.example_bytes();  // [S, S, C]
    for (int64_t r = 0; r < lab[static_cast<size_t>(i)]; ++r) {
      // One counter-clockwise quarter turn: out(y, x) = in(x, S-1-y).
      for (int64_t y = 0; y < S; ++y)
        for (int64_t x = 0; x < S; ++x)
          for (int64_t ch = 0; ch < C; ++ch) tmp[static_cast<size_t>((y * S + x) * C + ch)] = img[(x * S + (S - 1 - y)) * C + ch];
      std::copy(tmp.begin(), tmp.end(), img);
    }
  }
  d.labels = lab;
  d.num_classes = 4;
}

void apply_transforms(Dataset& d, const DataTransforms& t) {
  const int64_t seed = t.seed();
  SDD_USER_CHECK(!(t.random_labels_fraction && t.noisy_labels_fraction),
                 "random_labels_fraction and noisy_labels_fraction are mutually exclusive: set only one of them");
  if (d.train) {
    if (t.random_labels_fraction) {
      d.labels = random_labels(d.labels, d.num_classes, *t.random_labels_fraction, seed);
    } else if (t.noisy_labels_fraction) {
      d.labels = noisy_labels(d.labels, d.num_classes, t.noisy_labels_type.value_or(""), *t.noisy_labels_fraction, seed,
                              d.name);
    }
    if (t.subsample_fraction) subsample(d, *t.subsample_fraction, seed);
    if (t.blur_factor) blur(d, *t.blur_factor);
  }
  if (t.unsupervised_labels) {
    SDD_USER_CHECK(*t.unsupervised_labels == "rotation",
                   "unknown unsupervised_labels '" << *t.unsupervised_labels << "': the only choice is rotation");
    apply_rotation_labels(d, seed);
  }
}

}  // namespace sdd::exp
