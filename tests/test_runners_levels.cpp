// tests/test_runners_levels.cpp — end-to-end runs of lottery, rewindLR, finetune and scratch on a
// fake Fashion-MNIST (tiny MLP, 120 training examples, 3 iterations per epoch, 3 epochs, levels 0-2):
// the files of every level, the start-weight relations of SPEC 8.2, the n+1 pruning rule and zeros
// at pruned positions in every saved model file; bench/quickstart_flops.py on such a run.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>

#include <sys/wait.h>

#include "engine/io/atomic_file.h"
#include "experiments/hparams/flags.h"
#include "experiments/runners/paths.h"
#include "pruning/mask.h"
#include "test_runners_support.h"

using namespace sdd;
using namespace sdd::test_runners;

namespace {

std::string tiny_flags(const std::string& results) {
  return " --dataset_name=fashion_mnist --batch_size=40 --subsample_fraction=0.002 --model_name=mnist_mlp_20"
         " --model_init=kaiming_normal --batchnorm_init=uniform --optimizer_name=sgd --lr=0.05 --momentum=0.9"
         " --training_steps=3ep --data_order_seed=0 --pruning_strategy=magnitude --levels=2 --quiet"
         " --dataset_root=" + fake_data_root() + " --results_root=" + results;
}

std::string level_dir(const std::string& results, const std::string& cmd, int64_t level) {
  std::istringstream is(cmd);
  std::vector<std::string> w;
  for (std::string x; is >> x;) w.push_back(x);
  const exp::Experiment e = exp::parse_command_line(w).experiment;
  return exp::run_path(results, e.desc, 1, level);
}

// actual == base where mask is 1, exactly 0 where it is 0.
void check_masked(const Tensor& actual, const Tensor& base, const Tensor& mask, const std::string& what) {
  INFO(what);
  REQUIRE(actual.numel() == base.numel());
  const float* a = actual.data<float>();
  const float* b = base.data<float>();
  const float* m = mask.data<float>();
  int64_t bad = 0;
  for (int64_t i = 0; i < actual.numel(); ++i)
    if (a[i] != (m[i] != 0.0f ? b[i] : 0.0f)) ++bad;
  CHECK(bad == 0);
}

void check_zero_where_pruned(const std::string& file, const pruning::Mask& mask) {
  const auto t = load_tensors(file);
  for (const auto& [name, mk] : mask.entries()) {
    INFO(file << " " << name);
    REQUIRE(t.count(name) == 1);
    const float* w = t.at(name).data<float>();
    const float* m = mk.data<float>();
    int64_t nonzero = 0;
    for (int64_t i = 0; i < mk.numel(); ++i)
      if (m[i] == 0.0f && w[i] != 0.0f) ++nonzero;
    CHECK(nonzero == 0);
  }
}

// Common checks of a finished 3-level run; returns the masks.
std::vector<pruning::Mask> check_levels(const std::string& results, const std::string& cmd, const std::string& start_file,
                                        const std::string& level_end_file) {
  std::vector<pruning::Mask> masks;
  int64_t remaining = -1;
  for (int64_t l = 0; l <= 2; ++l) {
    const std::string d = level_dir(results, cmd, l);
    INFO("level dir " << d);
    const std::string end_file = l == 0 ? "model_ep3_it0.safetensors" : level_end_file;
    CHECK(io::file_exists(d + "/" + (l == 0 ? std::string("model_ep0_it0.safetensors") : start_file)));
    CHECK(io::file_exists(d + "/" + end_file));
    CHECK(io::file_exists(d + "/logger"));
    CHECK(io::file_exists(d + "/mask.safetensors"));
    CHECK(io::file_exists(d + "/sparsity_report.json"));
    CHECK(io::file_exists(d + "/hparams.log") == (l == 0));
    REQUIRE(pruning::Mask::exists(d));
    masks.push_back(pruning::Mask::load(d));
    const pruning::Mask& m = masks.back();
    // n + 1 rule (SPEC 7.1): R_L = R_{L-1} - ceil(0.2 R_{L-1}) - 1, R over all mask entries.
    if (l == 0) CHECK(m.unpruned() == m.total());
    else CHECK(m.unpruned() == remaining - static_cast<int64_t>(std::ceil(0.2 * static_cast<double>(remaining))) - 1);
    CHECK(m.density() == Approx(std::pow(0.8, static_cast<double>(l))).margin(0.01));
    remaining = m.unpruned();
    check_zero_where_pruned(d + "/" + (l == 0 ? std::string("model_ep0_it0.safetensors") : start_file), m);
    check_zero_where_pruned(d + "/" + end_file, m);
  }
  return masks;
}

}  // namespace

