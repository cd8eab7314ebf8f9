// engine/optim/grad_support.h — which entries of a parameter's gradient anybody reads.
//
// Masked SGD without momentum (the MNIST MLP presets) keeps no per-element state: the gradient of a
// pruned weight is computed, then discarded when the step writes the weight back to 0. While such an
// optimizer holds a mask, it registers each parameter's mask slice here as the parameter's "gradient
// support"; the CPU linear layer then computes its weight gradient only on the support
// (engine/cpu/sparse_linear_cpu.h) and leaves the other entries as zero_grad left them. Every value the
// run can observe (weights, model files, loggers, checkpoints: momentum-free SGD has no state arena)
// is unchanged; only unread gradient entries stay 0.
//
// Optimizers with state (SGD with momentum, Adam) never register: their state takes the gradient of
// pruned weights (SPEC 7.3), so those gradients are computed in full. The registry is keyed by the
// parameter's TensorImpl and checks that it still points at the same arena slice; the optimizer removes
// its entries when its mask changes or it is destroyed.
#pragma once
#include "engine/tensor.h"

namespace sdd::optim {

// support: f32 with param's numel, on param's device (1 = read, 0 = never read); a view that must stay
// alive, with its values unchanged, while registered (the optimizer's mask arena: Optimizer::set_mask
// registers it again after a change). Its nonzeros are counted once here (CPU supports).
void set_grad_support(const Tensor& param, const Tensor& support);
void clear_grad_support(const Tensor& param);
// The registered support of param, or an undefined tensor (every entry is read). nnz, when given:
// the support's nonzero count taken at registration (-1 when unknown: no support, or not on the CPU).
// registration, when given: a number that identifies this registration (never 0, never repeated; 0
// without a support), so that a cache of the support's pattern stays valid while it is the same.
Tensor grad_support(const Tensor& param, int64_t* nnz = nullptr, int64_t* registration = nullptr);

// Writes outside the support. A backward that may write a registered parameter's gradient outside its
// support (the dense weight-gradient product, autograd's leaf accumulation) calls
// note_grad_written_outside_support(param). grad_support_stamp(param) is a number that changes at
// every such call and every registration of param (never repeating), -1 without a support. An
// optimizer that updates only the support entries (Sgd without momentum, on the CPU) does so while
// the stamp is the one it saw at its last full pass, which left every other gradient entry 0.
void note_grad_written_outside_support(const Tensor& param);
int64_t grad_support_stamp(const Tensor& param);

}  // namespace sdd::optim
