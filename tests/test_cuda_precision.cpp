// tests/test_cuda_precision.cpp — [cuda] the math modes of engine/precision.h on the device, against
// the CPU reference (DESIGN rules 1 and 9), and magnitude / gradient pruning of CUDA weights routed
// through pruning/device_threshold.h by pruning/strategies.cpp. Tolerances are stated at each check:
//   fp32  conv and GEMM within 1e-5 (relative and absolute) of the CPU: FMA math, summation order only
//   bf16  against the CPU on bf16-rounded inputs (kernels/bf16_ops.h): the result itself is rounded
//         to bf16 for convolutions (rel 2^-8 < 1e-2), fp32 for GEMM (rel 1e-4); against the CPU on
//         the unrounded inputs: relative error of the whole tensor (2-norm) below 1e-2
//   deterministic  the same convolution twice gives bit-identical forward and both backward results
// Without a device each test prints "SKIPPED: no CUDA device".
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/device.h"
#include "engine/precision.h"
#include "engine/rng.h"
#include "engine/tensor.h"
#include "kernels/bf16_ops.h"
#include "pruning/strategies.h"

using namespace sdd;

#define SDD_SKIP_WITHOUT_CUDA()                            \
  do {                                                     \
    if (sdd::cuda_device_count() == 0) {                   \
      std::cout << "SKIPPED: no CUDA device" << std::endl; \
      return;                                              \
    }                                                      \
  } while (0)

