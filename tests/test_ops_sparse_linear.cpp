// tests/test_ops_sparse_linear.cpp — the CPU sparse forward, weight gradient and input gradient of
// pruned linear layers (engine/cpu/sparse_linear_cpu.h) against sgemm: odd batch sizes (full and
// partial 64-row blocks), the density thresholds, and the cached nonzero pattern when values change,
// when a pruned weight comes back (regain) and when more weights are pruned; ops::linear on a pruned
// weight; the FrozenWeights scope of evaluation passes.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/sparse_linear_cpu.h"
#include "engine/ops.h"
#include "engine/tensor.h"
#include "tests/support/allclose.h"
#include "tests/support/random_values.h"

using namespace sdd;
using sdd::test::allclose;
using sdd::test::random_values;

namespace {

Tensor dense_product(const Tensor& x, const Tensor& w) {
  Tensor ref = Tensor::empty({x.size(0), w.size(0)}, DType::f32);
  cpu::gemm(false, true, 1.f, x, w, 0.f, ref);
  return ref;
}

}  // namespace

TEST_CASE("sparse linear forward equals sgemm for full and partial row blocks", "[ops]") {
  const bool portable = GENERATE(false, true);   // the AVX2 kernels (where the CPU has them), then the portable ones
  cpu::force_portable_sparse_kernels(portable);
  for (const int64_t N : {int64_t{1}, int64_t{63}, int64_t{64}, int64_t{65}, int64_t{130}}) {
    for (const double density : {0.0, 0.05, 0.2, 1.0}) {
      const int64_t I = 37, O = 19;
      const Tensor x = Tensor::from_vector(random_values(static_cast<size_t>(N * I), 1.0, 3), {N, I});
      const Tensor w = Tensor::from_vector(random_values(static_cast<size_t>(O * I), density, 4), {O, I});
      Tensor got = Tensor::full({N, O}, NAN);
      cpu::sparse_linear_forward_always(x, w, got);
      INFO("N " << N << " density " << density << " portable " << portable);
      CHECK(allclose(got, dense_product(x, w), 1e-5, 1e-5));
    }
  }
  cpu::force_portable_sparse_kernels(false);
}

TEST_CASE("sparse linear forward is taken only at or below the density threshold", "[ops]") {
  // The count of nonzero weights decides; AVX2 and portable counts, -0 is zero (400 entries: the AVX2
  // count's 32-wide blocks and its tail).
  const bool portable = GENERATE(false, true);
  cpu::force_portable_sparse_kernels(portable);
  const int64_t N = 8, I = 40, O = 10;
  const Tensor x = Tensor::from_vector(random_values(static_cast<size_t>(N * I), 1.0, 5), {N, I});
  std::vector<float> wv(static_cast<size_t>(O * I), -0.f);
  const auto limit = static_cast<size_t>(cpu::kSparseLinearMaxDensity * static_cast<double>(wv.size()));
  for (size_t i = 0; i < limit; ++i) wv[i * 3 % wv.size()] = 0.5f + static_cast<float>(i % 7);
  Tensor out = Tensor::full({N, O}, NAN);
  REQUIRE(cpu::sparse_linear_forward(x, Tensor::from_vector(wv, {O, I}), out));
  REQUIRE(allclose(out, dense_product(x, Tensor::from_vector(wv, {O, I})), 1e-5, 1e-5));
  // one more nonzero than the threshold allows: the dense path, out untouched
  for (size_t i = 0; i < wv.size(); ++i)
    if (wv[i] == 0.f) {
      wv[i] = 1.f;
      break;
    }
  Tensor untouched = Tensor::full({N, O}, 7.f);
  REQUIRE_FALSE(cpu::sparse_linear_forward(x, Tensor::from_vector(wv, {O, I}), untouched));
  for (float v : untouched.to_vector<float>()) REQUIRE(v == 7.f);
  cpu::force_portable_sparse_kernels(false);
}

