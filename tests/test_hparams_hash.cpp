// tests/test_hparams_hash.cpp — experiment hashes (SPEC 10.2 goldens), canonical strings, hparams.log.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "experiments/hparams/bundles.h"
#include "experiments/hparams/flags.h"
#include "experiments/md5.h"

using namespace sdd::exp;

namespace {

// Splits a README command line on whitespace and drops "python main.py".
std::vector<std::string> argv_of(const std::string& line) {
  std::istringstream is(line);
  std::vector<std::string> out;
  std::string tok;
  while (is >> tok) out.push_back(tok);
  if (out.size() >= 2 && out[0] == "python" && out[1] == "main.py") out.erase(out.begin(), out.begin() + 2);
  return out;
}

Experiment run(const std::string& line) {
  ParseOutcome o = parse_command_line(argv_of(line));
  REQUIRE(o.kind == ParseOutcome::Kind::Run);
  return o.experiment;
}

// The README command lines of the original, verbatim.
const char* kLottery =
    "python main.py lottery --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep --gamma=0.1 --rewinding_steps=1000it "
    "--default_hparams=cifar_pytorch_resnet_18 --levels=30 --random_labels_fraction=0.2 --dataset_name=cifar10 --gpu=0 "
    "--fix_all_random_seeds=1  ";
const char* kFinetune =
    "python main.py finetune  --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep --gamma=0.1  "
    "--default_hparams=cifar_pytorch_resnet_18 --levels=30 --random_labels_fraction=0.2 --dataset_name=cifar10 "
    "--finetune_lr=0.001 --finetune_training_steps=160ep --gpu=0 --fix_all_random_seeds=1";
const char* kRewindLR =
    "python main.py rewindLR  --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep --gamma=0.1  "
    "--default_hparams=cifar_pytorch_resnet_18 --levels=30 --random_labels_fraction=0.2 --dataset_name=cifar10  --gpu=0 "
    "--fix_all_random_seeds=1 ";
const char* kScratch =
    "python main.py scratch  --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep --gamma=0.1  "
    "--default_hparams=cifar_pytorch_resnet_18 --levels=30 --random_labels_fraction=0.2 --dataset_name=cifar10 --gpu=0 "
    "--fix_all_random_seeds=1 ";
const char* kRandom =
    " python main.py lottery --pruning_strategy=random --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep --gamma=0.1 "
    "--rewinding_steps=1000it --default_hparams=cifar_pytorch_resnet_18 --levels=30 --random_labels_fraction=0.2 "
    "--dataset_name=cifar10 --gpu=0 --fix_all_random_seeds=1 ";
const char* kAsym =
    "python main.py lottery --noisy_labels_type=asymmetric --noisy_labels_fraction=0.2 --training_steps=160ep --lr=0.1 "
    "--milestone_steps=80ep,120ep --gamma=0.1 --rewinding_steps=1000it --default_hparams=cifar_pytorch_resnet_18 --levels=30 "
    "--dataset_name=cifar10 --gpu=0 --fix_all_random_seeds=1";
const char* kRedense =
    "python main.py lottery --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep --gamma=0.1 --rewinding_steps=1000it "
    "--default_hparams=cifar_pytorch_resnet_18 --levels=30 --random_labels_fraction=0.4 --dataset_name=cifar100 "
    "--fix_all_random_seeds=1  --gpu=0 ";
const char* kRetrain =
    "python main.py lottery_branch retrain --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep --gamma=0.1 "
    "--rewinding_steps=1000it --default_hparams=cifar_pytorch_resnet_18 --levels=0,3,6,9,12,15,19,22,26  "
    "--random_labels_fraction=0.4 --dataset_name=cifar100  --retrain_d_dataset_name=cifar100 --retrain_d_batch_size=128 "
    "--retrain_t_optimizer_name=sgd --retrain_t_lr=0.1  --retrain_t_milestone_steps=80ep,120ep  --retrain_t_gamma=0.1  "
    "--retrain_t_training_steps=320ep --retrain_d_random_labels_fraction=0.4  --retrain_t_weight_decay=1e-4  "
    "--retrain_t_momentum=0.9 --retrain_t_regain_pruned_weights_steps=160ep  --fix_all_random_seeds=1  --gpu=0 ";
const char* kReinit =
    "python main.py lottery_branch randomly_reinitialize --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep "
    "--gamma=0.1 --rewinding_steps=1000it --default_hparams=cifar_pytorch_resnet_18 --levels=1-27 "
    "--random_labels_fraction=0.2 --dataset_name=cifar10 --gpu=0 --fix_all_random_seeds=1";
const char* kTiny =
    "python main.py lottery_branch oneshot_prune --default_hparams=tinyimagenet_resnet_101 --dataset_name=tiny_imagenet "
    "--batch_size=512 --lr=0.2 --gpu=0,1,2,3 --level=0-16 --rewinding_steps=1000it --random_labels_fraction=0.2 "
    "--milestone_steps=100ep,150ep --training_steps=200ep --fix_all_random_seeds=1";

}  // namespace