namespace {

const Device kGpu = Device::cuda(0);

Tensor rand_host(const Shape& s, Generator& gen, double lo = -1.0, double hi = 1.0) {
  std::vector<float> v(static_cast<size_t>(shape_numel(s)));
  for (float& x : v) x = static_cast<float>(gen.uniform(lo, hi));
  return Tensor::from_vector(v, s);
}

// A host copy with every element rounded to bf16 (what autocast feeds the tensor cores).
Tensor bf16_rounded(const Tensor& t) {
  std::vector<float> v = t.to_vector<float>();
  for (float& x : v) x = kern::round_to_bf16(x);
  return Tensor::from_vector(v, t.shape());
}

// |got - want| <= atol + rtol * |want| everywhere; prints the worst violation.
void check_close(const Tensor& got_any, const Tensor& want, double rtol, double atol, const char* what) {
  const std::vector<float> g = got_any.to(Device::cpu()).to_vector<float>();
  const std::vector<float> w = want.to_vector<float>();
  REQUIRE(g.size() == w.size());
  size_t worst = 0;
  double worst_excess = -1e300;
  bool ok = true;
  for (size_t i = 0; i < g.size(); ++i) {
    const double err = std::fabs(static_cast<double>(g[i]) - w[i]);
    const double excess = std::isnan(err) ? 1e30 : err - (atol + rtol * std::fabs(static_cast<double>(w[i])));
    if (excess > worst_excess) {
      worst_excess = excess;
      worst = i;
    }
    if (!(excess <= 0)) ok = false;
  }
  if (!ok)
    std::cout << what << ": worst index " << worst << " cuda " << g[worst] << " cpu " << w[worst] << " (rtol " << rtol
              << ", atol " << atol << ")" << std::endl;
  INFO(what);
  CHECK(ok);
}

// ||got - want||_2 / ||want||_2 <= rel.
void check_norm_close(const Tensor& got_any, const Tensor& want, double rel, const char* what) {
  const std::vector<float> g = got_any.to(Device::cpu()).to_vector<float>();
  const std::vector<float> w = want.to_vector<float>();
  REQUIRE(g.size() == w.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    num += (static_cast<double>(g[i]) - w[i]) * (static_cast<double>(g[i]) - w[i]);
    den += static_cast<double>(w[i]) * w[i];
  }
  const double r = std::sqrt(num / (den > 0 ? den : 1.0));
  INFO(what << ": relative 2-norm error " << r << " (limit " << rel << ")");
  CHECK(r <= rel);
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to(Device::cpu()).to_vector<float>(), y = b.to(Device::cpu()).to_vector<float>();
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

Conv2dGeom conv_geom(int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S, int64_t stride,
                     int64_t pad) {
  Conv2dGeom g;
  g.N = N, g.C = C, g.H = H, g.W = W, g.K = K, g.R = R, g.S = S;
  g.stride_h = g.stride_w = stride;
  g.pad_h = g.pad_w = pad;
  g.P = (H + 2 * pad - R) / stride + 1;
  g.Q = (W + 2 * pad - S) / stride + 1;
  return g;
}

// The three passes of one convolution on the device (inputs on the host), results on the device.
struct ConvResults {
  Tensor y, gx, gw;
};
ConvResults gpu_conv(const Conv2dGeom& g, const Tensor& x, const Tensor& w, const Tensor& gy) {
  ConvResults r{Tensor::empty({g.N, g.K, g.P, g.Q}, DType::f32, kGpu), Tensor::empty(x.shape(), DType::f32, kGpu),
                Tensor::empty(w.shape(), DType::f32, kGpu)};
  const Tensor dx = x.to(kGpu), dw = w.to(kGpu), dgy = gy.to(kGpu);
  cuda::conv2d_forward(g, dx, dw, r.y);
  cuda::conv2d_backward_data(g, dgy, dw, r.gx);
  cuda::conv2d_backward_filter(g, dx, dgy, r.gw);
  return r;
}
ConvResults cpu_conv(const Conv2dGeom& g, const Tensor& x, const Tensor& w, const Tensor& gy) {
  ConvResults r{Tensor::empty({g.N, g.K, g.P, g.Q}), Tensor::empty(x.shape()), Tensor::empty(w.shape())};
  cpu::conv2d_forward(g, x, w, r.y);
  cpu::conv2d_backward_data(g, gy, w, r.gx);
  cpu::conv2d_backward_filter(g, x, gy, r.gw);
  return r;
}

}  // namespace

TEST_CASE("cuda fp32 mode: convolution and GEMM within 1e-5 of the CPU", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  MathModeGuard mode({Precision::fp32, false});
  Generator gen(31);
  // Small reductions (<= 45 products per output, <= 2*5*5 per filter gradient entry) of O(1) terms.
  for (const Conv2dGeom& g : {conv_geom(2, 5, 5, 5, 3, 3, 3, 1, 1), conv_geom(2, 3, 7, 6, 4, 3, 2, 2, 1)}) {
    const Tensor x = rand_host({g.N, g.C, g.H, g.W}, gen), w = rand_host({g.K, g.C, g.R, g.S}, gen);
    const Tensor gy = rand_host({g.N, g.K, g.P, g.Q}, gen);
    const ConvResults d = gpu_conv(g, x, w, gy), c = cpu_conv(g, x, w, gy);
    check_close(d.y, c.y, 1e-5, 1e-5, "fp32 conv forward");
    check_close(d.gx, c.gx, 1e-5, 1e-5, "fp32 conv backward data");
    check_close(d.gw, c.gw, 1e-5, 1e-5, "fp32 conv backward filter");
  }
  const int64_t M = 19, N = 23, K = 31;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      const Tensor a = rand_host(ta ? Shape{K, M} : Shape{M, K}, gen), b = rand_host(tb ? Shape{N, K} : Shape{K, N}, gen);
      const Tensor c0 = rand_host({M, N}, gen);
      Tensor want = c0.clone(), got = c0.to(kGpu);
      cpu::gemm(ta, tb, 1.0f, a, b, 0.5f, want);
      cuda::gemm(ta, tb, 1.0f, a.to(kGpu), b.to(kGpu), 0.5f, got);
      INFO("trans_a " << ta << " trans_b " << tb);
      check_close(got, want, 1e-5, 1e-5, "fp32 gemm");
    }
}

