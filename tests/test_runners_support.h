// tests/test_runners_support.h — helpers of the [runners] tests: a fake Fashion-MNIST root (IDX files
// with 60000 28x28 training images, so the ipe formula matches the data), running an experiment in
// process or through the real `sparsedd` binary, and reading saved tensors.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace sdd::test_runners {

// The fake data root (created once per process under the temp directory).
const std::string& fake_data_root();
// A fresh, empty temp directory named after `tag`.
std::string fresh_dir(const std::string& tag);
// Runs `sparsedd <cmd>` in this process (parse, run context, run); output is discarded.
void run_in_process(const std::string& cmd);
// Runs the real binary with `cmd` (split on spaces); returns the exit code; stdout/stderr captured.
int run_binary(const std::string& cmd, std::string* out = nullptr, std::string* err = nullptr);
// The tensors of a safetensors file by name.
std::map<std::string, Tensor> load_tensors(const std::string& path);
std::string read_text(const std::string& path);
bool same_values(const Tensor& a, const Tensor& b);

}  // namespace sdd::test_runners
