// experiments/runners/runner.h — the main experiment runners (SPEC 8): train, lottery, rewindLR,
// finetune, scratch. Each runs to completion, skipping whatever already exists on disk (finished
// phases, masks, levels), so relaunching the same command after a kill resumes it.
#pragma once
#include <ostream>
#include <string>

#include "experiments/hparams/description.h"
#include "experiments/train/trainer.h"

namespace sdd::exp {

// Runs one experiment (a main runner, or a branch through experiments/branches/branch.h) with ctx (device, dataset root, verbosity); prints the
// banner, per-level summary lines and the final table to `out`. Weight init draws from
// sdd::global_generator(); main() seeds it with --torch_seed (0 by default).
void run_experiment(const Experiment& e, RunContext& ctx, std::ostream& out);

void run_train(const Experiment& e, RunContext& ctx, std::ostream& out);
void run_pruning(const Experiment& e, RunContext& ctx, std::ostream& out);  // lottery rewindLR finetune scratch

// The run context of an experiment's global options: device from --device / --gpu (warnings to
// `warn`), dataset root, precision, verbosity. Also seeds sdd::global_generator() with --torch_seed
// (0 when not given), so weight init is reproducible.
RunContext make_run_context(const GlobalOptions& g, std::ostream& warn);

// The banner and description block printed before a run (unless --quiet).
std::string experiment_banner(const Experiment& e);

}  // namespace sdd::exp
