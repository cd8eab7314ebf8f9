// experiments/data/transforms.h — the dataset hyperparameters that rewrite a split (SPEC 2.1, 5):
// random labels or noisy labels, subsample, blur, rotation labels, applied in the reference's order.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "experiments/data/dataset.h"

namespace sdd::exp {

struct DataTransforms {
  std::optional<int64_t> transformation_seed;     // None acts as 0 (SPEC 13 #15)
  std::optional<double> random_labels_fraction;   // SPEC 5.1
  std::optional<double> noisy_labels_fraction;    // SPEC 5.2-5.4
  std::optional<std::string> noisy_labels_type;   // symmetric | pairflip | asymmetric; ignored without a fraction
  std::optional<double> subsample_fraction;       // SPEC 5.6
  std::optional<std::string> unsupervised_labels; // only "rotation"
  std::optional<int64_t> blur_factor;             // downsample by the factor, then upsample (DESIGN 4, fix #10)

  int64_t seed() const { return transformation_seed.value_or(0); }
};

// Applies `t` to `d` in the reference order: (1) random labels, else noisy labels — train split only,
// but setting both is an error for every split; (2) subsample (train); (3) blur (train); (4) rotation
// labels (train and test). Throws UserError for invalid combinations.
void apply_transforms(Dataset& d, const DataTransforms& t);

// Keeps the first ceil(N s) examples of RandomState(seed+1).permutation(N), in that order. Subsampling
// a split twice is an error.
void subsample(Dataset& d, double fraction, int64_t seed);

// Replaces each image by its blurred version: means over factor x factor blocks (edge blocks use the
// pixels they have), rounded to nearest, written back over every pixel of the block.
void blur(Dataset& d, int64_t factor);

// Labels = RandomState(seed).randint(4, n); image i is rotated counter-clockwise by exactly
// 90 * label degrees (the fix of DESIGN 4 #12). Needs square images. num_classes becomes 4.
void apply_rotation_labels(Dataset& d, int64_t seed);

}  // namespace sdd::exp