TEST_CASE("runners: lottery levels rewind to the masked level-0 weights", "[runners]") {
  const std::string results = fresh_dir("lottery");
  const std::string cmd = "lottery" + tiny_flags(results);
  run_in_process(cmd);
  const auto masks = check_levels(results, cmd, "model_ep0_it0.safetensors", "model_ep3_it0.safetensors");
  const auto w0 = load_tensors(level_dir(results, cmd, 0) + "/model_ep0_it0.safetensors");
  for (int64_t l = 1; l <= 2; ++l) {
    const auto wl = load_tensors(level_dir(results, cmd, l) + "/model_ep0_it0.safetensors");
    for (const auto& [name, mk] : masks[static_cast<size_t>(l)].entries())
      check_masked(wl.at(name), w0.at(name), mk, "lottery level " + std::to_string(l) + " " + name);
  }
  // hparams.log is the description's log.
  const std::string log = read_text(level_dir(results, cmd, 0) + "/hparams.log");
  CHECK(log.rfind("Dataset Hyperparameters\n    * dataset_name => fashion_mnist", 0) == 0);
  // A second launch finds everything done and changes nothing.
  const std::string logger2 = read_text(level_dir(results, cmd, 2) + "/logger");
  run_in_process(cmd);
  CHECK(read_text(level_dir(results, cmd, 2) + "/logger") == logger2);
  std::filesystem::remove_all(results);
}

TEST_CASE("runners: rewindLR levels start from the previous level's masked end weights", "[runners]") {
  const std::string results = fresh_dir("rewindlr");
  const std::string cmd = "rewindLR" + tiny_flags(results);
  run_in_process(cmd);
  const auto masks = check_levels(results, cmd, "model_ep0_it0.safetensors", "model_ep3_it0.safetensors");
  for (int64_t l = 1; l <= 2; ++l) {
    const auto prev = load_tensors(level_dir(results, cmd, l - 1) + "/model_ep3_it0.safetensors");
    const auto wl = load_tensors(level_dir(results, cmd, l) + "/model_ep0_it0.safetensors");
    for (const auto& [name, mk] : masks[static_cast<size_t>(l)].entries())
      check_masked(wl.at(name), prev.at(name), mk, "rewindLR level " + std::to_string(l) + " " + name);
  }
  std::filesystem::remove_all(results);
}

TEST_CASE("runners: finetune levels continue from the previous level at the finetune end", "[runners]") {
  const std::string results = fresh_dir("finetune");
  const std::string cmd = "finetune" + tiny_flags(results) + " --finetune_lr=0.01 --finetune_training_steps=2ep";
  run_in_process(cmd);
  const auto masks = check_levels(results, cmd, "model_ep0_it0.safetensors", "model_ep2_it0.safetensors");
  for (int64_t l = 1; l <= 2; ++l) {
    const std::string prev_end = l == 1 ? "model_ep3_it0.safetensors" : "model_ep2_it0.safetensors";
    const auto prev = load_tensors(level_dir(results, cmd, l - 1) + "/" + prev_end);
    const auto wl = load_tensors(level_dir(results, cmd, l) + "/model_ep0_it0.safetensors");
    for (const auto& [name, mk] : masks[static_cast<size_t>(l)].entries())
      check_masked(wl.at(name), prev.at(name), mk, "finetune level " + std::to_string(l) + " " + name);
    // Levels >= 1 train 0 -> 2ep only: no main-length end file.
    CHECK_FALSE(io::file_exists(level_dir(results, cmd, l) + "/model_ep3_it0.safetensors"));
  }
  std::filesystem::remove_all(results);
}

TEST_CASE("runners: scratch levels start from a fresh init", "[runners]") {
  const std::string results = fresh_dir("scratch");
  const std::string cmd = "scratch" + tiny_flags(results);
  run_in_process(cmd);
  const auto masks = check_levels(results, cmd, "model_ep0_it0.safetensors", "model_ep3_it0.safetensors");
  const auto w0 = load_tensors(level_dir(results, cmd, 0) + "/model_ep0_it0.safetensors");
  for (int64_t l = 1; l <= 2; ++l) {
    const auto prev = load_tensors(level_dir(results, cmd, l - 1) + "/model_ep3_it0.safetensors");
    const auto wl = load_tensors(level_dir(results, cmd, l) + "/model_ep0_it0.safetensors");
    for (const auto& [name, mk] : masks[static_cast<size_t>(l)].entries()) {
      INFO("scratch level " << l << " " << name);
      const float* a = wl.at(name).data<float>();
      const float* b = w0.at(name).data<float>();
      const float* p = prev.at(name).data<float>();
      const float* m = mk.data<float>();
      int64_t kept = 0, same_as_init = 0, same_as_prev = 0;
      for (int64_t i = 0; i < mk.numel(); ++i) {
        if (m[i] == 0.0f) continue;
        ++kept;
        same_as_init += a[i] == b[i];
        same_as_prev += a[i] == p[i];
      }
      REQUIRE(kept > 0);
      CHECK(same_as_init < kept / 10);
      CHECK(same_as_prev < kept / 10);
    }
  }
  std::filesystem::remove_all(results);
}