TEST_CASE("hparams: README lottery command hashes to the original directory", "[hparams]") {
  const Experiment e = run(kLottery);
  const std::string cifar10 = "Hparams(batch_size=128, dataset_name='cifar10', random_labels_fraction=0.2, transformation_seed=1)";
  const std::string model = "Hparams(batchnorm_init='uniform', model_init='kaiming_normal', model_name='cifar_pytorch_resnet_18')";
  const std::string tr =
      "Hparams(data_order_seed=1, gamma=0.1, lr=0.1, milestone_steps='80ep,120ep', momentum=0.9, optimizer_name='sgd', "
      "training_steps='%', weight_decay=0.0001)";
  auto with = [&](const std::string& steps) { std::string s = tr; s.replace(s.find('%'), 1, steps); return s; };
  CHECK(e.desc.hash_string() == cifar10 + ";" + model + ";" + cifar10 + ";" + with("1000it") +
                                    ";Hparams(pruning_strategy='magnitude');" + with("160ep"));
  CHECK(e.desc.dir_name() == "lottery_1b66d1fddf4fe3dd3ab1f8a304abc501");
  CHECK(e.levels == 30);
  CHECK(e.global.gpu == std::optional<std::string>("0"));
  CHECK(e.global.torch_seed == std::optional<int64_t>(1));
  CHECK(e.desc.train_start_step().iteration() == 1000);
  CHECK(e.desc.train_start_step().ep_it() == "ep2_it218");
  CHECK(e.desc.train_end_step().iteration() == 62560);
}

TEST_CASE("hparams: README finetune / rewindLR / scratch hashes", "[hparams]") {
  const Experiment f = run(kFinetune);
  REQUIRE(f.desc.finetuning.has_value());
  CHECK(f.desc.finetuning->canonical() ==
        "Hparams(data_order_seed=1, lr=0.001, momentum=0.9, optimizer_name='sgd', training_steps='160ep', weight_decay=0.0001)");
  CHECK(f.desc.dir_name() == "finetune_e163e132f25da166f6fb13c9922fb305");
  CHECK(run(kRewindLR).desc.dir_name() == "rewindLR_9796580677f945592d4b28c543cac2de");
  CHECK(run(kScratch).desc.dir_name() == "scratch_9796580677f945592d4b28c543cac2de");
}

TEST_CASE("hparams: README random-pruning, asymmetric and re-dense trunks", "[hparams]") {
  const Experiment r = run(kRandom);
  CHECK(r.desc.pruning->canonical() == "Hparams(pruning_strategy='random', random_mask_seed=1)");
  CHECK(r.desc.dir_name() == "lottery_431a27ea0e4d39694717d1c0e9274437");
  CHECK(run(kAsym).desc.dir_name() == "lottery_e7d8b69ed687d73af40c3a77c7bbee82");
  CHECK(run(kRedense).desc.dir_name() == "lottery_28cec3118605585eaec21193cfa3f577");
}

