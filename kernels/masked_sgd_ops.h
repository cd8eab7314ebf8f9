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
  bool zero_grad = false;  // the backend writes each gradient entry back to 0 once read (fused zero_grad)
};

// One element: w, buf updated in place. has_mask/has_reset say whether mask / reset are meaningful.
// Written without branches: every candidate value is computed and the choices are selects, so the CPU
// loops vectorise (engine/cpu is compiled with -fno-trapping-math for the same reason); the values are
// those of the plain if/else formulation.
SDD_HD void masked_sgd_element(float& w, float g, float& buf, float mask, float reset, bool has_mask,
                               bool has_reset, const SgdHyper& h) {
  const float decayed = g + h.weight_decay * w;
  const float gp = h.weight_decay != 0.f ? decayed : g;
  const float accumulated = h.momentum * buf + gp;
  const float b = h.first_step ? gp : accumulated;
  const float look_ahead = gp + h.momentum * b;
  const bool mom = h.momentum != 0.f;
  buf = mom ? b : buf;
  const float d = mom ? (h.nesterov ? look_ahead : b) : gp;
  const float updated = w + (-h.lr) * d;
  const float pruned = has_reset ? reset : 0.f;
  w = (has_mask && mask == 0.f) ? pruned : updated;
}

}  // namespace sdd::kern
