// bench/mlp_step_bench.cpp — end-to-end CPU training-step throughput of the quickstart model,
// mnist_mlp_300_100 (784-300-100-10, ReLU), at batch 128 with plain SGD (lr 0.1, no momentum, no
// weight decay), through the public API only: nn::Linear (ops::linear), ops::relu,
// ops::cross_entropy, Tensor::backward, optim::Sgd over the flat arena. Batches are pre-normalised
// f32 [128, 784] tensors of Fashion-MNIST shape (random data, fixed seed), cycled, so the numbers
// measure the step and nothing of the data path. Counter: items_per_second = images/s (wall clock);
// cpu_time is the CPU time of the whole process (all threads) per step.
//
// The same step in PyTorch is bench/compare_pytorch_cpu.py, which also runs this binary and prints
// the ratio sparsedd / PyTorch. Threads as the sparsedd binary (engine/cpu/threads_cpu.cpp): the
// backend's pool from SPARSEDD_THREADS (default: every CPU), OpenMP and OpenBLAS one thread each
// unless OMP_NUM_THREADS / OPENBLAS_NUM_THREADS are set; all three are printed in the context.
// Before timing, the benchmark checks that the loss falls over a few steps on a fixed batch, so a
// broken step reports an error instead of a number.
// Run: build-*/bench/mlp_step_bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/parallel_cpu.h"
#include "engine/nn/layers.h"
#include "engine/nn/module.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace {

using sdd::Tensor;

constexpr int64_t kBatch = 128;
constexpr int64_t kPixels = 28 * 28;
constexpr int64_t kClasses = 10;
constexpr int kNumBatches = 16;

// One pre-normalised batch: x f32 [128, 784] ~ (U[0,1) - 0.2860) / 0.3530, labels i64 [128] in [0, 10).
struct Batch {
  Tensor x, y;
};

std::vector<Batch> make_batches(uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::uniform_int_distribution<int64_t> lab(0, kClasses - 1);
  std::vector<Batch> out;
  for (int b = 0; b < kNumBatches; ++b) {
    std::vector<float> x(static_cast<size_t>(kBatch * kPixels));
    for (float& v : x) v = (u(gen) - 0.2860f) / 0.3530f;
    std::vector<int64_t> y(static_cast<size_t>(kBatch));
    for (int64_t& v : y) v = lab(gen);
    out.push_back({Tensor::from_vector(x, {kBatch, kPixels}), Tensor::from_vector(y, {kBatch})});
  }
  return out;
}

// 784-300-100-10 with ReLU between the layers (the layout of models/mlp.cpp).
struct Mlp {
  std::shared_ptr<sdd::nn::Sequential> net;
  Mlp() {
    sdd::manual_seed(0);
    net = std::make_shared<sdd::nn::Sequential>(std::vector<std::shared_ptr<sdd::nn::Module>>{
        std::make_shared<sdd::nn::Linear>(kPixels, 300), std::make_shared<sdd::nn::ReLU>(),
        std::make_shared<sdd::nn::Linear>(300, 100), std::make_shared<sdd::nn::ReLU>(),
        std::make_shared<sdd::nn::Linear>(100, kClasses)});
  }
};

// zero grads; loss = CE(mlp(x), y); backward; w -= lr * g. Returns the loss tensor (not read back).
Tensor train_step(sdd::nn::Module& net, sdd::optim::Sgd& opt, const Batch& b) {
  opt.zero_grad();
  Tensor loss = sdd::ops::cross_entropy(net.forward(b.x), b.y);
  loss.backward();
  opt.step(0.1);
  return loss;
}

