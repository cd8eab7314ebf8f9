// tests/test_cuda_ops.cpp — [cuda] cross-backend tests (DESIGN rules 1 and 9): every CUDA op of
// engine/backend_core.inc against the CPU reference (sdd::cpu:: on host copies of the same random
// inputs), on odd shapes, with the tolerance stated at each comparison. On failure the worst index
// and both values are printed. Without a device each test prints "SKIPPED: no CUDA device".
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/device.h"
#include "engine/precision.h"
#include "engine/rng.h"
#include "engine/tensor.h"

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

Tensor labels_host(int64_t N, int64_t K, Generator& gen) {
  std::vector<int64_t> v(static_cast<size_t>(N));
  for (auto& x : v) x = static_cast<int64_t>(gen.below(static_cast<uint64_t>(K)));
  return Tensor::from_vector(v, {N});
}

Tensor dev_empty_like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), kGpu); }

// |got - want| <= atol + rtol * |want| everywhere (f32); prints the worst violation.
void check_close(const Tensor& got_any, const Tensor& want, double rtol, double atol, const char* what) {
  const std::vector<float> g = got_any.to(Device::cpu()).to_vector<float>();
  const std::vector<float> w = want.to_vector<float>();
  REQUIRE(g.size() == w.size());
  size_t worst = 0;
  double worst_excess = -1.0;
  bool ok = true;
  for (size_t i = 0; i < g.size(); ++i) {
    const double err = std::fabs(static_cast<double>(g[i]) - w[i]);
    const double lim = atol + rtol * std::fabs(static_cast<double>(w[i]));
    const double excess = std::isnan(err) ? 1e30 : err - lim;
    if (excess > worst_excess) {
      worst_excess = excess;
      worst = i;
    }
    if (!(err <= lim)) ok = false;
  }
  if (!ok)
    std::cout << what << ": worst index " << worst << " cuda " << g[worst] << " cpu " << w[worst] << " (rtol " << rtol
              << ", atol " << atol << ")" << std::endl;
  INFO(what);
  CHECK(ok);
}

void check_equal_i64(const Tensor& got_any, const Tensor& want, const char* what) {
  const std::vector<int64_t> g = got_any.to(Device::cpu()).to_vector<int64_t>();
  const std::vector<int64_t> w = want.to_vector<int64_t>();
  INFO(what);
  CHECK(g == w);
}

}  // namespace

TEST_CASE("cuda elementwise ops match the CPU", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(11);
  const Shape s{3, 100003};  // several grid-stride rounds per thread
  const Tensor a = rand_host(s, gen), b = rand_host(s, gen, 0.5, 2.0);
  const Tensor da = a.to(kGpu), db = b.to(kGpu);
  for (BinaryOp op : {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div}) {
    Tensor want = Tensor::empty(s);
    cpu::binary(op, a, b, want);
    Tensor got = dev_empty_like(da);
    cuda::binary(op, da, db, got);
    check_close(got, want, 1e-6, 0, "binary");  // one rounding: exact up to 1 ulp
  }
  {  // out aliasing an input
    Tensor want = a.clone();
    cpu::binary(BinaryOp::mul, want, b, want);
    Tensor got = da.clone();
    cuda::binary(BinaryOp::mul, got, db, got);
    check_close(got, want, 1e-6, 0, "binary in place");
  }
  Tensor want = Tensor::empty(s), got = dev_empty_like(da);
  cpu::affine(a, 1.5f, -0.25f, want);
  cuda::affine(da, 1.5f, -0.25f, got);
  check_close(got, want, 1e-6, 1e-7, "affine");  // fma contraction may differ by an ulp
  Tensor wy = b.clone(), gy = db.clone();
  cpu::axpy(-0.75f, a, wy);
  cuda::axpy(-0.75f, da, gy);
  check_close(gy, wy, 1e-6, 1e-7, "axpy");
  cpu::relu_forward(a, want);
  cuda::relu_forward(da, got);
  check_close(got, want, 0, 0, "relu_forward");  // exact
  Tensor wgx = Tensor::empty(s), ggx = dev_empty_like(da);
  cpu::relu_backward(want, b, wgx);
  cuda::relu_backward(got, db, ggx);
  check_close(ggx, wgx, 0, 0, "relu_backward");  // exact
  Tensor ws = Tensor::empty({1}), gs = Tensor::empty({1}, DType::f32, kGpu);
  cpu::sum_all(a, ws);
  cuda::sum_all(da, gs);
  check_close(gs, ws, 1e-5, 1e-4, "sum_all");  // both accumulate in double; differ in order only
}

