// tests/test_pruning_strategies.cpp — pruning threshold rule and strategies (SPEC 7.1-7.2, 11.1).
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "engine/rng.h"
#include "pruning/strategies.h"
#include "pruning/threshold.h"

using namespace sdd;
using namespace sdd::pruning;

namespace {

Tensor random_tensor(const Shape& s, Generator& g) {
  std::vector<float> v(static_cast<size_t>(shape_numel(s)));
  for (auto& x : v) x = static_cast<float>(g.normal());
  return Tensor::from_vector(v, s);
}

// MLP 784-30-20-10 (SPEC 7.1 golden).
struct Mlp {
  NamedTensors weights;
  Mask mask;
  explicit Mlp(uint64_t seed) {
    Generator g(seed);
    weights = {{"fc_layers.0.weight", random_tensor({30, 784}, g)},
               {"fc_layers.1.weight", random_tensor({20, 30}, g)},
               {"fc.weight", random_tensor({10, 20}, g)}};
    mask = Mask::ones({{"fc_layers.0.weight", {30, 784}}, {"fc_layers.1.weight", {20, 30}}, {"fc.weight", {10, 20}}});
  }
};

}  // namespace

TEST_CASE("magnitude pruning prunes ceil(f*R)+1 over all mask entries (golden 24320 -> 19455 -> 15563)", "[pruning]") {
  Mlp m(1);
  PruningConfig c;
  c.layers_to_ignore = {"fc.weight"};
  REQUIRE(m.mask.total() == 24320);
  Mask l1 = prune_magnitude(m.mask, m.weights, c);
  CHECK(l1.unpruned() == 19455);
  Mask l2 = prune_magnitude(l1, m.weights, c);
  CHECK(l2.unpruned() == 15563);
  // The ignored tensor is untouched; masks are monotone.
  CHECK(l2.at("fc.weight").to_vector<float>() == std::vector<float>(200, 1.f));
  for (const auto& [name, t] : l2.entries()) {
    auto a = l1.at(name).to_vector<float>(), b = t.to_vector<float>();
    for (size_t i = 0; i < a.size(); ++i) CHECK_FALSE((b[i] == 1.f && a[i] == 0.f));
  }
}

TEST_CASE("magnitude pruning keeps exactly the largest magnitudes (global)", "[pruning]") {
  Mlp m(2);
  PruningConfig c;
  Mask l1 = prune_magnitude(m.mask, m.weights, c);
  float max_pruned = 0.f, min_kept = 1e30f;
  for (const auto& [name, w] : m.weights) {
    auto wv = w.to_vector<float>(), mv = l1.at(name).to_vector<float>();
    for (size_t i = 0; i < wv.size(); ++i) {
      if (mv[i] == 0.f) max_pruned = std::max(max_pruned, std::fabs(wv[i]));
      else min_kept = std::min(min_kept, std::fabs(wv[i]));
    }
  }
  CHECK(max_pruned < min_kept);
  const double frac = 1.0 - l1.density();
  CHECK(frac >= 0.2);
  CHECK(frac < 0.2 + 1e-4);
}

TEST_CASE("prune_max_magnitude prunes the largest weights", "[pruning]") {
  Mlp m(3);
  PruningConfig c;
  c.prune_max_magnitude = true;
  Mask l1 = prune_magnitude(m.mask, m.weights, c);
  float min_pruned = 1e30f, max_kept = 0.f;
  for (const auto& [name, w] : m.weights) {
    auto wv = w.to_vector<float>(), mv = l1.at(name).to_vector<float>();
    for (size_t i = 0; i < wv.size(); ++i) {
      if (mv[i] == 0.f) min_pruned = std::min(min_pruned, std::fabs(wv[i]));
      else max_kept = std::max(max_kept, std::fabs(wv[i]));
    }
  }
  CHECK(min_pruned > max_kept);
  CHECK(l1.unpruned() == 24320 - (prune_count(0.2, 24320) + 1));
}

TEST_CASE("layer-scope magnitude pruning prunes each tensor by its own count", "[pruning]") {
  Mlp m(4);
  PruningConfig c;
  c.scope = "layer";
  Mask l1 = prune_magnitude(m.mask, m.weights, c);
  for (const auto& [name, t] : l1.entries()) {
    const int64_t total = t.numel();
    int64_t kept = 0;
    for (float v : t.to_vector<float>()) kept += v != 0.f;
    CHECK(kept == total - prune_count(0.2, total) - 1);
  }
  c.layers_to_prune = "last_1";
  Mask only_last = prune_magnitude(m.mask, m.weights, c);
  CHECK(only_last.at("fc_layers.0.weight").to_vector<float>() == m.mask.at("fc_layers.0.weight").to_vector<float>());
  CHECK(only_last.unpruned() == 24320 - prune_count(0.2, 200) - 1);
}

