// bench/train_step_bench.cu — end-to-end training step of cifar_pytorch_resnet_18 (ResNet-18 CIFAR
// variant: 3x3 stem, no maxpool) at batch 128 on cuda:0, in images/s: forward, ops::cross_entropy,
// backward, optim::Sgd (momentum 0.9, wd 5e-4) on the flat arena, in fp32 and TF32 convolutions.
// Validated first: one step at batch 4 on the CPU and on the GPU from the same initialisation gives
// the same loss (rel 1e-3) and the same updated weights (rtol 1e-2, atol 1e-4; fp32 on both).
// bench/compare_pytorch.py reads the RESULT lines and times PyTorch on the same model.
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "bench/gpu_bench_common.h"
#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/nn/module.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "engine/rng.h"
#include "models/registry.h"

using namespace sdd;

namespace {

struct Setup {
  models::ModelPtr model;
  nn::FlatParams fp;
  std::unique_ptr<optim::Sgd> opt;
};

Setup make(Device dev) {
  manual_seed(0);
  Setup s;
  s.model = models::get_model("cifar_pytorch_resnet_18", 10, "kaiming_normal", "uniform");
  s.model->to(dev);
  s.model->train();
  s.fp = nn::flatten_parameters(*s.model);
  s.opt = std::make_unique<optim::Sgd>(s.fp, optim::SgdOptions{0.9, false, 5e-4});
  return s;
}

// One training step; returns the loss tensor (not synchronised).
Tensor step(Setup& s, const Tensor& x, const Tensor& y) {
  s.opt->zero_grad();
  Tensor loss = ops::cross_entropy(s.model->forward(x), y);
  loss.backward();
  s.opt->step(0.1);
  return loss;
}

void batch(int64_t B, Generator& gen, Tensor& x, Tensor& y) {
  std::vector<float> xv(static_cast<size_t>(B * 3 * 32 * 32));
  for (float& v : xv) v = static_cast<float>(gen.normal());
  std::vector<int64_t> yv(static_cast<size_t>(B));
  for (auto& v : yv) v = static_cast<int64_t>(gen.below(10));
  x = Tensor::from_vector(xv, {B, 3, 32, 32});
  y = Tensor::from_vector(yv, {B});
}

}  // namespace

int main() {
  const char* kBench = "train_step";
  bench::require_device(kBench);
  std::printf("device: %s\n", bench::device_name().c_str());
  const Device gpu = Device::cuda(0);
  cuda::Context& ctx = cuda::context(0);
  Generator gen(5);
  {
    cuda::conv_allow_tf32() = false;
    Tensor x, y;
    batch(4, gen, x, y);
    Setup c = make(Device::cpu()), g = make(gpu);
    const double lc = step(c, x, y).item(), lg = step(g, x.to(gpu), y.to(gpu)).item();
    bench::validate(kBench, "loss vs cpu (rel 1e-3)", std::fabs(lc - lg) <= 1e-3 * std::fabs(lc),
                    "cpu " + std::to_string(lc) + " cuda " + std::to_string(lg));
    const double r = bench::worst_ratio(g.fp.params, c.fp.params, 1e-2, 1e-4);
    bench::validate(kBench, "weights after one step vs cpu (rtol 1e-2, atol 1e-4)", r <= 1.0,
                    "worst ratio " + std::to_string(r));
  }
  const int64_t B = 128;
  Tensor xh, yh;
  batch(B, gen, xh, yh);
  const Tensor x = xh.to(gpu), y = yh.to(gpu);
  for (bool tf32 : {false, true}) {
    cuda::conv_allow_tf32() = tf32;
    Setup g = make(gpu);
    const int warmup = 5, iters = 30;
    for (int i = 0; i < warmup; ++i) step(g, x, y);
    cuda::synchronize(0);
    const auto t0 = std::chrono::steady_clock::now();
    double last = 0;
    for (int i = 0; i < iters; ++i) {
      Tensor l = step(g, x, y);
      if (i == iters - 1) last = l.item();
    }
    cuda::synchronize(0);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const char* p = tf32 ? "tf32" : "fp32";
    bench::result(kBench, std::string("resnet18_b128_") + p + "_images_per_s", double(iters * B) / s, "images/s");
    bench::result(kBench, std::string("resnet18_b128_") + p + "_step_ms", 1e3 * s / iters, "ms");
    std::printf("final loss (%s): %.4f\n", p, last);
    (void)ctx;
  }
  const auto stats = cuda::memory_stats(0);
  bench::result(kBench, "peak_device_memory", double(stats.peak_bytes) / (1 << 20), "MiB");
  cuda::conv_allow_tf32() = true;
  return 0;
}
