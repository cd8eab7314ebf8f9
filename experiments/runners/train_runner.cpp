// experiments/runners/train_runner.cpp — the `train` runner (SPEC 8.4): one dense training of a fresh
// model from step 0 to training_steps into <root>/train_<md5>/replicate_R/main.
#include <fstream>
#include <memory>

#include "engine/device.h"
#include "engine/errors.h"
#include "engine/rng.h"
#include "experiments/branches/branch.h"
#include "experiments/runners/device_select.h"
#include "experiments/train/data_source.h"
#include "engine/io/atomic_file.h"
#include "experiments/runners/level_models.h"
#include "experiments/runners/level_table.h"
#include "experiments/hparams/yaml_config.h"
#include "experiments/runners/paths.h"
#include "experiments/train/progress.h"
#include "experiments/runners/runner.h"

namespace sdd::exp {

void run_train(const Experiment& e, RunContext& ctx, std::ostream& out) {
  const Description& d = e.desc;
  const std::string dir = train_run_path(e.global.results_root, d, e.global.replicate);
  if (ctx.verbose) out << experiment_banner(e) << std::flush;
  make_dirs(dir);
  if (!std::ifstream(dir + "/hparams.log")) io::write_file_atomic(dir + "/hparams.log", d.hparams_log());
  if (!io::file_exists(dir + "/config.yaml")) io::write_file_atomic(dir + "/config.yaml", experiment_to_yaml(e));
  if (ctx.progress) ctx.progress->set_total_work(d.train_end_step().iteration());

  models::ModelPtr m = fresh_model(d.model, bundle_num_classes(d.dataset));
  TrainTarget target;
  target.model = m.get();
  PhaseOptions opt;
  opt.output_dir = dir;
  opt.training = d.training;
  opt.dataset = d.dataset;
  opt.start = Step(0, d.ipe());
  opt.end = d.train_end_step();
  opt.evaluate_only_at_end = e.global.evaluate_only_at_end;
  opt.label = "train";
  train_phase(target, opt, ctx);

  LevelRow row = read_level_row(dir, "main");
  out << level_summary_line(row) << "\n" << level_table({row}, dir) << std::flush;
}

RunContext make_run_context(const GlobalOptions& g, std::ostream& warn) {
  RunContext ctx;
  ctx.device = select_device(g.device, g.gpu, cuda_device_count(), warn);
  ctx.dataset_root = g.dataset_root;
  ctx.data = std::make_shared<DataCache>(g.dataset_root);  // datasets read once per process
  ctx.precision = g.precision;
  ctx.verbose = !g.quiet;
  ctx.progress = std::make_shared<Progress>(!g.quiet);   // the live line on stderr (silent with --quiet)
  manual_seed(static_cast<uint64_t>(g.torch_seed.value_or(0)));
  return ctx;
}

void run_experiment(const Experiment& e, RunContext& ctx, std::ostream& out) {
  if (e.is_branch()) run_branch(e, ctx, out);  // experiments/branches/branch.h
  else if (e.desc.runner == "train") run_train(e, ctx, out);
  else run_pruning(e, ctx, out);
}

}  // namespace sdd::exp
