// engine/ops/norm.cpp — dispatch of batch_norm (PyTorch semantics) and its gradients.
//   training: y = (x - mean_B) * invstd_B * gamma + beta; running stats updated in place
//             (biased variance normalises, unbiased variance enters running_var); backward through
//             the backend's batchnorm_backward with the saved batch mean / invstd.
//   eval:     y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta, an affine map per
//             channel; its backward is composed from backend entries:
//             gx = bn_eval(gy; mean 0, beta 0)   ggamma = sum_channels(gy * xhat)   gbeta = sum_channels(gy)
// x: [N,C,H,W] or [N,C]; weight, bias, running_mean, running_var: [C].
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/op_checks.h"

namespace sdd::ops {

namespace {
void check_channel_vector(const Tensor& t, int64_t C, const char* what) {
  detail::check_f32("batch_norm", t, what);
  SDD_CHECK(t.dim() == 1 && t.size(0) == C, "batch_norm: " << what << " must be [" << C << "], got " << t.str());
}
}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  detail::check_f32("batch_norm", x, "x");
  SDD_CHECK(x.dim() == 2 || x.dim() == 4, "batch_norm: x must be [N,C] or [N,C,H,W], got " << x.str());
  detail::check_same_device("batch_norm", {x, weight, bias, running_mean, running_var});
  const int64_t C = x.size(1);
  const Device dev = x.device();
  // Missing affine parameters act as gamma = 1, beta = 0.
  const Tensor gamma = weight.defined() ? weight : Tensor::ones({C}, DType::f32, dev);
  const Tensor beta = bias.defined() ? bias : Tensor::zeros({C}, DType::f32, dev);
  check_channel_vector(gamma, C, "weight");
  check_channel_vector(beta, C, "bias");
  Tensor out = Tensor::empty(x.shape(), DType::f32, dev);

  if (training) {
    SDD_CHECK(x.numel() / (C == 0 ? 1 : C) > 1,
              "batch_norm: training needs more than one value per channel, got " << x.str());
    // Without running statistics (track_running_stats=False) the update goes to scratch buffers.
    const Tensor rm = running_mean.defined() ? running_mean : Tensor::zeros({C}, DType::f32, dev);
    const Tensor rv = running_var.defined() ? running_var : Tensor::ones({C}, DType::f32, dev);
    check_channel_vector(rm, C, "running_mean");
    check_channel_vector(rv, C, "running_var");
    Tensor save_mean = Tensor::empty({C}, DType::f32, dev);
    Tensor save_invstd = Tensor::empty({C}, DType::f32, dev);
    SDD_DISPATCH(dev, batchnorm_forward_train, x, gamma, beta, rm, rv, momentum, eps, out, save_mean, save_invstd);
    if (autograd::needs_graph({x, weight, bias})) {
      const Tensor xd = x.detach(), gd = gamma.detach();
      autograd::attach(out, "batch_norm", {x, weight, bias},
                       [xd, gd, save_mean, save_invstd](const Tensor& gy, const std::vector<bool>& needs,
                                                        std::vector<Tensor>& g) {
                         const Device d = gy.device();
                         const int64_t c = gd.numel();
                         Tensor gx = Tensor::empty(xd.shape(), DType::f32, d);
                         Tensor gg = Tensor::empty({c}, DType::f32, d);
                         Tensor gb = Tensor::empty({c}, DType::f32, d);
                         SDD_DISPATCH(d, batchnorm_backward, xd, gy, gd, save_mean, save_invstd, gx, gg, gb);
                         if (needs[0]) g[0] = gx;
                         if (needs[1]) g[1] = gg;
                         if (needs[2]) g[2] = gb;
                       });
    }
    return out;
  }

  check_channel_vector(running_mean, C, "running_mean");
  check_channel_vector(running_var, C, "running_var");
  SDD_DISPATCH(dev, batchnorm_forward_eval, x, gamma, beta, running_mean, running_var, eps, out);
  if (autograd::needs_graph({x, weight, bias})) {
    const Tensor xd = x.detach(), gd = gamma.detach(), rm = running_mean.detach().clone(),
                 rv = running_var.detach().clone();
    autograd::attach(out, "batch_norm", {x, weight, bias},
                     [xd, gd, rm, rv, eps](const Tensor& gy, const std::vector<bool>& needs, std::vector<Tensor>& g) {
                       const Device d = gy.device();
                       const int64_t c = gd.numel();
                       const Tensor zero = Tensor::zeros({c}, DType::f32, d);
                       if (needs[0]) {  // gx = gy * gamma / sqrt(running_var + eps)
                         Tensor gx = Tensor::empty(xd.shape(), DType::f32, d);
                         SDD_DISPATCH(d, batchnorm_forward_eval, gy, gd, zero, zero, rv, eps, gx);
                         g[0] = gx;
                       }
                       if (needs[1]) {  // ggamma = sum_{n,h,w} gy * xhat
                         const Tensor one = Tensor::ones({c}, DType::f32, d);
                         Tensor prod = Tensor::empty(xd.shape(), DType::f32, d);
                         SDD_DISPATCH(d, batchnorm_forward_eval, xd, one, zero, rm, rv, eps, prod);
                         SDD_DISPATCH(d, binary, BinaryOp::mul, prod, gy, prod);
                         Tensor gg = Tensor::empty({c}, DType::f32, d);
                         SDD_DISPATCH(d, sum_channels, prod, gg);
                         g[1] = gg;
                       }
                       if (needs[2]) {  // gbeta = sum_{n,h,w} gy
                         Tensor gb = Tensor::empty({c}, DType::f32, d);
                         SDD_DISPATCH(d, sum_channels, gy, gb);
                         g[2] = gb;
                       }
                     });
  }
  return out;
}

}  // namespace sdd::ops
