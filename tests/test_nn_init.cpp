// tests/test_nn_init.cpp — initializer statistics (SPEC 3.1): kaiming normal / uniform spread,
// orthogonal rows / columns, binary values, BN initializers, and apply_initializers dispatch.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include "engine/nn/init.h"
#include "engine/nn/layers.h"
#include "engine/rng.h"

using namespace sdd;
using namespace sdd::nn;

namespace {
struct Stats {
  double mean = 0, std = 0, maxabs = 0;
};
Stats stats(const Tensor& t) {
  const auto v = t.to_vector<float>();
  Stats s;
  for (float x : v) {
    s.mean += x;
    s.maxabs = std::max(s.maxabs, std::abs(static_cast<double>(x)));
  }
  s.mean /= v.size();
  for (float x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / (v.size() - 1));
  return s;
}

// Gram matrix of the rows (by_rows) or the columns of a [r, c] matrix.
double max_gram_error(const std::vector<float>& a, int64_t r, int64_t c, bool by_rows) {
  const int64_t n = by_rows ? r : c, len = by_rows ? c : r;
  auto at = [&](int64_t vec, int64_t k) { return by_rows ? a[vec * c + k] : a[k * c + vec]; };
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double d = 0;
      for (int64_t k = 0; k < len; ++k) d += static_cast<double>(at(i, k)) * at(j, k);
      worst = std::max(worst, std::abs(d - (i == j ? 1.0 : 0.0)));
    }
  return worst;
}
}  // namespace

TEST_CASE("fan_in is in * kernel area", "[nn]") {
  CHECK(init::fan_in(Tensor::zeros({16, 8, 3, 3})) == 72);
  CHECK(init::fan_in(Tensor::zeros({10, 20})) == 20);
}

TEST_CASE("kaiming_normal has std sqrt(2/fan_in) and mean 0", "[nn]") {
  manual_seed(11);
  Tensor w = Tensor::zeros({256, 64, 3, 3});   // fan_in 576, 147456 values
  init::kaiming_normal_(w);
  const Stats s = stats(w);
  const double expect = std::sqrt(2.0 / 576.0);
  CHECK(s.std == Approx(expect).epsilon(0.01));
  CHECK(std::abs(s.mean) < 0.01 * expect);
}

TEST_CASE("kaiming_uniform is U(+-sqrt(6/fan_in))", "[nn]") {
  manual_seed(12);
  Tensor w = Tensor::zeros({512, 300});
  init::kaiming_uniform_(w);
  const Stats s = stats(w);
  const double bound = std::sqrt(6.0 / 300.0);
  CHECK(s.maxabs <= bound);
  CHECK(s.maxabs > 0.99 * bound);
  CHECK(s.std == Approx(bound / std::sqrt(3.0)).epsilon(0.01));   // = sqrt(2/fan_in)
}

TEST_CASE("orthogonal: rows orthonormal when wide, columns when tall", "[nn]") {
  manual_seed(13);
  {
    Tensor w = Tensor::zeros({6, 4, 2, 2});   // rows 6 < cols 16: rows orthonormal
    init::orthogonal_(w);
    CHECK(max_gram_error(w.to_vector<float>(), 6, 16, true) < 1e-5);
  }
  {
    Tensor w = Tensor::zeros({30, 10});   // tall: columns orthonormal
    init::orthogonal_(w);
    CHECK(max_gram_error(w.to_vector<float>(), 30, 10, false) < 1e-5);
  }
  {
    Tensor w = Tensor::zeros({12, 12});   // square: both
    init::orthogonal_(w);
    const auto v = w.to_vector<float>();
    CHECK(max_gram_error(v, 12, 12, true) < 1e-5);
    CHECK(max_gram_error(v, 12, 12, false) < 1e-5);
  }
  // Deterministic given the seed, different for another seed.
  Tensor a = Tensor::zeros({5, 7}), b = Tensor::zeros({5, 7}), c = Tensor::zeros({5, 7});
  manual_seed(1);
  init::orthogonal_(a);
  manual_seed(1);
  init::orthogonal_(b);
  manual_seed(2);
  init::orthogonal_(c);
  CHECK(a.to_vector<float>() == b.to_vector<float>());
  CHECK(a.to_vector<float>() != c.to_vector<float>());
}