TEST_CASE("cuda bf16 GEMM: bf16 operands, fp32 accumulation and output, every transpose", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  MathModeGuard mode({Precision::bf16, false});
  Generator gen(32);
  const int64_t M = 45, N = 33, K = 129;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      const Tensor a = rand_host(ta ? Shape{K, M} : Shape{M, K}, gen), b = rand_host(tb ? Shape{N, K} : Shape{K, N}, gen);
      const Tensor c0 = rand_host({M, N}, gen);
      Tensor got = c0.to(kGpu);
      cuda::gemm(ta, tb, 0.75f, a.to(kGpu), b.to(kGpu), 0.5f, got);
      INFO("trans_a " << ta << " trans_b " << tb);
      // The same products in fp32 on the CPU from the rounded operands: summation order only.
      Tensor exact = c0.clone();
      cpu::gemm(ta, tb, 0.75f, bf16_rounded(a), bf16_rounded(b), 0.5f, exact);
      check_close(got, exact, 1e-4, 1e-4, "bf16 gemm vs CPU on bf16-rounded operands");
      // Against the unrounded fp32 product: the operand rounding (2^-9 each) shows, ~1e-2 relative.
      Tensor fp32 = c0.clone();
      cpu::gemm(ta, tb, 0.75f, a, b, 0.5f, fp32);
      check_norm_close(got, fp32, 1e-2, "bf16 gemm vs CPU fp32");
    }
  // A product with the identity returns the operand rounded to bf16, bit for bit (the cast kernel
  // against the host functor, ties to even included).
  const int64_t R = 64;
  std::vector<float> eye(static_cast<size_t>(R * R), 0.f);
  for (int64_t i = 0; i < R; ++i) eye[static_cast<size_t>(i * R + i)] = 1.f;
  std::vector<float> vals(static_cast<size_t>(7 * R));
  for (size_t i = 0; i < vals.size(); ++i) {
    const uint32_t u = 0x3f800000u + static_cast<uint32_t>(i) * 0x4000u;  // exercises halfway cases
    std::memcpy(&vals[i], &u, sizeof u);
    if (i % 3 == 0) vals[i] = static_cast<float>(gen.uniform(-100.0, 100.0));
  }
  const Tensor a = Tensor::from_vector(vals, {7, R});
  Tensor got = Tensor::zeros({7, R}, DType::f32, kGpu);
  cuda::gemm(false, false, 1.f, a.to(kGpu), Tensor::from_vector(eye, {R, R}).to(kGpu), 0.f, got);
  CHECK(bit_equal(got, bf16_rounded(a)));
}

TEST_CASE("cuda bf16 convolution: forward and both backward passes against the CPU", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  MathModeGuard mode({Precision::bf16, false});
  Generator gen(33);
  for (const Conv2dGeom& g : {conv_geom(4, 16, 10, 10, 8, 3, 3, 1, 1), conv_geom(3, 8, 9, 11, 16, 3, 3, 2, 1),
                              conv_geom(2, 16, 8, 8, 32, 1, 1, 2, 0)}) {
    const Tensor x = rand_host({g.N, g.C, g.H, g.W}, gen), w = rand_host({g.K, g.C, g.R, g.S}, gen);
    const Tensor gy = rand_host({g.N, g.K, g.P, g.Q}, gen);
    const ConvResults d = gpu_conv(g, x, w, gy);
    // CPU on the rounded inputs; the device result is the fp32 sum rounded once to bf16 (rel 2^-8)
    // plus the summation order: rel 1e-2, abs 1e-4.
    const ConvResults r = cpu_conv(g, bf16_rounded(x), bf16_rounded(w), bf16_rounded(gy));
    check_close(d.y, r.y, 1e-2, 1e-4, "bf16 conv forward vs CPU on rounded inputs");
    check_close(d.gx, r.gx, 1e-2, 1e-4, "bf16 conv backward data vs CPU on rounded inputs");
    check_close(d.gw, r.gw, 1e-2, 1e-4, "bf16 conv backward filter vs CPU on rounded inputs");
    // Every output is exactly a bf16 value (autocast output cast back to fp32).
    for (const Tensor* t : {&d.y, &d.gx, &d.gw}) CHECK(bit_equal(*t, bf16_rounded(t->to(Device::cpu()))));
    const ConvResults c = cpu_conv(g, x, w, gy);
    check_norm_close(d.y, c.y, 1e-2, "bf16 conv forward vs CPU fp32");
    check_norm_close(d.gx, c.gx, 1e-2, "bf16 conv backward data vs CPU fp32");
    check_norm_close(d.gw, c.gw, 1e-2, "bf16 conv backward filter vs CPU fp32");
  }
}

