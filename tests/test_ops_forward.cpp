// tests/test_ops_forward.cpp — forward values of the CPU backend against naive references [ops]:
// convolution vs a direct loop on odd shapes, batch-norm running statistics (unbiased variance),
// pooling values, the loss, argmax ties, shape / device checks, and that NaN poisoning catches a
// backward which forgets entries.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "support/allclose.h"
#include "support/gradcheck.h"

using namespace sdd;
using sdd::test::allclose;
using sdd::test::random_tensor;

namespace {
// y[N,K,P,Q] by the definition of a cross-correlation with zero padding
Tensor naive_conv(const Tensor& x, const Tensor& w, int64_t stride, int64_t pad) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t K = w.size(0), R = w.size(2), S = w.size(3);
  const int64_t P = (H + 2 * pad - R) / stride + 1, Q = (W + 2 * pad - S) / stride + 1;
  Tensor y = Tensor::zeros({N, K, P, Q});
  const float* px = x.data<float>();
  const float* pw = w.data<float>();
  float* py = y.data<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q) {
          double s = 0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t r = 0; r < R; ++r)
              for (int64_t t = 0; t < S; ++t) {
                const int64_t h = p * stride - pad + r, ww = q * stride - pad + t;
                if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
                s += static_cast<double>(px[((n * C + c) * H + h) * W + ww]) * pw[((k * C + c) * R + r) * S + t];
              }
          py[((n * K + k) * P + p) * Q + q] = static_cast<float>(s);
        }
  return y;
}
}  // namespace

TEST_CASE("conv2d forward matches a direct convolution on odd shapes", "[ops]") {
  test::PoisonScope poison;
  struct Case { int64_t N, C, H, W, K, R, S, stride, pad; };
  const Case cases[] = {{3, 5, 7, 9, 4, 3, 2, 2, 1}, {3, 5, 7, 9, 4, 3, 3, 1, 1}, {2, 3, 8, 5, 6, 1, 1, 2, 0},
                        {1, 2, 6, 6, 3, 5, 5, 1, 2}, {4, 3, 9, 7, 2, 2, 3, 3, 0}, {2, 4, 5, 5, 3, 1, 1, 1, 0}};
  uint64_t seed = 100;
  for (const Case& c : cases) {
    const Tensor x = random_tensor({c.N, c.C, c.H, c.W}, seed++), w = random_tensor({c.K, c.C, c.R, c.S}, seed++);
    const Tensor b = random_tensor({c.K}, seed++);
    const Tensor y = ops::conv2d(x, w, Tensor(), c.stride, c.pad);
    CHECK(allclose(y, naive_conv(x, w, c.stride, c.pad), 1e-4, 1e-5));
    // with bias: y + b[k]
    const Tensor yb = ops::conv2d(x, w, b, c.stride, c.pad);
    const Tensor ref = naive_conv(x, w, c.stride, c.pad);
    float* pr = ref.data<float>();
    const int64_t plane = ref.size(2) * ref.size(3);
    for (int64_t i = 0; i < ref.numel(); ++i) pr[i] += b.data<float>()[(i / plane) % c.K];
    CHECK(allclose(yb, ref, 1e-4, 1e-5));
  }
}

