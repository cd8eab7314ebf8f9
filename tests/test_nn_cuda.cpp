// tests/test_nn_cuda.cpp — Module::to(cuda) in place, the flat arena on the device, and SGD / Adam
// steps on CUDA against the CPU reference (DESIGN rule 1). Prints "SKIPPED: no CUDA device" without one.
#include <catch2/catch.hpp>

#include <iostream>
#include <memory>

#include "engine/nn/layers.h"
#include "engine/optim/optimizer.h"
#include "engine/rng.h"

using namespace sdd;
using namespace sdd::nn;

#define SDD_NEED_CUDA()                                      \
  do {                                                       \
    if (cuda_device_count() == 0) {                          \
      std::cout << "SKIPPED: no CUDA device" << std::endl;   \
      return;                                                \
    }                                                        \
  } while (0)

namespace {
std::shared_ptr<Sequential> small_net() {
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Conv2d>(3, 4, 3), std::make_shared<BatchNorm2d>(4), std::make_shared<Flatten>(),
      std::make_shared<Linear>(16, 3)});
}
}  // namespace

TEST_CASE("Module::to(cuda) moves in place and keeps handles", "[nn][cuda]") {
  SDD_NEED_CUDA();
  manual_seed(1);
  auto net = small_net();
  Tensor w = net->parameter("3.weight");
  const auto before = w.to_vector<float>();
  net->to(Device::cuda(0));
  CHECK(w.device().is_cuda());
  for (const auto& t : net->state_dict()) CHECK(t.second.device().is_cuda());
  CHECK(w.to_vector<float>() == before);
  CHECK(net->device().is_cuda());
  net->to(Device::cpu());
  CHECK(w.device().is_cpu());
  CHECK(w.to_vector<float>() == before);
}

TEST_CASE("SGD and Adam on CUDA match the CPU arena update", "[optim][cuda]") {
  SDD_NEED_CUDA();
  for (int which = 0; which < 2; ++which) {
    manual_seed(2);
    auto cpu_net = small_net();
    manual_seed(2);
    auto gpu_net = small_net();
    gpu_net->to(Device::cuda(0));
    FlatParams fc = flatten_parameters(*cpu_net), fg = flatten_parameters(*gpu_net);
    std::vector<float> g(static_cast<size_t>(fc.total)), mask(static_cast<size_t>(fc.total));
    Generator gen(9);
    for (size_t i = 0; i < g.size(); ++i) {
      g[i] = static_cast<float>(gen.normal());
      mask[i] = gen.uniform() < 0.3 ? 0.f : 1.f;
    }
    fc.grads.copy_(Tensor::from_vector(g, {fc.total}));
    fg.grads.copy_(Tensor::from_vector(g, {fc.total}));
    std::unique_ptr<optim::Optimizer> oc, og;
    if (which == 0) {
      oc = std::make_unique<optim::Sgd>(fc, optim::SgdOptions{0.9, true, 5e-4});
      og = std::make_unique<optim::Sgd>(fg, optim::SgdOptions{0.9, true, 5e-4});
    } else {
      oc = std::make_unique<optim::Adam>(fc, optim::AdamOptions{0.9, 0.999, 1e-8, 5e-4});
      og = std::make_unique<optim::Adam>(fg, optim::AdamOptions{0.9, 0.999, 1e-8, 5e-4});
    }
    oc->set_mask(Tensor::from_vector(mask, {fc.total}));
    og->set_mask(Tensor::from_vector(mask, {fc.total}).to(Device::cuda(0)));
    for (int s = 0; s < 3; ++s) {
      oc->step(0.1);
      og->step(0.1);
    }
    const auto a = fc.params.to_vector<float>(), b = fg.params.to_vector<float>();
    for (size_t i = 0; i < a.size(); ++i) {
      INFO("optimizer " << which << " index " << i);
      REQUIRE(b[i] == Approx(a[i]).epsilon(1e-5).margin(1e-7));
      if (mask[i] == 0.f) REQUIRE(b[i] == 0.f);
    }
  }
}