TEST_CASE("sparse linear pattern cache follows value changes, regained and newly pruned weights", "[ops]") {
  const int64_t N = 70, I = 50, O = 30;
  const Tensor x = Tensor::from_vector(random_values(static_cast<size_t>(N * I), 1.0, 6), {N, I});
  // One weight tensor whose storage stays in place, as a parameter in the arena does.
  Tensor w = Tensor::from_vector(random_values(static_cast<size_t>(O * I), 0.1, 7), {O, I});
  float* pw = w.data<float>();
  auto check = [&](const char* what) {
    Tensor got = Tensor::full({N, O}, NAN);
    cpu::sparse_linear_forward_always(x, w, got);
    INFO(what);
    REQUIRE(allclose(got, dense_product(x, w), 1e-5, 1e-5));
  };
  check("first call builds the pattern");
  for (int64_t i = 0; i < O * I; ++i)
    if (pw[i] != 0.f) pw[i] *= -1.5f;
  check("same pattern, new values");
  int64_t regained = 0;
  for (int64_t i = 0; i < O * I && regained < 3; ++i)
    if (pw[i] == 0.f) {
      pw[i] = 2.f;
      ++regained;
    }
  check("a pruned weight came back (regain): the pattern no longer covers every nonzero");
  int64_t pruned = 0;
  for (int64_t i = 0; i < O * I; ++i)
    if (pw[i] != 0.f && ++pruned % 2 == 0) pw[i] = 0.f;
  check("half the weights pruned: the pattern is rebuilt smaller");
  pw[0] = 0.f;
  pw[O * I - 1] = 3.f;
  check("first entry pruned, last entry regained");
}

TEST_CASE("FrozenWeights: one count and gather per scope, and every change seen again once it ends", "[ops]") {
  const int64_t N = 70, I = 50, O = 30;
  const Tensor x = Tensor::from_vector(random_values(static_cast<size_t>(N * I), 1.0, 8), {N, I});
  Tensor w = Tensor::from_vector(random_values(static_cast<size_t>(O * I), 0.1, 9), {O, I});
  float* pw = w.data<float>();
  auto forward = [&] {
    Tensor got = Tensor::full({N, O}, NAN);
    REQUIRE(cpu::sparse_linear_forward(x, w, got));
    return got;
  };
  const Tensor before = Tensor::from_vector(std::vector<float>(pw, pw + O * I), {O, I});
  {
    const cpu::FrozenWeights frozen;
    const cpu::FrozenWeights nested;   // shares the outer scope
    REQUIRE(allclose(forward(), dense_product(x, w), 1e-5, 1e-5));
    // The promise broken on purpose: a forward inside the scope reuses what the first one gathered.
    for (int64_t i = 0; i < O * I; ++i)
      if (pw[i] != 0.f) pw[i] *= 2.f;
    REQUIRE(allclose(forward(), dense_product(x, before), 1e-5, 1e-5));
  }
  // Scope over: the doubled values are read again...
  REQUIRE(allclose(forward(), dense_product(x, w), 1e-5, 1e-5));
  {
    const cpu::FrozenWeights frozen;   // ...and a new scope gathers afresh, also after a pattern change
    pw[0] = pw[0] == 0.f ? 1.f : 0.f;
    pw[O * I - 1] = 5.f;
    REQUIRE(allclose(forward(), dense_product(x, w), 1e-5, 1e-5));
  }
  REQUIRE(allclose(forward(), dense_product(x, w), 1e-5, 1e-5));
}

TEST_CASE("ops::linear with a pruned weight: values and gradients equal the dense computation", "[ops]") {
  const int64_t N = 66, I = 45, O = 12;
  const std::vector<float> xv = random_values(static_cast<size_t>(N * I), 1.0, 8);
  const std::vector<float> wv = random_values(static_cast<size_t>(O * I), 0.08, 9);
  const std::vector<float> bv = random_values(static_cast<size_t>(O), 1.0, 10);
  Tensor x = Tensor::from_vector(xv, {N, I}), w = Tensor::from_vector(wv, {O, I}), b = Tensor::from_vector(bv, {O});
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  Tensor y = ops::linear(x, w, b);
  // reference: y[n][o] = b[o] + sum_i x[n][i] w[o][i] in double
  const std::vector<float> yv = y.to_vector<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      double r = bv[static_cast<size_t>(o)];
      for (int64_t i = 0; i < I; ++i) r += static_cast<double>(xv[static_cast<size_t>(n * I + i)]) * wv[static_cast<size_t>(o * I + i)];
      REQUIRE(std::fabs(yv[static_cast<size_t>(n * O + o)] - r) < 1e-4 * (1.0 + std::fabs(r)));
    }
  ops::sum(y).backward();
  // d sum(y) / dx[n][i] = sum_o w[o][i];  d / dw[o][i] = sum_n x[n][i] (dense, pruned entries too)
  const std::vector<float> gx = x.grad().to_vector<float>(), gw = w.grad().to_vector<float>();
  for (int64_t i = 0; i < I; ++i) {
    double sw = 0, sx = 0;
    for (int64_t o = 0; o < O; ++o) sw += wv[static_cast<size_t>(o * I + i)];
    for (int64_t n = 0; n < N; ++n) sx += xv[static_cast<size_t>(n * I + i)];
    REQUIRE(std::fabs(gx[static_cast<size_t>(i)] - sw) < 1e-4 * (1.0 + std::fabs(sw)));
    for (int64_t o = 0; o < O; ++o) REQUIRE(std::fabs(gw[static_cast<size_t>(o * I + i)] - sx) < 1e-4 * (1.0 + std::fabs(sx)));
  }
}

