// tests/test_optim_grad_support.cpp — gradient supports (engine/optim/grad_support.h): which optimizers
// register their mask, when registrations end, stale registrations, and a masked momentum-free MLP
// trained with supports (sparse weight gradients) against the same training with full gradients.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "engine/nn/layers.h"
#include "engine/nn/module.h"
#include "engine/ops.h"
#include "engine/optim/grad_support.h"
#include "engine/optim/optimizer.h"
#include "engine/rng.h"

using namespace sdd;

namespace {

std::shared_ptr<nn::Sequential> mlp() {
  manual_seed(3);
  return std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(40, 30), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(30, 5)});
}

// 1 kept / 0 pruned for the weight matrices (keep probability `density`), 1 for biases.
Tensor random_mask(const nn::FlatParams& fp, double density, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> m(static_cast<size_t>(fp.total), 1.f);
  for (const auto& e : fp.entries)
    if (e.shape.size() == 2)
      for (int64_t i = 0; i < e.numel; ++i) m[static_cast<size_t>(e.offset + i)] = u(gen) < density ? 1.f : 0.f;
  return Tensor::from_vector(m, {fp.total});
}

// 64 examples of 40 normal features, labels 0..4.
std::pair<Tensor, Tensor> random_batch(uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::uniform_int_distribution<int64_t> lab(0, 4);
  std::vector<float> xv(64 * 40);
  for (float& v : xv) v = nd(gen);
  std::vector<int64_t> yv(64);
  for (int64_t& v : yv) v = lab(gen);
  return {Tensor::from_vector(xv, {64, 40}), Tensor::from_vector(yv, {64})};
}

}  // namespace

TEST_CASE("grad support: momentum-free SGD registers its mask, momentum SGD and Adam do not", "[optim]") {
  auto net = mlp();
  nn::FlatParams fp = nn::flatten_parameters(*net);
  const Tensor mask = random_mask(fp, 0.1, 1);
  const Tensor& w0 = fp.tensors[0];
  {
    optim::Sgd sgd(fp, optim::SgdOptions{0.0, false, 0.0});
    REQUIRE_FALSE(optim::grad_support(w0).defined());
    sgd.set_mask(mask);
    const Tensor s = optim::grad_support(w0);
    REQUIRE(s.defined());
    REQUIRE(s.numel() == w0.numel());
    REQUIRE(s.raw() == mask.raw());   // the mask arena's first slice
    // its nonzeros, counted at registration, and counted again when a changed mask is set again
    const auto count = [](const Tensor& t) {
      int64_t n = 0;
      for (float v : t.to_vector<float>()) n += v != 0.f;
      return n;
    };
    int64_t nnz = -2;
    optim::grad_support(w0, &nnz);
    REQUIRE(nnz == count(s));
    Tensor changed = mask.clone();
    changed.fill_(1.0);
    sgd.set_mask(changed);
    optim::grad_support(w0, &nnz);
    REQUIRE(nnz == w0.numel());
    sgd.set_mask(Tensor());
    optim::grad_support(w0, &nnz);
    REQUIRE(nnz == -1);
    REQUIRE_FALSE(optim::grad_support(w0).defined());
    sgd.set_mask(mask);
  }
  REQUIRE_FALSE(optim::grad_support(w0).defined());   // the destructor ends the registration
  {
    optim::Sgd sgd(fp, optim::SgdOptions{0.9, false, 0.0});
    sgd.set_mask(mask);
    REQUIRE_FALSE(optim::grad_support(w0).defined());
  }
  {
    optim::Adam adam(fp, optim::AdamOptions{});
    adam.set_mask(mask);
    REQUIRE_FALSE(optim::grad_support(w0).defined());
  }
}

TEST_CASE("grad support: a registration for a re-flattened parameter is stale", "[optim]") {
  auto net = mlp();
  nn::FlatParams fp = nn::flatten_parameters(*net);
  optim::set_grad_support(fp.tensors[0], Tensor::ones(fp.tensors[0].shape()));
  REQUIRE(optim::grad_support(fp.tensors[0]).defined());
  nn::FlatParams again = nn::flatten_parameters(*net);   // the parameter now lives in a new arena
  REQUIRE_FALSE(optim::grad_support(again.tensors[0]).defined());
}

