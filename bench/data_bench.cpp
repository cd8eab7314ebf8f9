// bench/data_bench.cpp — CPU data-path throughput (Google Benchmark): batches/s of batch assembly
// (gather + augmentation + normalisation, make_batch) at batch 128 for CIFAR-shaped data
// (50000 x 32x32x3, flip + pad-crop), Fashion-MNIST-shaped data (60000 x 28x28x1, normalisation only) and Tiny-ImageNet-shaped data (64x64x3 stored, random resized
// crop + flip to 32x32, or Resize(45) + CenterCrop(32)), and through the background Prefetcher
// (checked against the synchronous path before timing). Run: build-*/bench/data_bench.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "experiments/data/augment.h"
#include "experiments/data/data_order.h"
#include "experiments/data/prefetcher.h"

using namespace sdd::exp;

namespace {

Dataset synthetic(int64_t n, int64_t hw, bool tiny) {
  Dataset d;
  d.name = tiny ? "tiny_imagenet" : "cifar10";
  d.n = n;
  d.h = d.w = hw;
  d.c = 3;
  d.num_classes = tiny ? 200 : 10;
  d.images.resize(static_cast<size_t>(n * hw * hw * 3));
  uint32_t s = 1;
  for (auto& v : d.images) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<uint8_t>(s >> 24);
  }
  d.labels.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) d.labels[static_cast<size_t>(i)] = i % d.num_classes;
  d.original_labels = d.labels;
  d.mean = {0.485f, 0.456f, 0.406f};
  d.std = {0.229f, 0.224f, 0.225f};
  d.augmentable = true;
  if (tiny) {
    d.augmentation = Dataset::Augmentation::resized_crop_flip;
    d.out_h = d.out_w = 32;
    d.eval_resize = 45;
  }
  return d;
}

const Dataset& cifar() {
  static const Dataset d = synthetic(50000, 32, false);
  return d;
}
const Dataset& mnist() {  // Fashion-MNIST-shaped: 60000 x 28x28x1, not augmented (the quickstart)
  static const Dataset d = [] {
    Dataset m = synthetic(60000, 28, false);
    m.name = "fashion_mnist";
    m.c = 1;
    m.images.resize(static_cast<size_t>(m.n * 28 * 28));
    m.mean = {0.2860f};
    m.std = {0.3530f};
    m.augmentable = false;
    return m;
  }();
  return d;
}
const Dataset& tiny() {
  static const Dataset d = synthetic(20000, 64, true);  // 20000 of the 100000 keeps memory modest
  return d;
}

void run(benchmark::State& state, const Dataset& d, bool augment) {
  const DataOrder order = DataOrder::seeded(d.n, 128, 0);
  BatchIterator it(order, 0);
  AugmentSpec spec;
  spec.enabled = augment;
  spec.seed = 3;
  for (auto _ : state) {
    const int64_t e = it.epoch();
    Batch b = make_batch(d, it.next(), spec, e);
    benchmark::DoNotOptimize(b.x.data<float>());
  }
  state.counters["batches/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_cifar_train_augment(benchmark::State& s) { run(s, cifar(), true); }
void BM_cifar_eval(benchmark::State& s) { run(s, cifar(), false); }
void BM_mnist_batch(benchmark::State& s) { run(s, mnist(), false); }
void BM_tiny_train_resized_crop(benchmark::State& s) { run(s, tiny(), true); }
void BM_tiny_eval_resize_center_crop(benchmark::State& s) { run(s, tiny(), false); }

void BM_tiny_prefetched(benchmark::State& state) {
  const Dataset& d = tiny();
  const DataOrder order = DataOrder::seeded(d.n, 128, 0);
  AugmentSpec spec;
  spec.enabled = true;
  spec.seed = 3;
  // Before timing: the prefetched batch must equal the synchronous one (DESIGN rule 1).
  {
    Prefetcher check(d, order, spec, 0, 0, 2, 1);
    BatchIterator it(order, 0);
    if (check.next().batch.x.to_vector<float>() != make_batch(d, it.next(), spec, 0).x.to_vector<float>()) {
      state.SkipWithError("prefetched batch differs from make_batch");
      return;
    }
  }
  Prefetcher pre(d, order, spec, 0, 0, 4);
  for (auto _ : state) {
    PrefetchItem item = pre.next();
    benchmark::DoNotOptimize(item.batch.x.data<float>());
  }
  state.counters["batches/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_cifar_train_augment)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_cifar_eval)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mnist_batch)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_tiny_train_resized_crop)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_tiny_eval_resize_center_crop)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_tiny_prefetched)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
