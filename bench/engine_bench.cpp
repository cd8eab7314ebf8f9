// bench/engine_bench.cpp — CPU microbenchmarks of the engine foundation (Google Benchmark):
//   * sgemm (cpu::gemm, OpenBLAS) at square sizes and the LeNet-300-100 first-layer shape; counter
//     GFLOP/s (2*M*N*K per call);
//   * conv2d forward / backward-data / backward-filter (cpu:: backend, im2col + sgemm) on the
//     ResNet-18 CIFAR layer shapes at batch 32; counters images/s and GFLOP/s (2*N*K*C*R*S*P*Q);
//   * one LeNet-300-100 (784-300-100-10 MLP) training step at batch 128 through the public API:
//     nn::Linear forward (ops::linear, ops::relu), ops::cross_entropy, backward, optim::Sgd step
//     (momentum 0.9, weight decay 5e-4) over the flat arena; counter images/s.
//
// The backend kernels are called directly (cpu::) so forward and the two backward passes are timed
// separately; that is the point of a kernel benchmark. Before timing, every benchmark checks its
// result against a direct double-precision computation at sampled entries (DESIGN rule 1) and
// reports an error instead of a number when they disagree. Wall-clock time (UseRealTime). Threads as
// the sparsedd binary: SPARSEDD_THREADS for the backend's pool (default every CPU; products split in
// shape-fixed blocks), OpenMP and OpenBLAS one each unless OMP_NUM_THREADS / OPENBLAS_NUM_THREADS.
// Run: build-*/bench/engine_bench [--benchmark_filter=Conv].
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/parallel_cpu.h"
#include "engine/geometry.h"
#include "engine/nn/layers.h"
#include "engine/nn/module.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace {

using sdd::Shape;
using sdd::Tensor;

Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(sdd::shape_numel(shape)));
  for (float& x : v) x = u(gen);
  return Tensor::from_vector(v, shape);
}

// |got - want| within a tolerance scaled by the sum of |terms| of the dot product (f32 accumulation).
bool close(double got, double want, double abs_terms) {
  return std::isfinite(got) && std::fabs(got - want) <= 1e-4 * abs_terms + 1e-5;
}

// ------------------------------------------------------------------------------------ sgemm

// C[M,N] = A[M,K] @ op(B); trans_b: B stored [N,K] (the Linear layout), else [K,N].
void BM_Sgemm(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  const bool trans_b = state.range(3) != 0;
  const Tensor a = random_tensor({M, K}, 1);
  const Tensor b = trans_b ? random_tensor({N, K}, 2) : random_tensor({K, N}, 2);
  const Tensor c = Tensor::zeros({M, N});
  sdd::cpu::gemm(false, trans_b, 1.f, a, b, 0.f, c);
  {  // validate sampled entries against a double-precision dot product
    const float* A = a.data<float>();
    const float* B = b.data<float>();
    const float* C = c.data<float>();
    std::mt19937 gen(3);
    for (int t = 0; t < 32; ++t) {
      const int64_t i = gen() % M, j = gen() % N;
      double want = 0, terms = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double p = double(A[i * K + k]) * (trans_b ? B[j * K + k] : B[k * N + j]);
        want += p;
        terms += std::fabs(p);
      }
      if (!close(C[i * N + j], want, terms)) {
        state.SkipWithError("sgemm result disagrees with the reference dot product");
        return;
      }
    }
  }
  for (auto _ : state) {
    sdd::cpu::gemm(false, trans_b, 1.f, a, b, 0.f, c);
    benchmark::DoNotOptimize(c.raw());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * double(M) * double(N) * double(K) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Sgemm)
    ->ArgNames({"M", "N", "K", "transB"})
    ->Args({128, 128, 128, 0})
    ->Args({256, 256, 256, 0})
    ->Args({512, 512, 512, 0})
    ->Args({1024, 1024, 1024, 0})
    ->Args({128, 300, 784, 1})   // LeNet-300-100 fc1 forward at batch 128
    ->Args({128, 100, 300, 1})   // fc2 forward
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// ------------------------------------------------------------------------------------ conv2d

enum class ConvPass { forward, backward_data, backward_filter };

sdd::Conv2dGeom conv_geom(int64_t N, int64_t C, int64_t HW, int64_t K, int64_t k, int64_t stride, int64_t pad) {
  sdd::Conv2dGeom g;
  g.N = N;
  g.C = C;
  g.H = g.W = HW;
  g.K = K;
  g.R = g.S = k;
  g.stride_h = g.stride_w = stride;
  g.pad_h = g.pad_w = pad;
  g.P = (HW + 2 * pad - k) / stride + 1;
  g.Q = (HW + 2 * pad - k) / stride + 1;
  return g;
}

