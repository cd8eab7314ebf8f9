// tests/test_dist_train.cpp — data parallelism end to end on the CPU: W = 2 and 3 in-process replicas
// train a small MLP on the same global batches (uneven shards, an empty shard at the last batch) and
// end with the weights of one replica within 1e-5; a BN model keeps replicas identical with
// per-replica batch statistics and replica 0's running statistics; mpirun -np 2 on loopback (this
// binary re-run under mpirun with the hidden [.mpi_worker] test) equals one process.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>

#include <unistd.h>

#include "engine/dist/communicator.h"
#include "engine/dist/data_parallel.h"
#include "engine/dist/in_process_communicator.h"
#ifdef SDD_HAVE_MPI
#include "engine/dist/mpi_communicator.h"
#endif
#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "engine/rng.h"

using namespace sdd;
using namespace sdd::dist;
using namespace sdd::nn;

namespace {

constexpr int64_t kIn = 5, kClasses = 3;

struct Batch {
  Tensor x;   // f32 [B, kIn]
  Tensor y;   // i64 [B]
};

// The global batches every replica sees, in order: sizes 12, 10, 7 and a last partial batch of 2
// (with W = 3 the last rank's shard is empty there).
std::vector<Batch> make_batches(const std::vector<int64_t>& sizes) {
  Generator g(99);
  std::vector<Batch> out;
  for (int64_t b : sizes) {
    std::vector<float> xs(static_cast<size_t>(b * kIn));
    std::vector<int64_t> ys(static_cast<size_t>(b));
    for (float& v : xs) v = static_cast<float>(g.normal());
    for (int64_t& v : ys) v = static_cast<int64_t>(g.below(kClasses));
    out.push_back({Tensor::from_vector(xs, {b, kIn}), Tensor::from_vector(ys, {b})});
  }
  return out;
}

std::shared_ptr<Sequential> make_mlp(uint64_t seed) {
  manual_seed(seed);
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(kIn, 16), std::make_shared<ReLU>(), std::make_shared<Linear>(16, 16),
      std::make_shared<ReLU>(), std::make_shared<Linear>(16, kClasses)});
}

// BN first, so its running statistics are those of the raw input shards.
std::shared_ptr<Sequential> make_bn_model(uint64_t seed) {
  manual_seed(seed);
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<BatchNorm2d>(kIn), std::make_shared<Linear>(kIn, 8), std::make_shared<ReLU>(),
      std::make_shared<Linear>(8, kClasses)});
}

struct ReplicaResult {
  std::vector<float> params;
  std::vector<float> running_mean, running_var;   // first BN layer, when there is one
};

// One replica's training loop: the data-parallel step as a trainer would run it.
// Replica r starts from model seed 1000 + r; broadcast_parameters makes every replica start as rank 0.
ReplicaResult train_replica(Communicator& comm, bool bn, const std::vector<Batch>& batches) {
  static std::mutex init_mutex;   // model init draws from the process-wide generator
  std::unique_lock<std::mutex> lk(init_mutex);
  auto model = bn ? make_bn_model(1000 + static_cast<uint64_t>(comm.rank()))
                  : make_mlp(1000 + static_cast<uint64_t>(comm.rank()));
  lk.unlock();
  FlatParams fp = flatten_parameters(*model);
  broadcast_parameters(comm, fp.params, 0);
  broadcast_buffers(comm, *model, 0);
  optim::Sgd opt(fp, optim::SgdOptions{0.9, true, 5e-4});
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (const Batch& b : batches) {
      const int64_t global = b.x.size(0);
      const Shard s = shard_of(global, comm.world_size(), comm.rank());
      opt.zero_grad();
      if (!s.empty()) {
        Tensor loss = ops::cross_entropy((*model)(shard_rows(b.x, s)), shard_rows(b.y, s));   // mean over the shard
        loss.backward();
      }
      all_reduce_gradients(comm, fp.grads, s.size, global);   // -> mean over the global batch
      opt.step(0.1);
      if (bn) broadcast_buffers(comm, *model, 0);
    }
  }
  ReplicaResult r;
  r.params = fp.params.to_vector<float>();
  if (bn) {
    auto& bnl = dynamic_cast<BatchNorm2d&>((*model)[0]);
    r.running_mean = bnl.running_mean.to_vector<float>();
    r.running_var = bnl.running_var.to_vector<float>();
  }
  return r;
}

std::vector<ReplicaResult> train_in_process(int w, bool bn, const std::vector<Batch>& batches) {
  std::vector<ReplicaResult> out(static_cast<size_t>(w));
  InProcessGroup group(w);
  group.run([&](Communicator& comm) { out[static_cast<size_t>(comm.rank())] = train_replica(comm, bn, batches); });
  return out;
}

// Max |a - b|, REQUIREing equal sizes; prints the worst index.
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0.0;
  size_t at = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (d > worst) worst = d, at = i;
  }
  if (worst > 0) INFO("worst index " << at << ": " << a[at] << " vs " << b[at]);
  return worst;
}

const std::vector<int64_t> kMlpBatches = {12, 10, 7, 2};
const std::vector<int64_t> kBnBatches = {12, 10, 9};   // every shard keeps >= 2 rows (BN needs 2 to train)

}  // namespace

TEST_CASE("2 and 3 in-process replicas train an MLP to the weights of one replica", "[dist]") {
  const auto batches = make_batches(kMlpBatches);
  SingleCommunicator single;
  const ReplicaResult ref = train_replica(single, false, batches);
  // the run did move the weights
  const auto init = flatten_parameters(*make_mlp(1000)).params.to_vector<float>();
  CHECK(max_abs_diff(ref.params, init) > 1e-2);
  for (int w : {2, 3}) {
    INFO("world size " << w);
    const auto res = train_in_process(w, false, batches);
    for (int r = 0; r < w; ++r) {
      CHECK(res[static_cast<size_t>(r)].params == res[0].params);   // replicas bitwise identical
    }
    CHECK(max_abs_diff(res[0].params, ref.params) <= 1e-5);
    // run to run: identical
    CHECK(train_in_process(w, false, batches)[1].params == res[1].params);
  }
}

