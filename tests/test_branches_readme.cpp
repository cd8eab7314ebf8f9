// tests/test_branches_readme.cpp — [branches] the original README's branch commands end to end through
// the real `sparsedd` binary on tiny synthetic data: section 4 (re-dense: lottery trunk, then
// `lottery_branch retrain`), section 5 (random reinitialisation: lottery trunk, then `lottery_branch
// randomly_reinitialize`) and section 6 (Tiny ImageNet `lottery_branch oneshot_prune`, with the
// README's abbreviated `--level=` and `--gpu=0,1,2,3`, which falls back to the CPU with a warning).
//
// Each command is the README's text with these appended overrides (later flags win):
//   short steps      --training_steps / --milestone_steps / --rewinding_steps / --levels in epochs
//                    (1ep rewinding instead of 1000it: 64 synthetic examples make one batch per epoch;
//                    1000it = ep2_it218 at the nominal CIFAR ipe cannot be expressed at ipe 1 and the
//                    pretraining end file is then named ep220_it0, so the trunk stops with "cannot read
//                    .../model_ep2_it218.safetensors" — real data sets have the nominal size)
//   narrow model     --model_name=<the README's model>_4 (width 4 instead of 64; same depth and blocks)
//   roots, quiet     --dataset_root / --results_root / --quiet
// Synthetic data: CIFAR-10 / CIFAR-100 binary records (64 train, 32 test) and Tiny ImageNet class
// folders (2 classes x 8 train / 2 val 64x64 JPEGs).
#include <catch2/catch.hpp>
#include <turbojpeg.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/io/atomic_file.h"
#include "experiments/hparams/flags.h"
#include "experiments/runners/level_table.h"
#include "experiments/runners/paths.h"
#include "pruning/mask.h"
#include "test_runners_support.h"

using namespace sdd;
using namespace sdd::test_runners;

namespace {

void write_bytes(const std::string& path, const std::vector<uint8_t>& v) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size()));
}

// n CIFAR binary records: [coarse label] fine label, 3072 pixel bytes (class-dependent level + noise).
std::vector<uint8_t> cifar_records(int n, int classes, bool coarse, uint32_t seed) {
  std::vector<uint8_t> v;
  uint32_t s = seed;
  for (int i = 0; i < n; ++i) {
    const int y = (i * 7 + 1) % classes;
    if (coarse) v.push_back(static_cast<uint8_t>(y % 20));
    v.push_back(static_cast<uint8_t>(y));
    for (int p = 0; p < 3072; ++p) {
      s = s * 1664525u + 1013904223u;
      v.push_back(static_cast<uint8_t>((y * 37 + (s >> 26)) % 256));
    }
  }
  return v;
}

void write_jpeg(const std::string& path, int v) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::vector<unsigned char> rgb(64 * 64 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<unsigned char>((v + static_cast<int>(i % 97)) % 256);
  tjhandle tj = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long len = 0;
  REQUIRE(tjCompress2(tj, rgb.data(), 64, 0, 64, TJPF_RGB, &jpeg, &len, TJSAMP_444, 90, 0) == 0);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(jpeg), static_cast<std::streamsize>(len));
  tjFree(jpeg);
  tjDestroy(tj);
}

// The synthetic data root (once per process): cifar10, cifar100, tiny_imagenet.
const std::string& readme_data_root() {
  static const std::string root = [] {
    const std::string r = fresh_dir("readme_data");
    const std::string c10 = r + "/cifar10/cifar-10-batches-bin/";
    for (int b = 1; b <= 5; ++b) write_bytes(c10 + "data_batch_" + std::to_string(b) + ".bin", cifar_records(13, 10, false, b));
    write_bytes(c10 + "test_batch.bin", cifar_records(32, 10, false, 9));
    write_bytes(r + "/cifar100/cifar-100-binary/train.bin", cifar_records(64, 100, true, 1));
    write_bytes(r + "/cifar100/cifar-100-binary/test.bin", cifar_records(32, 100, true, 2));
    for (const char* cls : {"n01", "n02"})
      for (int i = 0; i < 10; ++i)
        write_jpeg(r + "/tiny_imagenet/" + (i < 8 ? "train/" : "val/") + cls + "/img" + std::to_string(i) + ".jpeg",
                   (cls[2] - '0') * 90 + i * 7);
    return r;
  }();
  return root;
}

std::string tail_flags(const std::string& model, const std::string& results) {
  return " --model_name=" + model + " --quiet --dataset_root=" + readme_data_root() + " --results_root=" + results;
}

exp::Experiment parse_cmd(const std::string& cmd) {
  std::istringstream is(cmd);
  std::vector<std::string> w;
  for (std::string x; is >> x;) w.push_back(x);
  return exp::parse_command_line(w).experiment;
}

