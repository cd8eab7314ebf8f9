// experiments/branches/oneshot_prune.cpp — SPEC 9.4: the same dense level-0 model pruned to each
// level's sparsity in one shot, then retrained per trunk type. Per level L:
//   1. the trunk's hparams.log into zero_branch_root (if absent)
//   2. pretraining (if configured) into the trunk's level_pretrain/main (if missing)
//   3. level-0 start weights in zero_branch_root: copied from trunk level_0/main, else created (fresh
//      model + pretrained weights) and saved to both; scratch trunks do the same for level L (no
//      pretrained weights) into branch_root
//   4. dense training into zero_branch_root unless its end model exists (copied from trunk level_0/main
//      when that has it, else a plain unmasked run from train_start_step with the main hparams)
//   5. f_L = 1 - (1-f)^L (double); L >= 1: prune the level-0 final weights from an ALL-ONES mask with
//      f_L (other pruning hparams from the trunk), mask saved in branch_root
//   6. L >= 1: retrain by trunk type (lottery: level-0 start weights, main hparams from
//      train_start_step; rewindLR: level-0 final weights, same schedule; finetune: level-0 final
//      weights, finetuning hparams from 0; scratch: level-L fresh init, main from train_start_step);
//      freeze reference = level-0 FINAL weights for init / final / permuted (SPEC 7.4, the original's
//      apparent bug kept); masked start weights saved; trained into branch_root.
// Level 0 has no separate branch result: the dense run lives in zero_branch_root.
#include <algorithm>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/branches/branch.h"
#include "experiments/branches/branch_common.h"
#include "experiments/runners/level_models.h"
#include "experiments/runners/paths.h"