TEST_CASE("cuda deterministic mode: the same convolution twice is bit-identical", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(34);
  // Shapes where cuDNN's fastest backward algorithms would accumulate with atomics.
  for (const Conv2dGeom& g : {conv_geom(32, 32, 16, 16, 32, 3, 3, 1, 1), conv_geom(16, 64, 8, 8, 64, 3, 3, 2, 1)}) {
    const Tensor x = rand_host({g.N, g.C, g.H, g.W}, gen), w = rand_host({g.K, g.C, g.R, g.S}, gen);
    const Tensor gy = rand_host({g.N, g.K, g.P, g.Q}, gen);
    for (Precision p : {Precision::tf32, Precision::fp32}) {
      MathModeGuard mode({p, true});
      INFO("precision " << precision_name(p));
      const ConvResults a = gpu_conv(g, x, w, gy), b = gpu_conv(g, x, w, gy);
      CHECK(bit_equal(a.y, b.y));
      CHECK(bit_equal(a.gx, b.gx));
      CHECK(bit_equal(a.gw, b.gw));
      // Still the right convolution.
      const ConvResults c = cpu_conv(g, x, w, gy);
      check_norm_close(a.y, c.y, p == Precision::fp32 ? 1e-5 : 5e-3, "deterministic conv forward");
      check_norm_close(a.gw, c.gw, p == Precision::fp32 ? 1e-5 : 5e-3, "deterministic conv backward filter");
    }
  }
}

TEST_CASE("cuda pruning of CUDA weights goes through the device threshold and equals the host masks", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(35);
  const std::vector<std::pair<std::string, Shape>> shapes = {{"a.weight", {40, 30}}, {"b.weight", {257}}, {"c.weight", {6, 5, 3, 3}}};
  pruning::NamedTensors wh, wd, gh;
  for (const auto& [n, s] : shapes) {
    std::vector<float> v(static_cast<size_t>(shape_numel(s)));
    for (float& x : v) x = static_cast<float>(static_cast<int64_t>(gen.below(41)) - 20) * 0.125f;  // many ties
    wh.emplace_back(n, Tensor::from_vector(v, s));
    wd.emplace_back(n, wh.back().second.to(kGpu));
    gh.emplace_back(n, rand_host(s, gen));
  }
  pruning::Mask mask = pruning::Mask::ones(shapes);
  for (int level = 0; level < 3; ++level)
    for (const char* scope : {"global", "layer"})
      for (bool max_mag : {false, true}) {
        pruning::PruningConfig c;
        c.scope = scope;
        c.fraction = 0.2;
        c.prune_max_magnitude = max_mag;
        c.layers_to_ignore = {"b.weight"};
        INFO("level " << level << " scope " << scope << " max " << max_mag);
        const pruning::Mask host = pruning::prune_magnitude(mask, wh, c), dev = pruning::prune_magnitude(mask, wd, c);
        for (const auto& [n, s] : shapes) CHECK(bit_equal(dev.at(n), host.at(n)));
        c.strategy = "gradient";
        c.prune_max_magnitude = false;
        // CUDA weights with host gradients (what the runners pass): gradients copied to the device.
        const pruning::Mask grad_host = pruning::prune_gradient(mask, wh, gh, c), grad_dev = pruning::prune_gradient(mask, wd, gh, c);
        for (const auto& [n, s] : shapes) CHECK(bit_equal(grad_dev.at(n), grad_host.at(n)));
        if (std::string(scope) == "global" && !max_mag) mask = host;  // next level from this mask
      }
}
