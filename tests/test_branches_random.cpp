// tests/test_branches_random.cpp — [branches] randomly_reinitialize and randomly_prune on a tiny
// lottery trunk (fake Fashion-MNIST, mnist_mlp_20, 120 examples, 3 iterations per epoch, 3 epochs,
// levels 0-2): files in the branch directories, copied / shuffled masks, start weights.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>
#include <string>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/branches/branch.h"
#include "experiments/hparams/flags.h"
#include "experiments/runners/paths.h"
#include "pruning/mask.h"
#include "test_runners_support.h"

using namespace sdd;
using namespace sdd::test_runners;

namespace {

std::string common_flags(const std::string& results) {
  return " --dataset_name=fashion_mnist --batch_size=40 --subsample_fraction=0.002 --model_name=mnist_mlp_20"
         " --model_init=kaiming_normal --batchnorm_init=uniform --optimizer_name=sgd --lr=0.05 --momentum=0.9"
         " --training_steps=3ep --data_order_seed=0 --pruning_strategy=magnitude --quiet"
         " --dataset_root=" + fake_data_root() + " --results_root=" + results;
}

exp::Experiment parse(const std::string& cmd) {
  std::istringstream is(cmd);
  std::vector<std::string> w;
  for (std::string x; is >> x;) w.push_back(x);
  return exp::parse_command_line(w).experiment;
}

std::string branch_dir(const std::string& results, const std::string& cmd, int64_t level) {
  const exp::Experiment e = parse(cmd);
  return exp::run_path(results, e.desc, 1, level, e.branch_dir_name());
}

std::string trunk_dir(const std::string& results, const std::string& cmd, int64_t level) {
  return exp::run_path(results, parse(cmd).desc, 1, level);
}

int64_t zeros_where_pruned_violations(const Tensor& w, const Tensor& mask) {
  int64_t bad = 0;
  for (int64_t i = 0; i < mask.numel(); ++i)
    if (mask.data<float>()[i] == 0.0f && w.data<float>()[i] != 0.0f) ++bad;
  return bad;
}

int64_t ones(const Tensor& t) {
  int64_t n = 0;
  for (int64_t i = 0; i < t.numel(); ++i) n += t.data<float>()[i] != 0.0f;
  return n;
}

// A mask with two tensors and a known density pattern.
pruning::Mask sample_mask() {
  pruning::Mask m;
  Tensor a = Tensor::zeros({10, 20}), b = Tensor::zeros({50});
  for (int64_t i = 0; i < 60; ++i) a.data<float>()[i] = 1.0f;   // first 60 of 200 kept
  for (int64_t i = 0; i < 45; ++i) b.data<float>()[i] = 1.0f;   // first 45 of 50 kept
  m.set("z.weight", a);
  m.set("a.weight", b);
  return m;
}

}  // namespace

TEST_CASE("branches: randomly_reinitialize trains a fresh init under the trunk masks", "[branches]") {
  const std::string results = fresh_dir("br_reinit");
  const std::string trunk = "lottery" + common_flags(results) + " --levels=2";
  run_in_process(trunk);
  const std::string cmd = "lottery_branch randomly_reinitialize" + common_flags(results) + " --levels=0-2";
  run_in_process(cmd);
  for (int64_t l = 0; l <= 2; ++l) {
    const std::string b = branch_dir(results, cmd, l), t = trunk_dir(results, cmd, l);
    INFO("branch dir " << b);
    CHECK(b.find("/level_" + std::to_string(l) + "/branch_randomly_reinitialize_7b99794732481fff503d5290ee43fb4b") != std::string::npos);
    for (const char* f : {"mask.safetensors", "sparsity_report.json", "model_ep0_it0.safetensors", "model_ep3_it0.safetensors", "logger"})
      CHECK(io::file_exists(b + "/" + f));
    CHECK_FALSE(io::file_exists(b + "/hparams.log"));
    CHECK(read_text(b + "/sparsity_report.json") == read_text(t + "/sparsity_report.json"));
    const pruning::Mask mb = pruning::Mask::load(b), mt = pruning::Mask::load(t);
    const auto start = load_tensors(b + "/model_ep0_it0.safetensors");
    const auto end = load_tensors(b + "/model_ep3_it0.safetensors");
    const auto trunk_start = load_tensors(t + "/model_ep0_it0.safetensors");
    for (const auto& [name, mk] : mt.entries()) {
      INFO(name);
      CHECK(same_values(mb.at(name), mk));
      CHECK(zeros_where_pruned_violations(start.at(name), mk) == 0);
      CHECK(zeros_where_pruned_violations(end.at(name), mk) == 0);
      // A fresh init: kept weights differ from the trunk's start weights.
      int64_t kept = 0, same = 0;
      for (int64_t i = 0; i < mk.numel(); ++i) {
        if (mk.data<float>()[i] == 0.0f) continue;
        ++kept;
        same += start.at(name).data<float>()[i] == trunk_start.at(name).data<float>()[i];
      }
      REQUIRE(kept > 0);
      // Both processes seed the global generator with --torch_seed 0, so the branch's first draw
      // (level 0) is the trunk's first draw, its level-0 init; later levels are new draws.
      if (l == 0) CHECK(same == kept);
      else CHECK(same < kept / 10);
    }
  }
  // A relaunch finds every level done and leaves the loggers alone.
  const std::string logger = read_text(branch_dir(results, cmd, 2) + "/logger");
  run_in_process(cmd);
  CHECK(read_text(branch_dir(results, cmd, 2) + "/logger") == logger);
  std::filesystem::remove_all(results);
}

