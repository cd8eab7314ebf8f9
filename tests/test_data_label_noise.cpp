// tests/test_data_label_noise.cpp — label noise, random labels and subsampling against every entry of
// goldens/label_noise_fashion_mnist.json (reference values computed with numpy on the real
// Fashion-MNIST labels), plus properties of the transformations on synthetic labels.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/errors.h"
#include "engine/rng_compat.h"
#include "experiments/data/dataset.h"
#include "experiments/data/label_noise.h"
#include "experiments/data/transforms.h"

using namespace sdd::exp;

namespace {

const char* kGolden = SDD_SOURCE_DIR "/../shared/goldens/label_noise_fashion_mnist.json";

// Golden + real labels, or a visible skip reason.
bool setup(nlohmann::json* g, Dataset* train, Dataset* test) {
  std::ifstream f(kGolden);
  if (!f) {
    std::cout << "SKIPPED: golden file " << kGolden << " is missing\n";
    return false;
  }
  f >> *g;
  try {
    *train = load_dataset("fashion_mnist", true, "/nonexistent-sparsedd-root");
    *test = load_dataset("fashion_mnist", false, "/nonexistent-sparsedd-root");
  } catch (const sdd::UserError& e) {
    std::cout << "SKIPPED: Fashion-MNIST not installed (" << e.what() << ")\n";
    return false;
  }
  return true;
}

int64_t count_unchanged(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  int64_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += a[i] == b[i];
  return n;
}

void check_entry(const std::string& key, const nlohmann::json& want, const Dataset& d) {
  INFO((d.train ? "train: " : "test: ") << key);
  const size_t sp = key.find(" seed=");
  REQUIRE(sp != std::string::npos);
  const std::string kind = key.substr(0, sp);
  long long seed = 0;
  double frac = 0;
  REQUIRE(std::sscanf(key.c_str() + sp, " seed=%lld fraction=%lf", &seed, &frac) == 2);
  const std::vector<int64_t>& orig = d.labels;
  if (kind == "subsample") {
    const std::vector<int64_t> idx = subsample_indices(d.n, frac, seed);
    CHECK(static_cast<int64_t>(idx.size()) == want.at("count").get<int64_t>());
    const auto wi = want.at("idx_first10").get<std::vector<int64_t>>();
    const auto wl = want.at("labels_first10").get<std::vector<int64_t>>();
    for (size_t k = 0; k < wi.size(); ++k) {
      CHECK(idx[k] == wi[k]);
      CHECK(orig[static_cast<size_t>(idx[k])] == wl[k]);
    }
    return;
  }
  std::vector<int64_t> got;
  if (kind == "random_labels") got = random_labels(orig, 10, frac, seed);
  else if (kind == "symmetric") got = symmetric_noise(orig, 10, frac, seed);
  else if (kind == "pairflip") got = pairflip_noise(orig, 10, frac, seed);
  else if (kind == "asymmetric(mnist map)") got = asymmetric_noise(orig, 10, frac, seed, AsymmetricMap::mnist);
  else if (kind.rfind("asymmetric(cifar10 map", 0) == 0) got = asymmetric_noise(orig, 10, frac, seed, AsymmetricMap::cifar10);
  else FAIL("unknown golden entry kind '" << kind << "'");
  REQUIRE(got.size() == orig.size());
  CHECK(count_unchanged(got, orig) == want.at("unchanged").get<int64_t>());
  const auto first = want.at("first20").get<std::vector<int64_t>>();
  CHECK(std::vector<int64_t>(got.begin(), got.begin() + 20) == first);
  std::vector<int64_t> changed;
  for (size_t i = 0; i < got.size() && changed.size() < 10; ++i)
    if (got[i] != orig[i]) changed.push_back(static_cast<int64_t>(i));
  CHECK(changed == want.at("changed_idx_first10").get<std::vector<int64_t>>());
  std::vector<int64_t> hist(10, 0);
  for (auto l : got) hist[static_cast<size_t>(l)]++;
  CHECK(hist == want.at("histogram").get<std::vector<int64_t>>());
}

}  // namespace

TEST_CASE("label noise: every Fashion-MNIST golden (train and test)", "[data]") {
  nlohmann::json g;
  Dataset train, test;
  if (!setup(&g, &train, &test)) return;
  REQUIRE(train.n == 60000);
  REQUIRE(test.n == 10000);
  int entries = 0;
  for (const auto* split : {&train, &test}) {
    const auto& gs = g.at(split->train ? "train" : "test");
    CHECK(std::vector<int64_t>(split->labels.begin(), split->labels.begin() + 20) ==
          gs.at("original_first20").get<std::vector<int64_t>>());
    for (auto it = gs.begin(); it != gs.end(); ++it) {
      if (it.key() == "original_first20") continue;
      check_entry(it.key(), it.value(), *split);
      ++entries;
    }
  }
  CHECK(entries == 26);  // 13 per split
}

