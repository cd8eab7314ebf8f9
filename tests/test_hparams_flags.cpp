// tests/test_hparams_flags.cpp — the original flag grammar, help/welcome texts, level lists, YAML.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "experiments/hparams/flags.h"
#include "experiments/hparams/yaml_config.h"

using namespace sdd::exp;

namespace {
std::vector<std::string> words(const std::string& line) {
  std::istringstream is(line);
  std::vector<std::string> out;
  std::string t;
  while (is >> t) out.push_back(t);
  return out;
}
ParseOutcome parse(const std::string& line) { return parse_command_line(words(line)); }
std::string error_of(const std::string& line) {
  try {
    parse(line);
  } catch (const sdd::UserError& e) {
    return e.what();
  }
  return "";
}
const std::string kLot = "lottery --default_hparams=cifar_pytorch_resnet_18 --levels=2 ";
}  // namespace

TEST_CASE("hparams: --x=v and --x v forms, store-true flags, prefixes", "[hparams]") {
  auto a = parse(kLot + "--lr 0.05 --do_not_augment --quiet -d").experiment;
  CHECK(a.desc.training.flt("lr") == 0.05);
  CHECK(a.desc.dataset.flag("do_not_augment"));
  CHECK(a.global.quiet);
  CHECK(a.global.display_output_location);
  auto b = parse(kLot + "--weight_d=0.0005 --batch_s=64").experiment;  // unambiguous prefixes
  CHECK(b.desc.training.flt("weight_decay") == 0.0005);
  CHECK(b.desc.dataset.integer("batch_size") == 64);
  // Ambiguous prefix lists the candidates.
  const std::string amb = error_of(kLot + "--pruning=0.3");
  CHECK(amb.find("ambiguous option: --pruning") != std::string::npos);
  CHECK(amb.find("--pruning_fraction") != std::string::npos);
  CHECK(amb.find("--pruning_scope") != std::string::npos);
  CHECK(error_of(kLot + "--batch=64").find("ambiguous option: --batch") != std::string::npos);
  CHECK(error_of(kLot + "--no_such_flag=1").find("unrecognized argument --no_such_flag") != std::string::npos);
  CHECK(error_of(kLot + "--lr=abc").find("invalid float value 'abc'") != std::string::npos);
  CHECK(error_of(kLot + "--batch_size=1.5").find("invalid int value") != std::string::npos);
  CHECK(error_of(kLot + "--quiet=1").find("ignored explicit argument") != std::string::npos);
  CHECK(error_of(kLot + "--lr").find("expected one argument") != std::string::npos);
  CHECK(error_of(kLot + "--training_steps=10epochs").find("invalid step string") != std::string::npos);
}

TEST_CASE("hparams: required options and runner-specific rules", "[hparams]") {
  const std::string req = error_of("lottery --levels=1");
  CHECK(req.find("the following arguments are required:") != std::string::npos);
  CHECK(req.find("--dataset_name") != std::string::npos);
  CHECK(req.find("--pruning_strategy") != std::string::npos);
  CHECK(error_of("lottery --default_hparams=cifar_vgg_16").find("--levels") != std::string::npos);
  CHECK(error_of(kLot + "--rewinding_steps=1000it --pretrain").find("cannot be used together") != std::string::npos);
  // rewindLR: --pretrain wins over --rewinding_steps.
  auto r = parse("rewindLR --default_hparams=cifar_vgg_16 --levels=1 --rewinding_steps=1000it --pretrain "
                 "--pretrain_training_steps=2ep --pretrain_lr=0.01").experiment;
  REQUIRE(r.desc.pretrain_training.has_value());
  CHECK(r.desc.pretrain_training->flt("lr") == 0.01);
  CHECK(r.desc.pretrain_training->title() == "Pretraining Training Hyperparameters");
  CHECK(r.desc.train_start_step().iteration() == 782);
  // A zero pretrain length disables pretraining.
  CHECK(!parse(kLot + "--pretrain").experiment.desc.pretrain_training.has_value());
  CHECK(!parse(kLot + "--rewinding_steps=0ep0it").experiment.desc.pretrain_training.has_value());
  // scratch has no --rewinding_steps.
  CHECK(error_of("scratch --default_hparams=cifar_vgg_16 --levels=1 --rewinding_steps=1000it").find("unrecognized") !=
        std::string::npos);
  CHECK(error_of(kLot + "--replicate=0").find("--replicate must be > 0") != std::string::npos);
  // Strategy-specific flags only once the strategy is known.
  CHECK(error_of(kLot + "--random_mask_seed=3").find("unrecognized") != std::string::npos);
  auto rnd = parse(kLot + "--pruning_strategy=random --random_mask_seed=3").experiment;
  CHECK(rnd.desc.pruning->opt_int("random_mask_seed") == std::optional<int64_t>(3));
  CHECK(error_of(kLot + "--pruning_strategy=bogus").find("no such pruning strategy") != std::string::npos);
  CHECK(parse(kLot + "--precision=bf16").experiment.global.precision == "bf16");
  CHECK(error_of(kLot + "--precision=fp8").find("--precision") != std::string::npos);
}