TEST_CASE("branches: randomly_prune masks keep layerwise or global density", "[branches]") {
  const pruning::Mask m = sample_mask();
  const pruning::Mask lw = exp::randomly_pruned_mask(m, "layerwise", 3, "");
  CHECK(ones(lw.at("z.weight")) == 60);
  CHECK(ones(lw.at("a.weight")) == 45);
  CHECK_FALSE(same_values(lw.at("z.weight"), m.at("z.weight")));
  CHECK(lw.at("z.weight").shape() == m.at("z.weight").shape());
  // Seeded: the same seed gives the same mask, another seed another one.
  const pruning::Mask lw2 = exp::randomly_pruned_mask(m, "layerwise", 3, "");
  const pruning::Mask lw3 = exp::randomly_pruned_mask(m, "layerwise", 4, "");
  CHECK(same_values(lw2.at("z.weight"), lw.at("z.weight")));
  CHECK_FALSE(same_values(lw3.at("z.weight"), lw.at("z.weight")));
  // Sorted-name order: "a.weight" is tensor 0 (seed), "z.weight" tensor 1 (seed + 1).
  const pruning::Mask shifted = exp::randomly_pruned_mask(m, "layerwise", 2, "");
  pruning::Mask only_z;
  only_z.set("z.weight", m.at("z.weight"));
  CHECK(same_values(exp::randomly_pruned_mask(only_z, "layerwise", 3, "").at("z.weight"), shifted.at("z.weight")));

  const pruning::Mask gl = exp::randomly_pruned_mask(m, "global", 5, "");
  CHECK(gl.unpruned() == m.unpruned());
  CHECK(ones(gl.at("z.weight")) != 60);  // 105 of 250 spread over both tensors: 60 / 45 is unlikely
  const pruning::Mask id = exp::randomly_pruned_mask(m, "identity", 5, "");
  CHECK(same_values(id.at("z.weight"), m.at("z.weight")));
  const pruning::Mask ig = exp::randomly_pruned_mask(m, "layerwise", 3, "z.weight");
  CHECK(ones(ig.at("z.weight")) == 200);
  CHECK(same_values(ig.at("a.weight"), lw.at("a.weight")));
  CHECK_THROWS_AS(exp::randomly_pruned_mask(m, "layerwise", 3, "nope.weight"), UserError);
  CHECK_THROWS_AS(exp::randomly_pruned_mask(m, "even", 3, ""), UserError);
}

TEST_CASE("branches: randomly_prune starts from the trunk's final weights with a shuffled mask", "[branches]") {
  const std::string results = fresh_dir("br_rprune");
  const std::string trunk = "lottery" + common_flags(results) + " --levels=1";
  run_in_process(trunk);
  const std::string cmd = "lottery_branch randomly_prune" + common_flags(results) + " --levels=1 --seed=7 --start_at=end";
  run_in_process(cmd);
  const std::string b = branch_dir(results, cmd, 1), t = trunk_dir(results, cmd, 1);
  for (const char* f : {"mask.safetensors", "sparsity_report.json", "model_ep0_it0.safetensors", "model_ep3_it0.safetensors", "logger"})
    CHECK(io::file_exists(b + "/" + f));
  const pruning::Mask mt = pruning::Mask::load(t), mb = pruning::Mask::load(b);
  const pruning::Mask expected = exp::randomly_pruned_mask(mt, "layerwise", 7, "");
  const auto start = load_tensors(b + "/model_ep0_it0.safetensors");
  const auto trunk_end = load_tensors(t + "/model_ep3_it0.safetensors");
  for (const auto& [name, mk] : mt.entries()) {
    INFO(name);
    CHECK(same_values(mb.at(name), expected.at(name)));
    CHECK(ones(mb.at(name)) == ones(mk));
    const float* s = start.at(name).data<float>();
    const float* e = trunk_end.at(name).data<float>();
    const float* m = mb.at(name).data<float>();
    int64_t bad = 0;
    for (int64_t i = 0; i < mk.numel(); ++i) bad += s[i] != (m[i] != 0.0f ? e[i] : 0.0f);
    CHECK(bad == 0);
  }
  // --strategy=even is rejected with a clear message.
  CHECK_THROWS_AS(parse(cmd + " --strategy=even"), UserError);
  std::filesystem::remove_all(results);
}