TEST_CASE("sparse weight gradient: support entries equal sgemm, other entries untouched", "[ops]") {
  const bool portable = GENERATE(false, true);
  cpu::force_portable_sparse_kernels(portable);
  for (const int64_t N : {int64_t{1}, int64_t{31}, int64_t{32}, int64_t{100}}) {
    const int64_t I = 23, O = 9;
    const Tensor gy = Tensor::from_vector(random_values(static_cast<size_t>(N * O), 1.0, 11), {N, O});
    const Tensor x = Tensor::from_vector(random_values(static_cast<size_t>(N * I), 1.0, 12), {N, I});
    std::vector<float> sup = random_values(static_cast<size_t>(O * I), 0.1, 13);
    for (float& v : sup) v = v != 0.f ? 1.f : 0.f;
    const Tensor support = Tensor::from_vector(sup, {O, I});
    const std::vector<float> start = random_values(static_cast<size_t>(O * I), 1.0, 14);
    Tensor acc = Tensor::from_vector(start, {O, I});
    cpu::sparse_linear_weight_grad_always(gy, x, support, acc);
    Tensor full = Tensor::from_vector(start, {O, I});
    cpu::gemm(true, false, 1.f, gy, x, 1.f, full);
    const std::vector<float> got = acc.to_vector<float>(), want = full.to_vector<float>();
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("N " << N << " entry " << i << " support " << sup[i] << " portable " << portable);
      if (sup[i] != 0.f)
        CHECK(std::fabs(got[i] - want[i]) <= 1e-4f * (1.f + std::fabs(want[i])));
      else
        CHECK(got[i] == start[i]);
    }
  }
  cpu::force_portable_sparse_kernels(false);
}

TEST_CASE("sparse weight gradient is taken only up to its density threshold", "[ops]") {
  const int64_t N = 4, I = 20, O = 10;
  const Tensor gy = Tensor::from_vector(random_values(static_cast<size_t>(N * O), 1.0, 15), {N, O});
  const Tensor x = Tensor::from_vector(random_values(static_cast<size_t>(N * I), 1.0, 16), {N, I});
  std::vector<float> sup(static_cast<size_t>(O * I), 0.f);
  const auto limit = static_cast<size_t>(cpu::kSparseWeightGradMaxDensity * static_cast<double>(sup.size()));
  for (size_t i = 0; i < limit; ++i) sup[i * 7 % sup.size()] = 1.f;
  Tensor acc = Tensor::zeros({O, I});
  REQUIRE(cpu::sparse_linear_weight_grad(gy, x, Tensor::from_vector(sup, {O, I}), acc));
  for (size_t i = 0; i < sup.size(); ++i)
    if (sup[i] == 0.f) {
      sup[i] = 1.f;
      break;
    }
  Tensor untouched = Tensor::full({O, I}, 5.f);
  REQUIRE_FALSE(cpu::sparse_linear_weight_grad(gy, x, Tensor::from_vector(sup, {O, I}), untouched));
  for (float v : untouched.to_vector<float>()) REQUIRE(v == 5.f);
}