// Direct-sum reference of one entry of the pass's output; returns (value, sum of |terms|).
std::pair<double, double> conv_reference(const sdd::Conv2dGeom& g, ConvPass pass, const float* x, const float* w,
                                         const float* gy, int64_t idx) {
  double v = 0, terms = 0;
  auto X = [&](int64_t n, int64_t c, int64_t h, int64_t ww) { return double(x[((n * g.C + c) * g.H + h) * g.W + ww]); };
  auto Wt = [&](int64_t k, int64_t c, int64_t r, int64_t s) { return double(w[((k * g.C + c) * g.R + r) * g.S + s]); };
  auto GY = [&](int64_t n, int64_t k, int64_t p, int64_t q) { return double(gy[((n * g.K + k) * g.P + p) * g.Q + q]); };
  if (pass == ConvPass::forward) {   // y[n,k,p,q] = sum_{c,r,s} x[n,c,p*st-pad+r,q*st-pad+s] w[k,c,r,s]
    const int64_t q = idx % g.Q, p = idx / g.Q % g.P, k = idx / (g.Q * g.P) % g.K, n = idx / (g.Q * g.P * g.K);
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t r = 0; r < g.R; ++r)
        for (int64_t s = 0; s < g.S; ++s) {
          const int64_t h = p * g.stride_h - g.pad_h + r, ww = q * g.stride_w - g.pad_w + s;
          if (h < 0 || h >= g.H || ww < 0 || ww >= g.W) continue;
          const double t = X(n, c, h, ww) * Wt(k, c, r, s);
          v += t;
          terms += std::fabs(t);
        }
  } else if (pass == ConvPass::backward_data) {   // gx[n,c,h,w] = sum gy[n,k,p,q] w[k,c,r,s], h = p*st-pad+r
    const int64_t ww = idx % g.W, h = idx / g.W % g.H, c = idx / (g.W * g.H) % g.C, n = idx / (g.W * g.H * g.C);
    for (int64_t k = 0; k < g.K; ++k)
      for (int64_t r = 0; r < g.R; ++r)
        for (int64_t s = 0; s < g.S; ++s) {
          const int64_t ph = h + g.pad_h - r, qw = ww + g.pad_w - s;
          if (ph < 0 || qw < 0 || ph % g.stride_h || qw % g.stride_w) continue;
          const int64_t p = ph / g.stride_h, q = qw / g.stride_w;
          if (p >= g.P || q >= g.Q) continue;
          const double t = GY(n, k, p, q) * Wt(k, c, r, s);
          v += t;
          terms += std::fabs(t);
        }
  } else {   // gw[k,c,r,s] = sum_{n,p,q} gy[n,k,p,q] x[n,c,p*st-pad+r,q*st-pad+s]
    const int64_t s = idx % g.S, r = idx / g.S % g.R, c = idx / (g.S * g.R) % g.C, k = idx / (g.S * g.R * g.C);
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t p = 0; p < g.P; ++p)
        for (int64_t q = 0; q < g.Q; ++q) {
          const int64_t h = p * g.stride_h - g.pad_h + r, ww = q * g.stride_w - g.pad_w + s;
          if (h < 0 || h >= g.H || ww < 0 || ww >= g.W) continue;
          const double t = GY(n, k, p, q) * X(n, c, h, ww);
          v += t;
          terms += std::fabs(t);
        }
  }
  return {v, terms};
}

