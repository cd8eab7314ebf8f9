// tests/test_ops_grad.cpp — finite-difference gradient checks of every differentiable op [ops].
// Small random inputs, central differences in double over f32 forwards (tests/support/gradcheck.h),
// tolerances stated per call; NaN poisoning is on during every check.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "engine/ops.h"
#include "support/gradcheck.h"

using namespace sdd;
using sdd::test::gradcheck;
using sdd::test::GradCheckOptions;
using sdd::test::random_tensor;

namespace {
void expect_grad_ok(const test::GradFn& f, const std::vector<Tensor>& in, const GradCheckOptions& opt = {}) {
  const test::GradCheckResult r = gradcheck(f, in, opt);
  INFO(r.message << "checked " << r.checked << ", skipped " << r.skipped);
  CHECK(r.ok);
  CHECK(r.checked > 0);
  CHECK(r.skipped <= r.checked / 4);  // kinks are rare for random inputs
}

Tensor rnd(const Shape& s, uint64_t seed) { return random_tensor(s, seed, -1.f, 1.f); }

// A shuffled grid (k - n/2 + 0.5) * 0.07: entries differ by >= 0.07 and stay >= 0.035 away from 0,
// so with eps 1e-2 no relu kink or max-pool tie lies within a perturbation.
Tensor distinct(const Shape& s, uint64_t seed) {
  const int64_t n = shape_numel(s);
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) v[static_cast<size_t>(k)] = (static_cast<float>(k - n / 2) + 0.5f) * 0.07f;
  std::mt19937_64 gen(seed);
  std::shuffle(v.begin(), v.end(), gen);
  return Tensor::from_vector(v, s);
}
}  // namespace

TEST_CASE("grad: add, sub, mul, scalars", "[ops]") {
  const Tensor a = rnd({3, 4}, 1), b = rnd({3, 4}, 2);
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::add(t[0], t[1]); }, {a, b});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::sub(t[0], t[1]); }, {a, b});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::mul(t[0], t[1]); }, {a, b});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::mul_scalar(t[0], -2.5f); }, {a});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::add_scalar(t[0], 3.f); }, {a});
  // the same tensor used twice: gradients accumulate (d/dx x*x = 2x)
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::mul(t[0], t[0]); }, {a});
}

TEST_CASE("grad: relu, sum, mean", "[ops]") {
  const Tensor x = distinct({4, 5}, 3);
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::relu(t[0]); }, {x});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::sum(t[0]); }, {x});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::mean(t[0]); }, {x});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::mean(ops::relu(t[0])); }, {x});
  // entries exactly at the kink are skipped, the others still checked
  const Tensor k = Tensor::from_vector<float>({0.f, 0.5f, -0.5f, 0.f}, {4});
  const test::GradCheckResult r = gradcheck([](const std::vector<Tensor>& t) { return ops::relu(t[0]); }, {k});
  CHECK(r.ok);
  CHECK(r.skipped == 2);
  CHECK(r.checked == 2);
}

TEST_CASE("grad: reshape and flatten", "[ops]") {
  const Tensor x = rnd({2, 3, 2, 2}, 4), w = rnd({6, 12}, 5);
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::reshape(t[0], {4, -1}); }, {x});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::linear(ops::flatten(t[0]), t[1], Tensor()); }, {x, w});
}

TEST_CASE("grad: matmul and linear", "[ops]") {
  const Tensor a = rnd({3, 5}, 6), b = rnd({5, 4}, 7);
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::matmul(t[0], t[1]); }, {a, b});
  const Tensor x = rnd({4, 6}, 8), w = rnd({3, 6}, 9), bias = rnd({3}, 10);
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::linear(t[0], t[1], t[2]); }, {x, w, bias});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::linear(t[0], t[1], Tensor()); }, {x, w});
}

