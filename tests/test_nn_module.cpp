// tests/test_nn_module.cpp — Module naming and traversal order (PyTorch state-dict names), train /
// eval recursion, load_state checks, and the flat parameter / gradient arena.
#include <catch2/catch.hpp>

#include <memory>

#include "engine/nn/layers.h"
#include "engine/nn/module.h"
#include "engine/rng.h"

using namespace sdd;
using namespace sdd::nn;

namespace {

// A nested test model: own parameter registered after a child, a Sequential, and a nested block.
struct Block : Module {
  std::shared_ptr<Conv2d> conv;
  std::shared_ptr<BatchNorm2d> bn;
  Block() : Module("Block") {
    conv = register_module("conv", std::make_shared<Conv2d>(3, 4, 3, 1, 1, false));
    bn = register_module("bn", std::make_shared<BatchNorm2d>(4));
  }
  Tensor forward(const Tensor& x) override { return bn->forward(conv->forward(x)); }
};

struct Net : Module {
  std::shared_ptr<Sequential> features;
  std::shared_ptr<Linear> fc;
  Tensor alpha;
  Net() : Module("Net") {
    features = register_module("features", std::make_shared<Sequential>());
    features->push_back(std::make_shared<Block>());
    features->push_back(std::make_shared<ReLU>());
    features->push_back(std::make_shared<Block>());
    alpha = register_parameter("alpha", Tensor::full({2}, 0.5));
    fc = register_module("fc", std::make_shared<Linear>(4, 3));
  }
  Tensor forward(const Tensor& x) override { return fc->forward(features->forward(x)); }
};

std::vector<std::string> names_of(const NamedTensors& t) {
  std::vector<std::string> out;
  for (const auto& p : t) out.push_back(p.first);
  return out;
}

}  // namespace

TEST_CASE("named_parameters: own first, then children recursively, PyTorch names", "[nn]") {
  Net net;
  const std::vector<std::string> expect = {"alpha",
                                           "features.0.conv.weight",
                                           "features.0.bn.weight",
                                           "features.0.bn.bias",
                                           "features.2.conv.weight",
                                           "features.2.bn.weight",
                                           "features.2.bn.bias",
                                           "fc.weight",
                                           "fc.bias"};
  CHECK(names_of(net.named_parameters()) == expect);
  CHECK(net.num_parameters() == 2 + 2 * (4 * 3 * 9 + 4 + 4) + 12 + 3);
  CHECK(net.parameter("fc.bias").same(net.fc->bias));
  CHECK(net.parameter("features.2.conv.weight").shape() == Shape{4, 3, 3, 3});
  CHECK_THROWS(net.parameter("fc.nothing"));
  for (const auto& p : net.named_parameters()) CHECK(p.second.requires_grad());
}

TEST_CASE("state_dict: per module params then buffers, then children", "[nn]") {
  Net net;
  const std::vector<std::string> expect = {"alpha",
                                           "features.0.conv.weight",
                                           "features.0.bn.weight",
                                           "features.0.bn.bias",
                                           "features.0.bn.running_mean",
                                           "features.0.bn.running_var",
                                           "features.0.bn.num_batches_tracked",
                                           "features.2.conv.weight",
                                           "features.2.bn.weight",
                                           "features.2.bn.bias",
                                           "features.2.bn.running_mean",
                                           "features.2.bn.running_var",
                                           "features.2.bn.num_batches_tracked",
                                           "fc.weight",
                                           "fc.bias"};
  CHECK(names_of(net.state_dict()) == expect);
  const auto bufs = net.named_buffers();
  REQUIRE(bufs.size() == 6);
  CHECK(bufs[0].first == "features.0.bn.running_mean");
  const Tensor nbt = net.features->at(0)->state_dict().back().second;
  CHECK(nbt.dtype() == DType::i64);
  CHECK(nbt.dim() == 0);
  CHECK(nbt.numel() == 1);
  CHECK(nbt.item() == 0.0);
  CHECK(net.features->at(0)->parameter("bn.weight").to_vector<float>() == std::vector<float>(4, 1.f));
  CHECK(bufs[1].second.to_vector<float>() == std::vector<float>(4, 1.f));   // running_var
}