TEST_CASE("batch_norm running statistics use the unbiased variance", "[ops]") {
  // x[2, 1, 1, 2] = {1, 2, 3, 6}: mean 3, biased var 3.5, unbiased var 14/3
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 6}, {2, 1, 1, 2});
  const Tensor g = Tensor::ones({1}), b = Tensor::zeros({1});
  Tensor rm = Tensor::from_vector<float>({0.5f}, {1}), rv = Tensor::from_vector<float>({2.f}, {1});
  const Tensor y = ops::batch_norm(x, g, b, rm, rv, true, 0.1, 1e-5);
  CHECK(rm.item() == Approx(0.9 * 0.5 + 0.1 * 3.0).epsilon(1e-6));
  CHECK(rv.item() == Approx(0.9 * 2.0 + 0.1 * 14.0 / 3.0).epsilon(1e-6));
  const double inv = 1.0 / std::sqrt(3.5 + 1e-5);
  const Tensor expect = Tensor::from_vector<float>({float(-2 * inv), float(-1 * inv), 0.f, float(3 * inv)}, {2, 1, 1, 2});
  CHECK(allclose(y, expect, 1e-5, 1e-6));
  // eval mode uses the running statistics and leaves them alone
  const double m = rm.item(), v = rv.item();
  const Tensor ye = ops::batch_norm(x, g, b, rm, rv, false, 0.1, 1e-5);
  CHECK(rm.item() == m);
  CHECK(rv.item() == v);
  CHECK(ye.to_vector<float>()[3] == Approx((6.0 - m) / std::sqrt(v + 1e-5)).epsilon(1e-5));
  // [N, C] input (BatchNorm1d) is treated as H = W = 1
  Tensor rm2 = Tensor::zeros({2}), rv2 = Tensor::ones({2});
  ops::batch_norm(Tensor::from_vector<float>({1, 10, 3, 20, 5, 30}, {3, 2}), Tensor::ones({2}), Tensor::zeros({2}),
                  rm2, rv2, true, 0.1, 1e-5);
  CHECK(rm2.to_vector<float>()[0] == Approx(0.3));
  CHECK(rm2.to_vector<float>()[1] == Approx(2.0));
  CHECK(rv2.to_vector<float>()[0] == Approx(0.9 + 0.1 * 4.0));    // var of {1,3,5}, unbiased 4
  CHECK(rv2.to_vector<float>()[1] == Approx(0.9 + 0.1 * 100.0));  // var of {10,20,30}, unbiased 100
}

TEST_CASE("pooling values: max ignores padding, avg counts padded zeros", "[ops]") {
  // one 3x3 plane 1..9
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  const Tensor mp = ops::max_pool2d(x, 2, 1, 0);
  CHECK(mp.to_vector<float>() == std::vector<float>{5, 6, 8, 9});
  const Tensor neg = ops::mul_scalar(x, -1.f);
  const Tensor mpp = ops::max_pool2d(neg, 3, 2, 1);  // windows clipped by padding; padding never wins
  CHECK(mpp.to_vector<float>() == std::vector<float>{-1, -2, -4, -5});
  const Tensor ap = ops::avg_pool2d(x, 3, 2, 1);     // corner window: (1+2+4+5) / 9
  CHECK(ap.to_vector<float>()[0] == Approx(12.0 / 9.0));
  const Tensor gp = ops::adaptive_avg_pool2d_1x1(x);
  CHECK(gp.shape() == Shape{1, 1, 1, 1});
  CHECK(gp.item() == Approx(5.0));
}

TEST_CASE("cross_entropy value, argmax ties pick the first, count_equal", "[ops]") {
  const Tensor logits = Tensor::from_vector<float>({1, 2, 3, 0, 0, 0, 1000, -1000, 5}, {3, 3});
  const Tensor labels = Tensor::from_vector<int64_t>({2, 1, 1}, {3});
  const double l0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  const double l1 = std::log(3.0);
  const double l2 = 2000.0;  // stable: log-sum-exp at 1000 minus -1000
  CHECK(ops::cross_entropy(logits, labels).item() == Approx((l0 + l1 + l2) / 3.0).epsilon(1e-5));
  const Tensor ties = Tensor::from_vector<float>({1, 3, 3, 2, 7, 7, 7, 7, 0, 0, 0, 0}, {3, 4});
  CHECK(ops::argmax(ties).to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0});
  const Tensor a = Tensor::from_vector<int64_t>({1, 2, 3, 4}, {4}), b = Tensor::from_vector<int64_t>({1, 0, 3, 0}, {4});
  CHECK(ops::count_equal(a, b) == 2);
}

