// bench/sparse_linear_bench.cpp — the pruned linear layer's forward product on the CPU: dense
// cblas_sgemm against the sparse kernel (engine/cpu/sparse_linear_cpu.cpp) on the first layer of the
// quickstart model's first two layers at the densities of lottery levels (0.8^L). Before
// timing, each density checks that the sparse result equals sgemm to 1e-4 relative, so a broken kernel
// reports an error instead of a number. The ratio dense/sparse per density is the speed-up; the
// crossover sets kSparseLinearMaxDensity. The same for the weight gradient on a support (BM_*_wgrad;
// its crossover sets kSparseWeightGradMaxDensity). Counter: items_per_second = examples/s.
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

// The quickstart model's first two layers: shape 0 is [128, 784] x [300, 784]^T, shape 1 [128, 300] x
// [100, 300]^T (the second argument of each benchmark).
constexpr int64_t kN = 128;
constexpr int64_t kShapes[2][2] = {{784, 300}, {300, 100}};   // {I, O}
int64_t g_in = 784, g_out = 300;   // the shape of the running benchmark (set_shape)

void set_shape(const benchmark::State& state) {
  g_in = kShapes[state.range(1)][0];
  g_out = kShapes[state.range(1)][1];
}

struct Operands {
  Tensor x, w, out;
};

// Weights ~ N(0, 0.05) with each entry kept with probability `density`; x ~ U[-1, 1).
Operands make(double density) {
  std::mt19937 gen(7);
  std::normal_distribution<float> nd(0.f, 0.05f);
  std::uniform_real_distribution<float> u(-1.f, 1.f), keep(0.f, 1.f);
  std::vector<float> x(kN * g_in), w(g_out * g_in);
  for (float& v : x) v = u(gen);
  for (float& v : w) v = keep(gen) < density ? nd(gen) : 0.f;
  return {Tensor::from_vector(x, {kN, g_in}), Tensor::from_vector(w, {g_out, g_in}),
          Tensor::empty({kN, g_out}, sdd::DType::f32)};
}

bool matches(const Operands& a, benchmark::State& state) {
  Tensor ref = Tensor::empty({kN, g_out}, sdd::DType::f32);
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
  set_shape(state);
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
  set_shape(state);
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

// The weight gradient on a support of the same density: acc += gy^T x (dense: sgemm into a fresh
// [O, I]; sparse: only the support's entries). gy ~ U[-1, 1).
struct GradOperands {
  Tensor gy, x, support, acc;
};

GradOperands make_grad(double density) {
  Operands a = make(density);
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> gy(kN * g_out);
  for (float& v : gy) v = u(gen);
  return {Tensor::from_vector(gy, {kN, g_out}), a.x, a.w, Tensor::zeros({g_out, g_in}, sdd::DType::f32)};
}

void BM_dense_wgrad(benchmark::State& state) {
  set_shape(state);
  const double density = static_cast<double>(state.range(0)) / 1000.0;
  GradOperands a = make_grad(density);
  for (auto _ : state) {
    sdd::cpu::gemm(true, false, 1.f, a.gy, a.x, 1.f, a.acc);
    benchmark::DoNotOptimize(a.acc.data<float>());
  }
  state.SetItemsProcessed(state.iterations() * kN);
  state.counters["density"] = density;
}

void BM_sparse_wgrad(benchmark::State& state) {
  set_shape(state);
  const double density = static_cast<double>(state.range(0)) / 1000.0;
  GradOperands a = make_grad(density);
  {  // on the support, equal to sgemm's entries
    Tensor ref = Tensor::zeros({g_out, g_in}, sdd::DType::f32);
    sdd::cpu::gemm(true, false, 1.f, a.gy, a.x, 0.f, ref);
    sdd::cpu::sparse_linear_weight_grad_always(a.gy, a.x, a.support, a.acc);
    const std::vector<float> r = ref.to_vector<float>(), s = a.acc.to_vector<float>(),
                             m = a.support.to_vector<float>();
    for (size_t i = 0; i < r.size(); ++i)
      if (std::fabs((m[i] != 0.f ? r[i] : 0.f) - s[i]) > 1e-4f * (1.f + std::fabs(r[i]))) {
        state.SkipWithError(("sparse weight gradient differs from sgemm at " + std::to_string(i)).c_str());
        return;
      }
  }
  for (auto _ : state) {
    sdd::cpu::sparse_linear_weight_grad_always(a.gy, a.x, a.support, a.acc);
    benchmark::DoNotOptimize(a.acc.data<float>());
  }
  state.SetItemsProcessed(state.iterations() * kN);
  state.counters["density"] = density;
}

// Densities in 1/1000: 0.8^L for L = 0, 2, 4, 5, 6, 8, 10, 14, 20; both shapes.
#define SDD_DENSITIES ArgsProduct({{1000, 640, 410, 328, 262, 168, 107, 44, 12}, {0, 1}})
BENCHMARK(BM_dense)->SDD_DENSITIES;
BENCHMARK(BM_sparse)->SDD_DENSITIES;
BENCHMARK(BM_dense_wgrad)->SDD_DENSITIES;
BENCHMARK(BM_sparse_wgrad)->SDD_DENSITIES;

}  // namespace

BENCHMARK_MAIN();