TEST_CASE("BN replicas: per-replica batch statistics, identical weights, running stats of replica 0", "[dist]") {
  const auto batches = make_batches(kBnBatches);
  const int w = 3;
  const auto res = train_in_process(w, true, batches);
  for (int r = 1; r < w; ++r) {
    CHECK(res[static_cast<size_t>(r)].params == res[0].params);
    CHECK(res[static_cast<size_t>(r)].running_mean == res[0].running_mean);
    CHECK(res[static_cast<size_t>(r)].running_var == res[0].running_var);
  }
  // Expected running statistics: PyTorch's update (momentum 0.1, unbiased variance) fed with rank 0's
  // shard of every step only.
  std::vector<double> rm(kIn, 0.0), rv(kIn, 1.0);
  for (int epoch = 0; epoch < 2; ++epoch)
    for (const Batch& b : batches) {
      const Shard s = shard_of(b.x.size(0), w, 0);
      const auto xs = shard_rows(b.x, s).to_vector<float>();
      for (int64_t c = 0; c < kIn; ++c) {
        double mean = 0.0, sq = 0.0;
        for (int64_t i = 0; i < s.size; ++i) mean += xs[static_cast<size_t>(i * kIn + c)];
        mean /= static_cast<double>(s.size);
        for (int64_t i = 0; i < s.size; ++i) {
          const double d = xs[static_cast<size_t>(i * kIn + c)] - mean;
          sq += d * d;
        }
        rm[static_cast<size_t>(c)] = 0.9 * rm[static_cast<size_t>(c)] + 0.1 * mean;
        rv[static_cast<size_t>(c)] = 0.9 * rv[static_cast<size_t>(c)] + 0.1 * sq / static_cast<double>(s.size - 1);
      }
    }
  for (int64_t c = 0; c < kIn; ++c) {
    CHECK(res[0].running_mean[static_cast<size_t>(c)] == Approx(rm[static_cast<size_t>(c)]).margin(1e-5));
    CHECK(res[0].running_var[static_cast<size_t>(c)] == Approx(rv[static_cast<size_t>(c)]).margin(1e-5));
  }
  // Per-replica statistics make the result differ from one replica on the whole batch (documented).
  SingleCommunicator single;
  const ReplicaResult one = train_replica(single, true, batches);
  CHECK(max_abs_diff(one.params, res[0].params) > 1e-4);
}

// ---------------------------------------------------------------- MPI across processes

namespace {
void write_floats(const std::string& path, const std::vector<float>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
}
std::vector<float> read_floats(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return {};
  const auto n = static_cast<size_t>(f.tellg()) / sizeof(float);
  std::vector<float> v(n);
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(float)));
  return v;
}
}  // namespace

// Run only by the test below, under mpirun: each rank trains its replica over MPI and writes its
// weights to $SDD_DIST_MPI_OUT.rank<R>.
TEST_CASE("mpi worker: one data-parallel replica per process", "[.mpi_worker]") {
#ifdef SDD_HAVE_MPI
  const char* out = std::getenv("SDD_DIST_MPI_OUT");
  REQUIRE(out != nullptr);
  MpiCommunicator comm;
  const ReplicaResult res = train_replica(comm, false, make_batches(kMlpBatches));
  write_floats(std::string(out) + ".rank" + std::to_string(comm.rank()), res.params);
  Tensor probe = Tensor::full({3}, comm.rank() + 1.0);
  comm.all_reduce_mean(probe);   // (1 + 2) / 2
  CHECK(probe.to_vector<float>() == std::vector<float>{1.5f, 1.5f, 1.5f});
  comm.barrier();
#else
  FAIL("built without MPI");
#endif
}

TEST_CASE("mpirun -np 2 on loopback trains to the weights of one process", "[dist]") {
#ifndef SDD_HAVE_MPI
  std::printf("SKIPPED: built without MPI (install libopenmpi-dev and rebuild)\n");
  return;
#else
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) {
    std::printf("SKIPPED: mpirun not found (apt-get install openmpi-bin)\n");
    return;
  }
  if (launched_under_mpi()) return;   // never recurse
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  REQUIRE(n > 0);
  exe[n] = '\0';
  const std::string out = std::string(SDD_BINARY_DIR) + "/test_dist_mpi_" + std::to_string(getpid());
  const std::string cmd = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 SDD_DIST_MPI_OUT='" +
                          out + "' mpirun -np 2 --oversubscribe --bind-to none --mca btl self,tcp --mca "
                          "btl_tcp_if_include lo --mca oob_tcp_if_include lo '" +
                          std::string(exe) + "' '[.mpi_worker]' > '" + out + ".log' 2>&1";
  const int rc = std::system(cmd.c_str());
  std::string log;
  {
    std::ifstream f(out + ".log");
    log.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  INFO("mpirun output:\n" << log);
  REQUIRE(rc == 0);
  const auto r0 = read_floats(out + ".rank0");
  const auto r1 = read_floats(out + ".rank1");
  for (const char* suffix : {".rank0", ".rank1", ".log"}) std::remove((out + suffix).c_str());
  SingleCommunicator single;
  const ReplicaResult ref = train_replica(single, false, make_batches(kMlpBatches));
  REQUIRE(r0.size() == ref.params.size());
  CHECK(r1 == r0);
  CHECK(max_abs_diff(r0, ref.params) <= 1e-5);
#endif
}