TEST_CASE("hparams: --fix_all_random_seeds rewrites seed options by substring", "[hparams]") {
  auto e = parse("lottery_branch randomly_prune --default_hparams=cifar_vgg_16 --levels=1 --pruning_strategy=random "
                 "--seed=7 --fix_all_random_seeds=5 --pretrain --pretrain_training_steps=1ep").experiment;
  CHECK(e.global.torch_seed == std::optional<int64_t>(5));
  CHECK(e.desc.dataset.opt_int("transformation_seed") == std::optional<int64_t>(5));
  CHECK(e.desc.training.opt_int("data_order_seed") == std::optional<int64_t>(5));
  CHECK(e.desc.pruning->opt_int("random_mask_seed") == std::optional<int64_t>(5));
  CHECK(e.desc.pretrain_dataset->opt_int("transformation_seed") == std::optional<int64_t>(5));
  CHECK(e.desc.pretrain_training->opt_int("data_order_seed") == std::optional<int64_t>(5));
  CHECK(e.branch_hparams->integer("seed") == 7);  // not touched
  auto z = parse(kLot + "--fix_all_random_seeds=0").experiment;  // 0 does nothing
  CHECK(!z.desc.training.opt_int("data_order_seed"));
}

TEST_CASE("hparams: branch level lists", "[hparams]") {
  CHECK(parse_level_list("0,3,6") == std::vector<int64_t>{0, 3, 6});
  CHECK(parse_level_list("1-4") == std::vector<int64_t>{1, 2, 3, 4});
  CHECK(parse_level_list("0-2,5-8,12") == std::vector<int64_t>{0, 1, 2, 5, 6, 7, 8, 12});
  CHECK(parse_level_list("5,1,5,2-3") == std::vector<int64_t>{1, 2, 3, 5});
  CHECK(parse_level_list("3-1").empty());
  for (const char* bad : {"a", "1-2-3", "", "1,,2", "-1", "1-"})
    CHECK_THROWS_WITH(parse_level_list(bad), Catch::Contains("Invalid level"));
}

TEST_CASE("hparams: commands, welcome text, branch menu, help", "[hparams]") {
  auto w = parse("");
  CHECK(w.kind == ParseOutcome::Kind::Welcome);
  CHECK(w.exit_code == 1);
  CHECK(w.text.find(std::string(82, '=') + "\nA Framework on Sparse Double Descent Based on open-lth\n") == 0);
  CHECK(w.text.find("    * sparsedd lottery [...] => Run a lottery ticket hypothesis experiment.\n") != std::string::npos);
  CHECK(w.text.find("    * sparsedd scratch_branch [...] => Run a branch of the main experiment.\n") != std::string::npos);
  CHECK(parse("bogus --lr=1").kind == ParseOutcome::Kind::Welcome);
  auto m = parse("lottery_branch nothing");
  CHECK(m.kind == ParseOutcome::Kind::BranchMenu);
  CHECK(m.text.find("Choose a branch to run:\n    * sparsedd [main experiment]_branch oneshot_prune") != std::string::npos);
  CHECK(error_of("train_branch retrain").find("train_branch is not supported") != std::string::npos);
  CHECK(error_of("lottery_branch randomly_prune --default_hparams=cifar_vgg_16 --levels=1 --seed=1 --strategy=even")
            .find("--strategy=even is not supported") != std::string::npos);

  auto h = parse("lottery --default_hparams=cifar_vgg_16 --help");
  CHECK(h.kind == ParseOutcome::Kind::Help);
  CHECK(h.exit_code == 0);
  const std::string& t = h.text;
  const size_t plat = t.find("\nPlatform Hyperparameters:"), high = t.find("\nHigh-Level Arguments:"),
               lot = t.find("\nLottery Ticket Hyperparameters:"), rew = t.find("\nRewinding/Pretraining Arguments:"),
               ds = t.find("\nDataset Hyperparameters:"), mo = t.find("\nModel Hyperparameters:"),
               tr = t.find("\nTraining Hyperparameters:"), pr = t.find("\nMagnitude Pruning Hyperparameters:");
  CHECK(plat < high);
  CHECK(high < lot);
  CHECK(lot < rew);
  CHECK(rew < ds);
  CHECK(ds < mo);
  CHECK(mo < tr);
  CHECK(tr < pr);
  CHECK(pr != std::string::npos);
  CHECK(t.find("(default: cifar10)") != std::string::npos);
  CHECK(t.find("(required: int)") != std::string::npos);  // --levels
  CHECK(t.find("(optional: int) Seed of the per-epoch data order") != std::string::npos);
  CHECK(t.find("(default: fc.weight)") != std::string::npos);
  CHECK(t.find("(default: every visible GPU)") != std::string::npos);
  auto fh = parse("finetune --help");
  CHECK(fh.text.find("--finetune_lr FINETUNE_LR") != std::string::npos);
  CHECK(fh.text.find("(required: str) The name of the dataset") != std::string::npos);
}