TEST_CASE("label noise: apply_transforms uses seed 0 for a missing transformation_seed", "[data]") {
  nlohmann::json g;
  Dataset train, test;
  if (!setup(&g, &train, &test)) return;
  DataTransforms t;
  t.noisy_labels_type = "asymmetric";  // fashion_mnist uses the MNIST map, as the reference
  t.noisy_labels_fraction = 0.5;
  apply_transforms(train, t);
  CHECK(count_unchanged(train.labels, train.original_labels) == 48023);
  // The test split is never noised.
  apply_transforms(test, t);
  CHECK(count_unchanged(test.labels, test.original_labels) == 10000);
}

TEST_CASE("label noise: random labels + subsample share the seed+1 permutation", "[data]") {
  Dataset d;
  d.name = "synthetic";
  d.n = 1000;
  d.h = d.w = 2;
  d.c = 1;
  d.images.assign(4000, 0);
  d.num_classes = 10;
  for (int64_t i = 0; i < d.n; ++i) {
    d.labels.push_back(i % 10);
    d.images[static_cast<size_t>(i * 4)] = static_cast<uint8_t>(i % 251);
  }
  d.original_labels = d.labels;
  d.mean = {0.5f};
  d.std = {0.5f};
  DataTransforms t;
  t.transformation_seed = 3;
  t.random_labels_fraction = 0.2;
  t.subsample_fraction = 0.5;
  Dataset e = d;
  apply_transforms(e, t);
  REQUIRE(e.n == 500);
  const std::vector<int64_t> perm = sdd::NumpyRandomState(4).permutation(1000);
  const std::vector<int64_t> fresh = sdd::NumpyRandomState(3).randint(10, 200);
  for (int64_t k = 0; k < 500; ++k) {
    const auto src = static_cast<size_t>(perm[static_cast<size_t>(k)]);
    CHECK(e.images[static_cast<size_t>(k * 4)] == d.images[src * 4]);           // images follow the permutation
    CHECK(e.original_labels[static_cast<size_t>(k)] == d.labels[src]);
    // Victims are exactly positions 0..199 after subsampling.
    CHECK(e.labels[static_cast<size_t>(k)] == (k < 200 ? fresh[static_cast<size_t>(k)] : d.labels[src]));
  }
  // Subsampling twice is an error.
  CHECK_THROWS_AS(subsample(e, 0.5, 3), sdd::UserError);
}

TEST_CASE("label noise: invalid combinations are user errors", "[data]") {
  const std::vector<int64_t> labels = {0, 1, 2, 3};
  CHECK_THROWS_AS(noisy_labels(labels, 10, "bogus", 0.5, 0, "cifar10"), sdd::UserError);
  CHECK_THROWS_AS(noisy_labels(labels, 10, "", 0.5, 0, "cifar10"), sdd::UserError);
  CHECK_THROWS_AS(noisy_labels(labels, 200, "asymmetric", 0.5, 0, "tiny_imagenet"), sdd::UserError);
  CHECK_THROWS_AS(random_labels(labels, 10, 1.5, 0), sdd::UserError);
  Dataset d;
  d.name = "mnist";
  d.n = 4;
  d.h = d.w = d.c = 1;
  d.images.assign(4, 0);
  d.labels = labels;
  d.original_labels = labels;
  d.num_classes = 10;
  DataTransforms both;
  both.random_labels_fraction = 0.1;
  both.noisy_labels_fraction = 0.1;
  both.noisy_labels_type = "symmetric";
  d.train = false;  // raised for the test split too
  CHECK_THROWS_AS(apply_transforms(d, both), sdd::UserError);
  DataTransforms type_only;
  type_only.noisy_labels_type = "symmetric";  // no fraction: ignored, no error
  d.train = true;
  apply_transforms(d, type_only);
  CHECK(d.labels == labels);
}

TEST_CASE("label noise: fraction 1 changes every label for symmetric and pairflip", "[data]") {
  std::vector<int64_t> labels;
  for (int i = 0; i < 300; ++i) labels.push_back(i % 10);
  CHECK(count_unchanged(symmetric_noise(labels, 10, 1.0, 0), labels) == 0);
  const auto pf = pairflip_noise(labels, 10, 1.0, 0);
  for (size_t i = 0; i < labels.size(); ++i) CHECK(pf[i] == (labels[i] + 1) % 10);
  // CIFAR-100 index blocks: with f = 1 every label moves to the next index of its block of 5.
  std::vector<int64_t> l100;
  for (int i = 0; i < 100; ++i) l100.push_back(i);
  const auto a = asymmetric_noise(l100, 100, 1.0, 1, AsymmetricMap::cifar100);
  for (int i = 0; i < 100; ++i) CHECK(a[static_cast<size_t>(i)] == i / 5 * 5 + (i % 5 + 1) % 5);
}