namespace sdd::exp {
namespace {

// A fresh model; at level 0 with the pretrained weights (output layer kept fresh when class counts differ).
models::ModelPtr initial_model(const Experiment& e, int64_t outputs, bool with_pretrained) {
  const Description& d = e.desc;
  models::ModelPtr m = fresh_model(d.model, outputs);
  if (!with_pretrained || !d.pretrain_training) return m;
  const int64_t pre_out = bundle_num_classes(*d.pretrain_dataset);
  const std::string pdir = run_path(e.global.results_root, d, e.global.replicate, kPretrainLevel);
  models::ModelPtr pre = load_level_model(d.model, pre_out, pdir, *d.pretrain_end_step());
  nn::NamedTensors state = pre->state_dict();
  if (pre_out != outputs) {
    const std::vector<std::string> skip = m->output_layer_names();
    nn::NamedTensors kept;
    for (auto& [n, t] : state)
      if (std::find(skip.begin(), skip.end(), n) == skip.end()) kept.emplace_back(n, t);
    state = kept;
  }
  m->load_state(state, /*strict=*/false);
  return m;
}

// Start weights of `level` at train_start_step in `branch_dir`: copied from the trunk's level dir,
// else created and saved into both.
void establish_start_weights(const Experiment& e, int64_t level, const std::string& branch_dir, int64_t outputs) {
  const Description& d = e.desc;
  const Step s = d.train_start_step();
  if (model_exists(branch_dir, s)) return;
  const std::string trunk_dir = run_path(e.global.results_root, d, e.global.replicate, level);
  make_dirs(branch_dir);
  if (model_exists(trunk_dir, s)) {
    copy_file_to(trunk_dir + "/" + model_file_name(s), branch_dir + "/" + model_file_name(s));
    return;
  }
  models::ModelPtr m = initial_model(e, outputs, level == 0);
  make_dirs(trunk_dir);
  save_model(*m, trunk_dir, s);
  save_model(*m, branch_dir, s);
}

}  // namespace

void run_oneshot_prune(const Experiment& e, const BranchLevel& b, RunContext& ctx) {
  const Description& d = e.desc;
  SDD_CHECK(d.pruning.has_value(), "oneshot_prune without a pruning bundle");
  const std::string runner = d.runner;
  const int64_t outputs = bundle_num_classes(d.dataset);
  const std::string trunk0 = run_path(e.global.results_root, d, e.global.replicate, 0);
  const Step k = d.train_start_step(), end0 = d.train_end_step();

  // 1-3.
  make_dirs(b.zero_branch_root);
  if (!io::file_exists(b.zero_branch_root + "/hparams.log")) io::write_file_atomic(b.zero_branch_root + "/hparams.log", d.hparams_log());
  pretrain_if_needed(e, ctx, false);   // branches ignore --evaluate_only_at_end
  establish_start_weights(e, 0, b.zero_branch_root, outputs);
  if (runner == "scratch" && b.level != 0) establish_start_weights(e, b.level, b.branch_root, outputs);

  // 4. Dense level-0 training.
  if (!model_exists(b.zero_branch_root, end0)) {
    if (model_exists(trunk0, end0)) {
      copy_file_to(trunk0 + "/" + model_file_name(end0), b.zero_branch_root + "/" + model_file_name(end0));
    } else {
      models::ModelPtr m = load_level_model(d.model, outputs, b.zero_branch_root, k);
      TrainTarget target;
      target.model = m.get();
      PhaseOptions opt;
      opt.output_dir = b.zero_branch_root;
      opt.training = d.training;
      opt.dataset = d.dataset;
      opt.start = k;
      opt.end = end0;
      opt.label = "oneshot dense level 0";
      train_phase(target, opt, ctx);
    }
  }
  if (b.level == 0) return;

  // 5-6. One-shot mask from an all-ones mask.
  const std::string strategy = d.pruning->str("pruning_strategy");
  make_dirs(b.branch_root);
  if (!pruning::Mask::exists(b.branch_root)) {
    Hparams p = *d.pruning;
    SDD_USER_CHECK(p.has("pruning_fraction"), "oneshot_prune needs a strategy with --pruning_fraction (got " << strategy << ")");
    p.set("pruning_fraction", Value::flt(oneshot_fraction(p.flt("pruning_fraction"), b.level)));
    models::ModelPtr final0 = load_level_model(d.model, outputs, b.zero_branch_root, end0);
    final0->to(ctx.device);  // on a GPU run, magnitude and gradient pruning stay on the GPU
    const pruning::Mask ones = ones_mask(*final0, strategy);
    prune_step(*final0, ones, p, d.dataset, ctx.dataset_root).save(b.branch_root);
  }

  // 7. Retrain by trunk type.
  const bool ft = runner == "finetune";
  const Step start = ft ? Step(0, d.ipe()) : k;
  const Step end = ft ? *d.finetune_end_step() : end0;
  if (model_exists(b.branch_root, end) && io::file_exists(b.branch_root + "/logger")) return;
  const pruning::Mask mask = pruning::Mask::load(b.branch_root);
  models::ModelPtr m;
  if (runner == "lottery") m = load_level_model(d.model, outputs, b.zero_branch_root, k);
  else if (runner == "scratch") m = load_level_model(d.model, outputs, b.branch_root, k);
  else m = load_level_model(d.model, outputs, b.zero_branch_root, end0);  // rewindLR, finetune

  TrainTarget target;
  target.model = m.get();
  target.mask = mask;
  target.network_slimming = strategy == "network_slimming";
  const std::string freeze = trunk_freeze_type(d);
  nn::NamedTensors reference;
  if (freeze != "zero") {
    target.freeze_type = freeze;
    reference = prunable_copy(*load_level_model(d.model, outputs, b.zero_branch_root, end0),
                              models::prunable_type_for_strategy(strategy));
    target.freeze_reference = reference;
  }
  save_masked_model(*m, mask, reference, b.branch_root, start);

  PhaseOptions opt;
  opt.output_dir = b.branch_root;
  opt.training = ft ? *d.finetuning : d.training;
  opt.dataset = d.dataset;
  opt.start = start;
  opt.end = end;
  opt.label = b.label;
  train_phase(target, opt, ctx);
}

}  // namespace sdd::exp
