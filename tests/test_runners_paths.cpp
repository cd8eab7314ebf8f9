// tests/test_runners_paths.cpp — result paths, `-d` locations for the README commands (golden
// directory names, SPEC 10.2), device selection and the level summary, without training.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "experiments/hparams/flags.h"
#include "experiments/runners/device_select.h"
#include "experiments/runners/level_table.h"
#include "experiments/runners/paths.h"

using namespace sdd;
using namespace sdd::exp;

namespace {

std::vector<std::string> words(const std::string& s) {
  std::istringstream is(s);
  std::vector<std::string> out;
  for (std::string w; is >> w;) out.push_back(w);
  return out;
}

Experiment parse(const std::string& cmd) {
  ParseOutcome po = parse_command_line(words(cmd));
  REQUIRE(po.kind == ParseOutcome::Kind::Run);
  return po.experiment;
}

const char* kCommon =
    " --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep --gamma=0.1 --default_hparams=cifar_pytorch_resnet_18"
    " --levels=30 --dataset_name=cifar10 --gpu=0 --fix_all_random_seeds=1 --results_root=/r";

}  // namespace

TEST_CASE("runners: run paths and level directory names", "[runners]") {
  const Experiment e = parse(std::string("lottery") + kCommon + " --rewinding_steps=1000it --random_labels_fraction=0.2");
  CHECK(level_dir_name(0) == "level_0");
  CHECK(level_dir_name(17) == "level_17");
  CHECK(level_dir_name(kPretrainLevel) == "level_pretrain");
  const std::string base = "/r/lottery_1b66d1fddf4fe3dd3ab1f8a304abc501/replicate_1";
  CHECK(run_path("/r", e.desc, 1, 3) == base + "/level_3/main");
  CHECK(run_path("/r", e.desc, 2, kPretrainLevel, "x") == "/r/lottery_1b66d1fddf4fe3dd3ab1f8a304abc501/replicate_2/level_pretrain/x");
  const std::vector<std::string> locs = output_locations(e);
  REQUIRE(locs.size() == 32);  // level_pretrain, then levels 0..30
  CHECK(locs[0] == base + "/level_pretrain/main");
  CHECK(locs[1] == base + "/level_0/main");
  CHECK(locs[31] == base + "/level_30/main");
}

TEST_CASE("runners: -d locations carry the golden names of the README commands", "[runners]") {
  struct Case {
    std::string cmd, dir;
  };
  const std::vector<Case> cases = {
      {std::string("lottery") + kCommon + " --rewinding_steps=1000it --random_labels_fraction=0.2",
       "lottery_1b66d1fddf4fe3dd3ab1f8a304abc501"},
      {std::string("finetune") + kCommon + " --random_labels_fraction=0.2 --finetune_lr=0.001 --finetune_training_steps=160ep",
       "finetune_e163e132f25da166f6fb13c9922fb305"},
      {std::string("rewindLR") + kCommon + " --random_labels_fraction=0.2", "rewindLR_9796580677f945592d4b28c543cac2de"},
      {std::string("scratch") + kCommon + " --random_labels_fraction=0.2", "scratch_9796580677f945592d4b28c543cac2de"},
      {std::string("lottery --pruning_strategy=random") + kCommon + " --rewinding_steps=1000it --random_labels_fraction=0.2",
       "lottery_431a27ea0e4d39694717d1c0e9274437"},
      {std::string("lottery --noisy_labels_type=asymmetric --noisy_labels_fraction=0.2") + kCommon + " --rewinding_steps=1000it",
       "lottery_e7d8b69ed687d73af40c3a77c7bbee82"},
  };
  for (const Case& c : cases) {
    INFO(c.cmd);
    const Experiment e = parse(c.cmd);
    const std::vector<std::string> locs = output_locations(e);
    REQUIRE(!locs.empty());
    const std::string l0 = "/r/" + c.dir + "/replicate_1/level_0/main";
    CHECK(std::find(locs.begin(), locs.end(), l0) != locs.end());
    CHECK(locs.back() == "/r/" + c.dir + "/replicate_1/level_30/main");
  }
  // The train runner writes to train_<md5>/replicate_R/main.
  const Experiment t = parse("train --default_hparams=cifar_pytorch_resnet_18 --results_root=/r --replicate=3");
  REQUIRE(output_locations(t).size() == 1);
  CHECK(output_locations(t)[0] == "/r/train_0146207d4d6deee2acd550900f97bec7/replicate_3/main");
}

TEST_CASE("runners: device selection from --device and --gpu", "[runners]") {
  std::ostringstream warn;
  CHECK(select_device(std::nullopt, std::nullopt, 0, warn).is_cpu());
  CHECK(warn.str().empty());
  CHECK(select_device(std::nullopt, std::nullopt, 2, warn) == Device::cuda(0));
  // Asking for a GPU on a machine without one: a warning and the CPU.
  CHECK(select_device(std::nullopt, std::string("0"), 0, warn).is_cpu());
  CHECK(warn.str().find("using the CPU") != std::string::npos);
  std::ostringstream w2;
  CHECK(select_device(std::string("cuda:1"), std::nullopt, 0, w2).is_cpu());
  CHECK(!w2.str().empty());
  CHECK(select_device(std::nullopt, std::string("1"), 2, warn) == Device::cuda(1));
  CHECK(select_device(std::string("cpu"), std::string("0"), 2, warn).is_cpu());
  // More GPUs than exist: a UserError naming what was found.
  try {
    select_device(std::nullopt, std::string("0,1,2,3"), 1, warn);
    FAIL("expected a UserError");
  } catch (const UserError& e) {
    const std::string m = e.what();
    CHECK(m.find("1 CUDA device found") != std::string::npos);
    CHECK(m.find('\n') == std::string::npos);
  }
  CHECK_THROWS_AS(select_device(std::nullopt, std::string("3"), 2, warn), UserError);
  CHECK_THROWS_AS(select_device(std::string("cuda:2"), std::nullopt, 2, warn), UserError);
  CHECK_THROWS_AS(select_device(std::nullopt, std::string("x"), 2, warn), UserError);
}

TEST_CASE("runners: level rows from logger files", "[runners]") {
  const std::string dir = (std::filesystem::temp_directory_path() / "sdd_runners_table").string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir + "/logger");
    f << "train_loss,0,2.3\ntrain_accuracy,0,0.1\ntrain_examples,0,100.0\ntest_loss,0,2.3\ntest_accuracy,0,0.25\n"
         "test_examples,0,50.0\ntrain_accuracy,9,0.5\ntest_accuracy,9,0.75\ntest_accuracy,12,0.5";
  }
  const LevelRow r = read_level_row(dir, "2");
  CHECK(!r.remaining);
  REQUIRE(r.last_test);
  CHECK(*r.last_test == Approx(50.0));
  CHECK(*r.best_test == Approx(75.0));
  CHECK(*r.last_train == Approx(50.0));
  CHECK(level_summary_line(r) == "level 2: test accuracy 50.00% (best 75.00%), train accuracy 50.00%");
  const std::string t = level_table({r}, "/somewhere");
  CHECK(t.find("75.00") != std::string::npos);
  CHECK(t.find("results: /somewhere") != std::string::npos);
  CHECK(read_logger(dir + "/missing").empty());
  std::filesystem::remove_all(dir);
}
