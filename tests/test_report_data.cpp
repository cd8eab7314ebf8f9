// tests/test_report_data.cpp — `sparsedd report` reading and tables: CSV values equal the loggers',
// missing / unfinished levels are shown, bands over replicates, and one-line user errors.
#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "engine/errors.h"
#include "experiments/report/report_command.h"
#include "experiments/report/report_data.h"
#include "experiments/report/report_summary.h"
#include "experiments/report/report_tables.h"
#include "test_report_fixture.h"

using namespace sdd::exp;
using namespace report_test;

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::stringstream ss(s);
  while (std::getline(ss, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

// report.csv as rows keyed by column name.
std::vector<std::map<std::string, std::string>> parse_csv(const std::string& text) {
  std::vector<std::string> lines = split(text, '\n');
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  REQUIRE(!lines.empty());
  std::vector<std::string> header = split(lines[0], ',');
  REQUIRE(header == report_csv_columns());
  std::vector<std::map<std::string, std::string>> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    REQUIRE(lines[i].find('"') == std::string::npos);   // the fixture needs no quoting
    std::vector<std::string> f = split(lines[i], ',');
    REQUIRE(f.size() == header.size());
    std::map<std::string, std::string> row;
    for (size_t c = 0; c < f.size(); ++c) row[header[c]] = f[c];
    rows.push_back(row);
  }
  return rows;
}

const std::map<std::string, std::string>& find_row(const std::vector<std::map<std::string, std::string>>& rows,
                                                  const std::string& branch, int rep, int level) {
  for (const auto& r : rows)
    if (r.at("branch") == branch && r.at("replicate") == std::to_string(rep) &&
        r.at("level") == (level < 0 ? "" : std::to_string(level)))
      return r;
  FAIL("no CSV row for branch '" << branch << "' replicate " << rep << " level " << level);
  return rows.front();
}

}  // namespace

TEST_CASE("report: CSV rows carry the loggers' values exactly", "[report]") {
  std::string root = fresh_dir("csv");
  std::vector<std::string> dirs = make_tree(root);
  std::vector<Series> series = read_experiments(dirs);
  REQUIRE(series.size() == 3);   // lottery trunk, its retrain branch, the train run
  CHECK(series[0].label == "lottery_0123abcd");
  CHECK(series[1].label == "lottery_0123abcd retrain_89abcdef");
  CHECK(series[2].label == "train_fedcba98");

  auto rows = parse_csv(report_csv(series));
  REQUIRE(rows.size() == 4 * 2 + 2 * 2 + 1);

  for (int rep = 1; rep <= 2; ++rep)
    for (int level = 0; level <= 3; ++level) {
      if (rep == 2 && level == 3) continue;
      INFO("trunk replicate " << rep << " level " << level);
      const auto& r = find_row(rows, "", rep, level);
      CHECK(r.at("status") == "done");
      CHECK(r.at("experiment") == kLotteryName);
      CHECK(r.at("last_test_accuracy") == v(0, rep, level, 2));
      CHECK(r.at("best_test_accuracy") == v(0, rep, level, 1));
      CHECK(r.at("last_train_accuracy") == v(1, rep, level, 2));
      CHECK(r.at("last_train_clean_accuracy") == v(2, rep, level, 2));
      CHECK(r.at("last_test_loss") == v(3, rep, level, 2));
      CHECK(r.at("last_iteration") == "200");
      CHECK(r.at("total") == "24320.0");
      CHECK(r.at("unpruned") == py_float_repr(kUnpruned[level]));
      CHECK(r.at("remaining_weights_percent") == py_float_repr(100.0 * kUnpruned[level] / kTotal));
    }

  // The missing level is a row, with no values.
  const auto& missing = find_row(rows, "", 2, 3);
  CHECK(missing.at("status") == "missing");
  CHECK(missing.at("last_test_accuracy").empty());
  CHECK(missing.at("best_test_accuracy").empty());

  // Branch: values from its own logger, sparsity from the trunk level; no clean accuracy logged.
  const auto& b = find_row(rows, kBranchName, 1, 2);
  CHECK(b.at("status") == "done");
  CHECK(b.at("last_test_accuracy") == v(0, 1, 2, 2, true));
  CHECK(b.at("last_train_clean_accuracy").empty());
  CHECK(b.at("remaining_weights_percent") == py_float_repr(100.0 * kUnpruned[2] / kTotal));
  CHECK(b.at("note") == "sparsity from trunk");
  // Replicate 2's branch at level 2 has no final test records: unfinished, not done.
  const auto& u = find_row(rows, kBranchName, 2, 2);
  CHECK(u.at("status") == "unfinished");
  CHECK(u.at("note") == "logger lacks the final test records");

  // Train runner: dense, no level.
  const auto& t = find_row(rows, "", 1, -1);
  CHECK(t.at("experiment") == kTrainName);
  CHECK(t.at("remaining_weights_percent") == "100.0");
  CHECK(t.at("last_test_accuracy") == v(0, 1, 0, 2));
}

