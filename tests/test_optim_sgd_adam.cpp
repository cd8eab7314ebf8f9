// tests/test_optim_sgd_adam.cpp — SGD (plain, momentum, nesterov, weight decay, masks with and
// without reset, frozen parameters) and Adam against hand-computed PyTorch steps (SPEC 6.1, 7.3).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"

using namespace sdd;
using namespace sdd::nn;
using namespace sdd::optim;

namespace {
// Two parameters "a" [2] and "b" [3]: arena layout a0 a1 b0 b1 b2.
struct TwoParams : Module {
  Tensor a, b;
  TwoParams(std::vector<float> av, std::vector<float> bv) : Module("TwoParams") {
    a = register_parameter("a", Tensor::from_vector(av, {2}));
    b = register_parameter("b", Tensor::from_vector(bv, {3}));
  }
  Tensor forward(const Tensor& x) override { return x; }
};

void set_grads(FlatParams& fp, std::vector<float> g) {
  REQUIRE(static_cast<int64_t>(g.size()) == fp.total);
  fp.grads.copy_(Tensor::from_vector(g, {fp.total}));
}

std::vector<float> vals(const Tensor& t) { return t.to_vector<float>(); }
}  // namespace

TEST_CASE("SGD plain step: w -= lr * g", "[optim]") {
  TwoParams m({1.f, 2.f}, {0.f, -1.f, 3.f});
  FlatParams fp = flatten_parameters(m);
  Sgd opt(fp, SgdOptions{});
  set_grads(fp, {0.5f, -1.f, 2.f, 0.f, 10.f});
  opt.step(0.1);
  const auto a = vals(m.a), b = vals(m.b);
  CHECK(a[0] == Approx(0.95f));
  CHECK(a[1] == Approx(2.1f));
  CHECK(b[0] == Approx(-0.2f));
  CHECK(b[1] == -1.f);
  CHECK(b[2] == Approx(2.f));
  CHECK(opt.steps() == 1);
  CHECK(opt.state_tensors().empty());   // no momentum buffer without momentum
}

TEST_CASE("SGD momentum: first step initialises the buffer with g", "[optim]") {
  TwoParams m({1.f, 1.f}, {1.f, 1.f, 1.f});
  FlatParams fp = flatten_parameters(m);
  Sgd opt(fp, SgdOptions{0.9, false, 0.0});
  set_grads(fp, {1.f, 1.f, 1.f, 1.f, 1.f});
  opt.step(0.1);   // buf 1, w 0.9
  CHECK(vals(m.a)[0] == Approx(0.9f).epsilon(1e-6));
  CHECK(vals(opt.momentum_buffer())[0] == 1.f);
  opt.step(0.1);   // buf 1.9, w 0.71
  CHECK(vals(m.a)[0] == Approx(0.71f).epsilon(1e-6));
  CHECK(vals(opt.momentum_buffer())[4] == Approx(1.9f).epsilon(1e-6));
  REQUIRE(opt.state_tensors().size() == 1);
  CHECK(opt.state_tensors()[0].first == "momentum_buffer");
}

TEST_CASE("SGD nesterov: d = g + mu * buf", "[optim]") {
  TwoParams m({1.f, 1.f}, {1.f, 1.f, 1.f});
  FlatParams fp = flatten_parameters(m);
  Sgd opt(fp, SgdOptions{0.9, true, 0.0});
  set_grads(fp, {1.f, 1.f, 1.f, 1.f, 1.f});
  opt.step(0.1);   // buf 1, d 1.9, w 0.81
  CHECK(vals(m.b)[2] == Approx(0.81f).epsilon(1e-6));
  opt.step(0.1);   // buf 1.9, d 2.71, w 0.539
  CHECK(vals(m.b)[2] == Approx(0.539f).epsilon(1e-6));
}

