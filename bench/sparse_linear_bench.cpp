// bench/sparse_linear_bench.cpp — the pruned linear layer's forward product on the CPU: dense
// cblas_sgemm against the sparse kernel (engine/cpu/sparse_linear_cpu.cpp) on the first layer of the
// quickstart model (x [128, 784], w [300, 784]) at the densities of lottery levels (0.8^L). Before
// timing, each density checks that the sparse result equals sgemm to 1e-4 relative, so a broken kernel
// reports an error instead of a number. The ratio dense/sparse per density is the speed-up; the
// crossover sets kSparseLinearMaxDensity. Counter: items_per_second = examples/s.
// Run: build-*/bench/sparse_linear_bench
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/sparse_linear_cpu.h"
#include "engine/tensor.h"

namespace {

using sdd::Tensor;

constexpr int64_t kN = 128, kI = 784, kO = 300;

struct Operands {
  Tensor x, w, out;
};

// Weights ~ N(0, 0.05) with each entry kept with probability `density`; x ~ U[-1, 1).
Operands make(double density) {
  std::mt19937 gen(7);
  std::normal_distribution<float> nd(0.f, 0.05f);
  std::uniform_real_distribution<float> u(-1.f, 1.f), keep(0.f, 1.f);
  std::vector<float> x(kN * kI), w(kO * kI);
  for (float& v : x) v = u(gen);
  for (float& v : w) v = keep(gen) < density ? nd(gen) : 0.f;
  return {Tensor::from_vector(x, {kN, kI}), Tensor::from_vector(w, {kO, kI}), Tensor::empty({kN, kO}, sdd::DType::f32)};
}

bool matches(const Operands& a, benchmark::State& state) {
  Tensor ref = Tensor::empty({kN, kO}, sdd::DType::f32);
  sdd::cpu::gemm(false, true, 1.f, a.x, a.w, 0.f, ref);
  sdd::cpu::sparse_linear_forward_always(a.x, a.w, a.out);
  const std::vector<float> r = ref.to_vector<float>(), s = a.out.to_vector<float>();
  for (size_t i = 0; i < r.size(); ++i)
    if (std::fabs(r[i] - s[i]) > 1e-4f * (1.f + std::fabs(r[i]))) {
      state.SkipWithError(("sparse result differs from sgemm at " + std::to_string(i)).c_str());
      return false;
    }
  return true;
}

void BM_dense(benchmark::State& state) {
  const double density = static_cast<double>(state.range(0)) / 1000.0;
  Operands a = make(density);
  for (auto _ : state) {
    sdd::cpu::gemm(false, true, 1.f, a.x, a.w, 0.f, a.out);
    benchmark::DoNotOptimize(a.out.data<float>());
  }
  state.SetItemsProcessed(state.iterations() * kN);
  state.counters["density"] = density;
}

void BM_sparse(benchmark::State& state) {
  const double density = static_cast<double>(state.range(0)) / 1000.0;
  Operands a = make(density);
  if (!matches(a, state)) return;
  for (auto _ : state) {
    sdd::cpu::sparse_linear_forward_always(a.x, a.w, a.out);
    benchmark::DoNotOptimize(a.out.data<float>());
  }
  state.SetItemsProcessed(state.iterations() * kN);
  state.counters["density"] = density;
}

// Densities in 1/1000: 0.8^L for L = 0, 2, 4, 6, 8, 10, 14, 20.
#define SDD_DENSITIES Arg(1000)->Arg(640)->Arg(410)->Arg(262)->Arg(168)->Arg(107)->Arg(44)->Arg(12)
BENCHMARK(BM_dense)->SDD_DENSITIES;
BENCHMARK(BM_sparse)->SDD_DENSITIES;

}  // namespace

BENCHMARK_MAIN();