TEST_CASE("cuda gemm matches the CPU for every transpose combination", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  MathModeGuard mode({Precision::tf32, false});  // the default: GEMMs stay fp32 (TF32 is for convolutions)
  Generator gen(12);
  const int64_t M = 37, N = 29, K = 53;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      const Tensor a = rand_host(ta ? Shape{K, M} : Shape{M, K}, gen);
      const Tensor b = rand_host(tb ? Shape{N, K} : Shape{K, N}, gen);
      const Tensor c0 = rand_host({M, N}, gen);
      Tensor want = c0.clone();
      cpu::gemm(ta, tb, 0.5f, a, b, 0.25f, want);
      Tensor got = c0.to(kGpu);
      cuda::gemm(ta, tb, 0.5f, a.to(kGpu), b.to(kGpu), 0.25f, got);
      INFO("trans_a " << ta << " trans_b " << tb);
      check_close(got, want, 1e-4, 1e-5, "gemm");  // fp32, K=53: summation order only
    }
}

TEST_CASE("cuda bias helpers match the CPU", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(13);
  const Tensor y = rand_host({13, 19}, gen), bias = rand_host({19}, gen);
  Tensor wy = y.clone(), gy = y.to(kGpu);
  cpu::add_row_bias(wy, bias);
  cuda::add_row_bias(gy, bias.to(kGpu));
  check_close(gy, wy, 1e-6, 0, "add_row_bias");
  Tensor ws = Tensor::empty({19}), gs = Tensor::empty({19}, DType::f32, kGpu);
  cpu::sum_rows(y, ws);
  cuda::sum_rows(y.to(kGpu), gs);
  check_close(gs, ws, 1e-5, 1e-6, "sum_rows");
  const Tensor y4 = rand_host({3, 7, 5, 9}, gen), b4 = rand_host({7}, gen);
  Tensor wy4 = y4.clone(), gy4 = y4.to(kGpu);
  cpu::add_channel_bias(wy4, b4);
  cuda::add_channel_bias(gy4, b4.to(kGpu));
  check_close(gy4, wy4, 1e-6, 0, "add_channel_bias");
  Tensor wc = Tensor::empty({7}), gc = Tensor::empty({7}, DType::f32, kGpu);
  cpu::sum_channels(y4, wc);
  cuda::sum_channels(y4.to(kGpu), gc);
  check_close(gc, wc, 1e-5, 1e-5, "sum_channels");
}

namespace {
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

void check_conv(const Conv2dGeom& g, Generator& gen, double rtol, double atol) {
  const Tensor x = rand_host({g.N, g.C, g.H, g.W}, gen), w = rand_host({g.K, g.C, g.R, g.S}, gen);
  const Tensor gy = rand_host({g.N, g.K, g.P, g.Q}, gen);
  Tensor wy = Tensor::empty({g.N, g.K, g.P, g.Q}), dy = Tensor::empty({g.N, g.K, g.P, g.Q}, DType::f32, kGpu);
  cpu::conv2d_forward(g, x, w, wy);
  cuda::conv2d_forward(g, x.to(kGpu), w.to(kGpu), dy);
  check_close(dy, wy, rtol, atol, "conv2d_forward");
  Tensor wgx = Tensor::empty(x.shape()), dgx = Tensor::empty(x.shape(), DType::f32, kGpu);
  cpu::conv2d_backward_data(g, gy, w, wgx);
  cuda::conv2d_backward_data(g, gy.to(kGpu), w.to(kGpu), dgx);
  check_close(dgx, wgx, rtol, atol, "conv2d_backward_data");
  Tensor wgw = Tensor::empty(w.shape()), dgw = Tensor::empty(w.shape(), DType::f32, kGpu);
  cpu::conv2d_backward_filter(g, x, gy, wgw);
  cuda::conv2d_backward_filter(g, x.to(kGpu), gy.to(kGpu), dgw);
  check_close(dgw, wgw, rtol, atol, "conv2d_backward_filter");
}
}  // namespace

