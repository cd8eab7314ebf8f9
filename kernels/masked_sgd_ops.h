// kernels/masked_sgd_ops.h — the fused masked SGD element update, shared by CPU and CUDA.
//
// PyTorch SGD semantics (dampening 0, coupled weight decay), then the mask (SPEC 7.3, DESIGN 4):
//   g'  = g + wd * w
//   buf = first ? g' : mu * buf + g'          (only when mu > 0)
//   d   = nesterov ? g' + mu * buf : buf      (d = g' when mu == 0)
//   w   = w - lr * d                          where mask = 1
//   w   = reset (or 0 without a reset arena)  where mask = 0
// Pruned weights still feed their momentum buffer; they are written as zero (or their frozen value)
// right after the step, so every forward sees exactly the masked network.
#pragma once
#include "kernels/hd.h"

namespace sdd::kern {

struct SgdHyper {
  float lr = 0.f;
  float momentum = 0.f;
  float weight_decay = 0.f;
  bool nesterov = false;
  bool first_step = true;  // the momentum buffer is initialised with g' (PyTorch)
};

// One element: w, buf updated in place. has_mask/has_reset say whether mask / reset are meaningful.
SDD_HD void masked_sgd_element(float& w, float g, float& buf, float mask, float reset, bool has_mask,
                               bool has_reset, const SgdHyper& h) {
  float gp = g;
  if (h.weight_decay != 0.f) gp = gp + h.weight_decay * w;
  float d = gp;
  if (h.momentum != 0.f) {
    const float b = h.first_step ? gp : h.momentum * buf + gp;
    buf = b;
    d = h.nesterov ? gp + h.momentum * b : b;
  }
  const float updated = w + (-h.lr) * d;
  if (has_mask && mask == 0.f) {
    w = has_reset ? reset : 0.f;
  } else {
    w = updated;
  }
}

}  // namespace sdd::kern
