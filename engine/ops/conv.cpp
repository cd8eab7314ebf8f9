// engine/ops/conv.cpp — dispatch of conv2d (+ optional bias) and its gradients:
//   y[N,K,P,Q] = conv(x[N,C,H,W], w[K,C,R,S]) + b[K]
//   gx = conv2d_backward_data(gy, w), gw = conv2d_backward_filter(x, gy), gb = sum_channels(gy)
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/op_checks.h"

namespace sdd::ops {

using detail::check_dim;
using detail::check_f32;

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t padding) {
  check_f32("conv2d", x, "x");
  check_f32("conv2d", w, "weight");
  check_dim("conv2d", x, 4, "x");
  check_dim("conv2d", w, 4, "weight");
  detail::check_same_device("conv2d", {x, w, b});
  SDD_CHECK(stride >= 1 && padding >= 0, "conv2d: stride " << stride << " must be >= 1 and padding " << padding << " >= 0");
  SDD_CHECK(x.size(1) == w.size(1), "conv2d: input channels differ: x " << x.str() << ", weight " << w.str());
  Conv2dGeom g;
  g.N = x.size(0); g.C = x.size(1); g.H = x.size(2); g.W = x.size(3);
  g.K = w.size(0); g.R = w.size(2); g.S = w.size(3);
  g.stride_h = g.stride_w = stride;
  g.pad_h = g.pad_w = padding;
  SDD_CHECK(g.H + 2 * padding >= g.R && g.W + 2 * padding >= g.S,
            "conv2d: kernel " << w.str() << " larger than the padded input " << x.str() << " (padding " << padding << ")");
  g.P = (g.H + 2 * g.pad_h - g.R) / g.stride_h + 1;
  g.Q = (g.W + 2 * g.pad_w - g.S) / g.stride_w + 1;
  if (b.defined()) {
    check_f32("conv2d", b, "bias");
    SDD_CHECK(b.dim() == 1 && b.size(0) == g.K, "conv2d: bias " << b.str() << " for weight " << w.str());
  }
  Tensor out = Tensor::empty({g.N, g.K, g.P, g.Q}, DType::f32, x.device());
  if (out.numel() > 0) {
    SDD_DISPATCH(x.device(), conv2d_forward, g, x, w, out);
    if (b.defined()) SDD_DISPATCH(x.device(), add_channel_bias, out, b);
  }
  if (autograd::needs_graph({x, w, b})) {
    const Tensor xd = autograd::tensor_needs_grad(w) ? x.detach() : Tensor();
    const Tensor wd = autograd::tensor_needs_grad(x) ? w.detach() : Tensor();
    const bool has_bias = b.defined();
    autograd::attach(out, "conv2d", {x, w, b},
                     [g, xd, wd, has_bias](const Tensor& gy, const std::vector<bool>& needs, std::vector<Tensor>& gr) {
                       const Device dev = gy.device();
                       if (needs[0]) {
                         Tensor gx = Tensor::empty({g.N, g.C, g.H, g.W}, DType::f32, dev);
                         if (gx.numel() > 0) SDD_DISPATCH(dev, conv2d_backward_data, g, gy, wd, gx);
                         gr[0] = gx;
                       }
                       if (needs[1]) {
                         Tensor gw = Tensor::empty({g.K, g.C, g.R, g.S}, DType::f32, dev);
                         if (gw.numel() > 0) SDD_DISPATCH(dev, conv2d_backward_filter, g, xd, gy, gw);
                         gr[1] = gw;
                       }
                       if (has_bias && needs[2]) {
                         Tensor gb = Tensor::empty({g.K}, DType::f32, dev);
                         SDD_DISPATCH(dev, sum_channels, gy, gb);
                         gr[2] = gb;
                       }
                     });
  }
  return out;
}

}  // namespace sdd::ops