TEST_CASE("hparams: README branches (retrain, randomly_reinitialize, oneshot_prune)", "[hparams]") {
  const Experiment b = run(kRetrain);
  CHECK(b.branch == "retrain");
  CHECK(b.desc.dir_name() == "lottery_28cec3118605585eaec21193cfa3f577");
  CHECK(b.branch_hparams->canonical() ==
        "Hparams(retrain_d=Hparams(batch_size=128, dataset_name='cifar100', random_labels_fraction=0.4, transformation_seed=1), "
        "retrain_t=Hparams(data_order_seed=1, gamma=0.1, lr=0.1, milestone_steps='80ep,120ep', momentum=0.9, "
        "optimizer_name='sgd', regain_pruned_weights_steps='160ep', training_steps='320ep', weight_decay=0.0001))");
  CHECK(b.branch_dir_name() == "branch_retrain_0501b6b5061e77181984fb33c0aacde5");
  CHECK(b.branch_levels == std::vector<int64_t>{0, 3, 6, 9, 12, 15, 19, 22, 26});

  const Experiment ri = run(kReinit);
  CHECK(ri.branch_levels.size() == 27);
  CHECK(ri.branch_levels.front() == 1);
  CHECK(ri.branch_dir_name() == "branch_randomly_reinitialize_7b99794732481fff503d5290ee43fb4b");

  const Experiment t = run(kTiny);  // --level=0-16 is an abbreviation of --levels
  CHECK(t.branch_levels.size() == 17);
  CHECK(t.desc.dir_name() == "lottery_c4df1c0ee2f780a52f78d00d97c4d53a");
  CHECK(t.branch_dir_name() == "branch_oneshot_prune_7b99794732481fff503d5290ee43fb4b");
  CHECK(t.global.gpu == std::optional<std::string>("0,1,2,3"));
  CHECK(t.desc.ipe() == 196);
  CHECK(t.desc.train_start_step().ep_it() == "ep5_it20");
}

TEST_CASE("hparams: train runner with a preset", "[hparams]") {
  const Experiment e = run("train --default_hparams=cifar_pytorch_resnet_18");
  CHECK(!e.desc.pruning.has_value());
  CHECK(e.desc.dir_name() == "train_0146207d4d6deee2acd550900f97bec7");
  CHECK(e.global.gpu == std::nullopt);  // every visible GPU
  CHECK(e.global.replicate == 1);
}

TEST_CASE("hparams: OpenLTH regression chain through the canonical-string machinery", "[hparams]") {
  // OpenLTH-only names (sparse_global, cifar_resnet_20): bundles built directly.
  Hparams d = dataset_hparams();
  d.set("dataset_name", Value::str("cifar10"));
  d.set("batch_size", Value::integer(128));
  Hparams m = model_hparams();
  m.set("model_name", Value::str("cifar_resnet_20"));
  m.set("model_init", Value::str("kaiming_normal"));
  m.set("batchnorm_init", Value::str("uniform"));
  Hparams t = training_hparams();
  t.set("optimizer_name", Value::str("sgd"));
  t.set("lr", Value::flt(0.1));
  t.set("training_steps", Value::str("160ep"));
  Hparams p("Pruning Hyperparameters", "");
  p.add_required("pruning_strategy", FieldType::Str, "");
  p.add("pruning_fraction", Value::flt(0.2), "");
  p.add("pruning_layers_to_ignore", Value::none_of(FieldType::Str), "");
  p.set("pruning_strategy", Value::str("sparse_global"));
  Description desc;
  desc.runner = "lottery";
  desc.dataset = d;
  desc.model = m;
  desc.training = t;
  desc.pruning = p;
  CHECK(desc.hash_string() ==
        "Hparams(batch_size=128, dataset_name='cifar10');Hparams(batchnorm_init='uniform', model_init='kaiming_normal', "
        "model_name='cifar_resnet_20');Hparams(pruning_strategy='sparse_global');Hparams(lr=0.1, optimizer_name='sgd', "
        "training_steps='160ep')");
  CHECK(desc.dir_name() == "lottery_da8fd50859ba6d59aceca9d50ebcbf7e");
  desc.training.set("momentum", Value::flt(0.9));
  CHECK(desc.dir_name() == "lottery_028eb999ecd1980cd012589829c945a3");
  // The chain continues with prefixes of the OpenLTH test file.
  desc.training.set("milestone_steps", Value::str("80ep,120ep"));
  desc.training.set("gamma", Value::flt(0.1));
  CHECK(desc.hash().substr(0, 8) == "e696cbf4");
  desc.training.set("weight_decay", Value::flt(1e-4));
  CHECK(desc.hash().substr(0, 8) == "93bc65d6");
  desc.training.set("warmup_steps", Value::str("20ep"));
  CHECK(desc.hash().substr(0, 8) == "4e7b9ee9");
  desc.training.set("data_order_seed", Value::integer(0));
  CHECK(desc.hash().substr(0, 8) == "d51482c0");
  desc.dataset.set("do_not_augment", Value::boolean(true));
  CHECK(desc.hash().substr(0, 8) == "231b1efe");
  desc.dataset.set("transformation_seed", Value::integer(0));
  CHECK(desc.hash().substr(0, 8) == "4dfd57a4");
  desc.dataset.set("subsample_fraction", Value::flt(0.5));
  CHECK(desc.hash().substr(0, 8) == "59ea6f2f");
  desc.dataset.set("random_labels_fraction", Value::flt(0.7));
  CHECK(desc.hash().substr(0, 8) == "8b59e5a4");
  desc.dataset.set("unsupervised_labels", Value::str("rotation"));
  CHECK(desc.hash().substr(0, 8) == "81f340e0");
  desc.dataset.set("blur_factor", Value::integer(4));
  CHECK(desc.hash().substr(0, 8) == "4e78e271");
  desc.model.set("batchnorm_frozen", Value::boolean(true));
  CHECK(desc.hash().substr(0, 8) == "8db76b3c");
  desc.model.set("batchnorm_frozen", Value::boolean(false));
  desc.model.set("others_frozen", Value::boolean(true));
  CHECK(desc.hash().substr(0, 8) == "3a0f8b86");
  desc.model.set("others_frozen", Value::boolean(false));
  desc.pruning->set("pruning_layers_to_ignore", Value::str("fc.weight"));
  CHECK(desc.hash().substr(0, 8) == "d74aca8d");
}

