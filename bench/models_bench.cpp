// bench/models_bench.cpp — CPU training-step throughput of the models: one forward + cross-entropy +
// backward of cifar_pytorch_resnet_18, cifar_vgg_16 and cifar_resnet_20 on 32x32 inputs, batch 128
// (Google Benchmark; counter "images/s"). Gradients live in the flat arena and are zeroed each step.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "models/registry.h"

namespace {

void bm_train_step(benchmark::State& state, const std::string& name, int64_t classes) {
  const int64_t batch = state.range(0);
  sdd::manual_seed(0);
  sdd::models::ModelPtr m = sdd::models::get_model(name, classes, "kaiming_normal", "uniform");
  sdd::nn::FlatParams flat = sdd::nn::flatten_parameters(*m);
  sdd::Generator g(1);
  std::vector<float> xs(static_cast<size_t>(batch * 3 * 32 * 32));
  for (float& v : xs) v = static_cast<float>(g.normal());
  std::vector<int64_t> ys(static_cast<size_t>(batch));
  for (int64_t i = 0; i < batch; ++i) ys[i] = static_cast<int64_t>(g.below(static_cast<uint64_t>(classes)));
  const sdd::Tensor x = sdd::Tensor::from_vector(xs, {batch, 3, 32, 32});   // [B,3,32,32]
  const sdd::Tensor y = sdd::Tensor::from_vector(ys, {batch});              // i64 [B]
  for (auto _ : state) {
    flat.zero_grad();
    sdd::Tensor loss = sdd::ops::cross_entropy(m->forward(x), y);
    loss.backward();
    benchmark::DoNotOptimize(loss.item());
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
}

void BM_ResNet18Step(benchmark::State& s) { bm_train_step(s, "cifar_pytorch_resnet_18", 10); }
void BM_Vgg16Step(benchmark::State& s) { bm_train_step(s, "cifar_vgg_16", 10); }
void BM_ResNet20Step(benchmark::State& s) { bm_train_step(s, "cifar_resnet_20", 10); }

}  // namespace

BENCHMARK(BM_ResNet18Step)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Vgg16Step)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ResNet20Step)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
