// experiments/runners/paths.h — where an experiment writes (SPEC 10.3, DESIGN 4 fix 21).
//
//   pruning trunk:  <results_root>/<dir_name>/replicate_<R>/level_<L>/<exp>   (L = "pretrain" for pretraining)
//   train runner:   <results_root>/train_<md5>/replicate_<R>/main
//   branches:       <results_root>/<dir_name>/replicate_<R>/level_<L>/branch_<name>_<md5>
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/hparams/description.h"

namespace sdd::exp {

// "level_<L>" for L >= 0, "level_pretrain" for kPretrainLevel.
constexpr int64_t kPretrainLevel = -1;
std::string level_dir_name(int64_t level);

// <root>/<desc.dir_name()>/replicate_<R>
std::string replicate_path(const std::string& root, const Description& desc, int64_t replicate);
// <root>/<dir_name>/replicate_<R>/level_<L>/<exp> (exp "main" for the trunk).
std::string run_path(const std::string& root, const Description& desc, int64_t replicate, int64_t level,
                     const std::string& exp = "main");
// <root>/train_<md5>/replicate_<R>/main
std::string train_run_path(const std::string& root, const Description& desc, int64_t replicate);

// The directories `-d` prints: the train runner's main directory; for pruning runners one line per
// level 0..N (plus level_pretrain first when pretraining is configured); for branches one line per
// branch level.
std::vector<std::string> output_locations(const Experiment& e);

// mkdir -p (UserError naming the path when it cannot be created).
void make_dirs(const std::string& path);

}  // namespace sdd::exp