TEST_CASE("sparse linear forward sees an input refilled in place between two forwards", "[ops]") {
  const int64_t N = 64, I = 30, O = 8;
  const Tensor w = Tensor::from_vector(random_values(static_cast<size_t>(O * I), 0.1, 21), {O, I});
  Tensor x = Tensor::from_vector(random_values(static_cast<size_t>(N * I), 1.0, 22), {N, I});
  Tensor first = Tensor::full({N, O}, NAN);
  cpu::sparse_linear_forward_always(x, w, first);
  REQUIRE(allclose(first, dense_product(x, w), 1e-5, 1e-5));
  x.copy_(Tensor::from_vector(random_values(static_cast<size_t>(N * I), 1.0, 23), {N, I}));   // same storage
  Tensor second = Tensor::full({N, O}, NAN);
  cpu::sparse_linear_forward_always(x, w, second);
  REQUIRE(allclose(second, dense_product(x, w), 1e-5, 1e-5));
  // and the weight gradient after that forward uses the refilled values too
  std::vector<float> ones(static_cast<size_t>(O * I), 1.f);
  const Tensor gy = Tensor::from_vector(random_values(static_cast<size_t>(N * O), 1.0, 24), {N, O});
  Tensor acc = Tensor::zeros({O, I}), want = Tensor::zeros({O, I});
  cpu::sparse_linear_weight_grad_always(gy, x, Tensor::from_vector(ones, {O, I}), acc);
  cpu::gemm(true, false, 1.f, gy, x, 1.f, want);
  REQUIRE(allclose(acc, want, 1e-4, 1e-4));
}

TEST_CASE("sparse input gradient equals sgemm, follows the weight's values and pattern, and its threshold", "[ops]") {
  const bool portable = GENERATE(false, true);
  cpu::force_portable_sparse_kernels(portable);
  auto dense_input_grad = [](const Tensor& gy, const Tensor& w) {
    Tensor ref = Tensor::empty({gy.size(0), w.size(1)}, DType::f32);
    cpu::gemm(false, false, 1.f, gy, w, 0.f, ref);
    return ref;
  };
  for (const int64_t N : {int64_t{1}, int64_t{63}, int64_t{64}, int64_t{65}, int64_t{130}}) {
    for (const double density : {0.0, 0.05, 0.2, 1.0}) {
      const int64_t I = 37, O = 19;
      const Tensor gy = Tensor::from_vector(random_values(static_cast<size_t>(N * O), 1.0, 31), {N, O});
      std::vector<float> wv = random_values(static_cast<size_t>(O * I), density, 32);
      Tensor w = Tensor::from_vector(wv, {O, I});
      Tensor got = cpu::sparse_linear_input_grad_always(gy, w);
      INFO("N " << N << " density " << density << " portable " << portable);
      CHECK(allclose(got, dense_input_grad(gy, w), 1e-5, 1e-5));
      // New values on the same pattern (a training step), then one weight pruned more (a new
      // pattern): the cached column copy follows both.
      for (float& v : wv) v *= -1.5f;
      w.copy_(Tensor::from_vector(wv, {O, I}));
      got = cpu::sparse_linear_input_grad_always(gy, w);
      CHECK(allclose(got, dense_input_grad(gy, w), 1e-5, 1e-5));
      for (float& v : wv)
        if (v != 0.f) {
          v = 0.f;
          break;
        }
      w.copy_(Tensor::from_vector(wv, {O, I}));
      got = cpu::sparse_linear_input_grad_always(gy, w);
      CHECK(allclose(got, dense_input_grad(gy, w), 1e-5, 1e-5));
    }
  }
  cpu::force_portable_sparse_kernels(false);

  // Threshold: at most kSparseLinearMaxDensity nonzero weights -> sparse; one more -> gx untouched.
  const int64_t N = 8, I = 40, O = 10;
  const Tensor gy = Tensor::from_vector(random_values(static_cast<size_t>(N * O), 1.0, 33), {N, O});
  std::vector<float> wv(static_cast<size_t>(O * I), 0.f);
  const auto limit = static_cast<size_t>(cpu::kSparseLinearMaxDensity * static_cast<double>(wv.size()));
  for (size_t i = 0; i < limit; ++i) wv[i * 3 % wv.size()] = 0.25f + static_cast<float>(i % 5);
  const Tensor gx = cpu::sparse_linear_backward(gy, Tensor::from_vector(wv, {O, I}), Tensor(), Tensor(), Tensor()).gx;
  REQUIRE(gx.defined());
  REQUIRE(allclose(gx, dense_input_grad(gy, Tensor::from_vector(wv, {O, I})), 1e-5, 1e-5));
  for (float& v : wv)
    if (v == 0.f) {
      v = 1.f;
      break;
    }
  const cpu::SparseBackward done = cpu::sparse_linear_backward(gy, Tensor::from_vector(wv, {O, I}), Tensor(), Tensor(), Tensor());
  REQUIRE_FALSE(done.gx.defined());
  REQUIRE_FALSE(done.weight);
}