TEST_CASE("report: per-level mean and min/max band over replicates", "[report]") {
  std::string root = fresh_dir("summary");
  std::vector<Series> series = read_experiments(make_tree(root));
  std::vector<LevelSummary> levels = summarize(series[0]);
  REQUIRE(levels.size() == 4);
  const LevelSummary& L1 = levels[1];
  CHECK(L1.level == 1);
  CHECK(L1.done == 2);
  CHECK(L1.status == "done");
  REQUIRE(L1.last_test);
  double a = 100 * value(0, 1, 1, 2), b = 100 * value(0, 2, 1, 2);
  CHECK(L1.last_test->n == 2);
  CHECK(L1.last_test->mean == Approx((a + b) / 2).epsilon(1e-12));
  CHECK(L1.last_test->min == Approx(std::min(a, b)).epsilon(1e-12));
  CHECK(L1.last_test->max == Approx(std::max(a, b)).epsilon(1e-12));
  REQUIRE(L1.remaining_percent);
  CHECK(*L1.remaining_percent == Approx(100.0 * 19455.0 / 24320.0));

  const LevelSummary& L3 = levels[3];
  CHECK(L3.done == 1);
  CHECK(L3.missing == 1);
  CHECK(L3.status == "1/2 done; missing: replicate 2");
  REQUIRE(L3.last_test);
  CHECK(L3.last_test->n == 1);

  std::vector<LevelSummary> branch = summarize(series[1]);
  REQUIRE(branch.size() == 2);
  CHECK(branch[1].status == "1/2 done; unfinished: replicate 2");
}

TEST_CASE("report: markdown and terminal tables show missing and unfinished levels", "[report]") {
  std::string root = fresh_dir("tables");
  std::vector<Series> series = read_experiments(make_tree(root));
  std::string md = report_markdown(series);
  CHECK(md.find("## lottery_0123abcd — ") != std::string::npos);
  CHECK(md.find("missing: replicate 2") != std::string::npos);
  CHECK(md.find("unfinished: replicate 2") != std::string::npos);
  // Level 2 of the trunk: 64 % weights, mean (min–max) of last test accuracy in percent.
  char expect[128];
  double a = 100 * value(0, 1, 2, 2), b = 100 * value(0, 2, 2, 2);
  std::snprintf(expect, sizeof expect, "| 2 | %s | %.2f (%.2f–%.2f) |", format_percent(100.0 * 15563 / 24320).c_str(),
                (a + b) / 2, a, b);
  CHECK(md.find(expect) != std::string::npos);
  std::string text = report_text(series);
  CHECK(text.find("1/2 done; missing: replicate 2") != std::string::npos);
}

TEST_CASE("report: a gap in the level numbers and an empty level directory are shown", "[report]") {
  std::string root = fresh_dir("gap");
  fs::path exp = fs::path(root) / "lottery_gap";
  for (int level : {0, 2}) {
    write(exp / "replicate_1" / ("level_" + std::to_string(level)) / "main" / "logger",
          logger_text(1, level, false));
    write(exp / "replicate_1" / ("level_" + std::to_string(level)) / "main" / "sparsity_report.json",
          sparsity_json(kTotal, kUnpruned[level]));
  }
  fs::create_directories(exp / "replicate_1" / "level_3" / "main");   // started, no logger yet
  std::vector<Series> series = read_experiment(exp.string());
  REQUIRE(series.size() == 1);
  REQUIRE(series[0].runs.size() == 4);
  CHECK(series[0].runs[0].status == RunStatus::kDone);
  CHECK(series[0].runs[1].level == 1);
  CHECK(series[0].runs[1].status == RunStatus::kMissing);
  CHECK(series[0].runs[2].status == RunStatus::kDone);
  CHECK(series[0].runs[3].status == RunStatus::kUnfinished);
  CHECK(series[0].runs[3].note == "no logger yet");
  auto levels = summarize(series[0]);
  CHECK(levels[1].status == "missing");
  CHECK(levels[3].status == "unfinished");
}

TEST_CASE("report: sparsity_report.json in the original byte format", "[report]") {
  double t = 0, u = 0;
  parse_sparsity_report("{\n    \"total\": 24320.0,\n    \"unpruned\": 15563.0\n}", "x", t, u);
  CHECK(t == 24320.0);
  CHECK(u == 15563.0);
  CHECK_THROWS_AS(parse_sparsity_report("{\"total\": 3.0}", "x", t, u), sdd::UserError);
}

TEST_CASE("report: a directory that is not an experiment is a one-line user error", "[report]") {
  std::string root = fresh_dir("errors");
  fs::create_directories(fs::path(root) / "not_an_experiment" / "level_0");
  std::string bad = (fs::path(root) / "not_an_experiment").string();
  try {
    read_experiment(bad);
    FAIL("expected a UserError");
  } catch (const sdd::UserError& e) {
    std::string msg = e.what();
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(msg.find(bad) != std::string::npos);
    CHECK(msg.find("not an experiment directory") != std::string::npos);
  }
  CHECK_THROWS_AS(read_experiment(root + "/does_not_exist"), sdd::UserError);
  CHECK_THROWS_AS(report_command({bad, "--out", root}), sdd::UserError);
  CHECK_THROWS_AS(report_command({"--bogus"}), sdd::UserError);
  CHECK_THROWS_AS(report_command({}), sdd::UserError);
}