TEST_CASE("named_modules is depth-first pre-order with the root named empty", "[nn]") {
  Net net;
  std::vector<std::string> names;
  for (const auto& m : net.named_modules()) names.push_back(m.first);
  const std::vector<std::string> expect = {"",           "features",   "features.0",   "features.0.conv",
                                           "features.0.bn", "features.1", "features.2", "features.2.conv",
                                           "features.2.bn", "fc"};
  CHECK(names == expect);
  CHECK(net.named_modules()[3].second->type_name() == "Conv2d");
}

TEST_CASE("train / eval recurse into every submodule", "[nn]") {
  Net net;
  net.eval();
  for (const auto& m : net.named_modules()) CHECK_FALSE(m.second->is_training());
  net.train();
  for (const auto& m : net.named_modules()) CHECK(m.second->is_training());
}

TEST_CASE("Linear and Conv2d default init is U(+-1/sqrt(fan_in))", "[nn]") {
  manual_seed(3);
  Linear lin(50, 400);
  CHECK(lin.weight.shape() == Shape{400, 50});
  CHECK(lin.bias.shape() == Shape{400});
  const double bound = 1.0 / std::sqrt(50.0);
  double mx = 0.0, sumsq = 0.0;
  const auto w = lin.weight.to_vector<float>();
  for (float x : w) {
    mx = std::max(mx, std::abs(static_cast<double>(x)));
    sumsq += static_cast<double>(x) * x;
  }
  CHECK(mx <= bound);
  CHECK(mx > 0.95 * bound);
  // Var of U(-b, b) is b^2 / 3.
  CHECK(sumsq / w.size() == Approx(bound * bound / 3.0).epsilon(0.05));
  for (float x : lin.bias.to_vector<float>()) CHECK(std::abs(x) <= bound);
  Conv2d conv(8, 16, 3, 1, 1, true);
  const double cb = 1.0 / std::sqrt(8.0 * 9.0);
  for (float x : conv.weight.to_vector<float>()) CHECK(std::abs(x) <= cb);
  Linear nob(3, 2, false);
  CHECK_FALSE(nob.bias.defined());
  CHECK(nob.named_parameters().size() == 1);
}

TEST_CASE("load_state copies by name and rejects mismatches with named UserErrors", "[nn]") {
  manual_seed(1);
  Net a;
  manual_seed(2);
  Net b;
  REQUIRE(a.fc->weight.to_vector<float>() != b.fc->weight.to_vector<float>());
  b.load_state(a.state_dict());
  CHECK(a.fc->weight.to_vector<float>() == b.fc->weight.to_vector<float>());
  CHECK(a.parameter("features.2.conv.weight").to_vector<float>() ==
        b.parameter("features.2.conv.weight").to_vector<float>());
  CHECK_FALSE(a.fc->weight.same(b.fc->weight));   // copied, not aliased

  // shape mismatch names the tensor
  NamedTensors bad = a.state_dict();
  for (auto& t : bad)
    if (t.first == "fc.weight") t.second = Tensor::zeros({3, 5});
  try {
    b.load_state(bad);
    FAIL("expected UserError");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).find("fc.weight") != std::string::npos);
  }

  // missing and unexpected names in strict mode
  NamedTensors partial = a.state_dict();
  partial.erase(partial.begin());   // drop alpha
  partial.emplace_back("extra.thing", Tensor::zeros({1}));
  try {
    b.load_state(partial, true);
    FAIL("expected UserError");
  } catch (const UserError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("alpha") != std::string::npos);
    CHECK(msg.find("extra.thing") != std::string::npos);
  }
  // non-strict ignores both
  b.alpha.fill_(7.0);
  b.load_state(partial, false);
  CHECK(b.alpha.to_vector<float>() == std::vector<float>(2, 7.f));
}