void BM_MlpStep(benchmark::State& state) {
  Mlp m;
  sdd::nn::FlatParams fp = sdd::nn::flatten_parameters(*m.net);
  sdd::optim::Sgd opt(fp, sdd::optim::SgdOptions{0.0, false, 0.0});
  const std::vector<Batch> batches = make_batches(42);

  // Validation: 20 steps on one batch must lower its loss by 15% (2.31 -> 1.80 seen).
  const double first = train_step(*m.net, opt, batches[0]).item();
  double last = first;
  for (int i = 0; i < 20; ++i) last = train_step(*m.net, opt, batches[0]).item();
  if (!std::isfinite(last) || !(last < 0.85 * first)) {
    state.SkipWithError(("loss did not fall: " + std::to_string(first) + " -> " + std::to_string(last)).c_str());
    return;
  }
  for (int i = 0; i < kNumBatches; ++i) train_step(*m.net, opt, batches[static_cast<size_t>(i)]);  // warm-up

  size_t next = 0;
  for (auto _ : state) {
    train_step(*m.net, opt, batches[next]);
    next = (next + 1) % batches.size();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(state.iterations() * kBatch),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MlpStep)->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMicrosecond)->MinTime(1.0);

// The step of a pruned MLP, as in lottery level L: every weight matrix keeps a random `density`
// (range(0) / 1000) of its entries, the mask goes to the optimizer as the trainer does (pruned weights
// stay exactly 0, the CPU linear layers then take the sparse forward below 25% density and, as the
// preset's SGD has no momentum, the sparse weight gradient below 15%), lr 0.1, no momentum (the preset).
// And the evaluation forward (no gradients) of the same network, which the original runs over the
// train and test sets every epoch. Densities 0.8^L for L = 0, 4, 8, 12, 16, 20.
struct PrunedMlp {
  Mlp m;
  sdd::nn::FlatParams fp;
  std::unique_ptr<sdd::optim::Sgd> opt;
  explicit PrunedMlp(double density) {
    fp = sdd::nn::flatten_parameters(*m.net);
    opt = std::make_unique<sdd::optim::Sgd>(fp, sdd::optim::SgdOptions{0.0, false, 0.0});
    std::mt19937 gen(11);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    std::vector<float> mask(static_cast<size_t>(fp.total), 1.f);
    for (const auto& e : fp.entries)
      if (e.shape.size() == 2)
        for (int64_t i = 0; i < e.numel; ++i) mask[static_cast<size_t>(e.offset + i)] = u(gen) < density ? 1.f : 0.f;
    const Tensor mt = Tensor::from_vector(mask, {fp.total});
    opt->set_mask(mt);
    std::vector<float> p = fp.params.to_vector<float>();
    for (size_t i = 0; i < p.size(); ++i) p[i] *= mask[i];
    fp.params.copy_(Tensor::from_vector(p, {fp.total}));
  }
};

void BM_PrunedMlpStep(benchmark::State& state) {
  PrunedMlp pm(static_cast<double>(state.range(0)) / 1000.0);
  const std::vector<Batch> batches = make_batches(42);
  for (int i = 0; i < kNumBatches; ++i) train_step(*pm.m.net, *pm.opt, batches[static_cast<size_t>(i)]);
  size_t next = 0;
  for (auto _ : state) {
    train_step(*pm.m.net, *pm.opt, batches[next]);
    next = (next + 1) % batches.size();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["density"] = static_cast<double>(state.range(0)) / 1000.0;
}
BENCHMARK(BM_PrunedMlpStep)->Arg(1000)->Arg(410)->Arg(168)->Arg(69)->Arg(28)->Arg(12)->MeasureProcessCPUTime()
    ->Unit(benchmark::kMicrosecond);

void BM_PrunedMlpEval(benchmark::State& state) {
  PrunedMlp pm(static_cast<double>(state.range(0)) / 1000.0);
  const std::vector<Batch> batches = make_batches(43);
  sdd::NoGradGuard ng;
  size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(pm.m.net->forward(batches[next].x).data<float>());
    next = (next + 1) % batches.size();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["density"] = static_cast<double>(state.range(0)) / 1000.0;
}
BENCHMARK(BM_PrunedMlpEval)->Arg(1000)->Arg(410)->Arg(168)->Arg(69)->Arg(28)->Arg(12)->MeasureProcessCPUTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  sdd::cpu::configure_threads_from_env();
  benchmark::AddCustomContext("sparsedd_threads", std::to_string(sdd::cpu::threads()));
  benchmark::AddCustomContext("omp_max_threads", std::to_string(omp_get_max_threads()));
  benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
