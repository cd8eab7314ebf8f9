// tests/test_train_parallel.cpp — data-parallel training wired into train_phase (issue 8): 2 and 3
// in-process CPU replicas give the logger and weights of one replica (uneven shards, a short last
// batch, unseeded data order); a BN model keeps its replicas identical and its sharded evaluation
// equals one pass; masks stay exactly zero on every replica; regain and resume work with replicas;
// the binary with SPARSEDD_CPU_REPLICAS=2 and `mpirun -np 2 sparsedd train` on loopback equal one
// process, and only MPI rank 0 prints; the device policy of --gpu / --device.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/dist/communicator.h"
#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "experiments/runners/device_select.h"
#include "experiments/train/data_source.h"
#include "experiments/train/evaluate.h"
#include "experiments/train/metric_logger.h"
#include "test_runners_support.h"
#include "test_train_fixture.h"

using namespace sdd;
using namespace sdd::exp;
using namespace sdd::test_train;

namespace {

constexpr int64_t kBatch = 70;   // 600 examples: ipe 9, the last batch holds 40 (shards 14/13/13 of it with W = 3)
constexpr int64_t kIpe = 9;

struct Outcome {
  std::vector<int64_t> steps;
  MetricLogger logger;
  nn::NamedTensors params;                      // replica 0 (the caller's model) at the end
  std::vector<std::vector<float>> replica_flat;  // every replica's state dict, flattened, at the end
};

RunContext replica_context(int w) {
  RunContext ctx = quiet_context();
  if (w > 1) ctx.replicas.assign(static_cast<size_t>(w), Device::cpu());
  return ctx;
}

std::vector<float> flat_state(const models::Model& m) {
  std::vector<float> out;
  for (const auto& kv : m.state_dict()) {
    if (kv.second.dtype() != DType::f32) continue;
    const auto v = kv.second.to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

Outcome phase(models::Model& m, const std::string& dir, const Hparams& tr, Step end, RunContext& ctx,
              const pruning::Mask* mask = nullptr, const Hparams& dataset = dataset_bundle(kBatch), int64_t ipe = kIpe) {
  Outcome o;
  TrainTarget t;
  t.model = &m;
  if (mask) t.mask = *mask;
  PhaseOptions opt;
  opt.output_dir = dir;
  opt.training = tr;
  opt.dataset = dataset;
  opt.start = Step(0, ipe);
  opt.end = end;
  opt.on_step = [&](const Step& s) { o.steps.push_back(s.iteration()); };
  opt.on_replicas = [&](const std::vector<models::Model*>& ms) {
    for (const models::Model* r : ms) o.replica_flat.push_back(flat_state(*r));
  };
  train_phase(t, opt, ctx);
  if (MetricLogger::exists(dir)) o.logger = MetricLogger::load(dir);
  for (const auto& kv : m.named_parameters()) o.params.emplace_back(kv.first, kv.second.clone());
  return o;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

double params_diff(const nn::NamedTensors& a, const nn::NamedTensors& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].first == b[i].first);
    worst = std::max(worst, max_abs_diff(a[i].second.to_vector<float>(), b[i].second.to_vector<float>()));
  }
  return worst;
}

// Same records (names, iterations, order); values within float rounding: losses relative 1e-4,
// accuracies within one example of the 100-image test set (a near-tie may flip), counts exact.
void check_logger_close(const MetricLogger& a, const MetricLogger& b) {
  REQUIRE(!a.empty());
  REQUIRE(a.records().size() == b.records().size());
  double worst_loss = 0.0, worst_acc = 0.0;
  for (size_t i = 0; i < a.records().size(); ++i) {
    const MetricRecord& x = a.records()[i];
    const MetricRecord& y = b.records()[i];
    INFO(x.name << " at " << x.iteration << ": " << x.value << " vs " << y.value);
    REQUIRE(x.name == y.name);
    REQUIRE(x.iteration == y.iteration);
    const double d = std::fabs(x.value - y.value);
    if (x.name.find("examples") != std::string::npos) CHECK(d == 0.0);
    else if (x.name.find("loss") != std::string::npos) {
      CHECK(d <= 1e-4 * std::max(1.0, std::fabs(x.value)));
      worst_loss = std::max(worst_loss, d);
    } else {
      CHECK(d <= 0.0101);
      worst_acc = std::max(worst_acc, d);
    }
  }
  std::printf("  logger: worst loss difference %.3g, worst accuracy difference %.3g\n", worst_loss, worst_acc);
}

void check_replicas_identical(const Outcome& o, size_t w) {
  REQUIRE(o.replica_flat.size() == w);
  for (size_t r = 1; r < w; ++r) {
    INFO("replica " << r);
    CHECK(o.replica_flat[r] == o.replica_flat[0]);
  }
}

pruning::Mask third_mask(const models::Model& m) {
  pruning::Mask mask;
  for (const std::string name : {"fc_layers.0.weight", "fc.weight"}) {
    const Tensor p = m.parameter(name);
    std::vector<float> v(static_cast<size_t>(p.numel()));
    for (size_t i = 0; i < v.size(); ++i) v[i] = (i % 3 == 0) ? 0.f : 1.f;
    mask.set(name, Tensor::from_vector(v, p.shape()));
  }
  return mask;
}

}  // namespace