TEST_CASE("cuda cuDNN convolution matches the CPU im2col convolution", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(14);
  MathModeGuard mode({Precision::fp32, false});
  // FP32: sums of <= C*R*S*N*P*Q ~ 1e3 products of O(1) terms; only the order differs.
  check_conv(conv_geom(3, 5, 7, 9, 4, 3, 2, 2, 1), gen, 1e-4, 1e-4);   // non-square kernel, stride 2, pad 1
  check_conv(conv_geom(2, 3, 11, 11, 6, 3, 3, 1, 1), gen, 1e-4, 1e-4);  // the common 3x3 same conv
  check_conv(conv_geom(5, 4, 8, 6, 3, 1, 1, 2, 0), gen, 1e-4, 1e-4);    // 1x1 strided shortcut
  // The same shape twice reuses the cached plan (and must still be right).
  check_conv(conv_geom(3, 5, 7, 9, 4, 3, 2, 2, 1), gen, 1e-4, 1e-4);
  // TF32 (the default, like PyTorch): 10-bit mantissa inputs, so a looser tolerance.
  set_math_mode({Precision::tf32, false});
  check_conv(conv_geom(2, 8, 9, 9, 8, 3, 3, 1, 1), gen, 2e-2, 2e-2);
}

TEST_CASE("cuda cuDNN batch norm matches the CPU (train, eval, backward, running stats)", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(15);
  for (const Shape& s : {Shape{4, 3, 5, 7}, Shape{9, 6}}) {
    const int64_t C = s[1];
    const Tensor x = rand_host(s, gen, -2.0, 3.0), gamma = rand_host({C}, gen, 0.0, 1.0);
    const Tensor beta = rand_host({C}, gen), rm0 = rand_host({C}, gen), rv0 = rand_host({C}, gen, 0.5, 1.5);
    const double momentum = 0.1, eps = 1e-5;
    Tensor wrm = rm0.clone(), wrv = rv0.clone(), wy = Tensor::empty(s), wsm = Tensor::empty({C}),
           wsi = Tensor::empty({C});
    cpu::batchnorm_forward_train(x, gamma, beta, wrm, wrv, momentum, eps, wy, wsm, wsi);
    const Tensor dx = x.to(kGpu), dg = gamma.to(kGpu), db = beta.to(kGpu);
    Tensor drm = rm0.to(kGpu), drv = rv0.to(kGpu), dy = dev_empty_like(dx);
    Tensor dsm = Tensor::empty({C}, DType::f32, kGpu), dsi = Tensor::empty({C}, DType::f32, kGpu);
    cuda::batchnorm_forward_train(dx, dg, db, drm, drv, momentum, eps, dy, dsm, dsi);
    INFO("shape " << shape_str(s));
    check_close(dy, wy, 1e-4, 1e-4, "bn train y");
    check_close(dsm, wsm, 1e-5, 1e-5, "bn save_mean");
    check_close(dsi, wsi, 1e-4, 1e-5, "bn save_invstd");
    check_close(drm, wrm, 1e-5, 1e-5, "bn running_mean");
    check_close(drv, wrv, 1e-4, 1e-5, "bn running_var (unbiased)");

    const Tensor gy = rand_host(s, gen);
    Tensor wgx = Tensor::empty(s), wgg = Tensor::empty({C}), wgb = Tensor::empty({C});
    cpu::batchnorm_backward(x, gy, gamma, wsm, wsi, wgx, wgg, wgb);
    Tensor dgx = dev_empty_like(dx), dgg = Tensor::empty({C}, DType::f32, kGpu), dgb = Tensor::empty({C}, DType::f32, kGpu);
    cuda::batchnorm_backward(dx, gy.to(kGpu), dg, dsm, dsi, dgx, dgg, dgb);
    check_close(dgx, wgx, 1e-3, 1e-4, "bn backward gx");
    check_close(dgg, wgg, 1e-4, 1e-4, "bn backward ggamma");
    check_close(dgb, wgb, 1e-4, 1e-4, "bn backward gbeta");

    Tensor wye = Tensor::empty(s), dye = dev_empty_like(dx);
    cpu::batchnorm_forward_eval(x, gamma, beta, wrm, wrv, eps, wye);
    cuda::batchnorm_forward_eval(dx, dg, db, drm, drv, eps, dye);
    check_close(dye, wye, 1e-4, 1e-4, "bn eval y");
  }
}

