// tests/test_branches_retrain_regain.cpp — [branches] the retrain (re-dense) branch in detail on a tiny
// lottery trunk (fake Fashion-MNIST, mnist_mlp_20, 120 examples; trunk batch 40 = 3 it/epoch, rewind
// 2it): the start step with and without --start_at_step_zero re-expressed at retrain_d's ipe, and the
// regain switch checked against the optimizer state in the checkpoints: with a full batch (120, one
// iteration per epoch) the first dense step after the switch must be exactly
//   buf' = mu * buf + g(W),  W' = W - lr' * buf'
// where W (pruned positions exactly 0) and buf (momentum, non-zero at pruned positions) come from the
// checkpoint of a run that ends at the switch, g is the full-batch gradient at W, and lr' the
// continuing step schedule (milestone 1ep, gamma 0.1: lr' = 0.1 * lr, not restarted).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "engine/io/atomic_file.h"
#include "engine/nn/module.h"
#include "experiments/hparams/flags.h"
#include "experiments/runners/level_models.h"
#include "experiments/runners/level_table.h"
#include "experiments/runners/paths.h"
#include "pruning/mask.h"
#include "test_runners_support.h"

using namespace sdd;
using namespace sdd::test_runners;

namespace {

exp::Experiment parse_cmd(const std::string& cmd) {
  std::istringstream is(cmd);
  std::vector<std::string> w;
  for (std::string x; is >> x;) w.push_back(x);
  return exp::parse_command_line(w).experiment;
}

std::string trunk_flags(const std::string& results) {
  return " --dataset_name=fashion_mnist --batch_size=40 --subsample_fraction=0.002 --model_name=mnist_mlp_20"
         " --model_init=kaiming_normal --batchnorm_init=uniform --optimizer_name=sgd --lr=0.05 --momentum=0.9"
         " --training_steps=3ep --rewinding_steps=2it --data_order_seed=1 --pruning_strategy=magnitude --quiet"
         " --dataset_root=" + fake_data_root() + " --results_root=" + results;
}

// retrain_d: the same 120 examples in ONE batch (ipe 1); retrain_t: sgd, momentum, milestone 1ep.
std::string retrain_flags(const std::string& steps, const std::string& regain) {
  return " --retrain_d_dataset_name=fashion_mnist --retrain_d_batch_size=120 --retrain_d_subsample_fraction=0.002"
         " --retrain_t_optimizer_name=sgd --retrain_t_lr=0.05 --retrain_t_momentum=0.9 --retrain_t_milestone_steps=1ep"
         " --retrain_t_gamma=0.1 --retrain_t_data_order_seed=1 --retrain_t_training_steps=" + steps +
         (regain.empty() ? "" : " --retrain_t_regain_pruned_weights_steps=" + regain);
}

std::string branch_root(const std::string& results, const std::string& cmd, int64_t level) {
  const exp::Experiment e = parse_cmd(cmd);
  return exp::run_path(results, e.desc, 1, level, e.branch_dir_name());
}

std::set<int64_t> logged_iterations(const std::string& dir, const std::string& metric) {
  std::set<int64_t> its;
  for (const auto& r : exp::read_logger(dir))
    if (r.name == metric) its.insert(r.iteration);
  return its;
}

}  // namespace

