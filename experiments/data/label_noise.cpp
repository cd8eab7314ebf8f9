// experiments/data/label_noise.cpp — random labels, symmetric / pairflip / asymmetric noise,
// subsample and rotation-label draws (SPEC 5, appendix A).
#include "experiments/data/label_noise.h"

#include <cmath>

#include "engine/errors.h"
#include "engine/rng_compat.h"

namespace sdd::exp {

namespace {

// numpy seeds must lie in [0, 2^32 - 1].
uint32_t np_seed(int64_t s) {
  SDD_USER_CHECK(s >= 0 && s <= 0xFFFFFFFFll, "transformation seed " << s
                                                                     << " (plus its offset) is outside 0..4294967295: "
                                                                        "use a smaller non-negative transformation_seed");
  return static_cast<uint32_t>(s);
}

void check_fraction(double f, const char* what) {
  SDD_USER_CHECK(f >= 0.0 && f <= 1.0, what << " must lie in [0, 1], got " << f);
}

// Per-example multinomial draw with row P[label] and generator seed `base + idx`.
template <class Row>
std::vector<int64_t> per_example(const std::vector<int64_t>& labels, int64_t base, Row row) {
  std::vector<int64_t> out(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    NumpyRandomState rs(np_seed(base + static_cast<int64_t>(i)));
    out[i] = rs.multinomial_one(row(labels[i]));
  }
  return out;
}

}  // namespace

int64_t ceil_count(int64_t n, double fraction) {
  return static_cast<int64_t>(std::ceil(static_cast<double>(n) * fraction));
}

std::vector<int64_t> random_labels(const std::vector<int64_t>& labels, int64_t num_classes, double fraction,
                                   int64_t seed) {
  check_fraction(fraction, "random_labels_fraction");
  const auto n_total = static_cast<int64_t>(labels.size());
  const int64_t n = ceil_count(n_total, fraction);
  const std::vector<int64_t> fresh = NumpyRandomState(np_seed(seed)).randint(num_classes, n);
  const std::vector<int64_t> perm = NumpyRandomState(np_seed(seed + 1)).permutation(n_total);
  std::vector<int64_t> out = labels;
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(perm[static_cast<size_t>(i)])] = fresh[static_cast<size_t>(i)];
  return out;
}

AsymmetricMap asymmetric_map_for(const std::string& name) {
  if (name == "mnist" || name == "fashion_mnist") return AsymmetricMap::mnist;
  if (name == "cifar10") return AsymmetricMap::cifar10;
  if (name == "cifar100") return AsymmetricMap::cifar100;
  return AsymmetricMap::none;
}

std::vector<int64_t> symmetric_noise(const std::vector<int64_t>& labels, int64_t num_classes, double fraction,
                                     int64_t seed) {
  check_fraction(fraction, "noisy_labels_fraction");
  SDD_USER_CHECK(num_classes >= 2, "symmetric label noise needs at least 2 classes");
  const double off = fraction / static_cast<double>(num_classes - 1), diag = 1.0 - fraction;
  std::vector<double> row(static_cast<size_t>(num_classes));
  return per_example(labels, seed + 2, [&](int64_t c) -> const std::vector<double>& {
    for (int64_t j = 0; j < num_classes; ++j) row[static_cast<size_t>(j)] = j == c ? diag : off;
    return row;
  });
}

std::vector<int64_t> pairflip_noise(const std::vector<int64_t>& labels, int64_t num_classes, double fraction,
                                    int64_t seed) {
  check_fraction(fraction, "noisy_labels_fraction");
  std::vector<double> row(static_cast<size_t>(num_classes));
  return per_example(labels, seed + 3, [&](int64_t c) -> const std::vector<double>& {
    std::fill(row.begin(), row.end(), 0.0);
    row[static_cast<size_t>(c)] = 1.0 - fraction;
    row[static_cast<size_t>((c + 1) % num_classes)] = fraction;
    return row;
  });
}