TEST_CASE("cuda pooling matches the CPU, argmax included", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(16);
  struct P { int64_t k, s, p; };
  for (const P& pp : {P{3, 2, 1}, P{2, 2, 0}, P{3, 1, 1}}) {
    Pool2dGeom g;
    g.N = 2, g.C = 3, g.H = 9, g.W = 7;
    g.kh = g.kw = pp.k, g.stride_h = g.stride_w = pp.s, g.pad_h = g.pad_w = pp.p;
    g.P = (g.H + 2 * pp.p - pp.k) / pp.s + 1;
    g.Q = (g.W + 2 * pp.p - pp.k) / pp.s + 1;
    const Shape xs{g.N, g.C, g.H, g.W}, ys{g.N, g.C, g.P, g.Q};
    Tensor x = rand_host(xs, gen);
    {  // a few exact ties: the first maximum must win on both backends
      std::vector<float> v = x.to_vector<float>();
      for (size_t i = 0; i + 1 < v.size(); i += 5) v[i + 1] = v[i];
      x = Tensor::from_vector(v, xs);
    }
    const Tensor gy = rand_host(ys, gen);
    INFO("kernel " << pp.k << " stride " << pp.s << " pad " << pp.p);
    Tensor wy = Tensor::empty(ys), wa = Tensor::empty(ys, DType::i32);
    Tensor dy = Tensor::empty(ys, DType::f32, kGpu), da = Tensor::empty(ys, DType::i32, kGpu);
    cpu::maxpool2d_forward(g, x, wy, wa);
    cuda::maxpool2d_forward(g, x.to(kGpu), dy, da);
    check_close(dy, wy, 0, 0, "maxpool y");  // exact: a selection
    CHECK(da.to(Device::cpu()).to_vector<int32_t>() == wa.to_vector<int32_t>());
    Tensor wgx = Tensor::empty(xs), dgx = Tensor::empty(xs, DType::f32, kGpu);
    cpu::maxpool2d_backward(g, gy, wa, wgx);
    cuda::maxpool2d_backward(g, gy.to(kGpu), da, dgx);
    check_close(dgx, wgx, 1e-6, 1e-7, "maxpool backward");
    cpu::avgpool2d_forward(g, x, wy);
    cuda::avgpool2d_forward(g, x.to(kGpu), dy);
    check_close(dy, wy, 1e-5, 1e-6, "avgpool y");
    cpu::avgpool2d_backward(g, gy, wgx);
    cuda::avgpool2d_backward(g, gy.to(kGpu), dgx);
    check_close(dgx, wgx, 1e-5, 1e-6, "avgpool backward");
  }
}

TEST_CASE("cuda softmax cross-entropy, argmax and count_equal match the CPU", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(17);
  const int64_t N = 37, K = 11;
  const Tensor z = rand_host({N, K}, gen, -4.0, 4.0), y = labels_host(N, K, gen);
  Tensor wp = Tensor::empty({N, K}), wl = Tensor::empty({1});
  cpu::softmax_xent_forward(z, y, wp, wl);
  const Tensor dz = z.to(kGpu), dlab = y.to(kGpu);
  Tensor dp = dev_empty_like(dz), dl = Tensor::empty({1}, DType::f32, kGpu);
  cuda::softmax_xent_forward(dz, dlab, dp, dl);
  check_close(dp, wp, 1e-5, 1e-7, "softmax probs");  // expf/logf may differ by an ulp or two
  check_close(dl, wl, 1e-5, 1e-6, "mean cross-entropy");
  const Tensor gl = Tensor::full({1}, 0.7);
  Tensor wg = Tensor::empty({N, K}), dg = dev_empty_like(dz);
  cpu::softmax_xent_backward(wp, y, gl, wg);
  cuda::softmax_xent_backward(dp, dlab, gl.to(kGpu), dg);
  check_close(dg, wg, 1e-5, 1e-7, "cross-entropy gradient");

  // argmax with exact ties: the first maximum wins.
  std::vector<float> v = z.to_vector<float>();
  for (int64_t n = 0; n < N; n += 3) v[static_cast<size_t>(n * K + K - 1)] = v[static_cast<size_t>(n * K + 2)] = 9.f;
  const Tensor zt = Tensor::from_vector(v, {N, K});
  Tensor wa = Tensor::empty({N}, DType::i64), dam = Tensor::empty({N}, DType::i64, kGpu);
  cpu::argmax_rows(zt, wa);
  cuda::argmax_rows(zt.to(kGpu), dam);
  check_equal_i64(dam, wa, "argmax_rows");
  CHECK(wa.to_vector<int64_t>()[0] == 2);

  Tensor wc = Tensor::empty({1}, DType::i64), dc = Tensor::empty({1}, DType::i64, kGpu);
  cpu::count_equal(wa, y, wc);
  cuda::count_equal(dam, dlab, dc);
  check_equal_i64(dc, wc, "count_equal");
}