// Args: C, H=W, K, kernel, stride, pad (batch 32).
template <ConvPass pass>
void BM_Conv2d(benchmark::State& state) {
  const sdd::Conv2dGeom g = conv_geom(32, state.range(0), state.range(1), state.range(2), state.range(3),
                                      state.range(4), state.range(5));
  const Tensor x = random_tensor({g.N, g.C, g.H, g.W}, 11);
  const Tensor w = random_tensor({g.K, g.C, g.R, g.S}, 12);
  const Tensor gy = random_tensor({g.N, g.K, g.P, g.Q}, 13);
  const Tensor y = Tensor::zeros({g.N, g.K, g.P, g.Q});
  const Tensor gx = Tensor::zeros({g.N, g.C, g.H, g.W});
  const Tensor gw = Tensor::zeros({g.K, g.C, g.R, g.S});
  auto run = [&] {
    if (pass == ConvPass::forward) sdd::cpu::conv2d_forward(g, x, w, y);
    if (pass == ConvPass::backward_data) sdd::cpu::conv2d_backward_data(g, gy, w, gx);
    if (pass == ConvPass::backward_filter) sdd::cpu::conv2d_backward_filter(g, x, gy, gw);
  };
  run();
  {
    const Tensor& out = pass == ConvPass::forward ? y : pass == ConvPass::backward_data ? gx : gw;
    const float* o = out.data<float>();
    std::mt19937 gen(17);
    for (int t = 0; t < 24; ++t) {
      const int64_t idx = static_cast<int64_t>(gen() % static_cast<uint64_t>(out.numel()));
      const auto [want, terms] = conv_reference(g, pass, x.data<float>(), w.data<float>(), gy.data<float>(), idx);
      if (!close(o[idx], want, terms)) {
        state.SkipWithError("conv2d result disagrees with the direct-sum reference");
        return;
      }
    }
  }
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * g.N * g.K * g.C * g.R * g.S * g.P * g.Q;
  state.counters["images/s"] = benchmark::Counter(double(g.N), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// ResNet-18 (CIFAR) convolution shapes: stem, one 3x3 conv per stage (the stride-2 entry convs of
// stages 2-4 too) and a 1x1 stride-2 downsample.
void resnet18_cifar_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"C", "HW", "K", "k", "s", "p"});
  b->Args({3, 32, 64, 3, 1, 1});      // conv1
  b->Args({64, 32, 64, 3, 1, 1});     // layer1
  b->Args({64, 32, 128, 3, 2, 1});    // layer2.0.conv1
  b->Args({128, 16, 128, 3, 1, 1});   // layer2
  b->Args({64, 32, 128, 1, 2, 0});    // layer2.0.shortcut
  b->Args({256, 8, 256, 3, 1, 1});    // layer3
  b->Args({512, 4, 512, 3, 1, 1});    // layer4
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK_TEMPLATE(BM_Conv2d, ConvPass::forward)->Apply(resnet18_cifar_shapes);
BENCHMARK_TEMPLATE(BM_Conv2d, ConvPass::backward_data)->Apply(resnet18_cifar_shapes);
BENCHMARK_TEMPLATE(BM_Conv2d, ConvPass::backward_filter)->Apply(resnet18_cifar_shapes);

// ------------------------------------------------------------------------------------ LeNet step

// LeNet-300-100 as in the original (fc1 784->300, fc2 300->100, fc3 100->10, ReLU between).
class LeNet300100 : public sdd::nn::Module {
 public:
  LeNet300100() : Module("LeNet300100") {
    fc1 = register_module("fc1", std::make_shared<sdd::nn::Linear>(784, 300));
    fc2 = register_module("fc2", std::make_shared<sdd::nn::Linear>(300, 100));
    fc3 = register_module("fc3", std::make_shared<sdd::nn::Linear>(100, 10));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = sdd::ops::relu(fc1->forward(x));
    h = sdd::ops::relu(fc2->forward(h));
    return fc3->forward(h);
  }
  std::shared_ptr<sdd::nn::Linear> fc1, fc2, fc3;
};

void BM_LeNet300100_TrainStep(benchmark::State& state) {
  const int64_t batch = state.range(0);
  sdd::manual_seed(0);
  LeNet300100 model;
  sdd::optim::SgdOptions opt;
  opt.momentum = 0.9;
  opt.weight_decay = 5e-4;
  sdd::optim::Sgd sgd(sdd::nn::flatten_parameters(model), opt);
  const Tensor x = random_tensor({batch, 784}, 21, 0.f, 1.f);
  std::vector<int64_t> lab(static_cast<size_t>(batch));
  for (int64_t i = 0; i < batch; ++i) lab[static_cast<size_t>(i)] = (i * 7) % 10;
  const Tensor y = Tensor::from_vector(lab, {batch});
  auto step = [&] {
    sgd.zero_grad();
    const Tensor loss = sdd::ops::cross_entropy(model.forward(x), y);
    loss.backward();
    sgd.step(0.05);
    return loss;
  };
  {  // validate: the first loss is near ln(10) and repeated steps on one batch reduce it
    const double first = step().item();
    double last = first;
    for (int i = 0; i < 20; ++i) last = step().item();
    if (!std::isfinite(first) || std::fabs(first - std::log(10.0)) > 0.5 || !(last < first - 0.05)) {
      state.SkipWithError("LeNet training step does not train (loss not near ln 10 or not decreasing)");
      return;
    }
  }
  for (auto _ : state) {
    const Tensor loss = step();
    benchmark::DoNotOptimize(loss.raw());
  }
  state.counters["images/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_LeNet300100_TrainStep)->ArgName("batch")->Arg(128)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  sdd::cpu::configure_threads_from_env();   // the binary's thread policy (SPARSEDD_THREADS, ...)
  benchmark::AddCustomContext("sparsedd_threads", std::to_string(sdd::cpu::threads()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
