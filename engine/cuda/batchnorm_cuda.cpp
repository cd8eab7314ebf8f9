// engine/cuda/batchnorm_cuda.cpp — batch normalisation through cuDNN (CUDNN_BATCHNORM_SPATIAL:
// statistics per channel over N, H, W). x[N,C,H,W] or x[N,C] (treated as H = W = 1); gamma, beta,
// running_mean, running_var, save_mean, save_invstd: [C].
//
// PyTorch semantics, which cuDNN shares (PyTorch runs its CUDA BatchNorm through these calls):
//   train: y = gamma * (x - mean) * invstd + beta, invstd = 1 / sqrt(biased_var + eps);
//          running = (1 - momentum) * running + momentum * batch   (exponentialAverageFactor =
//          momentum), the UNBIASED batch variance going into running_var; save_mean / save_invstd
//          keep mean and invstd for backward.
//   eval:  the same transform with running_mean and running_var.
//   backward: gx, ggamma = sum gy * xhat, gbeta = sum gy from the saved mean / invstd.
#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"

namespace sdd::cuda {

namespace {

// The eps cuDNN's backward is given; it only matters when no saved statistics are passed, and we
// always pass them (our backward entry has no eps argument). PyTorch's default.
constexpr double kBackwardEps = 1e-5;

// Descriptors of x (and y, same shape) and of the per-channel parameters, destroyed on scope exit.
struct BnDescs {
  cudnnTensorDescriptor_t x = nullptr, bn = nullptr;
  explicit BnDescs(const Tensor& t) {
    SDD_CHECK(t.dim() == 2 || t.dim() == 4, "batch norm expects [N,C] or [N,C,H,W], got " << t.str());
    const int64_t N = t.size(0), C = t.size(1);
    const int64_t H = t.dim() == 4 ? t.size(2) : 1, W = t.dim() == 4 ? t.size(3) : 1;
    SDD_CHECK(N * C * H * W < (int64_t(1) << 31), "batch norm input too large for cuDNN: " << t.str());
    SDD_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    SDD_CUDNN_CHECK(cudnnCreateTensorDescriptor(&bn));
    SDD_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, static_cast<int>(N),
                                               static_cast<int>(C), static_cast<int>(H), static_cast<int>(W)));
    SDD_CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(bn, x, CUDNN_BATCHNORM_SPATIAL));
  }
  ~BnDescs() {
    if (bn) cudnnDestroyTensorDescriptor(bn);
    if (x) cudnnDestroyTensorDescriptor(x);
  }
  BnDescs(const BnDescs&) = delete;
  BnDescs& operator=(const BnDescs&) = delete;
};

// gamma / beta may be undefined (no affine transform): stand-ins of ones / zeros.
Tensor or_full(const Tensor& t, int64_t C, double value, Device dev) {
  return t.defined() ? t : Tensor::full({C}, value, DType::f32, dev);
}
// Gradient outputs the caller does not want still need somewhere to go.
Tensor or_scratch(const Tensor& t, int64_t C, Device dev) {
  return t.defined() ? t : Tensor::empty({C}, DType::f32, dev);
}

}  // namespace

void batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                             const Tensor& running_var, double momentum, double eps, const Tensor& y,
                             const Tensor& save_mean, const Tensor& save_invstd) {
  if (x.numel() == 0) return;
  Context& ctx = context_for(x);
  BnDescs d(x);
  const int64_t C = x.size(1);
  const Tensor g = or_full(gamma, C, 1.0, x.device()), b = or_full(beta, C, 0.0, x.device());
  const float one = 1.f, zero = 0.f;
  SDD_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
      ctx.cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d.x, x.data<float>(), d.x, y.data<float>(), d.bn,
      g.data<float>(), b.data<float>(), momentum, running_mean.data<float>(), running_var.data<float>(),
      eps, save_mean.data<float>(), save_invstd.data<float>()));
}

void batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                            const Tensor& running_var, double eps, const Tensor& y) {
  if (x.numel() == 0) return;
  Context& ctx = context_for(x);
  BnDescs d(x);
  const int64_t C = x.size(1);
  const Tensor g = or_full(gamma, C, 1.0, x.device()), b = or_full(beta, C, 0.0, x.device());
  const float one = 1.f, zero = 0.f;
  SDD_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
      ctx.cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d.x, x.data<float>(), d.x, y.data<float>(), d.bn,
      g.data<float>(), b.data<float>(), running_mean.data<float>(), running_var.data<float>(), eps));
}

void batchnorm_backward(const Tensor& x, const Tensor& gy, const Tensor& gamma, const Tensor& save_mean,
                        const Tensor& save_invstd, const Tensor& gx, const Tensor& ggamma, const Tensor& gbeta) {
  const int64_t C = x.size(1);
  if (x.numel() == 0) {
    if (ggamma.defined()) fill(ggamma, 0.0);
    if (gbeta.defined()) fill(gbeta, 0.0);
    return;
  }
  Context& ctx = context_for(x);
  BnDescs d(x);
  const Tensor g = or_full(gamma, C, 1.0, x.device());
  const Tensor gg = or_scratch(ggamma, C, x.device()), gb = or_scratch(gbeta, C, x.device());
  const Tensor gxo = gx.defined() ? gx : Tensor::empty(x.shape(), DType::f32, x.device());
  const float one = 1.f, zero = 0.f;
  SDD_CUDNN_CHECK(cudnnBatchNormalizationBackward(
      ctx.cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, d.x, x.data<float>(), d.x, gy.data<float>(), d.x,
      gxo.data<float>(), d.bn, g.data<float>(), gg.data<float>(), gb.data<float>(), kBackwardEps,
      save_mean.data<float>(), save_invstd.data<float>()));
}

}  // namespace sdd::cuda
