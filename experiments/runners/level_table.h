// experiments/runners/level_table.h — reading a finished level back (logger, mask) and the summary
// the runners print: one line per level as it finishes, and a table at the end (the information of
// the original's show_result.py: last / best test accuracy and last train accuracy per level).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sdd::exp {

// One record of a `logger` file: name,iteration,value.
struct LogRecord {
  std::string name;
  int64_t iteration = 0;
  double value = 0.0;
};
// Reads <dir>/logger (empty when the file is missing).
std::vector<LogRecord> read_logger(const std::string& dir);

struct LevelRow {
  std::string level;                 // "0", "1", ... or "pretrain"
  std::optional<double> remaining;   // % of prunable weights left (from the mask); nullopt: no mask
  std::optional<double> last_test, best_test, last_train;  // accuracies in %
};

// The row of one level directory (run_path(..., L, main)).
LevelRow read_level_row(const std::string& dir, const std::string& level);

// "level 3: 51.20% weights left, test accuracy 84.12% (best 85.03%), train accuracy 97.50%"
std::string level_summary_line(const LevelRow& r);
// The end-of-run table, then "results: <where>".
std::string level_table(const std::vector<LevelRow>& rows, const std::string& where);

}  // namespace sdd::exp
