// experiments/branches/branch_runner.cpp — run_branch (SPEC 9 general rules): the per-level loop, the
// directories handed to each branch function, the shared helpers and the per-level summary lines.
#include <filesystem>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/branches/branch.h"
#include "experiments/branches/branch_common.h"
#include "experiments/runners/level_table.h"
#include "experiments/runners/paths.h"
#include "experiments/runners/runner.h"

namespace sdd::exp {

std::string trunk_freeze_type(const Description& d) {
  if (!d.pruning || !d.pruning->has("freeze_pruned_weights")) return "zero";
  return d.pruning->opt_str("freeze_pruned_weights").value_or("zero");
}

Step trunk_level_end(const Description& d, int64_t level) {
  if (d.runner == "finetune" && level >= 1) return *d.finetune_end_step();
  return d.train_end_step();
}

pruning::Mask trunk_mask(const BranchLevel& b) {
  SDD_USER_CHECK(pruning::Mask::exists(b.level_root),
                 "the trunk has no mask at " << b.level_root << "; run the main experiment (same flags, without the branch) first");
  return pruning::Mask::load(b.level_root);
}

void require_trunk_model(const std::string& dir, const Step& s) {
  SDD_USER_CHECK(model_exists(dir, s), "the trunk has no " << model_file_name(s) << " in " << dir
                                                           << "; run the main experiment (same flags, without the branch) first");
}

void copy_file_to(const std::string& src, const std::string& dst) {
  make_dirs(std::filesystem::path(dst).parent_path().string());
  std::filesystem::copy_file(src, dst, std::filesystem::copy_options::overwrite_existing);
}

double oneshot_fraction(double f, int64_t level) {
  double keep = 1.0;
  for (int64_t i = 0; i < level; ++i) keep *= (1.0 - f);  // Python's (1 - f) ** L for integer L
  return 1.0 - keep;
}

void run_branch(const Experiment& e, RunContext& ctx, std::ostream& out) {
  SDD_CHECK(e.is_branch(), "run_branch without a branch");
  SDD_USER_CHECK(e.desc.runner != "train",
                 "train_branch is not supported (the original cannot run it); use a pruning runner's branch, e.g. lottery_branch");
  SDD_USER_CHECK(!e.branch_levels.empty(), "no branch levels; pass --levels, e.g. --levels=0-3");
  if (ctx.verbose) out << experiment_banner(e) << "Branch: " << e.branch << " -> " << e.branch_dir_name() << "\n" << std::flush;
  const std::string root = e.global.results_root, name = e.branch_dir_name();
  std::vector<LevelRow> rows;
  for (int64_t level : e.branch_levels) {
    BranchLevel b;
    b.level = level;
    b.level_root = run_path(root, e.desc, e.global.replicate, level);
    b.branch_root = run_path(root, e.desc, e.global.replicate, level, name);
    b.zero_branch_root = run_path(root, e.desc, e.global.replicate, 0, name);
    b.label = e.branch + " level " + std::to_string(level);
    if (e.branch == "randomly_reinitialize") run_randomly_reinitialize(e, b, ctx);
    else if (e.branch == "randomly_prune") run_randomly_prune(e, b, ctx);
    else if (e.branch == "retrain") run_retrain(e, b, ctx);
    else if (e.branch == "oneshot_prune") run_oneshot_prune(e, b, ctx);
    else SDD_USER_FAIL("no such branch '" << e.branch << "'; use oneshot_prune, randomly_prune, randomly_reinitialize or retrain");
    // oneshot level 0 has no branch result: its dense run lives in zero_branch_root (= branch_root).
    rows.push_back(read_level_row(b.branch_root, std::to_string(level)));
    out << level_summary_line(rows.back()) << "\n" << std::flush;
  }
  out << level_table(rows, replicate_path(root, e.desc, e.global.replicate) + "/level_*/" + name) << std::flush;
}

}  // namespace sdd::exp
