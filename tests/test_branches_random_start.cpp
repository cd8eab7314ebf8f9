// tests/test_branches_random_start.cpp — [branches] randomly_prune --start_at (rewind / init / end) and
// --layers_to_ignore on tiny lottery trunks (fake Fashion-MNIST, mnist_mlp_20, 120 examples, batch 40 =
// 3 it/epoch, 3 epochs, rewinding 2it where said): which trunk weights each start point loads, the
// schedule it starts at (file names and logged iterations), the missing-file error, and
// --strategy=even rejected by the binary with exit code 2 and one line; randomly_reinitialize on a
// rewound trunk (masks equal to the trunk's, weights a fresh draw, start at the rewind step).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "engine/errors.h"
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
         " --training_steps=3ep --data_order_seed=0 --pruning_strategy=magnitude --quiet"
         " --dataset_root=" + fake_data_root() + " --results_root=" + results;
}

exp::Experiment parse_cmd(const std::string& cmd) {
  std::istringstream is(cmd);
  std::vector<std::string> w;
  for (std::string x; is >> x;) w.push_back(x);
  return exp::parse_command_line(w).experiment;
}

std::string branch_root(const std::string& results, const std::string& cmd, int64_t level) {
  const exp::Experiment e = parse_cmd(cmd);
  return exp::run_path(results, e.desc, 1, level, e.branch_dir_name());
}

// start == (mask ? from : 0) everywhere the mask covers; other tensors equal `from`.
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

int64_t first_logged_iteration(const std::string& dir) {
  int64_t first = -1;
  for (const auto& r : exp::read_logger(dir))
    if (first < 0 || r.iteration < first) first = r.iteration;
  return first;
}

int64_t count_ones(const Tensor& t) {
  int64_t n = 0;
  for (int64_t i = 0; i < t.numel(); ++i) n += t.data<float>()[i] != 0.0f;
  return n;
}

}  // namespace