int run_logged(const std::string& cmd) {
  std::string out, err;
  const int rc = run_binary(cmd, &out, &err);
  INFO("sparsedd " << cmd << "\nstdout: " << out << "\nstderr: " << err);
  CHECK(rc == 0);
  return rc;
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The level_L folder of the trunk (holding main and the branch folders).
std::string level_dir(const std::string& results, const exp::Experiment& e, int64_t level) {
  return std::filesystem::path(exp::run_path(results, e.desc, 1, level)).parent_path().string();
}

int64_t last_logged_iteration(const std::string& dir, const std::string& metric) {
  int64_t last = -1;
  for (const auto& r : exp::read_logger(dir))
    if (r.name == metric) last = std::max(last, r.iteration);
  return last;
}

}  // namespace

TEST_CASE("branches: README 4 re-dense (lottery trunk, then lottery_branch retrain) end to end", "[branches]") {
  const std::string results = fresh_dir("readme4");
  const std::string shorten = " --training_steps=3ep --milestone_steps=1ep,2ep --rewinding_steps=1ep";
  const std::string trunk =
      "lottery --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep --gamma=0.1 --rewinding_steps=1000it"
      " --default_hparams=cifar_pytorch_resnet_18 --levels=30 --random_labels_fraction=0.4 --dataset_name=cifar100"
      " --fix_all_random_seeds=1  --gpu=0" + shorten + " --levels=2" + tail_flags("cifar_pytorch_resnet_18_4", results);
  const std::string branch =
      "lottery_branch retrain --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep --gamma=0.1"
      " --rewinding_steps=1000it --default_hparams=cifar_pytorch_resnet_18 --levels=0,3,6,9,12,15,19,22,26"
      " --random_labels_fraction=0.4 --dataset_name=cifar100  --retrain_d_dataset_name=cifar100 --retrain_d_batch_size=128"
      " --retrain_t_optimizer_name=sgd --retrain_t_lr=0.1  --retrain_t_milestone_steps=80ep,120ep  --retrain_t_gamma=0.1"
      "  --retrain_t_training_steps=320ep --retrain_d_random_labels_fraction=0.4  --retrain_t_weight_decay=1e-4"
      "  --retrain_t_momentum=0.9 --retrain_t_regain_pruned_weights_steps=160ep  --fix_all_random_seeds=1  --gpu=0" +
      shorten + " --levels=0,2 --retrain_t_milestone_steps=1ep,2ep --retrain_t_training_steps=4ep"
                " --retrain_t_regain_pruned_weights_steps=2ep" + tail_flags("cifar_pytorch_resnet_18_4", results);
  REQUIRE(run_logged(trunk) == 0);
  REQUIRE(run_logged(branch) == 0);
  const exp::Experiment e = parse_cmd(branch);
  const std::string name = e.branch_dir_name();
  CHECK(name.rfind("branch_retrain_", 0) == 0);
  for (int64_t l : {0, 2}) {
    const std::string ld = level_dir(results, e, l);
    INFO(ld);
    CHECK(subdirs(ld) == std::vector<std::string>{name, "main"});   // the branch beside main
    const std::string b = ld + "/" + name;
    // s = the trunk's 1ep rewind point at retrain_d's ipe, E = 4ep; no mask, no hparams.log.
    for (const char* f : {"model_ep1_it0.safetensors", "model_ep4_it0.safetensors", "logger", "checkpoint.safetensors"})
      CHECK(io::file_exists(b + "/" + f));
    CHECK_FALSE(io::file_exists(b + "/mask.safetensors"));
    CHECK_FALSE(io::file_exists(b + "/hparams.log"));
    CHECK(last_logged_iteration(b, "test_accuracy") == 4);   // one iteration per epoch: 4ep = iteration 4
    CHECK(read_text(b + "/model_ep1_it0.safetensors") == read_text(ld + "/main/model_ep1_it0.safetensors"));
  }
  CHECK(io::file_exists(exp::run_path(results, e.desc, 1, 0) + "/hparams.log"));
  CHECK(subdirs(level_dir(results, e, 1)) == std::vector<std::string>{"main"});
  std::filesystem::remove_all(results);
}

