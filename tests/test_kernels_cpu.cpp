// tests/test_kernels_cpu.cpp — [pruning] [augment] the CPU reference of the backend entries in
// engine/backend_pruning.inc and engine/backend_data.inc against the host code they must equal:
// pruning/threshold.cpp (same n, same strict >, ties included) and exp::make_batch (bit-equal).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "kernels/augment_ops.h"
#include "engine/rng.h"
#include "engine/tensor.h"
#include "experiments/data/augment.h"
#include "pruning/mask.h"
#include "pruning/threshold.h"

using namespace sdd;

namespace {

// Weights drawn from a handful of values (many ties, both signs, zeros included).
Tensor tied_weights(int64_t n, Generator& gen, int levels) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(static_cast<int64_t>(gen.below(2 * levels + 1)) - levels) * 0.125f;
  return Tensor::from_vector(v, {n});
}

Tensor random_mask(int64_t n, Generator& gen, double keep) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = gen.uniform() < keep ? 1.f : 0.f;
  return Tensor::from_vector(v, {n});
}

struct Layer {
  std::string name;
  Tensor w, g, mask;
};

std::vector<Layer> make_layers(Generator& gen, int levels) {
  const std::vector<int64_t> sizes = {37, 500, 3, 1201, 64};
  std::vector<Layer> out;
  for (size_t k = 0; k < sizes.size(); ++k) {
    Layer l;
    l.name = "layer" + std::to_string(k) + ".weight";
    l.w = tied_weights(sizes[k], gen, levels);
    l.g = tied_weights(sizes[k], gen, 3);
    l.mask = random_mask(sizes[k], gen, 0.3 + 0.15 * static_cast<double>(k));
    out.push_back(l);
  }
  return out;
}

pruning::Mask mask_of(const std::vector<Layer>& layers) {
  pruning::Mask m;
  for (const auto& l : layers) m.set(l.name, l.mask);
  return m;
}

// Scores as pruning/strategies.cpp builds them: float32 values widened to double.
std::vector<pruning::TensorScores> host_scores(const std::vector<Layer>& layers, size_t first, int mode) {
  std::vector<pruning::TensorScores> out;
  for (size_t k = first; k < layers.size(); ++k) {
    const float* w = layers[k].w.data<float>();
    const float* g = layers[k].g.data<float>();
    std::vector<double> s(static_cast<size_t>(layers[k].w.numel()));
    for (size_t i = 0; i < s.size(); ++i)
      s[i] = mode == 2 ? std::fabs(w[i] * g[i]) : mode == 1 ? -std::fabs(w[i]) : std::fabs(w[i]);
    out.push_back({layers[k].name, std::move(s)});
  }
  return out;
}

Tensor backend_scores(const Layer& l, int mode) {
  Tensor s = Tensor::empty(l.w.shape());
  cpu::prune_scores(l.w, mode == 2 ? l.g : Tensor(), mode == 1, s);
  return s;
}

void require_same_mask(const Tensor& got, const Tensor& want, const std::string& name) {
  INFO(name);
  REQUIRE(got.to_vector<float>() == want.to_vector<float>());
}

}  // namespace

TEST_CASE("cpu prune_scores equals the strategies' float32 scores", "[pruning]") {
  Generator gen(11);
  const auto layers = make_layers(gen, 40);
  for (int mode = 0; mode < 3; ++mode) {
    const auto want = host_scores(layers, 0, mode);
    for (size_t k = 0; k < layers.size(); ++k) {
      const std::vector<float> got = backend_scores(layers[k], mode).to_vector<float>();
      for (size_t i = 0; i < got.size(); ++i) REQUIRE(static_cast<double>(got[i]) == want[k].scores[i]);
    }
  }
}

