// experiments/data/dataset_command.h — `sparsedd dataset [flags]` (see dataset_command.cpp): prints
// the train/test splits after the training-set transformations. Returns the exit code; throws
// UserError on unknown flags or bad values.
#pragma once
#include <string>
#include <vector>

namespace sdd::exp {

int dataset_command(const std::vector<std::string>& args);  // args after "dataset"

}  // namespace sdd::exp
