// experiments/branches/branch_common.h — what every branch function receives per level (SPEC 9) and
// small helpers they share. Internal to experiments/branches/.
#pragma once
#include <cstdint>
#include <string>

#include "experiments/hparams/description.h"
#include "experiments/step.h"
#include "experiments/train/trainer.h"
#include "pruning/mask.h"

namespace sdd::exp {

// The directories of one branch level.
struct BranchLevel {
  int64_t level = 0;
  std::string level_root;        // trunk run_path(R, L, main)
  std::string branch_root;       // run_path(R, L, branch_<name>_<md5>)
  std::string zero_branch_root;  // run_path(R, 0, branch_<name>_<md5>)
  std::string label;             // progress prefix, e.g. "retrain level 3"
};

// The trunk's freeze type (zero when the trunk has no pruning bundle or the field is unset).
std::string trunk_freeze_type(const Description& d);
// The step at which the trunk's level L ended (finetune levels >= 1: the finetune end, DESIGN fix 19).
Step trunk_level_end(const Description& d, int64_t level);
// The trunk mask of level L; UserError telling to run the trunk when it is missing.
pruning::Mask trunk_mask(const BranchLevel& b);
// UserError telling to run the trunk first when dir lacks the model at s.
void require_trunk_model(const std::string& dir, const Step& s);
// Copies src to dst (overwriting), dst's directory created.
void copy_file_to(const std::string& src, const std::string& dst);

// The per-branch functions (one file each).
void run_randomly_reinitialize(const Experiment& e, const BranchLevel& b, RunContext& ctx);
void run_randomly_prune(const Experiment& e, const BranchLevel& b, RunContext& ctx);
void run_retrain(const Experiment& e, const BranchLevel& b, RunContext& ctx);
void run_oneshot_prune(const Experiment& e, const BranchLevel& b, RunContext& ctx);

}  // namespace sdd::exp
