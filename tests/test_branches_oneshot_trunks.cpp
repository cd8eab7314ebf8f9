// tests/test_branches_oneshot_trunks.cpp — [branches] oneshot_prune hosted on rewindLR, finetune and
// scratch trunks (SPEC 9.4; the lottery host is in test_branches_retrain_oneshot.cpp), on tiny synthetic
// data (fake Fashion-MNIST, mnist_mlp_20, 120 examples, batch 40 = 3 it/epoch, 3 epochs): which
// weights and which schedule the one-shot retraining starts from per trunk type, the shared dense
// level-0 run (copied from the trunk when it exists, trained and shared otherwise), the one-shot mask
// from the level-0 final weights with f_L = 1-(1-f)^L, and the files written.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "engine/io/atomic_file.h"
#include "experiments/branches/branch.h"
#include "experiments/hparams/flags.h"
#include "experiments/runners/level_table.h"
#include "experiments/runners/paths.h"
#include "pruning/mask.h"
#include "test_runners_support.h"

using namespace sdd;
using namespace sdd::test_runners;

namespace {

std::string tiny(const std::string& results) {
  return " --dataset_name=fashion_mnist --batch_size=40 --subsample_fraction=0.002 --model_name=mnist_mlp_20"
         " --model_init=kaiming_normal --batchnorm_init=uniform --optimizer_name=sgd --lr=0.05 --momentum=0.9"
         " --training_steps=3ep --data_order_seed=1 --pruning_strategy=magnitude --quiet"
         " --dataset_root=" + fake_data_root() + " --results_root=" + results;
}

exp::Experiment parse_cmd(const std::string& cmd) {
  std::istringstream is(cmd);
  std::vector<std::string> w;
  for (std::string x; is >> x;) w.push_back(x);
  return exp::parse_command_line(w).experiment;
}

struct Dirs {
  std::string trunk0, zero;                                 // trunk level_0/main, zero_branch_root
  std::function<std::string(int64_t)> trunk_at, branch_at;  // level -> directory
};

Dirs dirs_of(const std::string& results, const std::string& cmd) {
  const exp::Experiment e = parse_cmd(cmd);
  Dirs d;
  d.trunk_at = [results, e](int64_t l) { return exp::run_path(results, e.desc, 1, l); };
  d.branch_at = [results, e](int64_t l) { return exp::run_path(results, e.desc, 1, l, e.branch_dir_name()); };
  d.trunk0 = d.trunk_at(0);
  d.zero = d.branch_at(0);
  return d;
}

// start == (mask ? from : 0) at every masked position; unmasked tensors equal `from`.
int64_t masked_copy_mismatches(const std::map<std::string, Tensor>& start, const std::map<std::string, Tensor>& from,
                               const pruning::Mask& m) {
  int64_t bad = 0;
  for (const auto& [name, w] : from) {
    const float* s = start.at(name).data<float>();
    const float* f = w.data<float>();
    const float* mk = m.contains(name) ? m.at(name).data<float>() : nullptr;
    for (int64_t i = 0; i < w.numel(); ++i) bad += s[i] != (mk == nullptr || mk[i] != 0.0f ? f[i] : 0.0f);
  }
  return bad;
}

// The one-shot mask: ceil(f_L * T) + 1 pruned (SPEC 7.1), the smallest level-0 final magnitudes.
void check_oneshot_mask(const pruning::Mask& m, const std::map<std::string, Tensor>& final0, int64_t level) {
  const double f = exp::oneshot_fraction(0.2, level);
  CHECK(m.unpruned() == m.total() - static_cast<int64_t>(std::ceil(f * static_cast<double>(m.total()))) - 1);
  float min_kept = 1e30f, max_pruned = 0.0f;
  for (const auto& [name, mk] : m.entries())
    for (int64_t i = 0; i < mk.numel(); ++i) {
      const float a = std::fabs(final0.at(name).data<float>()[i]);
      if (mk.data<float>()[i] != 0.0f) min_kept = std::min(min_kept, a);
      else max_pruned = std::max(max_pruned, a);
    }
  CHECK(min_kept >= max_pruned);
}

int64_t last_logged_iteration(const std::string& dir) {
  int64_t last = -1;
  for (const auto& r : exp::read_logger(dir)) last = std::max(last, r.iteration);
  return last;
}

void check_level_files(const std::string& b, const std::string& start, const std::string& end) {
  INFO(b);
  for (const std::string& f : {std::string("mask.safetensors"), std::string("sparsity_report.json"), start, end, std::string("logger")})
    CHECK(io::file_exists(b + "/" + f));
  CHECK_FALSE(io::file_exists(b + "/hparams.log"));   // only zero_branch_root gets the trunk's log
}

}  // namespace