TEST_CASE("hparams: default-equal values do not change the hash; num_workers does", "[hparams]") {
  const std::string base = "train --default_hparams=cifar_pytorch_resnet_18";
  CHECK(run(base + " --nesterov_momentum=0").desc.dir_name() == "train_0146207d4d6deee2acd550900f97bec7");
  CHECK(run(base + " --num_workers=2").desc.dir_name() == "train_0146207d4d6deee2acd550900f97bec7");
  CHECK(run(base + " --num_workers=4").desc.dir_name() != "train_0146207d4d6deee2acd550900f97bec7");
}

TEST_CASE("hparams: hparams.log text", "[hparams]") {
  const Experiment e = run(kLottery);
  const std::string log = e.desc.hparams_log();
  const std::string dataset_block =
      "Dataset Hyperparameters\n    * dataset_name => cifar10\n    * batch_size => 128\n    * transformation_seed => 1\n"
      "    * random_labels_fraction => 0.2\n    * num_workers => 2";
  CHECK(log.rfind(dataset_block + "\nModel Hyperparameters\n", 0) == 0);
  CHECK(log.find("Pretraining Dataset Hyperparameters\n") != std::string::npos);
  CHECK(log.find("Pruning Hyperparameters\n    * pruning_strategy => magnitude\n    * freeze_pruned_weights => zero\n"
                 "    * pruning_fraction => 0.2\n    * pruning_scope => global") != std::string::npos);
  CHECK(log.find("    * weight_decay => 0.0001") != std::string::npos);
  CHECK(log.back() != '\n');
  const std::string lr = run(kRewindLR + std::string(" --rewinding_steps=1000it")).desc.hparams_log();
  CHECK(lr.find("Pretraining for Learning Rate Rewinding Training Hyperparameters\n") != std::string::npos);
  const std::string ft = run(kFinetune).desc.hparams_log();
  CHECK(ft.find("Finetuning Hyperparameters\n    * optimizer_name => sgd\n    * lr => 0.001\n    * training_steps => 160ep\n"
                "    * data_order_seed => 1\n    * momentum => 0.9\n    * weight_decay => 0.0001") != std::string::npos);
}

TEST_CASE("hparams: md5 RFC 1321 test vectors", "[hparams]") {
  CHECK(md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(md5_hex("a") == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(md5_hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(md5_hex("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b");
  CHECK(md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == "d174ab98d277d9f5a5611c2c9f419d9f");
  CHECK(md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890") ==
        "57edf4a22be3c955ac49da2e2107b67a");
  CHECK(md5_hex("Hparams()") == "7b99794732481fff503d5290ee43fb4b");
}
