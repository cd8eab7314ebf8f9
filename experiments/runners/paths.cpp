// experiments/runners/paths.cpp — result directory names (see paths.h).
#include "experiments/runners/paths.h"

#include <filesystem>
#include <system_error>

#include "engine/errors.h"

namespace sdd::exp {

std::string level_dir_name(int64_t level) {
  if (level == kPretrainLevel) return "level_pretrain";
  SDD_CHECK(level >= 0, "bad level " << level);
  return "level_" + std::to_string(level);
}

std::string replicate_path(const std::string& root, const Description& desc, int64_t replicate) {
  return root + "/" + desc.dir_name() + "/replicate_" + std::to_string(replicate);
}

std::string run_path(const std::string& root, const Description& desc, int64_t replicate, int64_t level,
                     const std::string& exp) {
  return replicate_path(root, desc, replicate) + "/" + level_dir_name(level) + "/" + exp;
}

std::string train_run_path(const std::string& root, const Description& desc, int64_t replicate) {
  return replicate_path(root, desc, replicate) + "/main";
}

std::vector<std::string> output_locations(const Experiment& e) {
  const std::string& root = e.global.results_root;
  const int64_t r = e.global.replicate;
  std::vector<std::string> out;
  if (e.desc.runner == "train") {
    out.push_back(train_run_path(root, e.desc, r));
    return out;
  }
  if (e.is_branch()) {
    const std::string b = e.branch_dir_name();
    for (int64_t l : e.branch_levels) out.push_back(run_path(root, e.desc, r, l, b));
    return out;
  }
  if (e.desc.pretrain_training) out.push_back(run_path(root, e.desc, r, kPretrainLevel));
  const int64_t n = e.levels.value_or(0);
  for (int64_t l = 0; l <= n; ++l) out.push_back(run_path(root, e.desc, r, l));
  return out;
}

void make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  SDD_USER_CHECK(!ec, "cannot create directory " << path << ": " << ec.message()
                                                 << "; choose a writable --results_root");
}

}  // namespace sdd::exp
