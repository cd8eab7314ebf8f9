// kernels/adam_ops.h — the Adam element update (PyTorch semantics, coupled L2 weight decay,
// no amsgrad), shared by CPU and CUDA, with the same mask rule as masked SGD.
//   g' = g + wd * w;  m = b1*m + (1-b1)*g';  v = b2*v + (1-b2)*g'^2
//   w  = w - (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)      bc_i = 1 - b_i^t
#pragma once
#include <math.h>

#include "kernels/hd.h"

namespace sdd::kern {

struct AdamHyper {
  float lr = 1e-3f;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0.f;
  float bias_correction1 = 1.f;       // 1 - beta1^t, computed on the host in double
  float sqrt_bias_correction2 = 1.f;  // sqrt(1 - beta2^t)
  bool zero_grad = false;             // the backend writes each gradient entry back to 0 once read
};

SDD_HD void adam_element(float& w, float g, float& m, float& v, float mask, float reset, bool has_mask,
                         bool has_reset, const AdamHyper& h) {
  float gp = g;
  if (h.weight_decay != 0.f) gp = gp + h.weight_decay * w;
  m = h.beta1 * m + (1.f - h.beta1) * gp;
  v = h.beta2 * v + (1.f - h.beta2) * gp * gp;
  const float denom = sqrtf(v) / h.sqrt_bias_correction2 + h.eps;
  const float step = h.lr / h.bias_correction1;
  const float updated = w - step * (m / denom);
  if (has_mask && mask == 0.f) {
    w = has_reset ? reset : 0.f;
  } else {
    w = updated;
  }
}

}  // namespace sdd::kern
