// experiments/report/report_summary.cpp — mean and min/max bands over replicates per level.
#include "experiments/report/report_summary.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace sdd::exp {

std::optional<Band> make_band(const std::vector<double>& values, double scale) {
  if (values.empty()) return std::nullopt;
  Band b;
  b.n = static_cast<int>(values.size());
  b.min = b.max = values[0] * scale;
  double sum = 0;
  for (double v : values) {
    double x = v * scale;
    sum += x;
    b.min = std::min(b.min, x);
    b.max = std::max(b.max, x);
  }
  b.mean = sum / b.n;
  return b;
}

std::vector<LevelSummary> summarize(const Series& s) {
  std::map<int64_t, std::vector<const RunRecord*>> by_level;
  for (const RunRecord& r : s.runs) by_level[r.level].push_back(&r);

  std::vector<LevelSummary> out;
  for (const auto& [level, runs] : by_level) {
    LevelSummary L;
    L.level = level;
    L.replicates = static_cast<int>(runs.size());
    std::vector<double> remaining, last_test, best_test, last_train, clean;
    std::vector<int64_t> unfinished, missing;
    for (const RunRecord* r : runs) {
      if (auto p = r->remaining_percent()) remaining.push_back(*p);
      if (r->status == RunStatus::kMissing) { ++L.missing; missing.push_back(r->replicate); continue; }
      if (r->status == RunStatus::kUnfinished) {
        ++L.unfinished;
        unfinished.push_back(r->replicate);
        continue;
      }
      ++L.done;
      if (r->last_test_accuracy) last_test.push_back(*r->last_test_accuracy);
      if (r->best_test_accuracy) best_test.push_back(*r->best_test_accuracy);
      if (r->last_train_accuracy) last_train.push_back(*r->last_train_accuracy);
      if (r->last_train_clean_accuracy) clean.push_back(*r->last_train_clean_accuracy);
    }
    if (auto b = make_band(remaining)) L.remaining_percent = b->mean;
    L.last_test = make_band(last_test, 100.0);
    L.best_test = make_band(best_test, 100.0);
    L.last_train = make_band(last_train, 100.0);
    L.last_train_clean = make_band(clean, 100.0);

    std::ostringstream st;
    auto list = [&](const char* what, const std::vector<int64_t>& reps) {
      st << "; " << what << ": replicate";
      for (size_t i = 0; i < reps.size(); ++i) st << (i ? "," : " ") << reps[i];
    };
    if (L.done == L.replicates) {
      st << "done";
    } else if (L.missing == L.replicates) {
      st << "missing";
    } else if (L.unfinished == L.replicates) {
      st << "unfinished";
    } else {
      st << L.done << "/" << L.replicates << " done";
      if (!unfinished.empty()) list("unfinished", unfinished);
      if (!missing.empty()) list("missing", missing);
    }
    L.status = st.str();
    out.push_back(L);
  }
  return out;
}

}  // namespace sdd::exp
