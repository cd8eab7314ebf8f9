// tests/test_report_fixture.h — tiny synthetic experiment trees for the [report] tests.
//
// lottery_0123abcd…/ : replicates 1 and 2, levels 0..3 (replicate 2 has no level_3: a missing level),
//   level_pretrain (ignored), a retrain branch branch_retrain_89abcdef… at levels 1 and 2 without its
//   own sparsity report (the trunk's is used); replicate 2's branch at level 2 stops before its final
//   test records (unfinished).
// train_fedcba98…/ : the train runner, replicate_1/main/logger only.
// Logger values are Python float reprs computed by value(), so tests can compare text exactly.
#pragma once
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/io/atomic_file.h"
#include "experiments/pyfmt.h"

namespace report_test {

namespace fs = std::filesystem;

inline const std::string kLotteryName = "lottery_0123abcd0123abcd0123abcd0123abcd";
inline const std::string kBranchName = "branch_retrain_89abcdef89abcdef89abcdef89abcdef";
inline const std::string kTrainName = "train_fedcba98fedcba98fedcba98fedcba98";
inline const double kTotal = 24320.0;
inline const double kUnpruned[4] = {24320.0, 19455.0, 15563.0, 12450.0};

// A fresh empty directory under the build tree.
inline std::string fresh_dir(const std::string& name) {
  fs::path p = fs::path(SDD_BINARY_DIR) / "test_report_tmp" / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// Logged value of metric `kind` (0 test acc, 1 train acc, 2 clean acc, 3 loss) for a run.
inline double value(int kind, int64_t rep, int64_t level, int epoch, bool branch = false) {
  double base = kind == 3 ? 1.5 : 0.6 + 0.05 * static_cast<double>(level) + 0.1 * kind;
  base += 0.0037 * static_cast<double>(rep) + (branch ? 0.0211 : 0.0) + 1e-9 * 7;
  if (kind == 0 && epoch == 1) base += 0.0123;   // best test accuracy != last
  return base;
}
inline std::string v(int kind, int64_t rep, int64_t level, int epoch, bool branch = false) {
  return sdd::exp::py_float_repr(value(kind, rep, level, epoch, branch));
}

// Two epochs of records (iterations 100, 200); `final_test` false drops the test records of the last.
inline std::string logger_text(int64_t rep, int64_t level, bool branch, bool final_test = true,
                               bool clean = true) {
  std::vector<std::string> lines;
  for (int ep = 1; ep <= 2; ++ep) {
    std::string it = std::to_string(100 * ep);
    lines.push_back("train_loss," + it + "," + v(3, rep, level, ep, branch));
    lines.push_back("train_accuracy," + it + "," + v(1, rep, level, ep, branch));
    lines.push_back("train_examples," + it + ",1000.0");
    if (clean) lines.push_back("train_clean_accuracy," + it + "," + v(2, rep, level, ep, branch));
    if (ep == 2 && !final_test) break;
    lines.push_back("test_loss," + it + "," + v(3, rep, level, ep, branch));
    lines.push_back("test_accuracy," + it + "," + v(0, rep, level, ep, branch));
    lines.push_back("test_examples," + it + ",500.0");
  }
  std::string text;
  for (size_t i = 0; i < lines.size(); ++i) text += (i ? "\n" : "") + lines[i];
  return text;   // no trailing newline, as the original writes it
}

inline std::string sparsity_json(double total, double unpruned) {
  return "{\n    \"total\": " + sdd::exp::py_float_repr(total) + ",\n    \"unpruned\": " +
         sdd::exp::py_float_repr(unpruned) + "\n}";
}

inline void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  sdd::io::write_file_atomic(p.string(), text);
}

// Builds both experiments under `root`; returns {lottery dir, train dir}.
inline std::vector<std::string> make_tree(const std::string& root) {
  fs::path lot = fs::path(root) / kLotteryName;
  for (int64_t rep = 1; rep <= 2; ++rep) {
    fs::path rdir = lot / ("replicate_" + std::to_string(rep));
    write(rdir / "level_pretrain" / "main" / "logger", logger_text(rep, 0, false));
    for (int64_t level = 0; level <= 3; ++level) {
      if (rep == 2 && level == 3) continue;   // missing level
      fs::path ldir = rdir / ("level_" + std::to_string(level));
      write(ldir / "main" / "logger", logger_text(rep, level, false));
      write(ldir / "main" / "sparsity_report.json", sparsity_json(kTotal, kUnpruned[level]));
      if (level == 1 || level == 2)
        write(ldir / kBranchName / "logger",
              logger_text(rep, level, true, /*final_test=*/!(rep == 2 && level == 2), /*clean=*/false));
    }
  }
  fs::path tr = fs::path(root) / kTrainName / "replicate_1" / "main";
  write(tr / "logger", logger_text(1, 0, false));
  return {lot.string(), (fs::path(root) / kTrainName).string()};
}

}  // namespace report_test
