// tests/test_models_forward.cpp — models in action: output shapes at each dataset's input size,
// initializer statistics (SPEC 3.1), a gradient for every parameter after one backward, and the
// safetensors save / load round trip by tensor name.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>

#include "engine/errors.h"
#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "models/registry.h"

using namespace sdd;
using namespace sdd::models;

namespace {

Tensor random_images(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed) {
  Generator g(seed);
  std::vector<float> v(static_cast<size_t>(n * c * h * w));
  for (float& x : v) x = static_cast<float>(g.normal());
  return Tensor::from_vector(v, {n, c, h, w});
}

Tensor labels(int64_t n, int64_t classes) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = i % classes;
  return Tensor::from_vector(v, {n});
}

bool all_finite(const Tensor& t) {
  for (float x : t.to_vector<float>())
    if (!std::isfinite(x)) return false;
  return true;
}

}  // namespace

TEST_CASE("models: output shapes at the dataset input size", "[models]") {
  struct Case {
    const char* name;
    int64_t outputs, c, h;
  };
  const Case cases[] = {
      {"mnist_mlp_300_100", 10, 1, 28},       {"cifar_vgg_11", 10, 3, 32},
      {"cifar_pytorch_resnet_18_8", 100, 3, 32}, {"cifar_pytorch_resnet_50_4", 10, 3, 32},
      {"tinyimagenet_resnet_18_4", 200, 3, 32},  {"imagenet_resnet_18_4", 1000, 3, 224},
      {"cifar_resnet_20", 10, 3, 32},          {"cifar_resnet_8_2", 10, 3, 32},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    ModelPtr m = get_model(c.name, c.outputs, "kaiming_normal", "uniform");
    const Tensor x = random_images(2, c.c, c.h, c.h, 11);
    Tensor y;
    {
      NoGradGuard no_grad;
      y = m->forward(x);
    }
    CHECK(y.shape() == Shape{2, c.outputs});
    CHECK(all_finite(y));
    m->eval();
    NoGradGuard no_grad;
    const Tensor ye = m->forward(x);
    CHECK(ye.shape() == Shape{2, c.outputs});
    CHECK(all_finite(ye));
  }
}

TEST_CASE("models: initializer statistics (SPEC 3.1)", "[models]") {
  manual_seed(5);
  ModelPtr m = get_model("cifar_vgg_11", 10, "kaiming_normal", "uniform");
  // layers.8 is a 512x512x3x3 conv (2.36M weights): std within 1% of sqrt(2/fan_in).
  {
    const Tensor w = m->parameter("layers.8.conv.weight");
    REQUIRE(w.shape() == Shape{512, 512, 3, 3});
    const auto v = w.to_vector<float>();
    double s = 0, s2 = 0;
    for (float x : v) s += x, s2 += double(x) * x;
    const double mean = s / v.size(), std = std::sqrt(s2 / v.size() - mean * mean);
    const double expected = std::sqrt(2.0 / (512 * 9));
    CHECK(std::abs(mean) < 0.01 * expected);
    CHECK(std / expected == Approx(1.0).epsilon(0.01));
  }
  // Conv bias keeps the default U(±1/sqrt(fan_in)).
  {
    const auto b = m->parameter("layers.8.conv.bias").to_vector<float>();
    const double bound = 1.0 / std::sqrt(512.0 * 9);
    double maxabs = 0;
    for (float x : b) maxabs = std::max(maxabs, double(std::abs(x)));
    CHECK(maxabs <= bound);
    CHECK(maxabs > 0.5 * bound);
  }
  // BN gamma ~ U[0,1), beta = 0, running stats at their defaults.
  {
    const auto g = m->parameter("layers.8.bn.weight").to_vector<float>();
    double mean = 0;
    for (float x : g) {
      CHECK((x >= 0.0f && x < 1.0f));
      mean += x;
    }
    mean /= g.size();
    CHECK(mean == Approx(0.5).margin(0.06));
    for (float x : m->parameter("layers.8.bn.bias").to_vector<float>()) CHECK(x == 0.0f);
  }
  // kaiming_uniform bound and fixed BN
  ModelPtr u = get_model("mnist_mlp_300_100", 10, "kaiming_uniform", "fixed");
  const auto w = u->parameter("fc_layers.0.weight").to_vector<float>();
  const double bound = std::sqrt(6.0 / 784);
  double maxabs = 0;
  for (float x : w) maxabs = std::max(maxabs, double(std::abs(x)));
  CHECK(maxabs <= bound);
  CHECK(maxabs > 0.99 * bound);
  ModelPtr r = get_model("cifar_resnet_8_2", 10, "kaiming_normal", "fixed");
  for (float x : r->parameter("bn.weight").to_vector<float>()) CHECK(x == 1.0f);
}