TEST_CASE("binary: every weight is +-std of the kaiming draw", "[nn]") {
  manual_seed(14);
  Tensor w = Tensor::zeros({64, 32, 3, 3});
  init::binary_(w);
  const auto v = w.to_vector<float>();
  const float mag = std::abs(v[0]);
  CHECK(mag == Approx(std::sqrt(2.0 / 288.0)).epsilon(0.02));
  int pos = 0;
  for (float x : v) {
    CHECK(std::abs(x) == mag);
    pos += x > 0;
  }
  CHECK(pos > 0.45 * v.size());
  CHECK(pos < 0.55 * v.size());
}

TEST_CASE("BN initializers set gamma and beta", "[nn]") {
  manual_seed(15);
  BatchNorm2d bn(4096);
  init::apply_bn_init(bn, "uniform");
  Stats s = stats(bn.weight);
  for (float x : bn.weight.to_vector<float>()) {
    CHECK(x >= 0.f);
    CHECK(x < 1.f);
  }
  CHECK(s.mean == Approx(0.5).epsilon(0.03));
  CHECK(bn.bias.to_vector<float>() == std::vector<float>(4096, 0.f));

  init::apply_bn_init(bn, "positivenegative");
  s = stats(bn.weight);
  CHECK(s.maxabs <= 1.0);
  CHECK(std::abs(s.mean) < 0.05);
  CHECK(s.std == Approx(1.0 / std::sqrt(3.0)).epsilon(0.03));

  init::apply_bn_init(bn, "oneone");
  CHECK(bn.weight.to_vector<float>() == std::vector<float>(4096, 1.f));
  CHECK(bn.bias.to_vector<float>() == std::vector<float>(4096, 1.f));
  init::apply_bn_init(bn, "fixed");
  CHECK(bn.weight.to_vector<float>() == std::vector<float>(4096, 1.f));
  CHECK(bn.bias.to_vector<float>() == std::vector<float>(4096, 0.f));
}

TEST_CASE("apply_initializers touches Conv/Linear weights and BN only, rejects unknown names", "[nn]") {
  manual_seed(16);
  Sequential net({std::make_shared<Conv2d>(3, 8, 3), std::make_shared<BatchNorm2d>(8), std::make_shared<Flatten>(),
                  std::make_shared<Linear>(8, 4)});
  const auto conv_bias = net.parameter("0.bias").to_vector<float>();
  const auto lin_bias = net.parameter("3.bias").to_vector<float>();
  init::apply_initializers(net, "binary", "oneone");
  // weights became binary
  const auto cw = net.parameter("0.weight").to_vector<float>();
  for (float x : cw) CHECK(std::abs(x) == std::abs(cw[0]));
  const auto lw = net.parameter("3.weight").to_vector<float>();
  for (float x : lw) CHECK(std::abs(x) == std::abs(lw[0]));
  // biases keep their default init
  CHECK(net.parameter("0.bias").to_vector<float>() == conv_bias);
  CHECK(net.parameter("3.bias").to_vector<float>() == lin_bias);
  CHECK(net.parameter("1.bias").to_vector<float>() == std::vector<float>(8, 1.f));

  const auto before = net.parameter("0.weight").to_vector<float>();
  try {
    init::apply_initializers(net, "xavier", "uniform");
    FAIL("expected UserError");
  } catch (const UserError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("xavier") != std::string::npos);
    CHECK(msg.find("kaiming_normal") != std::string::npos);
    CHECK(msg.find("orthogonal") != std::string::npos);
  }
  CHECK_THROWS_AS(init::apply_initializers(net, "kaiming_normal", "zeros"), UserError);
  CHECK(net.parameter("0.weight").to_vector<float>() == before);   // nothing drawn on error
}