TEST_CASE("SGD coupled weight decay goes through the momentum buffer", "[optim]") {
  TwoParams m({1.f, -2.f}, {0.f, 0.f, 0.f});
  FlatParams fp = flatten_parameters(m);
  Sgd opt(fp, SgdOptions{0.5, false, 0.1});
  set_grads(fp, {0.f, 1.f, 0.f, 0.f, 0.f});
  opt.step(0.1);
  // a0: g' = 0 + 0.1*1 = 0.1; buf 0.1; w = 1 - 0.01 = 0.99
  // a1: g' = 1 + 0.1*-2 = 0.8; buf 0.8; w = -2 - 0.08 = -2.08
  CHECK(vals(m.a)[0] == Approx(0.99f).epsilon(1e-6));
  CHECK(vals(m.a)[1] == Approx(-2.08f).epsilon(1e-6));
  opt.step(0.1);
  // a0: g' = 0.099; buf = 0.05 + 0.099 = 0.149; w = 0.99 - 0.0149 = 0.9751
  CHECK(vals(m.a)[0] == Approx(0.9751f).epsilon(1e-6));
  CHECK(vals(opt.momentum_buffer())[0] == Approx(0.149f).epsilon(1e-6));
}

TEST_CASE("SGD mask: pruned weights written 0 while their momentum accumulates", "[optim]") {
  TwoParams m({1.f, 1.f}, {2.f, 2.f, 2.f});
  FlatParams fp = flatten_parameters(m);
  Sgd opt(fp, SgdOptions{0.9, false, 0.01});
  Tensor mask = Tensor::from_vector(std::vector<float>{1.f, 0.f, 1.f, 0.f, 1.f}, {5});
  opt.set_mask(mask);
  set_grads(fp, {1.f, 1.f, 1.f, 1.f, 1.f});
  opt.step(0.1);
  auto a = vals(m.a), b = vals(m.b);
  CHECK(a[1] == 0.f);
  CHECK(b[1] == 0.f);
  // kept: g' = 1 + 0.01*1 = 1.01, w = 1 - 0.101
  CHECK(a[0] == Approx(0.899f).epsilon(1e-6));
  // pruned a1: the buffer took g' = 1 + 0.01*1 (w was 1 before the step)
  CHECK(vals(opt.momentum_buffer())[1] == Approx(1.01f).epsilon(1e-6));
  opt.step(0.1);
  a = vals(m.a);
  CHECK(a[1] == 0.f);
  // second step: w = 0 so decay adds nothing: buf = 0.9*1.01 + 1 = 1.909
  CHECK(vals(opt.momentum_buffer())[1] == Approx(1.909f).epsilon(1e-6));
  CHECK(vals(opt.momentum_buffer())[3] == Approx(0.9f * 1.02f + 1.f).epsilon(1e-6));
}

TEST_CASE("SGD mask with reset arena: pruned weights frozen at their reset value", "[optim]") {
  TwoParams m({1.f, 1.f}, {2.f, 2.f, 2.f});
  FlatParams fp = flatten_parameters(m);
  Sgd opt(fp, SgdOptions{0.9, false, 0.0});
  Tensor mask = Tensor::from_vector(std::vector<float>{0.f, 1.f, 1.f, 1.f, 0.f}, {5});
  Tensor reset = Tensor::from_vector(std::vector<float>{-7.f, 9.f, 9.f, 9.f, 0.25f}, {5});
  opt.set_mask(mask, reset);
  set_grads(fp, {3.f, 1.f, 1.f, 1.f, 3.f});
  opt.step(0.1);
  opt.step(0.1);
  CHECK(vals(m.a)[0] == -7.f);
  CHECK(vals(m.b)[2] == 0.25f);
  CHECK(vals(m.a)[1] == Approx(1.f - 0.1f - 0.19f).epsilon(1e-6));
  CHECK(vals(opt.momentum_buffer())[0] == Approx(0.9f * 3.f + 3.f).epsilon(1e-6));
  // dropping the mask: every weight trains again
  opt.set_mask(Tensor());
  opt.step(0.1);
  CHECK(vals(m.a)[0] != -7.f);
}

TEST_CASE("SGD skips frozen parameters entirely", "[optim]") {
  TwoParams m({1.f, 1.f}, {1.f, 1.f, 1.f});
  m.a.set_requires_grad(false);
  FlatParams fp = flatten_parameters(m);
  Sgd opt(fp, SgdOptions{0.9, false, 0.5});
  set_grads(fp, {1.f, 1.f, 1.f, 1.f, 1.f});
  opt.step(0.1);
  CHECK(vals(m.a) == std::vector<float>{1.f, 1.f});            // no decay, no update
  CHECK(vals(opt.momentum_buffer())[0] == 0.f);                 // no momentum
  CHECK(vals(m.b)[0] == Approx(1.f - 0.1f * 1.5f).epsilon(1e-6));
}

