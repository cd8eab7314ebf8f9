// tests/test_nn_train_mlp.cpp — layers end to end: forward shapes through conv / BN / pool layers,
// BN's num_batches_tracked, and a small MLP that learns a non-linear 2-D task (concentric circles)
// with the flat arena and SGD.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "engine/rng.h"

using namespace sdd;
using namespace sdd::nn;

TEST_CASE("layer forward shapes and BN num_batches_tracked", "[nn]") {
  manual_seed(21);
  auto bn = std::make_shared<BatchNorm2d>(4);
  Sequential net({std::make_shared<Conv2d>(3, 4, 3, 1, 1), bn, std::make_shared<ReLU>(),
                  std::make_shared<MaxPool2d>(2), std::make_shared<AvgPool2d>(2, 1, 1),
                  std::make_shared<AdaptiveAvgPool2d>(1), std::make_shared<Flatten>(), std::make_shared<Identity>(),
                  std::make_shared<Linear>(4, 5)});
  Tensor x = Tensor::zeros({2, 3, 8, 8});
  {
    std::vector<float> v(static_cast<size_t>(x.numel()));
    for (float& f : v) f = static_cast<float>(global_generator().normal());
    x.copy_(Tensor::from_vector(v, x.shape()));
  }
  Tensor y = net(x);
  CHECK(y.shape() == Shape{2, 5});
  CHECK(bn->num_batches_tracked.item() == 1.0);
  // training mode moved the running mean away from 0
  bool moved = false;
  for (float m : bn->running_mean.to_vector<float>()) moved = moved || m != 0.f;
  CHECK(moved);
  net.eval();
  const auto rm = bn->running_mean.to_vector<float>();
  Tensor y2 = net(x);
  CHECK(bn->num_batches_tracked.item() == 1.0);   // eval does not count
  CHECK(bn->running_mean.to_vector<float>() == rm);
  CHECK(y2.shape() == Shape{2, 5});
}

TEST_CASE("a small MLP learns concentric circles above 95% train accuracy", "[nn]") {
  manual_seed(7);
  Generator data_gen(1234);
  // 256 points: class 0 inside radius 0.5, class 1 in the ring 0.8..1.2 (angles uniform).
  const int64_t n = 256;
  std::vector<float> xs(static_cast<size_t>(2 * n));
  std::vector<int64_t> ys(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % 2;
    const double r = label == 0 ? 0.5 * data_gen.uniform() : 0.8 + 0.4 * data_gen.uniform();
    const double a = 2.0 * M_PI * data_gen.uniform();
    xs[static_cast<size_t>(2 * i)] = static_cast<float>(r * std::cos(a));
    xs[static_cast<size_t>(2 * i + 1)] = static_cast<float>(r * std::sin(a));
    ys[static_cast<size_t>(i)] = label;
  }
  Tensor x = Tensor::from_vector(xs, {n, 2});
  Tensor labels = Tensor::from_vector(ys, {n});

  Sequential mlp({std::make_shared<Linear>(2, 32), std::make_shared<ReLU>(), std::make_shared<Linear>(32, 32),
                  std::make_shared<ReLU>(), std::make_shared<Linear>(32, 2)});
  FlatParams fp = flatten_parameters(mlp);
  optim::Sgd opt(fp, optim::SgdOptions{0.9, false, 1e-4});

  auto accuracy = [&]() {
    NoGradGuard ng;
    Tensor pred = ops::argmax(mlp(x));
    return static_cast<double>(ops::count_equal(pred, labels)) / n;
  };
  const double acc0 = accuracy();
  double first_loss = 0.0, last_loss = 0.0;
  for (int step = 0; step < 400; ++step) {
    opt.zero_grad();
    Tensor loss = ops::cross_entropy(mlp(x), labels);
    if (step == 0) first_loss = loss.item();
    last_loss = loss.item();
    loss.backward();
    opt.step(0.05);
  }
  const double acc = accuracy();
  INFO("accuracy before " << acc0 << ", after " << acc << "; loss " << first_loss << " -> " << last_loss);
  CHECK(acc > 0.95);
  CHECK(last_loss < 0.5 * first_loss);
  // parameters still live in the arena after training
  CHECK(mlp.parameter("4.bias").data<float>() == fp.params.data<float>() + fp.find("4.bias")->offset);
}
