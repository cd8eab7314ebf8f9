// engine/cpu/batchnorm_cpu.cpp — CPU batch norm over (N, H, W) per channel, PyTorch semantics.
// x, y: [N,C,H,W] or [N,C] (H = W = 1); gamma, beta, running stats, save_*: [C].
//   train: mean, biased var over M = N*H*W; y = (x - mean) * invstd * gamma + beta;
//          running_mean <- (1-m) running_mean + m mean; running_var <- (1-m) running_var + m var*M/(M-1)
//   eval:  the same normalisation with the running statistics.
// Statistics are accumulated in double; channels run in parallel. Element math: kernels/elementwise_ops.h.
#include <cmath>

#include "engine/cpu/cpu_backend.h"
#include "kernels/elementwise_ops.h"

namespace sdd::cpu {

namespace {
struct Layout {
  int64_t N, C, HW;
};
Layout layout_of(const Tensor& x) {
  const int64_t N = x.size(0), C = x.size(1);
  return {N, C, N * C == 0 ? 0 : x.numel() / (N * C)};
}
}  // namespace

void batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                             const Tensor& running_mean, const Tensor& running_var, double momentum,
                             double eps, const Tensor& y, const Tensor& save_mean, const Tensor& save_invstd) {
  const Layout L = layout_of(x);
  const int64_t M = L.N * L.HW;
  const float* px = x.data<float>();
  const float* pg = gamma.data<float>();
  const float* pb = beta.data<float>();
  float* prm = running_mean.data<float>();
  float* prv = running_var.data<float>();
  float* py = y.data<float>();
  float* psm = save_mean.data<float>();
  float* psi = save_invstd.data<float>();
  const float mom = static_cast<float>(momentum);
#pragma omp parallel for if (x.numel() > (1 << 14))
  for (int64_t c = 0; c < L.C; ++c) {
    double s = 0.0;
    for (int64_t n = 0; n < L.N; ++n) {
      const float* plane = px + (n * L.C + c) * L.HW;
      for (int64_t i = 0; i < L.HW; ++i) s += plane[i];
    }
    const double mean = M > 0 ? s / static_cast<double>(M) : 0.0;
    double ss = 0.0;
    for (int64_t n = 0; n < L.N; ++n) {
      const float* plane = px + (n * L.C + c) * L.HW;
      for (int64_t i = 0; i < L.HW; ++i) {
        const double d = plane[i] - mean;
        ss += d * d;
      }
    }
    const double var = M > 0 ? ss / static_cast<double>(M) : 0.0;
    const double unbiased = M > 1 ? ss / static_cast<double>(M - 1) : var;
    const float fmean = static_cast<float>(mean);
    const float invstd = static_cast<float>(1.0 / std::sqrt(var + eps));
    psm[c] = fmean;
    psi[c] = invstd;
    prm[c] = kern::running_update_op(prm[c], fmean, mom);
    prv[c] = kern::running_update_op(prv[c], static_cast<float>(unbiased), mom);
    const float gc = pg[c], bc = pb[c];
    for (int64_t n = 0; n < L.N; ++n) {
      const float* in = px + (n * L.C + c) * L.HW;
      float* out = py + (n * L.C + c) * L.HW;
      for (int64_t i = 0; i < L.HW; ++i) out[i] = kern::bn_normalize_op(in[i], fmean, invstd, gc, bc);
    }
  }
}

void batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                            const Tensor& running_mean, const Tensor& running_var, double eps, const Tensor& y) {
  const Layout L = layout_of(x);
  const float* px = x.data<float>();
  const float* pg = gamma.data<float>();
  const float* pb = beta.data<float>();
  const float* prm = running_mean.data<float>();
  const float* prv = running_var.data<float>();
  float* py = y.data<float>();
#pragma omp parallel for if (x.numel() > (1 << 15))
  for (int64_t nc = 0; nc < L.N * L.C; ++nc) {
    const int64_t c = nc % L.C;
    const float invstd = static_cast<float>(1.0 / std::sqrt(static_cast<double>(prv[c]) + eps));
    const float* in = px + nc * L.HW;
    float* out = py + nc * L.HW;
    for (int64_t i = 0; i < L.HW; ++i) out[i] = kern::bn_normalize_op(in[i], prm[c], invstd, pg[c], pb[c]);
  }
}

// Training-mode backward: gbeta = sum gy, ggamma = sum gy * xhat,
// gx = gamma * invstd * (gy - mean(gy) - xhat * mean(gy * xhat)).
void batchnorm_backward(const Tensor& x, const Tensor& gy, const Tensor& gamma, const Tensor& save_mean,
                        const Tensor& save_invstd, const Tensor& gx, const Tensor& ggamma, const Tensor& gbeta) {
  const Layout L = layout_of(x);
  const int64_t M = L.N * L.HW;
  const float* px = x.data<float>();
  const float* pgy = gy.data<float>();
  const float* pg = gamma.data<float>();
  const float* psm = save_mean.data<float>();
  const float* psi = save_invstd.data<float>();
  float* pgx = gx.data<float>();
  float* pgg = ggamma.data<float>();
  float* pgb = gbeta.data<float>();
#pragma omp parallel for if (x.numel() > (1 << 14))
  for (int64_t c = 0; c < L.C; ++c) {
    const float mean = psm[c], invstd = psi[c];
    double sg = 0.0, sgx = 0.0;
    for (int64_t n = 0; n < L.N; ++n) {
      const float* in = px + (n * L.C + c) * L.HW;
      const float* g = pgy + (n * L.C + c) * L.HW;
      for (int64_t i = 0; i < L.HW; ++i) {
        sg += g[i];
        sgx += static_cast<double>(g[i]) * ((in[i] - mean) * invstd);
      }
    }
    pgb[c] = static_cast<float>(sg);
    pgg[c] = static_cast<float>(sgx);
    const float mean_gy = M > 0 ? static_cast<float>(sg / static_cast<double>(M)) : 0.f;
    const float mean_gyx = M > 0 ? static_cast<float>(sgx / static_cast<double>(M)) : 0.f;
    for (int64_t n = 0; n < L.N; ++n) {
      const float* in = px + (n * L.C + c) * L.HW;
      const float* g = pgy + (n * L.C + c) * L.HW;
      float* out = pgx + (n * L.C + c) * L.HW;
      for (int64_t i = 0; i < L.HW; ++i)
        out[i] = kern::bn_train_grad_op(in[i], g[i], mean, invstd, pg[c], mean_gy, mean_gyx);
    }
  }
}

}  // namespace sdd::cpu