TEST_CASE("branches: README 5 random reinitialisation (lottery trunk, then randomly_reinitialize) end to end", "[branches]") {
  const std::string results = fresh_dir("readme5");
  const std::string shorten = " --training_steps=3ep --milestone_steps=1ep,2ep --rewinding_steps=1ep";
  const std::string common =
      " --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep --gamma=0.1 --rewinding_steps=1000it"
      " --default_hparams=cifar_pytorch_resnet_18 --levels=30 --random_labels_fraction=0.2 --dataset_name=cifar10 --gpu=0"
      " --fix_all_random_seeds=1";
  const std::string trunk = "lottery" + common + shorten + " --levels=2" + tail_flags("cifar_pytorch_resnet_18_4", results);
  std::string branch_text = common;
  branch_text.replace(branch_text.find("--levels=30"), 11, "--levels=1-27");
  const std::string branch = "lottery_branch randomly_reinitialize" + branch_text + shorten + " --levels=1-2" +
                             tail_flags("cifar_pytorch_resnet_18_4", results);
  REQUIRE(run_logged(trunk) == 0);
  REQUIRE(run_logged(branch) == 0);
  const exp::Experiment e = parse_cmd(branch);
  const std::string name = e.branch_dir_name();
  CHECK(name == "branch_randomly_reinitialize_7b99794732481fff503d5290ee43fb4b");
  CHECK(subdirs(level_dir(results, e, 0)) == std::vector<std::string>{"main"});
  for (int64_t l : {1, 2}) {
    const std::string t = exp::run_path(results, e.desc, 1, l), b = exp::run_path(results, e.desc, 1, l, name);
    INFO(b);
    CHECK(subdirs(level_dir(results, e, l)) == std::vector<std::string>{name, "main"});
    for (const char* f : {"mask.safetensors", "sparsity_report.json", "model_ep1_it0.safetensors", "model_ep3_it0.safetensors", "logger"})
      CHECK(io::file_exists(b + "/" + f));
    CHECK_FALSE(io::file_exists(b + "/hparams.log"));
    const pruning::Mask mb = pruning::Mask::load(b), mt = pruning::Mask::load(t);
    for (const auto& [n, mk] : mt.entries()) CHECK(same_values(mb.at(n), mk));
    // A fresh draw, not the trunk's start (rewind) weights.
    CHECK_FALSE(same_values(load_tensors(b + "/model_ep1_it0.safetensors").at("model.conv1.weight"),
                            load_tensors(t + "/model_ep1_it0.safetensors").at("model.conv1.weight")));
    CHECK(last_logged_iteration(b, "test_accuracy") == 3);
  }
  std::filesystem::remove_all(results);
}

TEST_CASE("branches: README 6 Tiny ImageNet oneshot_prune end to end", "[branches]") {
  const std::string results = fresh_dir("readme6");
  const std::string cmd =
      "lottery_branch oneshot_prune --default_hparams=tinyimagenet_resnet_101 --dataset_name=tiny_imagenet --batch_size=512"
      " --lr=0.2 --gpu=0,1,2,3 --level=0-16 --rewinding_steps=1000it --random_labels_fraction=0.2"
      " --milestone_steps=100ep,150ep --training_steps=200ep --fix_all_random_seeds=1"
      " --level=0-2 --rewinding_steps=1ep --milestone_steps=1ep,2ep --training_steps=3ep" +
      tail_flags("tinyimagenet_resnet_101_4", results);
  std::string out, err;
  const int rc = run_binary(cmd, &out, &err);
  INFO("stdout: " << out << "\nstderr: " << err);
  REQUIRE(rc == 0);
  CHECK(err.find("--gpu=0,1,2,3") != std::string::npos);   // the CPU fallback warning
  const exp::Experiment e = parse_cmd(cmd);
  const std::string name = e.branch_dir_name();
  CHECK(name == "branch_oneshot_prune_7b99794732481fff503d5290ee43fb4b");
  const std::string zero = exp::run_path(results, e.desc, 1, 0, name);
  CHECK(read_text(zero + "/hparams.log") == e.desc.hparams_log());
  CHECK(read_text(zero + "/hparams.log").find("dataset_name => tiny_imagenet") != std::string::npos);
  CHECK(io::file_exists(exp::run_path(results, e.desc, 1, exp::kPretrainLevel) + "/model_ep1_it0.safetensors"));
  CHECK(io::file_exists(exp::run_path(results, e.desc, 1, 0) + "/model_ep1_it0.safetensors"));
  for (const char* f : {"model_ep1_it0.safetensors", "model_ep3_it0.safetensors", "logger"}) CHECK(io::file_exists(zero + "/" + f));
  for (int64_t l : {1, 2}) {
    const std::string b = exp::run_path(results, e.desc, 1, l, name);
    INFO(b);
    CHECK(subdirs(level_dir(results, e, l)) == std::vector<std::string>{name});   // no trunk run: only the branch
    for (const char* f : {"mask.safetensors", "sparsity_report.json", "model_ep1_it0.safetensors", "model_ep3_it0.safetensors", "logger"})
      CHECK(io::file_exists(b + "/" + f));
    CHECK(pruning::Mask::load(b).density() == Approx(l == 1 ? 0.8 : 0.64).margin(0.001));
    CHECK(last_logged_iteration(b, "test_accuracy") == 3);
  }
  std::filesystem::remove_all(results);
}

TEST_CASE("an iteration step that does not fit a small dataset is a one-line error, not a wrong file name", "[branches]") {
  // 1000it is ep2 it218 at CIFAR-10's official 391 iterations per epoch; the synthetic set has 1.
  const std::string results = fresh_dir("readme_1000it");
  const std::string cmd = "lottery --training_steps=3ep --rewinding_steps=1000it --default_hparams=cifar_pytorch_resnet_18"
                          " --dataset_name=cifar10 --levels=1 --fix_all_random_seeds=1" +
                          tail_flags("cifar_pytorch_resnet_18_4", results);
  std::string out, err;
  const int rc = run_binary(cmd, &out, &err);
  INFO("stdout: " << out << "\nstderr: " << err);
  CHECK(rc == 2);
  CHECK(err.find("does not fit the loaded training data") != std::string::npos);
  CHECK(err.find("ep2_it218") != std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  std::filesystem::remove_all(results);
}
