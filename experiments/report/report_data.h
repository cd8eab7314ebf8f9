// experiments/report/report_data.h — what `sparsedd report` reads from experiment directories.
//
// An experiment directory is <results_root>/<runner>_<md5>/ (SPEC 10.3):
//   pruning runners:  replicate_<R>/level_<L>/main/            (the trunk)
//                     replicate_<R>/level_<L>/branch_<name>_<md5>/   (one series per branch)
//   train runner:     replicate_<R>/main/                       (one run per replicate, no levels)
// Each run directory holds `logger` (SPEC 6.5: lines `name,iteration,value`) and, for pruning levels,
// `sparsity_report.json` (SPEC 7.1: {"total": T, "unpruned": U}); a branch without its own report
// (retrain) uses the trunk level's report. `level_pretrain` is not a level and is ignored.
//
// Every (series, replicate, level) that should exist is listed — a level missing from one replicate,
// a gap in the level numbers, or a run whose logger lacks the final test records is kept with status
// Missing / Unfinished, never dropped.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sdd::exp {

// The level number used for train-runner runs, which have no pruning levels.
constexpr int64_t kReportNoLevel = -1;

enum class RunStatus { kDone, kUnfinished, kMissing };
const char* run_status_name(RunStatus s);   // "done" / "unfinished" / "missing"

// One run directory: (series, replicate, level).
struct RunRecord {
  int64_t replicate = 0;
  int64_t level = kReportNoLevel;
  std::string path;                 // the run directory (may not exist when missing)
  RunStatus status = RunStatus::kMissing;
  std::string note;                 // why missing/unfinished, or where the sparsity came from

  // sparsity_report.json (own, else the trunk level's); unset when neither exists.
  std::optional<double> total;
  std::optional<double> unpruned;
  bool dense = false;               // train runner: no mask, 100 % of the weights remain

  // From the logger (accuracies as fractions 0..1, exactly the logged values).
  std::optional<int64_t> last_iteration;
  std::optional<double> last_test_accuracy;
  std::optional<double> best_test_accuracy;
  std::optional<double> last_test_loss;
  std::optional<double> last_train_accuracy;
  std::optional<double> last_train_clean_accuracy;
  std::optional<double> last_train_loss;

  // 100 * unpruned / total, 100 for dense runs; unset when unknown.
  std::optional<double> remaining_percent() const;
};

// One line in the plots: the trunk or one branch of one experiment directory.
struct Series {
  std::string label;        // legend title, unique within a report (e.g. "lottery_1b66d1fd")
  std::string experiment;   // the experiment directory's name, e.g. lottery_1b66d1fd…
  std::string experiment_path;
  std::string branch;       // "" for the trunk / train runner, else "branch_<name>_<md5>"
  bool train_runner = false;
  std::vector<RunRecord> runs;   // sorted by (level, replicate)
};

// Reads one experiment directory: the trunk series first, then one series per branch (sorted by
// name). Throws UserError (one line) when `dir` does not exist or is not an experiment directory.
std::vector<Series> read_experiment(const std::string& dir);

// Reads several experiment directories and makes the labels unique.
std::vector<Series> read_experiments(const std::vector<std::string>& dirs);

// Reads one run directory (logger + sparsity report) into `run`; `trunk_dir` is the trunk level's
// directory whose sparsity report is used when `run.path` has none ("" for none).
void read_run(RunRecord& run, const std::string& trunk_dir);

// Parses sparsity_report.json text ({"total": T, "unpruned": U}); UserError naming `source` when
// either key is missing or not a number.
void parse_sparsity_report(const std::string& text, const std::string& source, double& total,
                           double& unpruned);

}  // namespace sdd::exp
