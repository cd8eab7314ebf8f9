// experiments/report/report_data.cpp — scans experiment directories and reads loggers and sparsity
// reports for `sparsedd report` (see report_data.h for the layout).
#include "experiments/report/report_data.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/train/metric_logger.h"

namespace fs = std::filesystem;

namespace sdd::exp {

const char* run_status_name(RunStatus s) {
  switch (s) {
    case RunStatus::kDone: return "done";
    case RunStatus::kUnfinished: return "unfinished";
    case RunStatus::kMissing: return "missing";
  }
  return "?";
}

std::optional<double> RunRecord::remaining_percent() const {
  if (dense) return 100.0;
  if (total && unpruned && *total > 0) return 100.0 * *unpruned / *total;
  return std::nullopt;
}

namespace {

// "<prefix><non-negative integer>" -> the integer; nullopt otherwise.
std::optional<int64_t> parse_numbered(const std::string& name, const std::string& prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string digits = name.substr(prefix.size());
  if (digits.size() > 15) return std::nullopt;
  for (char c : digits)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  return std::stoll(digits);
}

std::vector<std::string> subdirectories(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_directory(ec2)) out.push_back(it->path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string join(const std::string& a, const std::string& b) { return (fs::path(a) / b).string(); }

// Directory name of a path, ignoring trailing slashes.
std::string base_name(const std::string& dir) {
  fs::path p(dir);
  while (!p.empty() && p.filename().empty()) p = p.parent_path();
  std::string name = p.filename().string();
  return name.empty() || name == "." ? fs::absolute(p).lexically_normal().filename().string() : name;
}

// "lottery_1b66d1fddf4f…" -> "lottery_1b66d1fd": keeps 8 hex digits of a trailing md5 for legends.
std::string short_name(const std::string& name) {
  size_t us = name.rfind('_');
  if (us == std::string::npos || name.size() - us - 1 != 32) return name;
  return name.substr(0, us + 1 + 8);
}

}  // namespace

void parse_sparsity_report(const std::string& text, const std::string& source, double& total,
                           double& unpruned) {
  auto number_after = [&](const std::string& key) -> double {
    std::string quoted = "\"" + key + "\"";
    size_t k = text.find(quoted);
    SDD_USER_CHECK(k != std::string::npos, "report: " << source << " has no \"" << key
                                                      << "\" entry; rerun the level or delete the file");
    size_t colon = text.find(':', k + quoted.size());
    SDD_USER_CHECK(colon != std::string::npos, "report: " << source << " is not valid JSON near \""
                                                          << key << "\"; rerun the level");
    const char* start = text.c_str() + colon + 1;
    char* end = nullptr;
    double v = std::strtod(start, &end);
    SDD_USER_CHECK(end != start, "report: " << source << " has a non-numeric \"" << key
                                            << "\"; rerun the level");
    return v;
  };
  total = number_after("total");
  unpruned = number_after("unpruned");
}

void read_run(RunRecord& run, const std::string& trunk_dir) {
  // Sparsity: own report, else the trunk level's.
  for (const std::string& dir : {run.path, trunk_dir}) {
    if (dir.empty()) continue;
    std::string f = join(dir, "sparsity_report.json");
    if (!io::file_exists(f)) continue;
    try {
      double t = 0, u = 0;
      parse_sparsity_report(io::read_file(f), f, t, u);
      run.total = t;
      run.unpruned = u;
      if (dir != run.path) run.note = "sparsity from trunk";
    } catch (const UserError& e) {
      run.note = e.what();
    }
    break;
  }

  if (!io::directory_exists(run.path)) {
    run.status = RunStatus::kMissing;
    run.note = "no directory";
    return;
  }
  std::string logger_path = join(run.path, "logger");
  if (!io::file_exists(logger_path)) {
    run.status = RunStatus::kUnfinished;
    run.note = "no logger yet";
    return;
  }
  MetricLogger log;
  try {
    log = MetricLogger::parse(io::read_file(logger_path), logger_path);
  } catch (const UserError& e) {
    run.status = RunStatus::kUnfinished;
    run.note = std::string("unreadable logger: ") + e.what();
    return;
  }

  // The value with the largest iteration (the later record wins a tie) and the best value.
  struct Track { std::optional<int64_t> it; std::optional<double> last, best; };
  std::map<std::string, Track> tracks;
  std::optional<int64_t> max_it;
  for (const MetricRecord& r : log.records()) {
    Track& t = tracks[r.name];
    if (!t.it || r.iteration >= *t.it) { t.it = r.iteration; t.last = r.value; }
    if (!t.best || r.value > *t.best) t.best = r.value;
    if (!max_it || r.iteration > *max_it) max_it = r.iteration;
  }
  run.last_iteration = max_it;
  auto last = [&](const char* name) -> std::optional<double> {
    auto it = tracks.find(name);
    return it == tracks.end() ? std::nullopt : it->second.last;
  };
  run.last_test_accuracy = last("test_accuracy");
  run.last_test_loss = last("test_loss");
  run.last_train_accuracy = last("train_accuracy");
  run.last_train_clean_accuracy = last("train_clean_accuracy");
  run.last_train_loss = last("train_loss");
  if (tracks.count("test_accuracy")) run.best_test_accuracy = tracks["test_accuracy"].best;

  // Finished = the last iteration carries the test records (SPEC 6.4: test eval runs at E).
  auto at_last = [&](const char* name) {
    auto it = tracks.find(name);
    return it != tracks.end() && it->second.it == max_it;
  };
  if (!max_it || !at_last("test_accuracy") || !at_last("test_loss") || !at_last("test_examples")) {
    run.status = RunStatus::kUnfinished;
    run.note = max_it ? "logger lacks the final test records" : "empty logger";
    return;
  }
  run.status = RunStatus::kDone;
}

std::vector<Series> read_experiment(const std::string& dir) {
  SDD_USER_CHECK(io::directory_exists(dir),
                 "report: " << dir << " does not exist; pass an experiment directory such as "
                                      "<results_root>/lottery_<md5>");
  std::map<int64_t, std::string> replicates;   // R -> replicate dir
  for (const std::string& name : subdirectories(dir))
    if (auto r = parse_numbered(name, "replicate_")) replicates[*r] = join(dir, name);
  SDD_USER_CHECK(!replicates.empty(),
                 "report: " << dir << " is not an experiment directory (it has no replicate_<R> "
                                      "sub-directory); pass a directory such as <results_root>/lottery_<md5>");

  const std::string exp_name = base_name(dir);
  bool train_runner = exp_name.rfind("train_", 0) == 0;
  std::set<int64_t> trunk_levels;
  std::map<std::string, std::set<int64_t>> branch_levels;
  for (const auto& [r, rdir] : replicates) {
    for (const std::string& name : subdirectories(rdir)) {
      if (name == "main") train_runner = true;
      auto level = parse_numbered(name, "level_");
      if (!level) continue;   // level_pretrain and anything else
      trunk_levels.insert(*level);
      for (const std::string& sub : subdirectories(join(rdir, name)))
        if (sub.rfind("branch_", 0) == 0) branch_levels[sub].insert(*level);
    }
  }
  // Levels are numbered 0..N: a gap is a missing level.
  if (!trunk_levels.empty())
    for (int64_t l = 0; l < *trunk_levels.rbegin(); ++l) trunk_levels.insert(l);

  std::vector<Series> out;
  Series trunk;
  trunk.experiment = exp_name;
  trunk.experiment_path = dir;
  trunk.label = short_name(exp_name);
  trunk.train_runner = train_runner;
  if (train_runner) {
    for (const auto& [r, rdir] : replicates) {
      RunRecord run;
      run.replicate = r;
      run.level = kReportNoLevel;
      run.path = join(rdir, "main");
      run.dense = true;
      read_run(run, "");
      trunk.runs.push_back(run);
    }
    out.push_back(trunk);
    return out;
  }
  for (int64_t l : trunk_levels)
    for (const auto& [r, rdir] : replicates) {
      RunRecord run;
      run.replicate = r;
      run.level = l;
      run.path = join(join(rdir, "level_" + std::to_string(l)), "main");
      read_run(run, "");
      trunk.runs.push_back(run);
    }
  out.push_back(trunk);

  for (const auto& [branch, levels] : branch_levels) {
    Series s;
    s.experiment = exp_name;
    s.experiment_path = dir;
    s.branch = branch;
    s.label = trunk.label + " " + short_name(branch.substr(7));
    for (int64_t l : levels)
      for (const auto& [r, rdir] : replicates) {
        RunRecord run;
        run.replicate = r;
        run.level = l;
        std::string level_dir = join(rdir, "level_" + std::to_string(l));
        run.path = join(level_dir, branch);
        read_run(run, join(level_dir, "main"));
        s.runs.push_back(run);
      }
    out.push_back(s);
  }
  return out;
}

std::vector<Series> read_experiments(const std::vector<std::string>& dirs) {
  std::vector<Series> all;
  for (const std::string& d : dirs) {
    std::vector<Series> s = read_experiment(d);
    all.insert(all.end(), s.begin(), s.end());
  }
  // Unique legend titles: the same experiment name under two roots gets " (2)", " (3)", ...
  std::map<std::string, int> seen;
  for (Series& s : all) {
    int n = ++seen[s.label];
    if (n > 1) s.label += " (" + std::to_string(n) + ")";
  }
  return all;
}

}  // namespace sdd::exp