TEST_CASE("train_phase with 2 and 3 in-process CPU replicas equals one replica (MLP)", "[dist]") {
  TempDir d("par_mlp");
  Hparams tr = training_bundle(/*seeded=*/false, /*momentum=*/0.9);   // unseeded: the order comes from the generator
  tr.set("weight_decay", Value::flt(5e-4));
  RunContext c1 = replica_context(1);
  manual_seed(5);
  auto one = make_mlp(11);
  const auto init = flat_state(*one);
  const Outcome ref = phase(*one, d.sub("w1"), tr, Step(2 * kIpe, kIpe), c1);
  CHECK(max_abs_diff(flat_state(*one), init) > 1e-2);   // it trained
  for (int w : {2, 3}) {
    INFO("replicas " << w);
    std::printf("%d replicas:\n", w);
    RunContext cw = replica_context(w);
    manual_seed(5);
    auto m = make_mlp(11);
    const std::string dir = d.sub("w" + std::to_string(w));
    const Outcome o = phase(*m, dir, tr, Step(2 * kIpe, kIpe), cw);
    CHECK(o.steps == ref.steps);
    check_replicas_identical(o, static_cast<size_t>(w));
    const double pd = params_diff(o.params, ref.params);
    std::printf("  weights: max |difference| to one replica %.3g\n", pd);
    CHECK(pd <= 1e-4);
    check_logger_close(o.logger, ref.logger);
    // the same files as one replica; the generator advanced exactly as with one replica
    CHECK(model_exists(dir, Step(0, kIpe)));
    CHECK(model_exists(dir, Step(2 * kIpe, kIpe)));
    CHECK(io::file_exists(dir + "/checkpoint.safetensors"));
    const uint32_t after_w = global_generator().next_u32();
    auto again = make_mlp(11);
    TempDir d2("par_mlp_again");
    phase(*again, d2.path, tr, Step(2 * kIpe, kIpe), c1);
    CHECK(global_generator().next_u32() == after_w);
  }
}