TEST_CASE("models: every parameter receives a gradient after one backward", "[models]") {
  struct Case {
    const char* name;
    int64_t outputs, c, h;
  };
  const Case cases[] = {
      {"mnist_mlp_20_10", 10, 1, 28},
      {"cifar_vgg_11", 10, 3, 32},
      {"cifar_pytorch_resnet_18_4", 10, 3, 32},
      {"cifar_pytorch_resnet_50_2", 10, 3, 32},
      {"imagenet_resnet_18_2", 10, 3, 64},
      {"cifar_resnet_8_4", 10, 3, 32},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    manual_seed(3);
    ModelPtr m = get_model(c.name, c.outputs, "kaiming_normal", "uniform");
    const Tensor x = random_images(4, c.c, c.h, c.h, 21);
    Tensor loss = ops::cross_entropy(m->forward(x), labels(4, c.outputs));
    CHECK(std::isfinite(loss.item()));
    loss.backward();
    for (const auto& [name, p] : m->named_parameters()) {
      INFO(name);
      const Tensor g = p.grad();
      REQUIRE(g.defined());
      CHECK(g.shape() == p.shape());
      CHECK(all_finite(g));
      double sumabs = 0;
      for (float v : g.to_vector<float>()) sumabs += std::abs(v);
      CHECK(sumabs > 0.0);
    }
  }
}

TEST_CASE("models: BN buffers update in training mode only", "[models]") {
  ModelPtr m = get_model("cifar_resnet_8_2", 10, "kaiming_normal", "uniform");
  const Tensor x = random_images(4, 3, 32, 32, 2);
  {
    NoGradGuard no_grad;
    m->forward(x);
  }
  CHECK(m->state_dict().size() > 0);
  Tensor nbt;
  Tensor rm;
  for (const auto& [name, t] : m->state_dict()) {
    if (name == "bn.num_batches_tracked") nbt = t;
    if (name == "bn.running_mean") rm = t;
  }
  REQUIRE(nbt.defined());
  REQUIRE(rm.defined());
  CHECK(nbt.item() == 1.0);
  double s = 0;
  for (float v : rm.to_vector<float>()) s += std::abs(v);
  CHECK(s > 0.0);
  m->eval();
  {
    NoGradGuard no_grad;
    m->forward(x);
  }
  CHECK(nbt.item() == 1.0);
}

TEST_CASE("models: save and load weights by tensor name", "[models]") {
  const std::string path = std::string(SDD_BINARY_DIR) + "/test_models_roundtrip.safetensors";
  manual_seed(1);
  ModelPtr a = get_model("cifar_resnet_8_2", 10, "kaiming_normal", "uniform");
  save_model(*a, path);
  manual_seed(2);
  ModelPtr b = load_model(path, "cifar_resnet_8_2", 10, "kaiming_normal", "uniform");
  const auto sa = a->state_dict();
  const auto sb = b->state_dict();
  REQUIRE(sa.size() == sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    INFO(sa[i].first);
    CHECK(sa[i].first == sb[i].first);
    CHECK(sa[i].second.dtype() == sb[i].second.dtype());
    if (sa[i].second.dtype() == DType::f32) CHECK(sa[i].second.to_vector<float>() == sb[i].second.to_vector<float>());
  }
  // A different architecture (or width) is refused by name and shape.
  ModelPtr c = create_model("cifar_resnet_8_4", 10);
  CHECK_THROWS_AS(load_model_weights(*c, path), UserError);
  ModelPtr d = create_model("cifar_resnet_14_2", 10);
  CHECK_THROWS_AS(load_model_weights(*d, path), UserError);
  CHECK_THROWS_AS(load_model_weights(*d, path + ".missing"), UserError);
  std::remove(path.c_str());
}