TEST_CASE("cpu global threshold entries equal apply_global_threshold, ties included", "[pruning]") {
  for (uint64_t seed : {1u, 2u, 3u, 4u}) {
    for (int levels : {2, 7, 1000}) {
      Generator gen(seed * 100 + static_cast<uint64_t>(levels));
      const auto layers = make_layers(gen, levels);
      const pruning::Mask current = mask_of(layers);
      // Layer 0 is ignored: it counts in R but is no candidate (SPEC 7.1).
      for (int mode = 0; mode < 3; ++mode) {
        for (double f : {0.0, 0.2, 0.5, 0.9}) {
          CAPTURE(seed, levels, mode, f);
          const auto host = host_scores(layers, 1, mode);
          const pruning::Mask want = pruning::apply_global_threshold(current, host, f);

          int64_t R = 0;
          for (const auto& l : layers) R += cpu::count_nonzero(l.mask);
          REQUIRE(R == current.unpruned());
          const int64_t n = pruning::prune_count(f, R);
          std::vector<Tensor> scores, masks;
          for (size_t k = 1; k < layers.size(); ++k) {
            scores.push_back(backend_scores(layers[k], mode));
            masks.push_back(layers[k].mask);
          }
          float thr = 0.f;
          int64_t cand = 0;
          REQUIRE(cpu::candidate_kth_value(scores, masks, n, &thr, &cand));
          for (size_t k = 1; k < layers.size(); ++k) {
            Tensor out = Tensor::empty(layers[k].mask.shape());
            cpu::mask_keep_above(scores[k - 1], layers[k].mask, thr, out);
            require_same_mask(out, want.at(layers[k].name), layers[k].name);
          }
          require_same_mask(layers[0].mask, want.at(layers[0].name), "ignored layer");
        }
      }
    }
  }
}

TEST_CASE("cpu per-layer threshold entries equal apply_layer_threshold", "[pruning]") {
  Generator gen(77);
  auto layers = make_layers(gen, 5);
  layers[2].mask = Tensor::ones({3});  // R = 3: fractions 0.1 and 0.37 are feasible, 0.8 is not
  const pruning::Mask current = mask_of(layers);
  // The 3-entry layer runs out of candidates at larger fractions: then the host rule throws and the
  // entry reports false for exactly that layer.
  int feasible_fractions = 0;
  for (double f : {0.1, 0.37, 0.8}) {
    CAPTURE(f);
    const auto host = host_scores(layers, 0, 0);
    bool feasible = true;
    for (const auto& l : layers) {
      const int64_t live = cpu::count_nonzero(l.mask);
      feasible = feasible && pruning::prune_count(f, live) < live;
    }
    if (!feasible) {
      CHECK_THROWS_AS(pruning::apply_layer_threshold(current, host, f), UserError);
      for (const auto& l : layers) {
        const int64_t live = cpu::count_nonzero(l.mask), n = pruning::prune_count(f, live);
        float thr = 0.f;
        int64_t cand = 0;
        CHECK(cpu::candidate_kth_value({backend_scores(l, 0)}, {l.mask}, n, &thr, &cand) == (n < live));
      }
      continue;
    }
    ++feasible_fractions;
    const pruning::Mask want = pruning::apply_layer_threshold(current, host, f);
    for (const auto& l : layers) {
      const Tensor s = backend_scores(l, 0);
      const int64_t n = pruning::prune_count(f, cpu::count_nonzero(l.mask));
      float thr = 0.f;
      int64_t cand = 0;
      REQUIRE(cpu::candidate_kth_value({s}, {l.mask}, n, &thr, &cand));
      REQUIRE(cand == cpu::count_nonzero(l.mask));
      Tensor out = l.mask.clone();
      cpu::mask_keep_above(s, out, thr, out);  // in place
      require_same_mask(out, want.at(l.name), l.name);
    }
  }
  CHECK(feasible_fractions == 2);
}

TEST_CASE("cpu candidate_kth_value reports too few candidates", "[pruning]") {
  const Tensor s = Tensor::from_vector(std::vector<float>{3.f, 1.f, 2.f, 5.f}, {4});
  const Tensor m = Tensor::from_vector(std::vector<float>{1.f, 0.f, 1.f, 1.f}, {4});
  float thr = -1.f;
  int64_t cand = 0;
  REQUIRE(cpu::candidate_kth_value({s}, {m}, 2, &thr, &cand));
  CHECK(thr == 5.f);
  CHECK(cand == 3);
  thr = -1.f;
  CHECK_FALSE(cpu::candidate_kth_value({s}, {m}, 3, &thr, &cand));
  CHECK(thr == -1.f);
  CHECK_FALSE(cpu::candidate_kth_value({s}, {m}, -1, &thr, &cand));
  // The host rule throws a UserError for the same request.
  pruning::Mask cur;
  cur.set("a", m);
  CHECK_THROWS_AS(pruning::apply_global_threshold(cur, {{"a", {3.0, 1.0, 2.0, 5.0}}}, 0.75), UserError);
}