TEST_CASE("cuda masked SGD matches the CPU and keeps pruned weights exactly zero", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(18);
  const int64_t n = 100003, begin = 17, end = n - 29;
  const Tensor w0 = rand_host({n}, gen), buf0 = rand_host({n}, gen);
  std::vector<float> m(static_cast<size_t>(n));
  for (auto& x : m) x = gen.uniform() < 0.6 ? 1.f : 0.f;
  const Tensor mask = Tensor::from_vector(m, {n}), reset = rand_host({n}, gen);
  for (int variant = 0; variant < 3; ++variant) {
    kern::SgdHyper h;
    h.lr = 0.05f;
    h.momentum = variant == 2 ? 0.f : 0.9f;
    h.weight_decay = 5e-4f;
    h.nesterov = variant == 1;
    const bool use_reset = variant == 1;
    Tensor ww = w0.clone(), wb = buf0.clone();
    Tensor dw = w0.to(kGpu), db = buf0.to(kGpu);
    const Tensor dmask = mask.to(kGpu), dreset = reset.to(kGpu);
    for (int step = 0; step < 3; ++step) {
      h.first_step = step == 0;
      const Tensor g = rand_host({n}, gen);
      cpu::masked_sgd(ww, g, wb, mask, use_reset ? reset : Tensor(), h, begin, end);
      cuda::masked_sgd(dw, g.to(kGpu), db, dmask, use_reset ? dreset : Tensor(), h, begin, end);
    }
    INFO("variant " << variant);
    check_close(dw, ww, 1e-5, 1e-6, "masked_sgd weights");  // fma contraction: a few ulps per step
    check_close(db, wb, 1e-5, 1e-6, "masked_sgd momentum");
    const std::vector<float> got = dw.to(Device::cpu()).to_vector<float>();
    const std::vector<float> w0v = w0.to_vector<float>(), rv = reset.to_vector<float>();
    int64_t bad = 0;
    for (int64_t i = 0; i < n; ++i) {
      const size_t k = static_cast<size_t>(i);
      if (i < begin || i >= end) {
        bad += got[k] != w0v[k];  // outside the range: untouched, bit for bit
      } else if (m[k] == 0.f) {
        bad += got[k] != (use_reset ? rv[k] : 0.f);  // pruned: exactly 0 (or the frozen value)
      }
    }
    CHECK(bad == 0);
  }
}

TEST_CASE("cuda Adam matches the CPU", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(19);
  const int64_t n = 4099;
  const Tensor w0 = rand_host({n}, gen);
  std::vector<float> m(static_cast<size_t>(n));
  for (auto& x : m) x = gen.uniform() < 0.5 ? 1.f : 0.f;
  const Tensor mask = Tensor::from_vector(m, {n});
  Tensor ww = w0.clone(), wm = Tensor::zeros({n}), wv = Tensor::zeros({n});
  Tensor dw = w0.to(kGpu), dm = Tensor::zeros({n}, DType::f32, kGpu), dv = Tensor::zeros({n}, DType::f32, kGpu);
  const Tensor dmask = mask.to(kGpu);
  kern::AdamHyper h;
  h.lr = 1e-2f;
  h.weight_decay = 1e-4f;
  for (int t = 1; t <= 4; ++t) {
    h.bias_correction1 = static_cast<float>(1.0 - std::pow(0.9, t));
    h.sqrt_bias_correction2 = static_cast<float>(std::sqrt(1.0 - std::pow(0.999, t)));
    const Tensor g = rand_host({n}, gen);
    cpu::adam(ww, g, wm, wv, mask, Tensor(), h, 0, n);
    cuda::adam(dw, g.to(kGpu), dm, dv, dmask, Tensor(), h, 0, n);
  }
  check_close(dw, ww, 1e-5, 1e-6, "adam weights");
  check_close(dm, wm, 1e-5, 1e-7, "adam m");
  check_close(dv, wv, 1e-5, 1e-9, "adam v");
  const std::vector<float> got = dw.to(Device::cpu()).to_vector<float>();
  int64_t nonzero_pruned = 0;
  for (size_t i = 0; i < got.size(); ++i) nonzero_pruned += m[i] == 0.f && got[i] != 0.f;
  CHECK(nonzero_pruned == 0);
}
