// experiments/runners/pruning_runner.cpp — lottery, rewindLR, finetune and scratch (SPEC 8.1-8.3,
// 8.5): banner, hparams.log, optional pretraining, initial weights, then per level prune_level and
// train_level. Every step is skipped when its output already exists, so a relaunch resumes.
//
// Per level L >= 1 (SPEC 8.2):
//   runner    mask from                  start weights                  schedule
//   lottery   L-1 at train end           level-0 weights at k, masked   main, k -> training_steps
//   rewindLR  L-1 at train end           L-1 at train end, masked       main, k -> training_steps
//   finetune  L-1 at finetune end (L=1:  L-1 end (finetune end; L=1:    finetuning bundle, 0 -> finetune end
//             level 0 train end)         level-0 train end), masked
//   scratch   L-1 at train end           fresh init of level L, masked  main, k -> training_steps
// Freeze references (SPEC 7.4): init -> lottery/scratch: the unmasked start weights; finetune/rewindLR:
// level-0 start weights. final/permuted -> lottery/scratch: L-1 final; finetune/rewindLR: the start weights.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <vector>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/runners/level_models.h"
#include "experiments/runners/level_table.h"
#include "experiments/hparams/yaml_config.h"
#include "experiments/runners/paths.h"
#include "experiments/runners/runner.h"
#include "experiments/train/progress.h"

namespace sdd::exp {
namespace {

class PruningRun {
 public:
  PruningRun(const Experiment& e, RunContext& ctx, std::ostream& out)
      : e_(e), d_(e.desc), ctx_(ctx), out_(out), runner_(e.desc.runner) {
    SDD_CHECK(d_.pruning.has_value(), "pruning runner without a pruning bundle");
    SDD_CHECK(e.levels.has_value(), "pruning runner without --levels");
    outputs_ = bundle_num_classes(d_.dataset);
    strategy_ = d_.pruning->str("pruning_strategy");
    freeze_ = d_.pruning->opt_str("freeze_pruned_weights").value_or("zero");
    SDD_USER_CHECK(freeze_ == "zero" || freeze_ == "init" || freeze_ == "final" || freeze_ == "permuted",
                   "--freeze_pruned_weights='" << freeze_ << "' is not supported; use zero, init, final or permuted");
    pruning_config(*d_.pruning);  // validates the pruning flags before any training
    // A start after the end trains nothing, and the original then fails looking for the end model,
    // after the whole pretraining: say so before any training.
    const Step start = d_.train_start_step(), end = d_.train_end_step();
    SDD_USER_CHECK(start.iteration() <= end.iteration(),
                   "--" << (e.pretrain ? "pretrain_training_steps" : "rewinding_steps") << "="
                        << d_.pretrain_training->str("training_steps") << " (iteration " << start.iteration()
                        << ") is after the end of training, --training_steps=" << d_.training.str("training_steps")
                        << " (iteration " << end.iteration() << "); rewind to a step at or before the end");
  }

  void run() {
    if (ctx_.verbose) out_ << experiment_banner(e_) << std::flush;
    const std::string l0 = dir(0);
    make_dirs(l0);
    if (!io::file_exists(l0 + "/hparams.log")) io::write_file_atomic(l0 + "/hparams.log", d_.hparams_log());
    // The resolved configuration (every flag, presets applied) as YAML: `sparsedd run` reproduces the run.
    if (!io::file_exists(l0 + "/config.yaml")) io::write_file_atomic(l0 + "/config.yaml", experiment_to_yaml(e_));
    if (ctx_.progress) ctx_.progress->set_total_work(total_work());
    pretrain();
    if (runner_ != "scratch") establish_initial_weights(0);
    std::vector<LevelRow> rows;
    for (int64_t level = 0; level <= *e_.levels; ++level) {
      if (runner_ == "scratch") establish_initial_weights(level);
      prune_level(level);
      train_level(level);
      rows.push_back(read_level_row(dir(level), std::to_string(level)));
      out_ << level_summary_line(rows.back()) << "\n" << std::flush;
    }
    out_ << level_table(rows, replicate_path(e_.global.results_root, d_, e_.global.replicate)) << std::flush;
  }

