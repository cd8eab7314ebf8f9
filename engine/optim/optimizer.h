// engine/optim/optimizer.h — optimizers over the flat parameter arena (DESIGN rule 6, SPEC 6.1):
// SGD (PyTorch semantics through the fused masked-SGD functor) and Adam. One backend call per
// trainable range of the arena (frozen parameters are skipped entirely: no decay, no momentum).
//
// Masks (SPEC 7.3): an optional f32 mask arena [total] (1 keep, 0 pruned) and an optional reset arena
// [total] with the same layout as the parameters. After each step, pruned weights are written 0 (or
// their reset value), while their optimizer state still takes the gradient. SGD without momentum
// keeps no state: on the CPU, once a full pass has set a sparse mask's pruned entries, it updates the
// kept entries alone while nothing writes outside them (support_index_ below). Code that writes the
// gradient or weight arenas other than through a backward calls note_direct_writes() before the step.
//
// A new optimizer is created for every training phase. State for checkpoints: the step count and
// the state arenas (SGD "momentum_buffer"; Adam "exp_avg", "exp_avg_sq"), each f32 [total] laid out
// as the parameter arena (per-parameter slices at FlatParams::entries offsets).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "kernels/masked_sgd_ops.h"

namespace sdd::optim {

class Optimizer {
 public:
  explicit Optimizer(nn::FlatParams fp) : fp_(std::move(fp)) {}
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every trainable parameter with learning rate lr, from the grads arena.
  void step(double lr) { update(lr, false); }
  void zero_grad() { fp_.zero_grad(); }
  // step(lr) then zero_grad(), with the zeroing of the trainable ranges fused into the update's pass
  // over the arenas on the CPU (one pass over the gradients instead of two); the same values.
  void step_and_zero_grad(double lr);

  // mask / reset: f32 [total] on the arena's device, or undefined (no mask / pruned -> 0). An optimizer
  // that keeps no per-element state registers the mask slices as its parameters' gradient supports
  // (engine/optim/grad_support.h): gradients of pruned weights are then not computed where that pays.
  // The mask's values must not change while it is set: after writing them, call set_mask again.
  void set_mask(const Tensor& mask, const Tensor& reset = Tensor());
  // The caller wrote the gradient arena directly (extra gradient terms, an all-reduce) or wrote
  // weights: the next update is a full pass over the arenas (see support_index_).
  void note_direct_writes();
  // How many entry updates so far touched only the kept entries (support_index_; tests, diagnostics).
  int64_t support_updates() const { return support_updates_; }
  const Tensor& mask() const { return mask_; }
  const Tensor& reset() const { return reset_; }

  int64_t steps() const { return steps_; }
  void set_steps(int64_t s) { steps_ = s; }
  // State arenas by name (shared handles, not copies).
  virtual nn::NamedTensors state_tensors() const = 0;
  // Copies state arenas in by name (all must be present, shapes [total]); throws UserError otherwise.
  void load_state_tensors(const nn::NamedTensors& state, int64_t steps);

  const nn::FlatParams& flat() const { return fp_; }

 protected:
  // The update of step(); zero_grad: the backend also writes every gradient entry of the trainable
  // ranges back to 0 once read (SgdHyper / AdamHyper::zero_grad).
  virtual void update(double lr, bool zero_grad) = 0;
  // True when step() never reads the gradient of a masked-out entry (no state takes it).
  virtual bool reads_only_kept_gradients() const { return false; }
  void update_grad_supports();
  bool supports_registered_ = false;
  // Support-only updates (Sgd without momentum on the CPU, engine/optim/grad_support.h): per flat entry
  // whose mask keeps at most a quarter of it, the arena offsets of its kept entries (otherwise empty) and
  // the gradient-support stamp seen at the entry's last full pass, -1 when there was none since the
  // mask was set or state / gradients / weights were written from outside. While the stamp holds,
  // every other entry of the slice has its pruned weight and a zero gradient, so updating the kept
  // entries alone gives the same arenas as the full masked pass.
  struct SupportIndex {
    bool indexed = false;
    std::vector<int32_t> kept;
    int64_t stamp = -1;
  };
  std::vector<SupportIndex> support_index_;
  int64_t support_updates_ = 0;

  nn::FlatParams fp_;
  Tensor mask_, reset_;
  int64_t steps_ = 0;
};

struct SgdOptions {
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
};

class Sgd : public Optimizer {
 public:
  Sgd(nn::FlatParams fp, const SgdOptions& o);
  nn::NamedTensors state_tensors() const override;
  const Tensor& momentum_buffer() const { return buf_; }   // f32 [total] (zeros when momentum 0)
  const SgdOptions& options() const { return opt_; }

 protected:
  void update(double lr, bool zero_grad) override;
  bool reads_only_kept_gradients() const override { return opt_.momentum == 0.0; }

 private:
  void update_entries(const kern::SgdHyper& h);
  SgdOptions opt_;
  Tensor buf_;
};

struct AdamOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.0;
};

class Adam : public Optimizer {
 public:
  Adam(nn::FlatParams fp, const AdamOptions& o);
  nn::NamedTensors state_tensors() const override;
  const AdamOptions& options() const { return opt_; }

 protected:
  void update(double lr, bool zero_grad) override;

 private:
  AdamOptions opt_;
  Tensor m_, v_;   // f32 [total]
};

// SPEC 6.1: optimizer_name "sgd" or "adam" (anything else: UserError). SGD momentum is
// `momentum or nesterov_momentum`, nesterov = nesterov_momentum > 0; Adam ignores the momentum flags.
std::unique_ptr<Optimizer> make_optimizer(const std::string& optimizer_name, nn::FlatParams fp, double momentum,
                                          double nesterov_momentum, double weight_decay);

}  // namespace sdd::optim
