// tests/test_runners_cli.cpp — the real `sparsedd` binary: exit codes and one-line errors, `-d` with
// the golden directory name of README 1.1, and THE RESUME TEST: a lottery run killed with SIGKILL in
// the middle of level 1 and relaunched ends with the same logger files (byte for byte) and the same
// final weights as an uninterrupted run (the uninterrupted one with one thread, the killed one with two);
// while it runs, the same command is refused (the run lock), and the kill releases the lock.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <sstream>
#include <thread>
#include <vector>

#include "engine/io/atomic_file.h"
#include "test_runners_support.h"

using namespace sdd;
using namespace sdd::test_runners;

namespace {

// Sets an environment variable for a scope (the binary inherits it).
struct ScopedEnv {
  std::string name;
  ScopedEnv(const char* n, const char* v) : name(n) { setenv(n, v, 1); }
  ~ScopedEnv() { setenv(name.c_str(), "1", 1); }   // scripts/test.sh runs every test with 1
};

// A lottery run small enough for a test, on the fake data; `extra` adds or sets the rest.
std::string tiny_lottery(const std::string& extra) {
  return "lottery --dataset_name=fashion_mnist --batch_size=20 --subsample_fraction=0.002 --model_name=mnist_mlp_32"
         " --model_init=kaiming_normal --batchnorm_init=uniform --optimizer_name=sgd --lr=0.05"
         " --pruning_strategy=magnitude --quiet --device=cpu --dataset_root=" + fake_data_root() + " " + extra;
}

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST_CASE("runners: sparsedd exit codes and one-line errors", "[runners]") {
  std::string out, err;
  CHECK(run_binary("lottery --levels=1 --no_such_flag=3", &out, &err) == 2);
  CHECK(err.rfind("sparsedd: error: ", 0) == 0);
  CHECK(count_lines(err) == 1);
  CHECK(run_binary("frobnicate", &out, &err) == 1);
  CHECK(out.find("Choose a command to run:") != std::string::npos);
  CHECK(run_binary("", &out, &err) == 1);
  CHECK(run_binary("lottery --help", &out, &err) == 0);
  CHECK(out.find("--levels") != std::string::npos);
  CHECK(run_binary("run --help", &out, &err) == 0);
  CHECK(run_binary("run /nonexistent/config.yaml", &out, &err) == 2);
  CHECK(count_lines(err) == 1);
}

TEST_CASE("runners: impossible training hyperparameters fail with one line before any training", "[runners]") {
  const std::string base = tiny_lottery("--training_steps=2ep --levels=1");
  struct Case { const char* flags; const char* says; };
  const Case cases[] = {
      {" --lr=-0.1", "learning rate -0.1 is not a number >= 0"},
      {" --lr=nan", "learning rate nan is not a number >= 0"},
      {" --weight_decay=-1e-4", "weight_decay -0.0001 is not a number >= 0"},
      {" --optimizer_name=adam --weight_decay=-1", "weight_decay -1 is not a number >= 0"},
      {" --rewinding_steps=3ep", "--rewinding_steps=3ep (iteration 18) is after the end of training, --training_steps=2ep (iteration 12)"},
  };
  for (const Case& c : cases) {
    INFO(c.flags);
    const std::string res = fresh_dir("impossible");
    std::string out, err;
    CHECK(run_binary(base + c.flags + " --results_root=" + res, &out, &err) == 2);
    CHECK(err.rfind("sparsedd: error: ", 0) == 0);
    INFO(err);
    CHECK(err.find(c.says) != std::string::npos);
    CHECK(count_lines(err) == 1);
    // Nothing was trained: no end-of-training model or checkpoint anywhere under the results.
    for (const auto& f : std::filesystem::recursive_directory_iterator(res)) {
      const std::string name = f.path().filename().string();
      CHECK(name.find("checkpoint") == std::string::npos);
      CHECK(name.find("_ep2_") == std::string::npos);
      CHECK(name.find("_ep3_") == std::string::npos);
    }
  }
  // A rewind to the very end is allowed (the original saves the end model and evaluates).
  const std::string res = fresh_dir("rewind_to_end");
  CHECK(run_binary(base + " --rewinding_steps=2ep --results_root=" + res) == 0);
  // A learning rate that makes level 0 diverge: pruning it is refused, naming the cause.
  const std::string diverged = fresh_dir("diverged");
  std::string out, err;
  CHECK(run_binary(base + " --lr=1e9 --results_root=" + diverged, &out, &err) == 2);
  CHECK(err.find("level 0's trained weights hold") != std::string::npos);
  CHECK(err.find("its training diverged") != std::string::npos);
  CHECK(count_lines(err) == 1);
}

TEST_CASE("runners: a finished level whose end model was deleted gets it back from its checkpoint", "[runners]") {
  const std::string res = fresh_dir("end_model_back");
  const std::string cmd = tiny_lottery("--training_steps=2ep --levels=1 --results_root=" + res);
  REQUIRE(run_binary(cmd) == 0);
  std::string level;
  for (const auto& f : std::filesystem::recursive_directory_iterator(res))
    if (f.path().filename() == "level_1") level = f.path().string() + "/main";
  REQUIRE(!level.empty());
  const std::string end_model = level + "/model_ep2_it0.safetensors";
  const auto weights = load_tensors(end_model);
  const std::string logger = read_text(level + "/logger");
  REQUIRE(logger.find("test_accuracy,12,") != std::string::npos);
  // The checkpoint is at the end step; the end model is gone and the logger damaged.
  std::filesystem::remove(end_model);
  io::write_file_atomic(level + "/logger", "damaged");
  std::string out;
  REQUIRE(run_binary(cmd, &out) == 0);
  REQUIRE(std::filesystem::exists(end_model));
  const auto back = load_tensors(end_model);
  REQUIRE(back.size() == weights.size());
  for (const auto& [name, t] : weights) CHECK(same_values(back.at(name), t));
  CHECK(read_text(level + "/logger") == logger);
}

TEST_CASE("runners: sparsedd -d prints the per-level paths with the golden name", "[runners]") {
  std::string out, err;
  const int rc = run_binary(
      "lottery --training_steps=160ep --lr=0.1 --milestone_steps=80ep,120ep --gamma=0.1 --rewinding_steps=1000it "
      "--default_hparams=cifar_pytorch_resnet_18 --levels=30 --random_labels_fraction=0.2 --dataset_name=cifar10 "
      "--gpu=0 --fix_all_random_seeds=1 --results_root=/res -d",
      &out, &err);
  CHECK(rc == 0);
  CHECK(out.find("/res/lottery_1b66d1fddf4fe3dd3ab1f8a304abc501/replicate_1/level_pretrain/main\n") != std::string::npos);
  CHECK(out.find("/res/lottery_1b66d1fddf4fe3dd3ab1f8a304abc501/replicate_1/level_0/main\n") != std::string::npos);
  CHECK(out.find("/res/lottery_1b66d1fddf4fe3dd3ab1f8a304abc501/replicate_1/level_30/main\n") != std::string::npos);
  CHECK(count_lines(out) == 32);
  // The quickstart config loads and locates its results.
  CHECK(run_binary(std::string("run ") + SDD_SOURCE_DIR + "/experiments/configs/quickstart.yaml -d", &out, &err) == 0);
  CHECK(out.find("/lottery_") != std::string::npos);
  CHECK(count_lines(out) == 21);
}

TEST_CASE("runners: a killed lottery run resumes to the uninterrupted result", "[runners]") {
  const std::string flags = tiny_lottery("--momentum=0.9 --training_steps=5ep --data_order_seed=3 --levels=2");
  const std::string ref = fresh_dir("resume_ref"), killed = fresh_dir("resume_killed");
  REQUIRE(run_binary(flags + " --results_root=" + ref) == 0);

  // Launch, wait for the first checkpoint of level 1, SIGKILL. The killed run and its relaunch use two
  // threads: the evaluations of each epoch then run in the background, logged one epoch later, and the
  // checkpoint of an epoch start holds the logger without them (the relaunch evaluates that step again).
  const ScopedEnv two_threads("SPARSEDD_THREADS", "2");
  const std::string cmd = flags + " --results_root=" + killed;
  std::vector<std::string> args = {SDD_SPARSEDD_EXE};
  {
    std::istringstream is(cmd);
    for (std::string w; is >> w;) args.push_back(w);
  }
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* o = std::freopen("/dev/null", "w", stdout);
    (void)o;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::string level1;
  bool killed_mid_level = false, second_refused = false;
  const std::string holder = "pid " + std::to_string(pid) + " on ";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) break;  // finished before we saw the checkpoint
    // While it runs (held still with SIGSTOP), the same command is refused with one line and writes nothing.
    if (!second_refused) {
      std::string lock_file;
      for (const auto& e : std::filesystem::recursive_directory_iterator(killed))
        if (e.path().filename() == ".sparsedd-main.lock") lock_file = e.path().string();
      if (!lock_file.empty() && read_text(lock_file).rfind(holder, 0) == 0) {
        kill(pid, SIGSTOP);
        std::string out, err;
        CHECK(run_binary(cmd, &out, &err) == 2);
        CHECK(err.find("sparsedd: error: another sparsedd process (" + holder) == 0);
        CHECK(count_lines(err) == 1);
        kill(pid, SIGCONT);
        second_refused = true;
      }
    }
    for (const auto& e : std::filesystem::recursive_directory_iterator(killed)) {
      const std::string p = e.path().string();
      if (p.find("/level_1/main/checkpoint.safetensors") != std::string::npos) level1 = e.path().parent_path().string();
    }
    if (!level1.empty()) {
      killed_mid_level = !io::file_exists(level1 + "/model_ep5_it0.safetensors");
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  REQUIRE(!level1.empty());
  CHECK(second_refused);
  if (!killed_mid_level) WARN("level 1 had already finished when the kill landed");
  CHECK_FALSE(io::file_exists(level1 + "/logger"));
  // A kill inside a write leaves its temporary file; the relaunch (holding the lock) removes it.
  const std::string stale = level1 + "/checkpoint.safetensors.tmp.99999.0.1";
  io::write_file_atomic(stale, "partial");
  REQUIRE(run_binary(cmd) == 0);   // the kill released the lock
  CHECK_FALSE(io::file_exists(stale));

  for (int l = 0; l <= 2; ++l) {
    INFO("level " << l);
    const std::string rel = level1.substr(killed.size());  // /<name>/replicate_1/level_1/main
    const std::string lrel = rel.substr(0, rel.find("/level_1/")) + "/level_" + std::to_string(l) + "/main";
    const std::string a = ref + lrel, b = killed + lrel;
    REQUIRE(io::file_exists(a + "/logger"));
    CHECK(read_text(a + "/logger") == read_text(b + "/logger"));
    CHECK(read_text(a + "/sparsity_report.json") == read_text(b + "/sparsity_report.json"));
    const auto wa = load_tensors(a + "/model_ep5_it0.safetensors");
    const auto wb = load_tensors(b + "/model_ep5_it0.safetensors");
    REQUIRE(wa.size() == wb.size());
    for (const auto& [name, t] : wa) {
      INFO(name);
      REQUIRE(wb.count(name) == 1);
      CHECK(same_values(t, wb.at(name)));
    }
  }
  std::filesystem::remove_all(ref);
  std::filesystem::remove_all(killed);
}

TEST_CASE("runners: SPARSEDD_THREADS: bad values exit 2, two or three threads give the one-thread run", "[runners]") {
  std::string out, err;
  for (const char* bad : {"0", "two", "-3", "2x", ""}) {
    ScopedEnv env("SPARSEDD_THREADS", bad);
    INFO("SPARSEDD_THREADS=" << bad);
    CHECK(run_binary("lottery --levels=1 -d", &out, &err) == 2);
    CHECK(err.find("SPARSEDD_THREADS") != std::string::npos);
    CHECK(count_lines(err) == 1);
  }
  // The quickstart's model (its products are split in blocks) on a slice of the fake Fashion-MNIST:
  // the loggers and final weights of every level are identical whatever the thread count.
  const std::string flags =
      "lottery --default_hparams=mnist_mlp_300_100 --dataset_name=fashion_mnist --batch_size=24"
      " --subsample_fraction=0.002 --training_steps=2ep --levels=1 --random_labels_fraction=0.2"
      " --fix_all_random_seeds=1 --quiet --dataset_root=" + fake_data_root();
  std::vector<std::string> roots;
  for (const char* threads : {"1", "2", "3"}) {
    ScopedEnv env("SPARSEDD_THREADS", threads);
    roots.push_back(fresh_dir(std::string("threads_") + threads));
    REQUIRE(run_binary(flags + " --results_root=" + roots.back(), &out, &err) == 0);
  }
  int compared = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(roots[0])) {
    const std::string p = e.path().string(), rel = p.substr(roots[0].size());
    const bool logger = e.path().filename() == "logger";
    const bool weights = e.path().filename() == "model_ep2_it0.safetensors";
    if (!logger && !weights) continue;
    for (size_t r = 1; r < roots.size(); ++r) {
      INFO(rel << " with " << r + 1 << " threads");
      if (logger) CHECK(read_text(p) == read_text(roots[r] + rel));
      if (weights) {
        const auto wa = load_tensors(p), wb = load_tensors(roots[r] + rel);
        REQUIRE(wa.size() == wb.size());
        for (const auto& [name, t] : wa) CHECK(same_values(t, wb.at(name)));
      }
    }
    ++compared;
  }
  CHECK(compared == 4);   // levels 0 and 1: logger and final weights
  for (const auto& r : roots) std::filesystem::remove_all(r);
}