TEST_CASE("Adam matches PyTorch's first steps", "[optim]") {
  TwoParams m({1.f, -1.f}, {0.f, 0.f, 0.f});
  FlatParams fp = flatten_parameters(m);
  Adam opt(fp, AdamOptions{});
  set_grads(fp, {0.5f, 0.5f, 0.f, 0.f, 0.f});
  opt.step(0.1);
  CHECK(vals(m.a)[0] == Approx(0.900000002).epsilon(1e-6));
  CHECK(vals(m.a)[1] == Approx(-1.1).epsilon(1e-6));
  CHECK(vals(m.b)[0] == 0.f);   // g = 0: m = v = 0, update 0 / eps = 0
  opt.step(0.1);
  CHECK(vals(m.a)[0] == Approx(0.8).epsilon(1e-5));   // f32 rounding of 1 - beta2
  CHECK(opt.steps() == 2);
  auto st = opt.state_tensors();
  REQUIRE(st.size() == 2);
  CHECK(st[0].first == "exp_avg");
  CHECK(vals(st[0].second)[0] == Approx(0.095f).epsilon(1e-6));
  CHECK(vals(st[1].second)[0] == Approx(0.999 * 0.00025 + 0.001 * 0.25).epsilon(1e-4));
}

TEST_CASE("Adam with coupled L2 decay and a varying gradient", "[optim]") {
  TwoParams m({2.f, 0.f}, {0.f, 0.f, 0.f});
  FlatParams fp = flatten_parameters(m);
  Adam opt(fp, AdamOptions{0.9, 0.999, 1e-8, 0.1});
  // reference: PyTorch Adam in double
  double w = 2.0, mm = 0.0, vv = 0.0;
  const double gs[3] = {0.3, -0.7, 1.1};
  for (int t = 1; t <= 3; ++t) {
    set_grads(fp, {static_cast<float>(gs[t - 1]), 0.f, 0.f, 0.f, 0.f});
    opt.step(0.05);
    const double g = gs[t - 1] + 0.1 * w;
    mm = 0.9 * mm + 0.1 * g;
    vv = 0.999 * vv + 0.001 * g * g;
    const double denom = std::sqrt(vv) / std::sqrt(1.0 - std::pow(0.999, t)) + 1e-8;
    w -= 0.05 / (1.0 - std::pow(0.9, t)) * mm / denom;
    CHECK(vals(m.a)[0] == Approx(w).epsilon(1e-5));
  }
}

TEST_CASE("Optimizer state round-trips for checkpoints", "[optim]") {
  TwoParams m({1.f, 1.f}, {1.f, 1.f, 1.f});
  FlatParams fp = flatten_parameters(m);
  Sgd opt(fp, SgdOptions{0.9, false, 0.0});
  set_grads(fp, {1.f, 2.f, 3.f, 4.f, 5.f});
  opt.step(0.1);
  NamedTensors saved;
  for (const auto& s : opt.state_tensors()) saved.emplace_back(s.first, s.second.clone());

  TwoParams m2({1.f, 1.f}, {1.f, 1.f, 1.f});
  FlatParams fp2 = flatten_parameters(m2);
  Sgd opt2(fp2, SgdOptions{0.9, false, 0.0});
  opt2.load_state_tensors(saved, opt.steps());
  CHECK(opt2.steps() == 1);
  CHECK(vals(opt2.momentum_buffer()) == std::vector<float>{1.f, 2.f, 3.f, 4.f, 5.f});
  CHECK_THROWS_AS(opt2.load_state_tensors({}, 1), UserError);
  CHECK_THROWS_AS(opt2.load_state_tensors({{"momentum_buffer", Tensor::zeros({4})}}, 1), UserError);
}