TEST_CASE("runners: gradient pruning scores one seeded training batch", "[runners]") {
  const std::string results = fresh_dir("gradient");
  std::string cmd = "lottery" + tiny_flags(results);
  cmd.replace(cmd.find("--pruning_strategy=magnitude"), 28, "--pruning_strategy=gradient");
  cmd.replace(cmd.find("--levels=2"), 10, "--levels=1");
  run_in_process(cmd);
  const pruning::Mask m0 = pruning::Mask::load(level_dir(results, cmd, 0));
  const pruning::Mask m1 = pruning::Mask::load(level_dir(results, cmd, 1));
  CHECK(m1.unpruned() == m0.total() - static_cast<int64_t>(std::ceil(0.2 * static_cast<double>(m0.total()))) - 1);
  check_zero_where_pruned(level_dir(results, cmd, 1) + "/model_ep3_it0.safetensors", m1);
  // The same command in a fresh root draws the same batch: the same mask.
  const std::string results2 = fresh_dir("gradient2");
  std::string cmd2 = cmd;
  cmd2.replace(cmd2.find("--results_root=" + results), 15 + results.size(), "--results_root=" + results2);
  run_in_process(cmd2);
  const pruning::Mask m1b = pruning::Mask::load(level_dir(results2, cmd2, 1));
  for (const auto& [name, t] : m1.entries()) CHECK(same_values(t, m1b.at(name)));
  std::filesystem::remove_all(results);
  std::filesystem::remove_all(results2);
}

TEST_CASE("runners: bench/quickstart_flops.py counts a finished lottery run's multiply-adds", "[runners]") {
  if (std::system("python3 -c 'import json' > /dev/null 2>&1") != 0) {
    std::cout << "SKIPPED: no python3" << std::endl;
    return;
  }
  const std::string results = fresh_dir("flops");
  const std::string cmd = "lottery" + tiny_flags(results);
  run_in_process(cmd);
  const std::string replicate = std::filesystem::path(level_dir(results, cmd, 0)).parent_path().parent_path();
  const std::string script = std::string(SDD_SOURCE_DIR) + "/bench/quickstart_flops.py";
  const int64_t epochs = 3, batch = 40, train = 120, test = 77, steps = 3;
  const std::string out_file = results + "/flops.txt";
  const std::string call = "python3 " + script + " " + replicate + " --raw --epochs 3 --batch 40 --train 120 --test 77 > " +
                           out_file;
  REQUIRE(std::system(call.c_str()) == 0);
  std::istringstream lines(read_text(out_file));
  for (int64_t level = 0; level <= 2; ++level) {
    // The expected count from the saved mask: forward and weight gradient of every layer, input
    // gradient of every layer but the first (fc_layers.0 comes first, fc last), evaluation of both sets.
    const pruning::Mask m = pruning::Mask::load(level_dir(results, cmd, level));
    int64_t first_kept = 0, first_all = 0, kept = 0, all = 0;
    for (const auto& [name, mk] : m.entries()) {
      int64_t k = 0;
      for (int64_t i = 0; i < mk.numel(); ++i) k += mk.data<float>()[i] != 0.0f;
      kept += k;
      all += mk.numel();
      if (name == "fc_layers.0.weight") first_kept = k, first_all = mk.numel();
    }
    REQUIRE(first_all > 0);
    auto flops = [&](int64_t total, int64_t first) {
      return epochs * (steps * 2 * batch * (2 * total + (total - first)) + 2 * (train + test) * total);
    };
    int64_t l = -1, k = -1, a = -1, fk = -1, fd = -1;
    REQUIRE(static_cast<bool>(lines >> l >> k >> a >> fk >> fd));
    INFO("level " << level);
    CHECK(l == level);
    CHECK(k == kept);
    CHECK(a == all);
    CHECK(fk == flops(kept, first_kept));
    CHECK(fd == flops(all, first_all));
  }
  const int status = std::system(("python3 " + script + " " + results + "/none > /dev/null 2>&1").c_str());
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 2));   // no run there: one-line error, exit 2
  std::filesystem::remove_all(results);
}