TEST_CASE("branches: randomly_prune --start_at=rewind and end on a rewound trunk, --layers_to_ignore", "[branches]") {
  const std::string results = fresh_dir("br_rp_start");
  const std::string flags = tiny(results) + " --rewinding_steps=2it";
  const std::string trunk = "lottery" + flags + " --levels=1";
  run_in_process(trunk);
  const std::string t1 = exp::run_path(results, parse_cmd(trunk).desc, 1, 1);
  const pruning::Mask trunk_mask = pruning::Mask::load(t1);
  const auto trunk_rewind = load_tensors(t1 + "/model_ep0_it2.safetensors");
  const auto trunk_end = load_tensors(t1 + "/model_ep3_it0.safetensors");

  // rewind (the default): the trunk's level-1 weights at train_start_step (ep0_it2), schedule from there.
  const std::string rewind = "lottery_branch randomly_prune" + flags + " --levels=1 --seed=11";
  run_in_process(rewind);
  const std::string br = branch_root(results, rewind, 1);
  CHECK(io::file_exists(br + "/model_ep0_it2.safetensors"));
  CHECK_FALSE(io::file_exists(br + "/model_ep0_it0.safetensors"));
  CHECK(io::file_exists(br + "/model_ep3_it0.safetensors"));
  CHECK(first_logged_iteration(br) == 2);
  const pruning::Mask mr = pruning::Mask::load(br);
  for (const auto& [name, mk] : trunk_mask.entries()) {
    INFO(name);
    CHECK(same_values(mr.at(name), exp::randomly_pruned_mask(trunk_mask, "layerwise", 11, "").at(name)));
    CHECK(count_ones(mr.at(name)) == count_ones(mk));
  }
  CHECK(masked_copy_mismatches(load_tensors(br + "/model_ep0_it2.safetensors"), trunk_rewind, mr) == 0);

  // end, global, fc.weight ignored: the trunk's final weights, schedule from 0.
  const std::string end = "lottery_branch randomly_prune" + flags +
                          " --levels=1 --seed=11 --start_at=end --strategy=global --layers_to_ignore=fc.weight";
  run_in_process(end);
  const std::string be = branch_root(results, end, 1);
  REQUIRE(be != br);
  CHECK(io::file_exists(be + "/model_ep0_it0.safetensors"));
  CHECK_FALSE(io::file_exists(be + "/model_ep0_it2.safetensors"));
  CHECK(io::file_exists(be + "/model_ep3_it0.safetensors"));
  CHECK(first_logged_iteration(be) == 0);
  const pruning::Mask me = pruning::Mask::load(be);
  const pruning::Mask expected = exp::randomly_pruned_mask(trunk_mask, "global", 11, "fc.weight");
  for (const auto& [name, mk] : trunk_mask.entries()) CHECK(same_values(me.at(name), expected.at(name)));
  CHECK(count_ones(me.at("fc.weight")) == me.at("fc.weight").numel());
  CHECK(count_ones(trunk_mask.at("fc.weight")) < trunk_mask.at("fc.weight").numel());   // the trunk did prune it
  // Global density over the other tensors: the trunk's kept count minus its fc.weight share.
  int64_t kept_other = 0, trunk_kept_other = 0;
  for (const auto& [name, mk] : trunk_mask.entries())
    if (name != "fc.weight") {
      kept_other += count_ones(me.at(name));
      trunk_kept_other += count_ones(mk);
    }
  CHECK(kept_other <= trunk_kept_other + count_ones(trunk_mask.at("fc.weight")));
  CHECK(masked_copy_mismatches(load_tensors(be + "/model_ep0_it0.safetensors"), trunk_end, me) == 0);

  // init: a lottery trunk with rewinding has no level-1 weights at step 0: one-line user error.
  const std::string init = "lottery_branch randomly_prune" + flags + " --levels=1 --seed=11 --start_at=init";
  try {
    run_in_process(init);
    FAIL("randomly_prune --start_at=init ran without the trunk's step-0 weights");
  } catch (const UserError& err) {
    const std::string msg = err.what();
    CHECK(msg.find("model_ep0_it0") != std::string::npos);
    CHECK(msg.find("run the main experiment") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
  std::filesystem::remove_all(results);
}

TEST_CASE("branches: randomly_prune --start_at=init loads the trunk level's step-0 weights", "[branches]") {
  const std::string results = fresh_dir("br_rp_init");
  // A finetune trunk: levels >= 1 start at step 0 (masked level-0 final weights), ending at the finetune end.
  const std::string flags = tiny(results) + " --finetune_lr=0.01 --finetune_training_steps=2ep";
  const std::string trunk = "finetune" + flags + " --levels=1";
  run_in_process(trunk);
  const std::string t1 = exp::run_path(results, parse_cmd(trunk).desc, 1, 1);
  REQUIRE(io::file_exists(t1 + "/model_ep0_it0.safetensors"));
  REQUIRE(io::file_exists(t1 + "/model_ep2_it0.safetensors"));
  const std::string init = "finetune_branch randomly_prune" + flags + " --levels=1 --seed=5 --start_at=init --strategy=identity";
  run_in_process(init);
  const std::string bi = branch_root(results, init, 1);
  const pruning::Mask m = pruning::Mask::load(bi);
  const pruning::Mask trunk_mask = pruning::Mask::load(t1);
  for (const auto& [name, mk] : trunk_mask.entries()) CHECK(same_values(m.at(name), mk));   // identity
  CHECK(masked_copy_mismatches(load_tensors(bi + "/model_ep0_it0.safetensors"),
                               load_tensors(t1 + "/model_ep0_it0.safetensors"), m) == 0);
  // The branch trains with the trunk's MAIN training hyperparameters (3ep), not the finetuning ones.
  CHECK(io::file_exists(bi + "/model_ep3_it0.safetensors"));
  CHECK(first_logged_iteration(bi) == 0);

  // --start_at=end on a finetune trunk loads level 1's end at the finetune length (ep2), DESIGN fix 19.
  const std::string end = "finetune_branch randomly_prune" + flags + " --levels=1 --seed=5 --start_at=end --strategy=identity";
  run_in_process(end);
  const std::string be = branch_root(results, end, 1);
  CHECK(masked_copy_mismatches(load_tensors(be + "/model_ep0_it0.safetensors"),
                               load_tensors(t1 + "/model_ep2_it0.safetensors"), m) == 0);
  std::filesystem::remove_all(results);
}

TEST_CASE("branches: the binary rejects randomly_prune --strategy=even with one line and exit 2", "[branches]") {
  const std::string results = fresh_dir("br_rp_even");
  std::string out, err;
  const int rc = run_binary("lottery_branch randomly_prune" + tiny(results) + " --levels=1 --seed=1 --strategy=even", &out, &err);
  CHECK(rc == 2);
  CHECK(err.rfind("sparsedd: error: ", 0) == 0);
  CHECK(err.find("even") != std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  // --seed is required.
  CHECK(run_binary("lottery_branch randomly_prune" + tiny(results) + " --levels=1", &out, &err) == 2);
  CHECK(err.find("seed") != std::string::npos);
  // Nothing was created.
  CHECK(std::filesystem::is_empty(results));
  std::filesystem::remove_all(results);
}

TEST_CASE("branches: randomly_reinitialize on a rewound trunk: trunk masks, fresh weights, start at the rewind step", "[branches]") {
  const std::string results = fresh_dir("br_reinit_rewind");
  const std::string flags = tiny(results) + " --rewinding_steps=2it";
  const std::string trunk = "lottery" + flags + " --levels=2";
  run_in_process(trunk);
  const std::string cmd = "lottery_branch randomly_reinitialize" + flags + " --levels=1-2";
  run_in_process(cmd);
  const exp::Experiment e = parse_cmd(cmd);
  const auto trunk_init = load_tensors(exp::run_path(results, e.desc, 1, exp::kPretrainLevel) + "/model_ep0_it0.safetensors");
  std::map<int64_t, std::map<std::string, Tensor>> starts;
  for (int64_t l = 1; l <= 2; ++l) {
    const std::string b = branch_root(results, cmd, l), t = exp::run_path(results, e.desc, 1, l);
    INFO(b);
    CHECK_FALSE(io::file_exists(b + "/model_ep0_it0.safetensors"));
    CHECK(io::file_exists(b + "/model_ep3_it0.safetensors"));
    CHECK(first_logged_iteration(b) == 2);
    const pruning::Mask mb = pruning::Mask::load(b), mt = pruning::Mask::load(t);
    for (const auto& [name, mk] : mt.entries()) CHECK(same_values(mb.at(name), mk));
    CHECK(read_text(b + "/sparsity_report.json") == read_text(t + "/sparsity_report.json"));
    starts[l] = load_tensors(b + "/model_ep0_it2.safetensors");
    const auto trunk_start = load_tensors(t + "/model_ep0_it2.safetensors");
    // Fresh: masked, but neither the trunk's rewind weights nor (for the second draw) its init.
    CHECK(masked_copy_mismatches(starts[l], starts[l], mb) == 0);
    CHECK(masked_copy_mismatches(starts[l], trunk_start, mb) > 0);
  }
  // Levels 1 and 2 are two different draws; the first draw of the branch process is the trunk's first
  // (both seed the global generator with --torch_seed 0), later draws differ from it.
  CHECK_FALSE(same_values(starts[1].at("fc_layers.0.weight"), starts[2].at("fc_layers.0.weight")));
  CHECK(masked_copy_mismatches(starts[2], trunk_init, pruning::Mask::load(branch_root(results, cmd, 2))) > 0);
  std::filesystem::remove_all(results);
}