TEST_CASE("make_optimizer follows the original flags", "[optim]") {
  TwoParams m({1.f, 1.f}, {1.f, 1.f, 1.f});
  FlatParams fp = flatten_parameters(m);
  auto o = make_optimizer("sgd", fp, 0.0, 0.8, 1e-4);
  auto* sgd = dynamic_cast<Sgd*>(o.get());
  REQUIRE(sgd != nullptr);
  CHECK(sgd->options().momentum == 0.8);
  CHECK(sgd->options().nesterov);
  CHECK(sgd->options().weight_decay == 1e-4);
  auto o2 = make_optimizer("sgd", fp, 0.9, 0.0, 0.0);
  CHECK_FALSE(dynamic_cast<Sgd*>(o2.get())->options().nesterov);
  CHECK(dynamic_cast<Adam*>(make_optimizer("adam", fp, 0.9, 0.0, 0.0).get()) != nullptr);
  CHECK_THROWS_AS(make_optimizer("rmsprop", fp, 0.0, 0.0, 0.0), UserError);
}

TEST_CASE("step_and_zero_grad equals step then zero_grad, bit for bit, and zeroes frozen gradients too", "[optim]") {
  struct Config {
    const char* name;
    bool adam;
    SgdOptions sgd;
    bool mask, reset, freeze_a;
  };
  const std::vector<Config> configs = {
      {"plain", false, SgdOptions{}, false, false, false},
      {"momentum+decay", false, SgdOptions{0.9, false, 0.01}, false, false, false},
      {"nesterov", false, SgdOptions{0.5, true, 0.0}, false, false, false},
      {"mask", false, SgdOptions{}, true, false, false},
      {"mask+reset+momentum", false, SgdOptions{0.9, false, 0.0}, true, true, false},
      {"frozen a", false, SgdOptions{0.9, false, 0.0}, false, false, true},
      {"adam", true, SgdOptions{}, false, false, false},
      {"adam mask reset frozen", true, SgdOptions{}, true, true, true},
  };
  for (const Config& c : configs) {
    SECTION(c.name) {
      auto make = [&](std::unique_ptr<Optimizer>& opt, TwoParams& m) {
        if (c.freeze_a) m.a.set_requires_grad(false);
        FlatParams fp = flatten_parameters(m);
        if (c.adam)
          opt = std::make_unique<Adam>(fp, AdamOptions{});
        else
          opt = std::make_unique<Sgd>(fp, c.sgd);
        if (c.mask)
          opt->set_mask(Tensor::from_vector(std::vector<float>{1.f, 0.f, 1.f, 1.f, 0.f}, {5}),
                        c.reset ? Tensor::from_vector(std::vector<float>{0.f, 7.f, 0.f, 0.f, -3.f}, {5}) : Tensor());
        return fp;
      };
      TwoParams m1({1.f, 2.f}, {0.5f, -1.f, 3.f}), m2({1.f, 2.f}, {0.5f, -1.f, 3.f});
      std::unique_ptr<Optimizer> o1, o2;
      FlatParams f1 = make(o1, m1), f2 = make(o2, m2);
      const std::vector<std::vector<float>> grads = {
          {0.5f, -1.f, 2.f, 0.25f, 10.f}, {-0.3f, 0.7f, 1.5f, -2.f, 0.1f}, {0.01f, 3.f, -0.5f, 0.2f, -4.f}};
      for (size_t s = 0; s < grads.size(); ++s) {
        set_grads(f1, grads[s]);
        set_grads(f2, grads[s]);
        // Written straight into the arenas, not by a backward: an optimizer must be told.
        o1->note_direct_writes();
        o2->note_direct_writes();
        o1->step(0.1);
        o1->zero_grad();
        o2->step_and_zero_grad(0.1);
        CHECK(vals(f1.params) == vals(f2.params));
        CHECK(vals(f2.grads) == std::vector<float>(5, 0.f));
        const NamedTensors s1 = o1->state_tensors(), s2 = o2->state_tensors();
        REQUIRE(s1.size() == s2.size());
        for (size_t k = 0; k < s1.size(); ++k) CHECK(vals(s1[k].second) == vals(s2[k].second));
      }
      CHECK(o1->steps() == o2->steps());
    }
  }
}