TEST_CASE("grad: conv2d strided, padded, with and without bias", "[ops]") {
  const Tensor x = rnd({2, 3, 5, 6}, 11), w = rnd({4, 3, 3, 2}, 12), b = rnd({4}, 13);
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::conv2d(t[0], t[1], t[2], 2, 1); }, {x, w, b});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::conv2d(t[0], t[1], Tensor(), 1, 0); }, {x, w});
  const Tensor w3 = rnd({2, 3, 3, 3}, 14);
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::conv2d(t[0], t[1], Tensor(), 1, 1); }, {x, w3});
  const Tensor w1 = rnd({2, 3, 1, 1}, 15);  // 1x1 (identity unfold) and 1x1 stride 2 (shortcut)
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::conv2d(t[0], t[1], Tensor(), 1, 0); }, {x, w1});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::conv2d(t[0], t[1], Tensor(), 2, 0); }, {x, w1});
}

TEST_CASE("grad: batch_norm train and eval", "[ops]") {
  GradCheckOptions opt;
  opt.eps = 5e-3;
  opt.kink_tol = 0.5;  // smooth but curved; no kinks to skip
  const Tensor x = rnd({3, 2, 2, 3}, 16), gamma = random_tensor({2}, 17, 0.5f, 1.5f), beta = rnd({2}, 18);
  const Tensor rm = Tensor::zeros({2}), rv = Tensor::ones({2});
  expect_grad_ok([rm, rv](const std::vector<Tensor>& t) {
    return ops::batch_norm(t[0], t[1], t[2], rm, rv, true, 0.1, 1e-5);
  }, {x, gamma, beta}, opt);
  const Tensor x2 = rnd({5, 3}, 19), g2 = random_tensor({3}, 20, 0.5f, 1.5f), b2 = rnd({3}, 21);
  const Tensor rm2 = Tensor::zeros({3}), rv2 = Tensor::ones({3});
  expect_grad_ok([rm2, rv2](const std::vector<Tensor>& t) {
    return ops::batch_norm(t[0], t[1], t[2], rm2, rv2, true, 0.1, 1e-5);
  }, {x2, g2, b2}, opt);
  const Tensor erm = rnd({2}, 22), erv = random_tensor({2}, 23, 0.5f, 2.f);
  expect_grad_ok([erm, erv](const std::vector<Tensor>& t) {
    return ops::batch_norm(t[0], t[1], t[2], erm, erv, false, 0.1, 1e-5);
  }, {x, gamma, beta});
}

TEST_CASE("grad: max and avg pooling with stride and padding, adaptive pool", "[ops]") {
  const Tensor x = distinct({2, 2, 5, 6}, 24);
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::max_pool2d(t[0], 2, 2, 0); }, {x});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::max_pool2d(t[0], 3, 2, 1); }, {x});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::avg_pool2d(t[0], 2, 2, 0); }, {x});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::avg_pool2d(t[0], 3, 2, 1); }, {x});
  expect_grad_ok([](const std::vector<Tensor>& t) { return ops::adaptive_avg_pool2d_1x1(t[0]); }, {x});
}

TEST_CASE("grad: cross_entropy", "[ops]") {
  GradCheckOptions opt;
  opt.kink_tol = 0.5;
  const Tensor logits = random_tensor({4, 5}, 25, -3.f, 3.f);
  const Tensor labels = Tensor::from_vector<int64_t>({0, 4, 2, 2}, {4});
  expect_grad_ok([labels](const std::vector<Tensor>& t) { return ops::cross_entropy(t[0], labels); }, {logits}, opt);
  // through a small MLP: linear -> relu -> linear -> loss
  const Tensor x = rnd({4, 6}, 26), w1 = rnd({5, 6}, 27), b1 = rnd({5}, 28), w2 = rnd({3, 5}, 29), b2 = rnd({3}, 30);
  const Tensor lab3 = Tensor::from_vector<int64_t>({0, 1, 2, 1}, {4});
  expect_grad_ok([lab3](const std::vector<Tensor>& t) {
    return ops::cross_entropy(ops::linear(ops::relu(ops::linear(t[0], t[1], t[2])), t[3], t[4]), lab3);
  }, {x, w1, b1, w2, b2}, opt);
}
