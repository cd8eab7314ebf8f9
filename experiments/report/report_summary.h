// experiments/report/report_summary.h — per (series, level) aggregates over replicates for
// `sparsedd report`: mean and min/max band of each metric over the replicates that finished.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "experiments/report/report_data.h"

namespace sdd::exp {

// Mean and [min, max] of one metric over the finished replicates that logged it.
struct Band {
  double mean = 0, min = 0, max = 0;
  int n = 0;
};

struct LevelSummary {
  int64_t level = kReportNoLevel;
  std::optional<double> remaining_percent;   // mean over replicates that have a sparsity report
  // Accuracies in percent (logged fraction * 100).
  std::optional<Band> last_test, best_test, last_train, last_train_clean;
  int replicates = 0, done = 0, unfinished = 0, missing = 0;
  std::string status;   // "done", or e.g. "1/2 done; unfinished: 2" / "missing"
};

// One summary per level of the series, in level order.
std::vector<LevelSummary> summarize(const Series& s);

// Band over the values (accuracies multiplied by `scale`); nullopt when empty.
std::optional<Band> make_band(const std::vector<double>& values, double scale = 1.0);

}  // namespace sdd::exp