std::vector<int64_t> asymmetric_noise(const std::vector<int64_t>& labels, int64_t num_classes, double fraction,
                                      int64_t seed, AsymmetricMap map) {
  check_fraction(fraction, "noisy_labels_fraction");
  std::vector<double> row(static_cast<size_t>(num_classes));
  switch (map) {
    case AsymmetricMap::cifar10: {
      SDD_CHECK(num_classes == 10, "CIFAR-10 asymmetric map needs 10 classes");
      const int64_t target[10] = {0, 1, 0, 5, 7, 3, 6, 7, 8, 1};  // 9->1, 2->0, 3->5, 5->3, 4->7
      std::vector<int64_t> out = labels;
      for (int64_t cls = 0; cls < 10; ++cls) {
        std::vector<int64_t> idx;
        for (size_t i = 0; i < labels.size(); ++i)
          if (labels[i] == cls) idx.push_back(static_cast<int64_t>(i));
        NumpyRandomState(np_seed(seed + cls)).shuffle(idx);
        const int64_t k = ceil_count(static_cast<int64_t>(idx.size()), fraction);
        for (int64_t j = 0; j < k; ++j) out[static_cast<size_t>(idx[static_cast<size_t>(j)])] = target[cls];
      }
      return out;
    }
    case AsymmetricMap::mnist: {
      SDD_CHECK(num_classes == 10, "MNIST asymmetric map needs 10 classes");
      return per_example(labels, seed, [&](int64_t c) -> const std::vector<double>& {
        std::fill(row.begin(), row.end(), 0.0);
        const int64_t to = c == 2 ? 7 : c == 3 ? 8 : c == 5 ? 6 : c == 6 ? 5 : -1;
        if (to < 0) {
          row[static_cast<size_t>(c)] = 1.0;
        } else {
          row[static_cast<size_t>(c)] = 1.0 - fraction;
          row[static_cast<size_t>(to)] = fraction;
        }
        return row;
      });
    }
    case AsymmetricMap::cifar100: {
      SDD_CHECK(num_classes % 5 == 0, "CIFAR-100 asymmetric map needs a multiple of 5 classes");
      return per_example(labels, seed, [&](int64_t c) -> const std::vector<double>& {
        std::fill(row.begin(), row.end(), 0.0);
        const int64_t block = c / 5 * 5;
        row[static_cast<size_t>(c)] = 1.0 - fraction;
        row[static_cast<size_t>(block + (c - block + 1) % 5)] = fraction;
        return row;
      });
    }
    case AsymmetricMap::none: break;
  }
  SDD_USER_FAIL("noisy_labels_type=asymmetric has no class map for this dataset: use symmetric or pairflip");
}

std::vector<int64_t> noisy_labels(const std::vector<int64_t>& labels, int64_t num_classes, const std::string& type,
                                  double fraction, int64_t seed, const std::string& dataset_name) {
  if (type == "symmetric") return symmetric_noise(labels, num_classes, fraction, seed);
  if (type == "pairflip") return pairflip_noise(labels, num_classes, fraction, seed);
  if (type == "asymmetric") {
    const AsymmetricMap m = asymmetric_map_for(dataset_name);
    SDD_USER_CHECK(m != AsymmetricMap::none, "noisy_labels_type=asymmetric has no class map for dataset "
                                                 << dataset_name << ": use symmetric or pairflip");
    return asymmetric_noise(labels, num_classes, fraction, seed, m);
  }
  if (type.empty()) SDD_USER_FAIL("Please specify the type of noisy labels: --noisy_labels_type=symmetric|pairflip|asymmetric");
  SDD_USER_FAIL("unknown noisy_labels_type '" << type << "': use symmetric, pairflip or asymmetric");
}

std::vector<int64_t> subsample_indices(int64_t n, double fraction, int64_t seed) {
  SDD_USER_CHECK(fraction > 0.0 && fraction <= 1.0, "subsample_fraction must lie in (0, 1], got " << fraction);
  std::vector<int64_t> perm = NumpyRandomState(np_seed(seed + 1)).permutation(n);
  perm.resize(static_cast<size_t>(ceil_count(n, fraction)));
  return perm;
}

std::vector<int64_t> rotation_labels(int64_t n, int64_t seed) { return NumpyRandomState(np_seed(seed)).randint(4, n); }

}  // namespace sdd::exp