TEST_CASE("branches: retrain starts at the trunk's rewind iteration at retrain_d's ipe, or at 0 with --start_at_step_zero", "[branches]") {
  const std::string results = fresh_dir("br_retrain_start");
  const std::string trunk = "lottery" + trunk_flags(results) + " --levels=1";
  run_in_process(trunk);
  const std::string t1 = exp::run_path(results, parse_cmd(trunk).desc, 1, 1);
  const auto trunk_start = load_tensors(t1 + "/model_ep0_it2.safetensors");   // masked rewind weights

  // Without the flag: s = 2 iterations at ipe 1 = ep2_it0; E = 3ep.
  const std::string plain = "lottery_branch retrain" + trunk_flags(results) + " --levels=1" + retrain_flags("3ep", "");
  // With the flag: s = 0; E = 3ep.
  const std::string zero = plain + " --start_at_step_zero";
  run_in_process(plain);
  run_in_process(zero);
  const std::string bp = branch_root(results, plain, 1), bz = branch_root(results, zero, 1);
  REQUIRE(bp != bz);   // the flag is part of the branch hash
  CHECK(io::file_exists(bp + "/model_ep2_it0.safetensors"));
  CHECK_FALSE(io::file_exists(bp + "/model_ep0_it0.safetensors"));
  CHECK(io::file_exists(bz + "/model_ep0_it0.safetensors"));
  CHECK_FALSE(io::file_exists(bz + "/model_ep2_it0.safetensors"));
  for (const std::string& b : {bp, bz}) {
    INFO(b);
    CHECK(io::file_exists(b + "/model_ep3_it0.safetensors"));
    CHECK(io::file_exists(b + "/logger"));
    CHECK_FALSE(io::file_exists(b + "/mask.safetensors"));
    CHECK_FALSE(io::file_exists(b + "/hparams.log"));
  }
  // Both start from the trunk's level-1 weights at its train_start_step (ep0_it2), whatever s is.
  const auto sp = load_tensors(bp + "/model_ep2_it0.safetensors"), sz = load_tensors(bz + "/model_ep0_it0.safetensors");
  for (const auto& [name, w] : trunk_start) {
    INFO(name);
    CHECK(same_values(sp.at(name), w));
    CHECK(same_values(sz.at(name), w));
  }
  // Test accuracy every epoch from s to E (DESIGN fix 3): iterations 2, 3 without the flag; 0..3 with it.
  CHECK(logged_iterations(bp, "test_accuracy") == std::set<int64_t>{2, 3});
  CHECK(logged_iterations(bz, "test_accuracy") == std::set<int64_t>{0, 1, 2, 3});
  CHECK(logged_iterations(bz, "train_accuracy") == std::set<int64_t>{0, 1, 2, 3});
  // The two runs train for a different number of steps from the same weights: different end models.
  CHECK_FALSE(same_values(load_tensors(bp + "/model_ep3_it0.safetensors").at("fc.weight"),
                          load_tensors(bz + "/model_ep3_it0.safetensors").at("fc.weight")));
  std::filesystem::remove_all(results);
}

