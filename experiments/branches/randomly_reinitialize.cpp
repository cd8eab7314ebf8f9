// experiments/branches/randomly_reinitialize.cpp — SPEC 9.2: per level a fresh random model (the next
// draw of sdd::global_generator()) masked with trunk mask L, mask + sparsity report copied into the
// branch, trained with the trunk's dataset and training hyperparameters from the trunk's
// train_start_step (0 with --start_at_step_zero). The fresh weights are NOT pretrained: they start
// directly at the rewind step's LR and data position. Freeze type is always zero.
#include "experiments/branches/branch_common.h"
#include "experiments/runners/level_models.h"
#include "experiments/runners/paths.h"

namespace sdd::exp {

void run_randomly_reinitialize(const Experiment& e, const BranchLevel& b, RunContext& ctx) {
  const Description& d = e.desc;
  const pruning::Mask mask = trunk_mask(b);
  // The draw happens every time (also when the level is done), as the original builds it first.
  models::ModelPtr m = fresh_model(d.model, bundle_num_classes(d.dataset));
  make_dirs(b.branch_root);
  if (!pruning::Mask::exists(b.branch_root)) mask.save(b.branch_root);

  TrainTarget target;
  target.model = m.get();
  target.mask = mask;
  target.network_slimming = d.pruning && d.pruning->str("pruning_strategy") == "network_slimming";
  PhaseOptions opt;
  opt.output_dir = b.branch_root;
  opt.training = d.training;
  opt.dataset = d.dataset;
  opt.start = e.branch_hparams->flag("start_at_step_zero") ? Step(0, d.ipe()) : d.train_start_step();
  opt.end = d.train_end_step();
  opt.label = b.label;
  train_phase(target, opt, ctx);
}

}  // namespace sdd::exp