TEST_CASE("flatten_parameters keeps values and aliases existing handles", "[nn]") {
  manual_seed(5);
  Net net;
  NamedTensors before;
  for (const auto& p : net.named_parameters()) before.emplace_back(p.first, p.second.clone());
  Tensor fc_w = net.fc->weight;   // a handle taken before flattening

  FlatParams fp = flatten_parameters(net);
  CHECK(fp.total == net.num_parameters());
  CHECK(fp.params.numel() == fp.total);
  CHECK(fp.grads.numel() == fp.total);
  REQUIRE(fp.entries.size() == before.size());

  const float* base = fp.params.data<float>();
  int64_t offset = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    const FlatEntry& e = fp.entries[i];
    CHECK(e.name == before[i].first);
    CHECK(e.offset == offset);
    CHECK(e.shape == before[i].second.shape());
    Tensor p = net.parameter(e.name);
    CHECK(p.data<float>() == base + e.offset);                // the parameter now lives in the arena
    CHECK(p.to_vector<float>() == before[i].second.to_vector<float>());
    REQUIRE(p.grad().defined());
    CHECK(p.grad().data<float>() == fp.grads.data<float>() + e.offset);
    offset += e.numel;
  }
  // the old handle sees arena writes
  const FlatEntry* fe = fp.find("fc.weight");
  REQUIRE(fe != nullptr);
  fp.params.data<float>()[fe->offset + 1] = 42.f;
  CHECK(fc_w.to_vector<float>()[1] == 42.f);
  CHECK(fp.find("nope") == nullptr);

  // zero_grad is one fill of the grads arena
  fp.grads.fill_(3.0);
  CHECK(net.fc->bias.grad().to_vector<float>() == std::vector<float>(3, 3.f));
  fp.zero_grad();
  CHECK(net.alpha.grad().to_vector<float>() == std::vector<float>(2, 0.f));

  // buffers are not in the arena
  CHECK(net.named_buffers()[0].second.data<float>() != base);
}

TEST_CASE("trainable_ranges merges neighbours and skips frozen entries", "[nn]") {
  Net net;
  FlatParams fp = flatten_parameters(net);
  auto all = fp.trainable_ranges();
  REQUIRE(all.size() == 1);
  CHECK(all[0] == std::pair<int64_t, int64_t>(0, fp.total));
  // freeze both BN layers of block 2 (after flattening: handles are read live)
  net.parameter("features.2.bn.weight").set_requires_grad(false);
  net.parameter("features.2.bn.bias").set_requires_grad(false);
  auto r = fp.trainable_ranges();
  const FlatEntry* w = fp.find("features.2.bn.weight");
  const FlatEntry* fcw = fp.find("fc.weight");
  REQUIRE(r.size() == 2);
  CHECK(r[0] == std::pair<int64_t, int64_t>(0, w->offset));
  CHECK(r[1] == std::pair<int64_t, int64_t>(fcw->offset, fp.total));
  // frozen before flattening: recorded in the entry
  Net net2;
  net2.alpha.set_requires_grad(false);
  FlatParams fp2 = flatten_parameters(net2);
  CHECK_FALSE(fp2.entries[0].requires_grad);
  CHECK(fp2.trainable_ranges()[0].first == 2);
}

TEST_CASE("Sequential names children 0..n-1 and indexes them", "[nn]") {
  Sequential s({std::make_shared<Linear>(2, 3), std::make_shared<ReLU>(), std::make_shared<Linear>(3, 1)});
  CHECK(s.size() == 3);
  CHECK(s[1].type_name() == "ReLU");
  CHECK(names_of(s.named_parameters()) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  MaxPool2d mp(2);
  CHECK(mp.stride == 2);
  AvgPool2d ap(3, 1, 1);
  CHECK(ap.stride == 1);
}