TEST_CASE("pruning configuration errors are user errors", "[pruning]") {
  PruningConfig c;
  c.layers_to_prune = "first_2";
  CHECK_THROWS_AS(validate(c), UserError);   // global scope
  c.scope = "layer";
  c.layers_to_prune = "first_x";
  CHECK_THROWS_AS(validate(c), UserError);
  c.layers_to_prune = "";
  c.strategy = "sparse_global";
  CHECK_THROWS_AS(validate(c), UserError);
  Mlp m(5);
  PruningConfig d;
  d.layers_to_ignore = {"nope.weight"};
  CHECK_THROWS_AS(prune_magnitude(m.mask, m.weights, d), UserError);
}

TEST_CASE("random pruning is reproducible with a seed and nested across levels", "[pruning]") {
  Mlp m(6);
  PruningConfig c;
  c.strategy = "random";
  c.random_mask_seed = 7;
  Mask a = prune_random(m.mask, c), b = prune_random(m.mask, c);
  for (const auto& [name, t] : a.entries()) CHECK(t.to_vector<float>() == b.at(name).to_vector<float>());
  // Ties across tensors: between n+1 and n+T entries go (T = 3 candidate tensors).
  const int64_t pruned = 24320 - a.unpruned(), n = prune_count(0.2, 24320);
  CHECK(pruned >= n + 1);
  CHECK(pruned <= n + 3);
  // Nested: level 2 keeps a subset of level 1, and one shot at 0.36 agrees with two 0.2 steps.
  Mask two = prune_random(a, c);
  PruningConfig once = c;
  once.fraction = 0.36;
  Mask one = prune_random(m.mask, once);
  int64_t differ = 0;
  for (const auto& [name, t] : two.entries()) {
    auto x = t.to_vector<float>(), y = one.at(name).to_vector<float>(), p = a.at(name).to_vector<float>();
    for (size_t i = 0; i < x.size(); ++i) {
      differ += x[i] != y[i];
      CHECK_FALSE((x[i] == 1.f && p[i] == 0.f));
    }
  }
  CHECK(static_cast<double>(differ) / 24320.0 < 1e-3);
}

TEST_CASE("gradient pruning ranks by |w*g| in global and layer scope", "[pruning]") {
  Mlp m(8);
  Generator g(9);
  NamedTensors grads;
  for (const auto& [name, w] : m.weights) grads.push_back({name, random_tensor(w.shape(), g)});
  for (const char* scope : {"global", "layer"}) {
    PruningConfig c;
    c.strategy = "gradient";
    c.scope = scope;
    Mask l1 = prune_gradient(m.mask, m.weights, grads, c);
    double max_pruned = 0, min_kept = 1e30;
    for (size_t k = 0; k < m.weights.size(); ++k) {
      auto w = m.weights[k].second.to_vector<float>(), gr = grads[k].second.to_vector<float>();
      auto mv = l1.at(m.weights[k].first).to_vector<float>();
      double lmax = 0, lmin = 1e30;
      for (size_t i = 0; i < w.size(); ++i) {
        const double s = std::fabs(w[i] * gr[i]);
        if (mv[i] == 0.f) lmax = std::max(lmax, s); else lmin = std::min(lmin, s);
      }
      if (std::string(scope) == "layer") CHECK(lmax < lmin);
      max_pruned = std::max(max_pruned, lmax);
      min_kept = std::min(min_kept, lmin);
    }
    if (std::string(scope) == "global") CHECK(max_pruned < min_kept);
  }
}

TEST_CASE("network slimming prunes BN channels by |gamma| and beta follows gamma", "[pruning]") {
  Generator g(10);
  NamedTensors gammas = {{"bn1.weight", random_tensor({16}, g)}, {"bn2.weight", random_tensor({32}, g)}};
  Mask cur = Mask::ones({{"bn1.weight", {16}}, {"bn1.bias", {16}}, {"bn2.weight", {32}}, {"bn2.bias", {32}}});
  PruningConfig c;
  c.strategy = "network_slimming";
  Mask next = prune_network_slimming(cur, gammas, c);
  int64_t kept_gamma = 0;
  for (const char* bn : {"bn1", "bn2"}) {
    auto gm = next.at(std::string(bn) + ".weight").to_vector<float>();
    auto bm = next.at(std::string(bn) + ".bias").to_vector<float>();
    CHECK(gm == bm);
    for (float v : gm) kept_gamma += v != 0.f;
  }
  CHECK(kept_gamma == 48 - prune_count(0.2, 48) - 1);
}