TEST_CASE("branches: retrain regain starts regained weights at zero with their momentum and the running schedule", "[branches]") {
  const std::string results = fresh_dir("br_retrain_regain");
  const std::string trunk = "lottery" + trunk_flags(results) + " --levels=1";
  run_in_process(trunk);
  // A: trains 0 -> 2ep and stops at the switch (regain at 2ep = E: never applied).
  // B: the same 0 -> 2ep, regain at 2ep, then one dense step to 3ep.
  const std::string base = "lottery_branch retrain" + trunk_flags(results) + " --levels=1 --start_at_step_zero";
  const std::string cmd_a = base + retrain_flags("2ep", "2ep"), cmd_b = base + retrain_flags("3ep", "2ep");
  run_in_process(cmd_a);
  run_in_process(cmd_b);
  const std::string a = branch_root(results, cmd_a, 1), b = branch_root(results, cmd_b, 1);
  REQUIRE(a != b);
  const pruning::Mask mask = pruning::Mask::load(exp::run_path(results, parse_cmd(trunk).desc, 1, 1));
  REQUIRE(mask.unpruned() < mask.total());

  // The arena layout (named_parameters order) of the checkpoints' optimizer state.
  const exp::Experiment e = parse_cmd(cmd_b);
  models::ModelPtr layout = exp::fresh_model(e.desc.model, 10);
  const nn::FlatParams fp = nn::flatten_parameters(*layout);

  const auto ck_a = load_tensors(a + "/checkpoint.safetensors");   // at 2ep, before the switch
  const auto ck_b = load_tensors(b + "/checkpoint.safetensors");   // at 3ep, one dense step later
  const Tensor& buf_a = ck_a.at("optimizer.momentum_buffer");
  const Tensor& buf_b = ck_b.at("optimizer.momentum_buffer");
  REQUIRE(buf_a.numel() == fp.total);
  REQUIRE(buf_b.numel() == fp.total);
  // The mask in the checkpoint: the trunk's before the switch, all ones after it.
  for (const auto& [name, mk] : mask.entries()) {
    CHECK(same_values(ck_a.at("mask." + name), mk));
    const Tensor& after = ck_b.at("mask." + name);
    int64_t not_one = 0;
    for (int64_t i = 0; i < after.numel(); ++i) not_one += after.data<float>()[i] != 1.0f;
    CHECK(not_one == 0);
  }

  // W at the switch (model_ep2 of A): pruned positions exactly zero, their momentum non-zero.
  exp::RunContext ctx;
  ctx.dataset_root = fake_data_root();
  models::ModelPtr at_switch = exp::load_level_model(e.desc.model, 10, a, exp::Step::from_epoch(2, 0, 1));
  const nn::NamedTensors grads = exp::gradient_batch_grads(*at_switch, e.branch_hparams->bundle("retrain_d"), ctx.dataset_root);
  const auto w_switch = load_tensors(a + "/model_ep2_it0.safetensors");
  const auto w_after = load_tensors(b + "/model_ep3_it0.safetensors");
  const double mu = 0.9, lr_after = 0.05 * 0.1;   // milestone 1ep passed: the schedule is not restarted
  int64_t pruned_checked = 0, pruned_with_momentum = 0, bad_zero = 0, bad_buf = 0, bad_w = 0, reset_like = 0, telling = 0;
  for (const auto& [gname, g] : grads) {
    const nn::FlatEntry* fe = fp.find(gname);
    REQUIRE(fe != nullptr);
    const bool masked = mask.contains(gname);
    for (int64_t i = 0; i < g.numel(); ++i) {
      const bool pruned = masked && mask.at(gname).data<float>()[i] == 0.0f;
      const float w0 = w_switch.at(gname).data<float>()[i];
      const float b0 = buf_a.data<float>()[fe->offset + i];
      const float b1 = buf_b.data<float>()[fe->offset + i];
      const float gi = g.data<float>()[i];
      const double expect_buf = mu * b0 + gi;
      const double expect_w = w0 - lr_after * expect_buf;
      const double tol = 2e-6 + 1e-4 * std::fabs(expect_buf);   // batch summed in another order
      if (std::fabs(b1 - expect_buf) > tol) ++bad_buf;
      if (std::fabs(w_after.at(gname).data<float>()[i] - expect_w) > 1e-6 * (1.0 + std::fabs(expect_w)) + lr_after * tol) ++bad_w;
      if (!pruned) continue;
      ++pruned_checked;
      if (w0 != 0.0f) ++bad_zero;
      if (std::fabs(b0) > 1e-6) ++pruned_with_momentum;
      // A reset momentum would give buf' = g: distinguishable wherever mu * buf is not tiny.
      if (std::fabs(mu * b0) > 10 * tol) {
        ++telling;
        if (std::fabs(b1 - gi) <= tol) ++reset_like;
      }
    }
  }
  REQUIRE(pruned_checked == mask.total() - mask.unpruned());
  CHECK(bad_zero == 0);
  CHECK(pruned_with_momentum > pruned_checked / 2);
  CHECK(bad_buf == 0);
  CHECK(bad_w == 0);
  CHECK(telling > pruned_checked / 4);   // enough positions where carried and reset momentum differ
  CHECK(reset_like == 0);
  // The regained weights moved off zero in that one step.
  int64_t moved = 0;
  for (const auto& [name, mk] : mask.entries())
    for (int64_t i = 0; i < mk.numel(); ++i)
      moved += mk.data<float>()[i] == 0.0f && w_after.at(name).data<float>()[i] != 0.0f;
  CHECK(moved > pruned_checked / 2);
  // Test accuracy at every epoch, through the switch.
  CHECK(logged_iterations(b, "test_accuracy") == std::set<int64_t>{0, 1, 2, 3});
  std::filesystem::remove_all(results);
}