TEST_CASE("sparse linear forward adds the bias as it writes, bit for bit the same as adding it afterwards", "[ops]") {
  // Odd O (the transpose's 8 x 8 blocks and its scalar edges), partial 64-row blocks; AVX2 and portable.
  const bool portable = GENERATE(false, true);
  cpu::force_portable_sparse_kernels(portable);
  for (const int64_t N : {int64_t{1}, int64_t{64}, int64_t{70}, int64_t{130}}) {
    const int64_t I = 45, O = 27;
    const Tensor x = Tensor::from_vector(random_values(static_cast<size_t>(N * I), 1.0, 41), {N, I});
    const Tensor w = Tensor::from_vector(random_values(static_cast<size_t>(O * I), 0.2, 42), {O, I});
    const Tensor b = Tensor::from_vector(random_values(static_cast<size_t>(O), 1.0, 43), {O});
    Tensor with_bias = Tensor::full({N, O}, NAN), then_bias = Tensor::full({N, O}, NAN);
    cpu::sparse_linear_forward_always(x, w, with_bias, b);
    cpu::sparse_linear_forward_always(x, w, then_bias);
    cpu::add_row_bias(then_bias, b);
    INFO("N " << N << " portable " << portable);
    const std::vector<float> got = with_bias.to_vector<float>(), want = then_bias.to_vector<float>();
    int64_t differ = 0;
    for (size_t i = 0; i < got.size(); ++i) differ += std::memcmp(&got[i], &want[i], sizeof(float)) != 0;
    CHECK(differ == 0);
    // and ops::linear on the same (pruned) weight takes that path with the same values
    REQUIRE(cpu::sparse_linear_forward(x, w, Tensor::empty({N, O}, DType::f32)));
    const std::vector<float> op = ops::linear(x, w, b).to_vector<float>();
    CHECK(std::memcmp(op.data(), want.data(), want.size() * sizeof(float)) == 0);
  }
  cpu::force_portable_sparse_kernels(false);
}

TEST_CASE("sparse weight gradient reuses a registered support's pattern for the same registration only", "[ops]") {
  // A registered support keeps its values (grad_support.h), so the pattern checked under a registration
  // is reused without reading the support. Broken on purpose: the support changes in place and the
  // same number is passed again, and the old pattern is used; a new number reads the new support.
  // (Numbers far above what the registry hands out in a test process.)
  const int64_t r1 = int64_t{1} << 50, r2 = r1 + 1;
  const int64_t N = 70, I = 40, O = 12;
  const Tensor gy = Tensor::from_vector(random_values(static_cast<size_t>(N * O), 1.0, 51), {N, O});
  const Tensor x = Tensor::from_vector(random_values(static_cast<size_t>(N * I), 1.0, 52), {N, I});
  std::vector<float> first(static_cast<size_t>(O * I), 0.f), second(first);
  for (size_t i = 0; i < first.size(); ++i) {
    first[i] = i % 8 == 0 ? 1.f : 0.f;
    second[i] = i % 8 == 4 ? 1.f : 0.f;
  }
  int64_t nnz_first = 0, nnz_second = 0;
  for (size_t i = 0; i < first.size(); ++i) nnz_first += first[i] != 0.f, nnz_second += second[i] != 0.f;
  REQUIRE(nnz_first == nnz_second);
  Tensor support = Tensor::from_vector(first, {O, I});   // one storage, refilled in place below
  auto grad = [&](int64_t registration) {
    Tensor acc = Tensor::zeros({O, I});
    cpu::sparse_linear_backward(gy, Tensor(), x, support, acc, true, nnz_first, registration);
    return acc.to_vector<float>();
  };
  auto nonzero = [](const std::vector<float>& v) {   // which entries a gradient wrote / a support holds
    std::vector<bool> nz(v.size());
    for (size_t i = 0; i < v.size(); ++i) nz[i] = v[i] != 0.f;
    return nz;
  };
  CHECK(nonzero(grad(r1)) == nonzero(first));
  support.copy_(Tensor::from_vector(second, {O, I}));
  CHECK(nonzero(grad(r1)) == nonzero(first));    // the promise broken: the pattern of registration r1
  CHECK(nonzero(grad(r2)) == nonzero(second));   // a new registration reads the support again
  CHECK(nonzero(grad(0)) == nonzero(second));   // no registration: checked on every call
}
