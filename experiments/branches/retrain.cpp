// experiments/branches/retrain.cpp — SPEC 9.1, the re-dense branch: per level L the trunk's level-L
// weights at train_start_step (masked as the trunk saved them), the freeze reference of SPEC 7.4, mask
// L, and one phase with the retrain_d (DatasetHparams) / retrain_t (TrainingHparams) bundles:
//   start s = trunk train_start_step's iteration count at retrain_d's ipe (0 with --start_at_step_zero)
//   end   E = retrain_t.training_steps at retrain_d's ipe
// retrain_t.regain_pruned_weights_steps drops the mask at that step (the trainer's regain, SPEC 6.6.1):
// the regained weights start at exactly 0 and train densely to E.
// DESIGN fix 3: test accuracy is evaluated EVERY epoch (test_eval_every_epoch = true); the original's
// HEAD evaluated it only at s (and E when E.it != 0). No mask file is written into the branch.
#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/branches/branch_common.h"
#include "experiments/runners/level_models.h"
#include "experiments/runners/paths.h"

namespace sdd::exp {

void run_retrain(const Experiment& e, const BranchLevel& b, RunContext& ctx) {
  const Description& d = e.desc;
  const Hparams& h = *e.branch_hparams;
  const Hparams& rd = h.bundle("retrain_d");
  const Hparams& rt = h.bundle("retrain_t");
  const int64_t ipe = bundle_ipe(rd);
  const Step start = h.flag("start_at_step_zero") ? Step(0, ipe) : Step(d.train_start_step().iteration(), ipe);
  const Step end = Step::from_str(rt.str("training_steps"), ipe);
  if (model_exists(b.branch_root, end) && io::file_exists(b.branch_root + "/logger")) return;

  const pruning::Mask mask = trunk_mask(b);
  const int64_t outputs = bundle_num_classes(d.dataset);
  const Step trunk_start = d.train_start_step();
  require_trunk_model(b.level_root, trunk_start);
  models::ModelPtr m = load_level_model(d.model, outputs, b.level_root, trunk_start);

  TrainTarget target;
  target.model = m.get();
  target.mask = mask;
  const std::string strategy = d.pruning ? d.pruning->str("pruning_strategy") : "magnitude";
  target.network_slimming = strategy == "network_slimming";
  const std::string freeze = trunk_freeze_type(d);
  const auto type = models::prunable_type_for_strategy(strategy);
  if (freeze == "init") {
    // The trunk's level-L file at train_start_step exactly as saved, also at level 0 (SPEC 7.4).
    target.freeze_type = freeze;
    target.freeze_reference = prunable_copy(*m, type);
  } else if ((freeze == "final" || freeze == "permuted") && b.level >= 1) {
    const std::string prev = run_path(e.global.results_root, d, e.global.replicate, b.level - 1);
    const Step prev_end = trunk_level_end(d, b.level - 1);
    require_trunk_model(prev, prev_end);
    target.freeze_type = freeze;
    target.freeze_reference = prunable_copy(*load_level_model(d.model, outputs, prev, prev_end), type);
  }

  make_dirs(b.branch_root);
  PhaseOptions opt;
  opt.output_dir = b.branch_root;
  opt.training = rt;
  opt.dataset = rd;
  opt.start = start;
  opt.end = end;
  opt.test_eval_every_epoch = true;  // DESIGN fix 3
  opt.label = b.label;
  train_phase(target, opt, ctx);
}

}  // namespace sdd::exp