namespace {

// A tiny CIFAR-10 binary tree (5 training files of 8 records, a test file of 10) for a BN model.
struct CifarRoot {
  std::string path;
  CifarRoot() {
    path = std::filesystem::temp_directory_path().string() + "/sdd_train_par_cifar_" + std::to_string(::getpid());
    const std::string dir = path + "/cifar10/cifar-10-batches-bin";
    std::filesystem::create_directories(dir);
    uint32_t s = 777u;
    auto next = [&]() { s = s * 1664525u + 1013904223u; return s >> 8; };
    auto write = [&](const std::string& f, int records) {
      std::ofstream o(dir + "/" + f, std::ios::binary);
      for (int r = 0; r < records; ++r) {
        std::vector<char> rec(3073);
        const int k = static_cast<int>(next() % 10);
        rec[0] = static_cast<char>(k);
        for (size_t i = 1; i < rec.size(); ++i) rec[i] = static_cast<char>((next() & 0x3f) + (((i - 1) % 1024) / 103 == static_cast<size_t>(k) ? 150 : 0));
        o.write(rec.data(), static_cast<std::streamsize>(rec.size()));
      }
    };
    for (int b = 1; b <= 5; ++b) write("data_batch_" + std::to_string(b) + ".bin", 8);
    write("test_batch.bin", 10);
  }
  ~CifarRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("a BN model trains with replicas identical to each other; sharded evaluation equals one pass", "[dist]") {
  static const CifarRoot root;
  Hparams ds = dataset_hparams();
  ds.set("dataset_name", Value::str("cifar10"));
  ds.set("batch_size", Value::integer(16));   // 40 examples: ipe 3, shards of 8 / 8 / 8 and 4 / 4
  Hparams tr = training_bundle(/*seeded=*/true, 0.9);
  tr.set("training_steps", Value::str("2ep"));
  tr.set("warmup_steps", Value::str("1it"));
  tr.set("milestone_steps", Value::str("1ep"));
  RunContext ctx = replica_context(2);
  ctx.dataset_root = root.path;
  TempDir d("par_bn");
  manual_seed(3);
  auto m = models::get_model("cifar_resnet_8_4", 10, "kaiming_normal", "uniform");
  const Outcome o = phase(*m, d.path, tr, Step(6, 3), ctx, nullptr, ds, 3);
  check_replicas_identical(o, 2);   // weights AND running statistics (replica 0's, broadcast every step)
  REQUIRE(o.logger.get("test_loss", 6).has_value());
  // The logged end evaluation (batches sharded over the replicas, sums all-reduced) equals one pass
  // of the final model over the whole test set.
  PhaseData data(*ctx.data, ds, 0, Device::cpu(), 0);
  const EvalResult one = evaluate(*m, data, /*train_split=*/false, 2);
  CHECK(*o.logger.get("test_loss", 6) == Approx(one.loss).epsilon(1e-5));
  CHECK(*o.logger.get("test_accuracy", 6) == Approx(one.accuracy));
  CHECK(*o.logger.get("test_examples", 6) == 10.0);
  CHECK(*o.logger.get("train_examples", 6) == 40.0);
}

TEST_CASE("a masked phase with 2 replicas keeps pruned weights exactly zero on every replica", "[dist]") {
  TempDir d("par_mask");
  const Hparams tr = training_bundle(true, 0.9);
  manual_seed(8);
  auto ref_model = make_mlp(12);
  const pruning::Mask mask = third_mask(*ref_model);
  RunContext c1 = replica_context(1), c2 = replica_context(2);
  const Outcome ref = phase(*ref_model, d.sub("w1"), tr, Step(kIpe + 3, kIpe), c1, &mask);
  manual_seed(8);
  auto m = make_mlp(12);
  const Outcome o = phase(*m, d.sub("w2"), tr, Step(kIpe + 3, kIpe), c2, &mask);
  check_replicas_identical(o, 2);
  CHECK(params_diff(o.params, ref.params) <= 1e-4);
  check_logger_close(o.logger, ref.logger);
  // every replica's masked positions are exactly zero (state dicts equal, checked on replica 0 and
  // on the saved end model)
  const auto end_file = io::load_safetensors(d.sub("w2") + "/" + model_file_name(Step(kIpe + 3, kIpe)));
  for (const std::string name : mask.names()) {
    const auto mv = mask.at(name).to_vector<float>();
    const auto live = m->parameter(name).to_vector<float>();
    const auto saved = end_file.get(name).to_vector<float>();
    int64_t zeros = 0, nonzero_free = 0;
    for (size_t i = 0; i < mv.size(); ++i) {
      if (mv[i] == 0.f) {
        zeros += (live[i] == 0.f && saved[i] == 0.f);
        REQUIRE(live[i] == 0.f);
        REQUIRE(saved[i] == 0.f);
      } else {
        nonzero_free += live[i] != 0.f;
      }
    }
    CHECK(zeros > 0);
    CHECK(nonzero_free > 0);
  }
}

TEST_CASE("regain with 2 replicas equals one replica and makes the network dense", "[dist]") {
  TempDir d("par_regain");
  Hparams tr = training_bundle(true, 0.9);
  tr.set("regain_pruned_weights_steps", Value::str("1ep"));
  manual_seed(9);
  auto ref_model = make_mlp(13);
  const pruning::Mask mask = third_mask(*ref_model);
  RunContext c1 = replica_context(1), c2 = replica_context(2);
  const Outcome ref = phase(*ref_model, d.sub("w1"), tr, Step(2 * kIpe, kIpe), c1, &mask);
  manual_seed(9);
  auto m = make_mlp(13);
  const Outcome o = phase(*m, d.sub("w2"), tr, Step(2 * kIpe, kIpe), c2, &mask);
  check_replicas_identical(o, 2);
  CHECK(params_diff(o.params, ref.params) <= 1e-4);
  check_logger_close(o.logger, ref.logger);
  // after the switch, formerly pruned weights train again on every replica
  const auto mv = mask.at("fc.weight").to_vector<float>();
  const auto w = m->parameter("fc.weight").to_vector<float>();
  int64_t revived = 0;
  for (size_t i = 0; i < mv.size(); ++i) revived += (mv[i] == 0.f && w[i] != 0.f);
  CHECK(revived > 0);
  const auto ck = io::load_safetensors(d.sub("w2") + "/checkpoint.safetensors");
  CHECK(ck.metadata.at("regain_done") == "1");
}

TEST_CASE("2 replicas stopped mid-phase resume to the uninterrupted result", "[dist]") {
  TempDir d("par_resume");
  Hparams tr = training_bundle(/*seeded=*/false, 0.9);
  manual_seed(4);
  auto whole = make_mlp(14);
  const pruning::Mask mask = third_mask(*whole);
  RunContext c2 = replica_context(2);
  manual_seed(77);
  const Outcome a = phase(*whole, d.sub("whole"), tr, Step(2 * kIpe, kIpe), c2, &mask);
  manual_seed(4);
  auto part = make_mlp(14);
  manual_seed(77);
  const Outcome first = phase(*part, d.sub("split"), tr, Step(kIpe, kIpe), c2, &mask);   // "killed" after 1ep
  CHECK(first.steps.size() == static_cast<size_t>(kIpe + 1));
  manual_seed(1234);   // the relaunch starts elsewhere: the checkpoint restores generator and weights
  auto relaunched = make_mlp(99);
  const Outcome b = phase(*relaunched, d.sub("split"), tr, Step(2 * kIpe, kIpe), c2, &mask);
  REQUIRE(!b.steps.empty());
  CHECK(b.steps.front() == kIpe);
  check_replicas_identical(b, 2);
  // in-process sums are deterministic: bitwise the same run
  CHECK(b.logger.str() == a.logger.str());
  CHECK(params_diff(a.params, b.params) == 0.0);
}

// ---------------------------------------------------------------- the binary

namespace {

std::string binary_flags(const std::string& results) {
  return "train --dataset_name=fashion_mnist --batch_size=70 --model_name=mnist_mlp_16 --model_init=kaiming_normal "
         "--batchnorm_init=uniform --optimizer_name=sgd --lr=0.1 --momentum=0.9 --training_steps=2ep --device=cpu "
         "--dataset_root=" + dataset_root() + " --results_root=" + results;
}

// The single run directory under a results root (train_<md5>/replicate_1/main).
std::string run_dir(const std::string& results) {
  for (const auto& e : std::filesystem::directory_iterator(results))
    if (e.path().filename().string().rfind("train_", 0) == 0) return e.path().string() + "/replicate_1/main";
  FAIL("no train_* directory under " << results);
  return "";
}

void check_same_run(const std::string& ref_results, const std::string& other_results) {
  const std::string a = run_dir(ref_results), b = run_dir(other_results);
  CHECK(std::filesystem::path(a).parent_path().filename() == std::filesystem::path(b).parent_path().filename());
  std::vector<std::string> fa, fb;
  for (const auto& e : std::filesystem::directory_iterator(a)) fa.push_back(e.path().filename().string());
  for (const auto& e : std::filesystem::directory_iterator(b)) fb.push_back(e.path().filename().string());
  std::sort(fa.begin(), fa.end());
  std::sort(fb.begin(), fb.end());
  CHECK(fa == fb);   // no stray files (temporary files of a second writer, ...)
  check_logger_close(MetricLogger::load(b), MetricLogger::load(a));
  const auto ta = test_runners::load_tensors(a + "/model_ep2_it0.safetensors");
  const auto tb = test_runners::load_tensors(b + "/model_ep2_it0.safetensors");
  REQUIRE(ta.size() == tb.size());
  double worst = 0.0;
  for (const auto& [name, t] : ta) worst = std::max(worst, max_abs_diff(t.to_vector<float>(), tb.at(name).to_vector<float>()));
  std::printf("  end model: max |difference| to one process %.3g\n", worst);
  CHECK(worst <= 1e-4);
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("sparsedd train with SPARSEDD_CPU_REPLICAS=2 equals one replica", "[dist]") {
  const std::string ref = test_runners::fresh_dir("par_bin_ref"), two = test_runners::fresh_dir("par_bin_two");
  std::string out, err;
  REQUIRE(test_runners::run_binary(binary_flags(ref) + " --quiet", &out, &err) == 0);
  ::setenv("SPARSEDD_CPU_REPLICAS", "2", 1);
  const int rc = test_runners::run_binary(binary_flags(two) + " --quiet", &out, &err);
  ::unsetenv("SPARSEDD_CPU_REPLICAS");
  INFO(err);
  REQUIRE(rc == 0);
  std::printf("SPARSEDD_CPU_REPLICAS=2:\n");
  check_same_run(ref, two);
  ::setenv("SPARSEDD_CPU_REPLICAS", "two", 1);
  CHECK(test_runners::run_binary(binary_flags(test_runners::fresh_dir("par_bin_bad")), &out, &err) == 2);
  ::unsetenv("SPARSEDD_CPU_REPLICAS");
  CHECK(err.find("SPARSEDD_CPU_REPLICAS") != std::string::npos);
  std::filesystem::remove_all(ref);
  std::filesystem::remove_all(two);
}

TEST_CASE("mpirun -np 2 sparsedd train on loopback equals one process; only rank 0 prints", "[dist]") {
#ifndef SDD_HAVE_MPI
  std::printf("SKIPPED: built without MPI (install libopenmpi-dev and rebuild)\n");
  return;
#else
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) {
    std::printf("SKIPPED: mpirun not found (apt-get install openmpi-bin)\n");
    return;
  }
  if (dist::launched_under_mpi()) return;   // never recurse
  const std::string ref = test_runners::fresh_dir("par_mpi_ref"), mpi = test_runners::fresh_dir("par_mpi_two");
  REQUIRE(test_runners::run_binary(binary_flags(ref) + " --quiet") == 0);
  const std::string log = mpi + ".log";
  const std::string cmd = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 "
                          "OPENBLAS_NUM_THREADS=1 mpirun -np 2 --oversubscribe --bind-to none --mca btl self,tcp "
                          "--mca btl_tcp_if_include lo --mca oob_tcp_if_include lo " +
                          std::string(SDD_SPARSEDD_EXE) + " " + binary_flags(mpi) + " > '" + log + "' 2>/dev/null";
  const int rc = std::system(cmd.c_str());
  const std::string out = test_runners::read_text(log);
  std::remove(log.c_str());
  INFO("mpirun output:\n" << out);
  REQUIRE(rc == 0);
  CHECK(count(out, "results: ") == 1);   // the final table, from rank 0 only
  CHECK(count(out, "train\tep 002") == 1);
  std::printf("mpirun -np 2:\n");
  check_same_run(ref, mpi);
  std::filesystem::remove_all(ref);
  std::filesystem::remove_all(mpi);
#endif
}

TEST_CASE("device policy: every listed GPU is a replica; no GPU warns and uses the CPU; too few GPUs is an error", "[dist]") {
  std::ostringstream warn;
  CHECK(select_devices(std::nullopt, std::string("0,1,2,3"), 4, warn) ==
        std::vector<Device>{Device::cuda(0), Device::cuda(1), Device::cuda(2), Device::cuda(3)});
  CHECK(select_devices(std::nullopt, std::nullopt, 2, warn) == std::vector<Device>{Device::cuda(0), Device::cuda(1)});
  CHECK(select_devices(std::string("cuda:1"), std::nullopt, 2, warn) == std::vector<Device>{Device::cuda(1)});
  CHECK(warn.str().empty());
  // no GPU at all: the CPU, one warning line (SPARSEDD_CPU_REPLICAS-style count honoured)
  CHECK(select_devices(std::nullopt, std::string("0,1,2,3"), 0, warn) == std::vector<Device>{Device::cpu()});
  const std::string warned = warn.str();
  CHECK(std::count(warned.begin(), warned.end(), '\n') == 1);
  CHECK(warned.find("using the CPU") != std::string::npos);
  CHECK(select_devices(std::nullopt, std::nullopt, 0, warn, 3) == std::vector<Device>(3, Device::cpu()));
  // some GPUs but fewer than listed: an error naming what was found
  try {
    select_devices(std::nullopt, std::string("0,1,2,3"), 2, warn);
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).find("2 CUDA devices found") != std::string::npos);
  }
  CHECK_THROWS_AS(select_devices(std::nullopt, std::string("0,0"), 2, warn), UserError);
  // under mpirun: GPU `local rank`, or the CPU
  const std::vector<Device> two = {Device::cuda(0), Device::cuda(1)};
  CHECK(process_device(two, 1) == Device::cuda(1));
  CHECK_THROWS_AS(process_device(two, 2), UserError);
  CHECK(process_device({Device::cpu()}, 5) == Device::cpu());
}