 private:
  // Training iterations of the whole experiment (pretraining and every level), for the progress ETA.
  int64_t total_work() const {
    const int64_t main = d_.train_end_step().iteration() - d_.train_start_step().iteration();
    const int64_t later = runner_ == "finetune" && d_.finetune_end_step() ? d_.finetune_end_step()->iteration() : main;
    const int64_t pre = d_.pretrain_end_step() ? d_.pretrain_end_step()->iteration() : 0;
    return pre + main + *e_.levels * later;
  }

  std::string dir(int64_t level) const {
    return run_path(e_.global.results_root, d_, e_.global.replicate, level);
  }
  Step start_step() const { return d_.train_start_step(); }
  // The step at which level L's training ends (finetune levels >= 1: the finetune end; DESIGN fix 19).
  Step end_step(int64_t level) const {
    if (runner_ == "finetune" && level >= 1) return *d_.finetune_end_step();
    return d_.train_end_step();
  }
  // The step level L starts from.
  Step level_start(int64_t level) const {
    if (runner_ == "finetune" && level >= 1) return Step(0, d_.ipe());
    return start_step();
  }

  void pretrain() { pretrain_if_needed(e_, ctx_, e_.global.evaluate_only_at_end); }

  // Level 0 (scratch: every level): a fresh model, with the pretrained weights at level 0 (output
  // layer kept fresh when the class counts differ), saved at train_start_step.
  void establish_initial_weights(int64_t level) {
    const std::string ldir = dir(level);
    if (model_exists(ldir, start_step())) return;
    make_dirs(ldir);
    models::ModelPtr m = fresh_model(d_.model, outputs_);
    if (d_.pretrain_training && level == 0) {
      const int64_t pre_out = bundle_num_classes(*d_.pretrain_dataset);
      models::ModelPtr pre = load_level_model(d_.model, pre_out, dir(kPretrainLevel), *d_.pretrain_end_step());
      nn::NamedTensors state = pre->state_dict();
      if (pre_out != outputs_) {
        const std::vector<std::string> skip = m->output_layer_names();
        nn::NamedTensors kept;
        for (auto& [n, t] : state)
          if (std::find(skip.begin(), skip.end(), n) == skip.end()) kept.emplace_back(n, t);
        state = kept;
      }
      m->load_state(state, /*strict=*/false);
    }
    save_model(*m, ldir, start_step());
  }

  // A diverged level (NaN or inf weights, e.g. from too large a learning rate) gives no pruning
  // order: magnitude pruning would drop every NaN weight, and the next level would fail with a
  // misleading count. Say what happened instead.
  void refuse_diverged(const models::Model& m, int64_t level) const {
    for (const auto& [name, t] : m.named_parameters()) {
      int64_t bad = 0;
      for (float v : t.to_vector<float>()) bad += std::isfinite(v) ? 0 : 1;
      SDD_USER_CHECK(bad == 0, "level " << level << "'s trained weights hold " << bad << " NaN or infinite values in '"
                                        << name << "': its training diverged (see train_loss in " << dir(level)
                                        << "/logger); lower --lr");
    }
  }

  // Where level L's mask comes from: the previous level's model at its end step.
  void prune_level(int64_t level) {
    const std::string ldir = dir(level);
    if (pruning::Mask::exists(ldir)) return;
    make_dirs(ldir);
    if (level == 0) {
      models::ModelPtr m = fresh_model(d_.model, outputs_);  // shapes only (consumes RNG as the original)
      ones_mask(*m, strategy_).save(ldir);
      return;
    }
    models::ModelPtr src = load_level_model(d_.model, outputs_, dir(level - 1), end_step(level - 1));
    refuse_diverged(*src, level - 1);
    src->to(ctx_.device);  // on a GPU run, magnitude and gradient pruning stay on the GPU (no host sort)
    const pruning::Mask prev = pruning::Mask::load(dir(level - 1));
    const pruning::Mask next = prune_step(*src, prev, *d_.pruning, d_.dataset, ctx_.dataset_root);
    next.save(ldir);
  }