TEST_CASE("ops reject mismatched shapes and dtypes with messages naming the op", "[ops]") {
  const Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({3, 2});
  CHECK_THROWS_WITH(ops::add(a, b), Catch::Contains("add") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(ops::matmul(a, a), Catch::Contains("matmul"));
  CHECK_THROWS_WITH(ops::linear(a, Tensor::zeros({4, 2}), Tensor()), Catch::Contains("linear"));
  CHECK_THROWS_WITH(ops::conv2d(Tensor::zeros({1, 2, 4, 4}), Tensor::zeros({1, 3, 3, 3}), Tensor(), 1, 0),
                    Catch::Contains("conv2d"));
  CHECK_THROWS_WITH(ops::cross_entropy(a, Tensor::zeros({2}, DType::f32)), Catch::Contains("i64"));
  CHECK_THROWS(ops::cross_entropy(a, Tensor::from_vector<int64_t>({0, 3}, {2})));  // label out of range
}

TEST_CASE("autograd through ops: leaf gradients accumulate, no graph under NoGradGuard", "[ops]") {
  Tensor w = Tensor::from_vector<float>({1, -2, 3}, {1, 3}).set_requires_grad(true);
  const Tensor x = Tensor::from_vector<float>({2, 2, 2}, {1, 3});
  ops::sum(ops::mul(w, x)).backward();
  ops::sum(ops::mul(w, x)).backward();
  CHECK(w.grad().to_vector<float>() == std::vector<float>{4, 4, 4});
  {
    NoGradGuard ng;
    CHECK(ops::relu(w).grad_fn() == nullptr);
  }
  CHECK(ops::relu(w).grad_fn() != nullptr);
}

TEST_CASE("gradcheck catches a backward that forgets entries (NaN poisoning)", "[ops]") {
  // y = 2x, but the broken backward writes only the first half of gx into a fresh buffer.
  auto broken = [](const std::vector<Tensor>& t) {
    Tensor out = ops::mul_scalar(t[0].detach(), 2.f);
    autograd::attach(out, "broken", {t[0]}, [](const Tensor& gy, const std::vector<bool>&, std::vector<Tensor>& g) {
      Tensor gx = Tensor::empty(gy.shape());
      float* p = gx.data<float>();
      const float* q = gy.data<float>();
      for (int64_t i = 0; i < gx.numel() / 2; ++i) p[i] = 2.f * q[i];
      g[0] = gx;
    });
    return out;
  };
  const test::GradCheckResult r = test::gradcheck(broken, {random_tensor({2, 4}, 7)});
  CHECK_FALSE(r.ok);
  // the same op with a complete backward passes
  auto fixed = [](const std::vector<Tensor>& t) { return ops::mul_scalar(t[0], 2.f); };
  CHECK(test::gradcheck(fixed, {random_tensor({2, 4}, 7)}).ok);
  // and a kernel output that is never written stays NaN under poisoning
  test::PoisonScope poison;
  const Tensor e = Tensor::empty({3});
  CHECK(std::isnan(e.to_vector<float>()[1]));
}

TEST_CASE("conv2d large enough for the batch-parallel path: forward and adjoint identities", "[ops]") {
  // 8 x 16 x 16 x 16 input, 16 filters 3x3, stride 1 pad 1: ~4.7M multiply-adds (parallel path).
  // conv is bilinear, so with y = conv(x, w) and gx, gw the gradients of <gy, y>:
  //   <gy, y> = <gx, x> = <gw, w>.
  const Tensor x0 = random_tensor({8, 16, 16, 16}, 41), w0 = random_tensor({16, 16, 3, 3}, 42);
  const Tensor gy = random_tensor({8, 16, 16, 16}, 43);
  Tensor x = x0.clone().set_requires_grad(true), w = w0.clone().set_requires_grad(true);
  const Tensor y = ops::conv2d(x, w, Tensor(), 1, 1);
  CHECK(allclose(y.detach(), naive_conv(x0, w0, 1, 1), 1e-4, 1e-4));
  y.backward(gy);
  auto dot = [](const Tensor& a, const Tensor& b) {
    const std::vector<float> va = a.to_vector<float>(), vb = b.to_vector<float>();
    double s = 0;
    for (size_t i = 0; i < va.size(); ++i) s += static_cast<double>(va[i]) * vb[i];
    return s;
  };
  const double yy = dot(gy, y.detach());
  CHECK(dot(x.grad(), x0) == Approx(yy).epsilon(1e-4));
  CHECK(dot(w.grad(), w0) == Approx(yy).epsilon(1e-4));
  // and the strided, 2x3 kernel variant (im2col with clipping)
  const Tensor w2 = random_tensor({16, 16, 2, 3}, 44);
  CHECK(allclose(ops::conv2d(x0, w2, Tensor(), 2, 1), naive_conv(x0, w2, 2, 1), 1e-4, 1e-4));
}