TEST_CASE("grad support: masked momentum-free training with sparse weight gradients equals full gradients", "[optim]") {
  const auto [x, y] = random_batch(9);

  auto train = [&](bool supports) {
    auto net = mlp();
    nn::FlatParams fp = nn::flatten_parameters(*net);
    optim::Sgd sgd(fp, optim::SgdOptions{0.0, false, 0.0});
    const Tensor mask = random_mask(fp, 0.08, 2);
    sgd.set_mask(mask);
    if (!supports)
      for (const Tensor& t : fp.tensors) optim::clear_grad_support(t);
    fp.params.copy_(ops::mul(fp.params, mask));
    std::vector<float> grads_seen;
    for (int step = 0; step < 6; ++step) {
      sgd.zero_grad();
      ops::cross_entropy(net->forward(x), y).backward();
      if (step == 0) grads_seen = fp.grads.to_vector<float>();
      sgd.step(0.1);
    }
    return std::make_pair(fp.params.to_vector<float>(), grads_seen);
  };
  const auto sparse = train(true), dense = train(false);
  // The kept gradients agree; pruned entries of the first layer stay 0 with supports (not computed).
  const std::vector<float>& gs = sparse.second;
  const std::vector<float>& gd = dense.second;
  int64_t pruned_nonzero_dense = 0, pruned_nonzero_sparse = 0;
  for (size_t i = 0; i < 40 * 30; ++i) {
    if (std::fabs(gd[i] - gs[i]) > 1e-5f * (1.f + std::fabs(gd[i]))) {
      pruned_nonzero_sparse += gs[i] != 0.f;
      pruned_nonzero_dense += gd[i] != 0.f;
    }
  }
  REQUIRE(pruned_nonzero_sparse == 0);   // every difference is a skipped (zero) pruned entry
  REQUIRE(pruned_nonzero_dense > 100);   // ... and the dense run did compute those entries
  // The weights, which is what the run observes, agree.
  const std::vector<float>& ws = sparse.first;
  const std::vector<float>& wd = dense.first;
  REQUIRE(ws.size() == wd.size());
  for (size_t i = 0; i < ws.size(); ++i) REQUIRE(std::fabs(ws[i] - wd[i]) <= 1e-5f * (1.f + std::fabs(wd[i])));
}

TEST_CASE("grad support: support-only SGD steps give the arenas of full masked passes, bit for bit", "[optim]") {
  const auto [x, y] = random_batch(11);
  for (const bool with_reset : {false, true}) {
    // First layer 8 % kept (sparse weight gradient: support-only steps), second 40 % (dense weight
    // gradient, which writes outside the support: full passes), biases all kept.
    auto train = [&](bool force_full) {
      auto net = mlp();
      nn::FlatParams fp = nn::flatten_parameters(*net);
      optim::Sgd sgd(fp, optim::SgdOptions{0.0, false, 0.01});
      std::vector<float> m = random_mask(fp, 0.08, 4).to_vector<float>();
      const std::vector<float> m2 = random_mask(fp, 0.4, 5).to_vector<float>();
      const nn::FlatEntry& second = fp.entries[2];
      REQUIRE(second.shape == Shape{5, 30});
      for (int64_t i = second.offset; i < second.offset + second.numel; ++i) m[static_cast<size_t>(i)] = m2[static_cast<size_t>(i)];
      const Tensor mask = Tensor::from_vector(m, {fp.total});
      const Tensor reset = with_reset ? ops::mul(fp.params, Tensor::from_vector(std::vector<float>(m.size(), 0.5f), {fp.total}))
                                      : Tensor();
      sgd.set_mask(mask, reset);
      std::vector<std::vector<float>> seen;
      for (int step = 0; step < 5; ++step) {
        ops::cross_entropy(net->forward(x), y).backward();
        if (force_full) sgd.note_direct_writes();
        sgd.step_and_zero_grad(step < 3 ? 0.1 : 0.05);
        seen.push_back(fp.params.to_vector<float>());
        REQUIRE(fp.grads.to_vector<float>() == std::vector<float>(static_cast<size_t>(fp.total), 0.f));
      }
      return std::make_pair(seen, sgd.support_updates());
    };
    const auto on_support = train(false), full = train(true);
    REQUIRE(full.second == 0);
    REQUIRE(on_support.second == 4);   // the first layer after its first (full) pass; never the second
    REQUIRE(on_support.first == full.first);
  }
}