TEST_CASE("cpu crop_flip_batch: plain single-channel images equal normalize_u8 for every byte value", "[augment]") {
  // Three 19x17 images (323 pixels: vector blocks and a tail) holding every value 0..255, in a shuffled
  // batch; the plain path computes them eight at a time.
  const int64_t n = 3, h = 19, w = 17;
  std::vector<uint8_t> px(static_cast<size_t>(n * h * w));
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 7 + i / 256) % 256);
  const Tensor images = Tensor::from_vector(px, {n, h, w, 1});
  const std::vector<int64_t> idx = {2, 0, 1, 2};
  const Tensor indices = Tensor::from_vector(idx, {4});
  for (const auto& [mean, stdv] : std::vector<std::pair<float, float>>{{0.2860f, 0.3530f}, {0.1307f, 0.3081f}, {0.5f, 1.0f}}) {
    Tensor out = Tensor::empty({4, 1, h, w});
    cpu::crop_flip_batch(images, indices, out, 4, false, 0, 0, {mean}, {stdv});
    const std::vector<float> got = out.to_vector<float>();
    for (size_t b = 0; b < idx.size(); ++b)
      for (int64_t i = 0; i < h * w; ++i) {
        const float want = kern::normalize_u8(px[static_cast<size_t>(idx[b] * h * w + i)], mean, stdv);
        const float g = got[b * static_cast<size_t>(h * w) + static_cast<size_t>(i)];
        REQUIRE(std::memcmp(&g, &want, sizeof(float)) == 0);
      }
  }
}

TEST_CASE("cpu crop_flip_batch is bit-equal to make_batch", "[augment]") {
  Generator gen(5);
  exp::Dataset d;
  d.name = "cifar10";
  d.n = 23;
  d.h = 9;
  d.w = 7;
  d.c = 3;
  d.images.resize(static_cast<size_t>(d.n * d.h * d.w * d.c));
  for (auto& p : d.images) p = static_cast<uint8_t>(gen.below(256));
  d.labels.assign(static_cast<size_t>(d.n), 0);
  d.original_labels = d.labels;
  d.num_classes = 10;
  d.mean = {0.485f, 0.456f, 0.406f};
  d.std = {0.229f, 0.224f, 0.225f};
  d.augmentable = true;
  d.augmentation = exp::Dataset::Augmentation::pad_crop_flip;
  const std::vector<int64_t> idx = {4, 0, 22, 4, 13, 7, 19};
  const Tensor images = Tensor::from_vector(d.images, {d.n, d.h, d.w, d.c});
  const Tensor indices = Tensor::from_vector(idx, {static_cast<int64_t>(idx.size())});
  for (bool augment : {false, true}) {
    for (int64_t epoch : {0, 3}) {
      exp::AugmentSpec spec;
      spec.enabled = augment;
      spec.pad = 4;
      spec.seed = 1234;
      const exp::Batch want = exp::make_batch(d, idx, spec, epoch);
      Tensor out = Tensor::empty({static_cast<int64_t>(idx.size()), d.c, d.h, d.w});
      cpu::crop_flip_batch(images, indices, out, spec.pad, augment, spec.seed, static_cast<uint64_t>(epoch), d.mean, d.std);
      const auto g = out.to_vector<float>(), w = want.x.to_vector<float>();
      REQUIRE(g.size() == w.size());
      CAPTURE(augment, epoch);
      CHECK(std::memcmp(g.data(), w.data(), g.size() * sizeof(float)) == 0);
    }
  }
  // An index outside the split is a programming error, not silent garbage.
  const Tensor bad = Tensor::from_vector(std::vector<int64_t>{0, 23}, {2});
  Tensor out = Tensor::empty({2, d.c, d.h, d.w});
  CHECK_THROWS(cpu::crop_flip_batch(images, bad, out, 4, true, 0, 0, d.mean, d.std));
}
