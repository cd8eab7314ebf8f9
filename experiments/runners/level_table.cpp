// experiments/runners/level_table.cpp — per-level summaries from logger and mask files.
#include "experiments/runners/level_table.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "pruning/mask.h"

namespace sdd::exp {
namespace {

std::string pct(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", *v);
  return buf;
}

}  // namespace

std::vector<LogRecord> read_logger(const std::string& dir) {
  std::vector<LogRecord> out;
  std::ifstream f(dir + "/logger");
  if (!f) return out;
  std::string line;
  while (std::getline(f, line)) {
    const size_t a = line.find(',');
    const size_t b = a == std::string::npos ? a : line.find(',', a + 1);
    if (b == std::string::npos) continue;
    LogRecord r;
    r.name = line.substr(0, a);
    try {
      r.iteration = std::stoll(line.substr(a + 1, b - a - 1));
      r.value = std::stod(line.substr(b + 1));
    } catch (const std::exception&) {
      continue;
    }
    out.push_back(r);
  }
  return out;
}

LevelRow read_level_row(const std::string& dir, const std::string& level) {
  LevelRow r;
  r.level = level;
  if (pruning::Mask::exists(dir)) r.remaining = 100.0 * pruning::Mask::load(dir).density();
  for (const LogRecord& rec : read_logger(dir)) {
    if (rec.name == "test_accuracy") {
      r.last_test = 100.0 * rec.value;
      if (!r.best_test || 100.0 * rec.value > *r.best_test) r.best_test = 100.0 * rec.value;
    } else if (rec.name == "train_accuracy") {
      r.last_train = 100.0 * rec.value;
    }
  }
  return r;
}

std::string level_summary_line(const LevelRow& r) {
  std::ostringstream os;
  os << "level " << r.level << ": " << (r.remaining ? pct(r.remaining) + "% weights left, " : std::string())
     << "test accuracy " << pct(r.last_test) << "% (best " << pct(r.best_test) << "%), train accuracy "
     << pct(r.last_train) << "%";
  return os.str();
}

std::string level_table(const std::vector<LevelRow>& rows, const std::string& where) {
  std::ostringstream os;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-9s %12s %12s %12s %12s\n", "level", "remaining %", "last test %", "best test %",
                "last train %");
  os << buf;
  for (const LevelRow& r : rows) {
    std::snprintf(buf, sizeof buf, "%-9s %12s %12s %12s %12s\n", r.level.c_str(), pct(r.remaining).c_str(),
                  pct(r.last_test).c_str(), pct(r.best_test).c_str(), pct(r.last_train).c_str());
    os << buf;
  }
  os << "results: " << where << "\n";
  return os.str();
}

}  // namespace sdd::exp
