// engine/ops/pool.cpp — dispatch of max / average pooling and the global (1x1 adaptive) average
// pool, x[N,C,H,W] -> y[N,C,P,Q], P = (H + 2*padding - kernel) / stride + 1. Max pooling saves the
// i32 argmax plane index for backward; average pooling counts padded zeros (count_include_pad).
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/op_checks.h"

namespace sdd::ops {

namespace {
Pool2dGeom pool_geom(const char* op, const Tensor& x, int64_t kh, int64_t kw, int64_t stride, int64_t padding) {
  detail::check_f32(op, x, "x");
  detail::check_dim(op, x, 4, "x");
  SDD_CHECK(kh >= 1 && kw >= 1 && stride >= 1 && padding >= 0,
            op << ": kernel " << kh << "x" << kw << ", stride " << stride << ", padding " << padding << " are invalid");
  SDD_CHECK(2 * padding <= kh && 2 * padding <= kw,
            op << ": padding " << padding << " must be at most half the kernel " << kh << "x" << kw);
  Pool2dGeom g;
  g.N = x.size(0); g.C = x.size(1); g.H = x.size(2); g.W = x.size(3);
  g.kh = kh; g.kw = kw;
  g.stride_h = g.stride_w = stride;
  g.pad_h = g.pad_w = padding;
  SDD_CHECK(g.H + 2 * padding >= kh && g.W + 2 * padding >= kw,
            op << ": kernel " << kh << "x" << kw << " larger than the padded input " << x.str());
  g.P = (g.H + 2 * padding - kh) / stride + 1;
  g.Q = (g.W + 2 * padding - kw) / stride + 1;
  return g;
}

Tensor avg_pool_geom(const char* name, const Tensor& x, const Pool2dGeom& g) {
  Tensor out = Tensor::empty({g.N, g.C, g.P, g.Q}, DType::f32, x.device());
  if (out.numel() > 0) SDD_DISPATCH(x.device(), avgpool2d_forward, g, x, out);
  autograd::attach(out, name, {x}, [g](const Tensor& gy, const std::vector<bool>&, std::vector<Tensor>& gr) {
    Tensor gx = Tensor::empty({g.N, g.C, g.H, g.W}, DType::f32, gy.device());
    if (gx.numel() > 0) SDD_DISPATCH(gy.device(), avgpool2d_backward, g, gy, gx);
    gr[0] = gx;
  });
  return out;
}
}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const Pool2dGeom g = pool_geom("max_pool2d", x, kernel, kernel, stride, padding);
  Tensor out = Tensor::empty({g.N, g.C, g.P, g.Q}, DType::f32, x.device());
  Tensor idx = Tensor::empty({g.N, g.C, g.P, g.Q}, DType::i32, x.device());
  if (out.numel() > 0) SDD_DISPATCH(x.device(), maxpool2d_forward, g, x, out, idx);
  autograd::attach(out, "max_pool2d", {x}, [g, idx](const Tensor& gy, const std::vector<bool>&, std::vector<Tensor>& gr) {
    Tensor gx = Tensor::empty({g.N, g.C, g.H, g.W}, DType::f32, gy.device());
    if (gx.numel() > 0) SDD_DISPATCH(gy.device(), maxpool2d_backward, g, gy, idx, gx);
    gr[0] = gx;
  });
  return out;
}

Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  return avg_pool_geom("avg_pool2d", x, pool_geom("avg_pool2d", x, kernel, kernel, stride, padding));
}

// [N,C,H,W] -> [N,C,1,1], the mean of each plane
Tensor adaptive_avg_pool2d_1x1(const Tensor& x) {
  detail::check_dim("adaptive_avg_pool2d_1x1", x, 4, "x");
  SDD_CHECK(x.size(2) > 0 && x.size(3) > 0, "adaptive_avg_pool2d_1x1: empty plane in " << x.str());
  return avg_pool_geom("adaptive_avg_pool2d_1x1", x,
                       pool_geom("adaptive_avg_pool2d_1x1", x, x.size(2), x.size(3), 1, 0));
}

}  // namespace sdd::ops
