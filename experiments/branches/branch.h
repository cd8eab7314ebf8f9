// experiments/branches/branch.h — the branches of a finished trunk (SPEC 9): `sparsedd <runner>_branch
// <name> [flags]`. For each level L of --levels (ascending, one process) a branch reads the trunk's
// level_L/main and writes level_L/branch_<name>_<md5> (Experiment::branch_dir_name()).
//
//   randomly_reinitialize  fresh random init masked with trunk mask L; trunk schedule (freeze zero)
//   randomly_prune         trunk mask L shuffled (layerwise / global / identity) with --seed; start
//                          weights per --start_at (rewind / init / end); freeze zero
//   retrain                re-dense: trunk level-L start weights, mask L, retrain_d / retrain_t bundles,
//                          regain_pruned_weights_steps; test accuracy evaluated EVERY epoch (DESIGN fix 3;
//                          the original HEAD evaluates it only at the start step)
//   oneshot_prune          one dense level-0 run pruned to f_L = 1-(1-f)^L in one shot, retrained per
//                          trunk type (lottery / rewindLR / finetune / scratch)
// Every step is skipped when its output already exists, so a relaunch resumes.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>

#include "experiments/hparams/description.h"
#include "experiments/train/trainer.h"
#include "pruning/mask.h"

namespace sdd::exp {

// Runs the branch of `e` (e.is_branch()) over e.branch_levels; one summary line per level to `out`.
void run_branch(const Experiment& e, RunContext& ctx, std::ostream& out);

// The randomly_prune mask (SPEC 9.3) from trunk mask `m`:
//   layerwise: the i-th tensor in sorted-name order is permuted with Generator(seed + i).permutation
//              (new_flat = old_flat[perm]); each tensor keeps its density;
//   global:    all tensors flattened and concatenated in sorted-name order, one permutation with
//              Generator(seed), split back; only the overall density is kept;
//   identity:  unchanged.
// Then every tensor named in the comma-separated `layers_to_ignore` becomes all ones (UserError for a
// name the mask lacks). Our own Philox shuffle: NOT bit-identical to torch's normal-argsort permutation.
pruning::Mask randomly_pruned_mask(const pruning::Mask& m, const std::string& strategy, int64_t seed,
                                   const std::string& layers_to_ignore);

// One-shot pruning fraction of level L: 1 - (1 - f)^L in double (L = 1 gives 0.19999999999999996).
double oneshot_fraction(double f, int64_t level);

}  // namespace sdd::exp