TEST_CASE("branches: oneshot_prune on a rewindLR trunk copies the dense run and retrains from its final weights", "[branches]") {
  const std::string results = fresh_dir("br_os_rewindlr");
  const std::string trunk = "rewindLR" + tiny(results) + " --levels=0";
  run_in_process(trunk);
  const std::string cmd = "rewindLR_branch oneshot_prune" + tiny(results) + " --levels=0-1";
  run_in_process(cmd);
  const Dirs d = dirs_of(results, cmd);
  CHECK(d.zero.find("/rewindLR_") != std::string::npos);
  CHECK(d.zero.find("/level_0/branch_oneshot_prune_7b99794732481fff503d5290ee43fb4b") != std::string::npos);
  // The dense run is shared: the trunk's level-0 files copied, byte for byte, with its hparams.log.
  CHECK(read_text(d.zero + "/hparams.log") == read_text(d.trunk0 + "/hparams.log"));
  CHECK(read_text(d.zero + "/model_ep0_it0.safetensors") == read_text(d.trunk0 + "/model_ep0_it0.safetensors"));
  CHECK(read_text(d.zero + "/model_ep3_it0.safetensors") == read_text(d.trunk0 + "/model_ep3_it0.safetensors"));
  CHECK_FALSE(io::file_exists(d.zero + "/logger"));   // nothing was trained there
  const auto final0 = load_tensors(d.zero + "/model_ep3_it0.safetensors");

  const std::string b1 = d.branch_at(1);
  check_level_files(b1, "model_ep0_it0.safetensors", "model_ep3_it0.safetensors");
  const pruning::Mask m = pruning::Mask::load(b1);
  check_oneshot_mask(m, final0, 1);
  // rewindLR: start from the masked level-0 FINAL weights, main schedule from train_start_step (0).
  CHECK(masked_copy_mismatches(load_tensors(b1 + "/model_ep0_it0.safetensors"), final0, m) == 0);
  CHECK(last_logged_iteration(b1) == 9);
  std::filesystem::remove_all(results);
}

TEST_CASE("branches: oneshot_prune on a finetune trunk retrains with the finetuning hparams from step 0", "[branches]") {
  const std::string results = fresh_dir("br_os_finetune");
  // No trunk run: the branch creates the level-0 start weights (saved into the trunk too) and the dense run.
  const std::string cmd = "finetune_branch oneshot_prune" + tiny(results) +
                          " --finetune_lr=0.01 --finetune_training_steps=2ep --levels=2";
  run_in_process(cmd);
  const Dirs d = dirs_of(results, cmd);
  CHECK(d.zero.find("/finetune_") != std::string::npos);
  CHECK(read_text(d.zero + "/hparams.log") == parse_cmd(cmd).desc.hparams_log());
  CHECK(read_text(d.zero + "/hparams.log").find("Finetuning Hyperparameters") != std::string::npos);
  CHECK(read_text(d.zero + "/model_ep0_it0.safetensors") == read_text(d.trunk0 + "/model_ep0_it0.safetensors"));
  CHECK(io::file_exists(d.zero + "/model_ep3_it0.safetensors"));   // trained here: the main 3ep
  CHECK(io::file_exists(d.zero + "/logger"));
  CHECK(last_logged_iteration(d.zero) == 9);
  CHECK_FALSE(io::file_exists(d.trunk0 + "/model_ep3_it0.safetensors"));   // the dense run is not put into the trunk
  const auto final0 = load_tensors(d.zero + "/model_ep3_it0.safetensors");

  const std::string b2 = d.branch_at(2);
  check_level_files(b2, "model_ep0_it0.safetensors", "model_ep2_it0.safetensors");
  CHECK_FALSE(io::file_exists(b2 + "/model_ep3_it0.safetensors"));   // the finetune end, not the main end
  CHECK_FALSE(io::file_exists(d.branch_at(1)));                       // only the listed level
  const pruning::Mask m = pruning::Mask::load(b2);
  check_oneshot_mask(m, final0, 2);
  CHECK(m.density() == Approx(0.64).margin(0.01));
  CHECK(masked_copy_mismatches(load_tensors(b2 + "/model_ep0_it0.safetensors"), final0, m) == 0);
  CHECK(last_logged_iteration(b2) == 6);
  std::filesystem::remove_all(results);
}

TEST_CASE("branches: oneshot_prune on a scratch trunk retrains a fresh level-L init", "[branches]") {
  const std::string results = fresh_dir("br_os_scratch");
  const std::string cmd = "scratch_branch oneshot_prune" + tiny(results) + " --levels=1";
  run_in_process(cmd);
  const Dirs d = dirs_of(results, cmd);
  CHECK(d.zero.find("/scratch_") != std::string::npos);
  const std::string b1 = d.branch_at(1), t1 = d.trunk_at(1);
  check_level_files(b1, "model_ep0_it0.safetensors", "model_ep3_it0.safetensors");
  // The level-1 init was drawn and saved into the trunk's level_1/main as well (unmasked there).
  REQUIRE(io::file_exists(t1 + "/model_ep0_it0.safetensors"));
  const auto init0 = load_tensors(d.zero + "/model_ep0_it0.safetensors");
  const auto init1 = load_tensors(t1 + "/model_ep0_it0.safetensors");
  CHECK(read_text(d.trunk0 + "/model_ep0_it0.safetensors") == read_text(d.zero + "/model_ep0_it0.safetensors"));
  CHECK_FALSE(same_values(init0.at("fc_layers.0.weight"), init1.at("fc_layers.0.weight")));
  const auto final0 = load_tensors(d.zero + "/model_ep3_it0.safetensors");
  const pruning::Mask m = pruning::Mask::load(b1);
  check_oneshot_mask(m, final0, 1);
  // scratch: the branch starts from the masked level-1 fresh init (not the level-0 init or final).
  const auto start = load_tensors(b1 + "/model_ep0_it0.safetensors");
  CHECK(masked_copy_mismatches(start, init1, m) == 0);
  CHECK(masked_copy_mismatches(start, init0, m) > 0);
  CHECK(last_logged_iteration(b1) == 9);
  // A relaunch reuses the saved level-1 init (the trunk's copy) and changes nothing.
  const std::string logger = read_text(b1 + "/logger");
  run_in_process(cmd);
  CHECK(read_text(b1 + "/logger") == logger);
  CHECK(same_values(load_tensors(t1 + "/model_ep0_it0.safetensors").at("fc.weight"), init1.at("fc.weight")));
  std::filesystem::remove_all(results);
}