TEST_CASE("hparams: YAML configuration with sweeps, errors with line numbers, write-back", "[hparams]") {
  const std::string y =
      "runner: lottery\n"
      "default_hparams: cifar_pytorch_resnet_18\n"
      "levels: 3\n"
      "rewinding_steps: 1000it\n"
      "dataset_name: cifar10\n"
      "fix_all_random_seeds: 1\n"
      "do_not_augment: false\n"
      "sweep:\n"
      "  random_labels_fraction: [0.2, 0.4]\n"
      "  lr: [0.1, 0.05]\n";
  const auto exps = experiments_from_yaml(y, "cfg.yaml");
  REQUIRE(exps.size() == 4);
  CHECK(exps[0].desc.dataset.opt_flt("random_labels_fraction") == std::optional<double>(0.2));
  CHECK(exps[0].desc.training.flt("lr") == 0.1);
  CHECK(exps[1].desc.training.flt("lr") == 0.05);
  CHECK(exps[3].desc.dataset.opt_flt("random_labels_fraction") == std::optional<double>(0.4));
  // Same description as the README lottery command.
  CHECK(exps[0].desc.dir_name() == "lottery_1b66d1fddf4fe3dd3ab1f8a304abc501");
  CHECK(exps[0].levels == 3);

  // Written back and loaded again: the same experiment.
  const std::string back = experiment_to_yaml(exps[0]);
  const auto again = experiments_from_yaml(back, "back.yaml");
  REQUIRE(again.size() == 1);
  CHECK(again[0].desc.dir_name() == exps[0].desc.dir_name());
  CHECK(again[0].levels == 3);

  auto err = [](const std::string& text) {
    try {
      experiments_from_yaml(text, "c.yaml");
    } catch (const sdd::UserError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(err("runner: train\ndefault_hparams: cifar_vgg_16\nlearning_rate: 0.1\n").find("c.yaml:3: unknown key 'learning_rate'") !=
        std::string::npos);
  CHECK(err("runner: train\ndefault_hparams: cifar_vgg_16\n\nlr: fast\n").find("c.yaml:4: argument --lr: invalid float") !=
        std::string::npos);
  CHECK(err("runner: train\ndefault_hparams: cifar_vgg_16\nsweep:\n  lrr: [1, 2]\n").find("c.yaml:4: unknown key 'lrr'") !=
        std::string::npos);
  CHECK(err("runner: train\nlr: [1\n").find("c.yaml:") != std::string::npos);
  CHECK(err("default_hparams: cifar_vgg_16\n").find("missing 'runner:'") != std::string::npos);
  // "~/" in a path value means $HOME (YAML does not expand it).
  {
    const auto home =
        experiments_from_yaml("runner: train\ndefault_hparams: cifar_vgg_16\nresults_root: ~/r\ndataset_root: ~/d\n", "h.yaml");
    REQUIRE(home.size() == 1);
    const char* h = std::getenv("HOME");
    const std::string base = h && *h ? h : ".";
    CHECK(home[0].global.results_root == base + "/r");
    CHECK(home[0].global.dataset_root == base + "/d");
  }
  // A repeated key, or a key both set and swept, names both lines.
  CHECK(err("runner: train\ndefault_hparams: cifar_vgg_16\nlr: 0.1\nlr: 0.2\n")
            .find("c.yaml:4: 'lr' is already given at c.yaml:3") != std::string::npos);
  CHECK(err("runner: train\ndefault_hparams: cifar_vgg_16\nlr: 0.1\nsweep:\n  lr: [0.1, 0.2]\n")
            .find("c.yaml:5: 'lr' is already given at c.yaml:3") != std::string::npos);
  CHECK(err("runner: lottery_branch\nbranch: retrain\ndefault_hparams: cifar_vgg_16\nlevels: 0-2\n")
            .find("--retrain_d_dataset_name") != std::string::npos);
}