  void train_level(int64_t level) {
    const std::string ldir = dir(level);
    const Step end = end_step(level);
    if (model_exists(ldir, end)) return;
    const Step start = level_start(level);
    const pruning::Mask mask = pruning::Mask::load(ldir);

    // Start weights (SPEC 8.2).
    models::ModelPtr m;
    if (level == 0 || runner_ == "lottery") m = load_level_model(d_.model, outputs_, dir(0), start_step());
    else if (runner_ == "scratch") m = load_level_model(d_.model, outputs_, ldir, start_step());
    else m = load_level_model(d_.model, outputs_, dir(level - 1), end_step(level - 1));

    // Freeze reference (SPEC 7.4); none at level 0 or with freeze type zero.
    TrainTarget target;
    target.model = m.get();
    target.mask = mask;
    nn::NamedTensors reference;
    if (level >= 1 && freeze_ != "zero") {
      target.freeze_type = freeze_;
      const auto type = models::prunable_type_for_strategy(strategy_);
      const bool own_start = (runner_ == "lottery" || runner_ == "scratch") ? freeze_ == "init" : freeze_ != "init";
      if (own_start) {
        reference = prunable_copy(*m, type);
      } else if (freeze_ == "init") {  // finetune / rewindLR: level-0 start weights
        reference = prunable_copy(*load_level_model(d_.model, outputs_, dir(0), start_step()), type);
      } else {  // lottery / scratch final: level L-1 final weights
        reference = prunable_copy(*load_level_model(d_.model, outputs_, dir(level - 1), end_step(level - 1)), type);
      }
      target.freeze_reference = reference;
    }

    // The masked start weights, saved before training (the trainer rewrites the same file at S).
    save_masked_model(*m, mask, freeze_ == "zero" ? nn::NamedTensors{} : reference, ldir, start);

    PhaseOptions opt;
    opt.output_dir = ldir;
    const bool ft = runner_ == "finetune" && level >= 1;
    opt.training = ft ? *d_.finetuning : d_.training;
    opt.dataset = d_.dataset;
    opt.start = start;
    opt.end = end;
    opt.evaluate_only_at_end = e_.global.evaluate_only_at_end;
    opt.label = "level " + std::to_string(level) + "/" + std::to_string(*e_.levels);
    train_phase(target, opt, ctx_);
  }

  const Experiment& e_;
  const Description& d_;
  RunContext& ctx_;
  std::ostream& out_;
  std::string runner_, strategy_, freeze_;
  int64_t outputs_ = 0;
};

}  // namespace

void run_pruning(const Experiment& e, RunContext& ctx, std::ostream& out) { PruningRun(e, ctx, out).run(); }

std::string experiment_banner(const Experiment& e) {
  const Description& d = e.desc;
  const std::string eq(82, '='), dash(82, '-');
  std::string s = eq + "\n" + runner_description(d.runner) + "\n" + dash + "\n";
  std::vector<const Hparams*> blocks = {&d.dataset, &d.model, &d.training};
  if (d.pruning) blocks.push_back(&*d.pruning);
  if (d.finetuning) blocks.push_back(&*d.finetuning);
  if (d.pretrain_dataset) blocks.push_back(&*d.pretrain_dataset);
  if (d.pretrain_training) blocks.push_back(&*d.pretrain_training);
  for (const Hparams* h : blocks) s += h->display() + "\n";
  s += "Output Location: " + replicate_path(e.global.results_root, d, e.global.replicate) + "\n" + eq + "\n";
  return s;
}

}  // namespace sdd::exp
