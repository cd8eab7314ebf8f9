// bench/dist_bench.cpp — all-reduce time of a flat gradient arena of 11M floats (ResNet-18) and 43M
// floats (ResNet-50-sized) with each communicator available, and a printed data-parallel scaling
// estimate (Google Benchmark, wall-clock time).
//
//   InProcess/<replicas>/<floats>: the in-process communicator (threads, host memory), 2 and 4
//     replicas; one all_reduce_sum per iteration on every replica.
//   Mpi/<floats>: only when started under mpirun, e.g.
//       OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 2 --oversubscribe
//         build/bench/dist_bench --benchmark_filter=Mpi   (one line)
//     (fixed iteration count so every rank runs the same number of collectives).
//   Nccl/<gpus>gpus/<floats>: when NCCL is built and 2+ GPUs are visible (every GPU, one thread each).
//
// Before timing, every all-reduce result is checked at sampled entries against the expected sum
// (rank r contributes r + 1 everywhere, so every element must be W(W+1)/2); a wrong sum is reported as
// an error instead of a number.
//
// Scaling estimate (printed at the end): with the global batch fixed, a step on W GPUs takes
//   t(W) = t_compute / W + t_allreduce(W),   speedup(W) = t_compute / t(W)
// t_compute is SDD_BENCH_STEP_MS (e.g. a measured GPU training step of ResNet-18 at batch 128) when
// set, otherwise the measured CPU step of an 11M-parameter MLP at batch 128 (forward, backward, SGD).
// t_allreduce(W) is the measured time for W replicas (NCCL when measured, else in-process); W values
// not measured are extrapolated from the largest measured W by the ring all-reduce volume 2(W-1)/W.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/dist/communicator.h"
#include "engine/dist/in_process_communicator.h"
#ifdef SDD_HAVE_MPI
#include "engine/dist/mpi_communicator.h"
#endif
#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "engine/rng.h"

namespace {

using sdd::Device;
using sdd::Tensor;
using sdd::dist::Communicator;

constexpr int64_t k11M = 11'173'962;   // ResNet-18 (CIFAR) parameter count
constexpr int64_t k43M = 43'000'000;

// (backend, replicas, floats) -> seconds per all-reduce
std::map<std::tuple<std::string, int, int64_t>, double> g_measured;
double g_step_seconds = 0.0;
std::string g_step_source;

bool sum_ok(const Tensor& t, int w) {
  const float expect = static_cast<float>(w * (w + 1) / 2);
  const int64_t n = t.numel();
  Tensor probe = t.device().is_cpu() ? t : t.to(Device::cpu());
  const float* p = probe.data<float>();
  for (int64_t i : {int64_t{0}, n / 3, n / 2, n - 1})
    if (p[i] != expect) return false;
  return true;
}

void BM_InProcess(benchmark::State& state) {
  const int w = static_cast<int>(state.range(0));
  const int64_t n = state.range(1);
  auto comms = sdd::dist::make_local_communicators(std::vector<Device>(static_cast<size_t>(w), Device::cpu()),
                                                   sdd::dist::Backend::InProcess);
  std::vector<Tensor> bufs;
  for (int r = 0; r < w; ++r) bufs.push_back(Tensor::full({n}, r + 1.0));
  auto all_reduce = [&] {
    std::vector<std::thread> th;
    for (int r = 0; r < w; ++r) th.emplace_back([&, r] { comms[static_cast<size_t>(r)]->all_reduce_sum(bufs[static_cast<size_t>(r)]); });
    for (auto& t : th) t.join();
  };
  all_reduce();
  for (int r = 0; r < w; ++r)
    if (!sum_ok(bufs[static_cast<size_t>(r)], w)) {
      state.SkipWithError("in-process all-reduce gave a wrong sum");
      return;
    }
  double total = 0.0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    all_reduce();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    total += s;
  }
  g_measured[{"inprocess", w, n}] = total / static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(n) * 4.0 * state.iterations() / 1e9 / total);
}

#ifdef SDD_HAVE_MPI
void BM_Mpi(benchmark::State& state) {
  const int64_t n = state.range(0);
  sdd::dist::MpiCommunicator comm;
  Tensor buf = Tensor::full({n}, comm.rank() + 1.0);
  comm.all_reduce_sum(buf);
  if (!sum_ok(buf, comm.world_size())) {
    state.SkipWithError("MPI all-reduce gave a wrong sum");
    return;
  }
  double total = 0.0;
  for (auto _ : state) {
    comm.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    comm.all_reduce_sum(buf);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    total += s;
  }
  g_measured[{"mpi", comm.world_size(), n}] = total / static_cast<double>(state.iterations());
}
#endif

void BM_Nccl(benchmark::State& state) {
  const int w = sdd::cuda_device_count();
  const int64_t n = state.range(0);
  std::vector<Device> devs;
  for (int d = 0; d < w; ++d) devs.push_back(Device::cuda(d));
  auto comms = sdd::dist::make_local_communicators(devs, sdd::dist::Backend::Nccl);
  std::vector<Tensor> bufs;
  for (int r = 0; r < w; ++r) bufs.push_back(Tensor::full({n}, r + 1.0, sdd::DType::f32, devs[static_cast<size_t>(r)]));
  auto all_reduce = [&] {
    std::vector<std::thread> th;
    for (int r = 0; r < w; ++r)
      th.emplace_back([&, r] {
        comms[static_cast<size_t>(r)]->all_reduce_sum(bufs[static_cast<size_t>(r)]);
        comms[static_cast<size_t>(r)]->barrier();   // includes a stream synchronisation
      });
    for (auto& t : th) t.join();
  };
  all_reduce();
  if (!sum_ok(bufs[0], w)) {
    state.SkipWithError("NCCL all-reduce gave a wrong sum");
    return;
  }
  double total = 0.0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    all_reduce();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    total += s;
  }
  g_measured[{"nccl", w, n}] = total / static_cast<double>(state.iterations());
}

// One training step of an MLP with ~11M parameters (3072-2048-2048-1024-10... sized to 11M) at batch
// 128 on the CPU: the compute side of the estimate when SDD_BENCH_STEP_MS is not given.
void measure_step() {
  if (const char* ms = std::getenv("SDD_BENCH_STEP_MS")) {
    g_step_seconds = std::atof(ms) / 1000.0;
    g_step_source = "SDD_BENCH_STEP_MS";
    return;
  }
  using namespace sdd::nn;
  sdd::manual_seed(1);
  Sequential mlp({std::make_shared<Linear>(3072, 2048), std::make_shared<ReLU>(), std::make_shared<Linear>(2048, 2048),
                  std::make_shared<ReLU>(), std::make_shared<Linear>(2048, 1200), std::make_shared<ReLU>(),
                  std::make_shared<Linear>(1200, 10)});
  FlatParams fp = flatten_parameters(mlp);
  sdd::optim::Sgd opt(fp, sdd::optim::SgdOptions{0.9, false, 5e-4});
  Tensor x = Tensor::full({128, 3072}, 0.01);
  std::vector<int64_t> ys(128);
  for (size_t i = 0; i < ys.size(); ++i) ys[i] = static_cast<int64_t>(i % 10);
  Tensor y = Tensor::from_vector(ys, {128});
  auto step = [&] {
    opt.zero_grad();
    Tensor loss = sdd::ops::cross_entropy(mlp(x), y);
    loss.backward();
    opt.step(0.01);
  };
  step();
  const int reps = 3;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) step();
  g_step_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
  g_step_source = "CPU step of a " + std::to_string(fp.total / 1000000) + "M-parameter MLP, batch 128";
}

void print_estimate() {
  for (int64_t n : {k11M, k43M}) {
    // Prefer NCCL measurements, then in-process.
    std::map<int, double> ar;
    for (const char* b : {"inprocess", "mpi", "nccl"})
      for (auto& [key, s] : g_measured)
        if (std::get<0>(key) == b && std::get<2>(key) == n) ar[std::get<1>(key)] = s;
    if (ar.empty()) continue;
    const auto [wmax, tmax] = *ar.rbegin();
    std::printf("\nscaling estimate, %lld floats, compute %.2f ms per step (%s):\n", static_cast<long long>(n),
                g_step_seconds * 1e3, g_step_source.c_str());
    std::printf("  GPUs  all-reduce ms  step ms  speedup  efficiency\n");
    for (int w : {1, 2, 4, 8}) {
      double t_ar = 0.0;
      const char* how = "";
      if (w > 1) {
        auto it = ar.find(w);
        if (it != ar.end()) {
          t_ar = it->second;
          how = "measured";
        } else {
          // ring all-reduce moves 2(W-1)/W of the buffer per rank
          t_ar = tmax * (2.0 * (w - 1) / w) / (2.0 * (wmax - 1) / wmax);
          how = "extrapolated";
        }
      }
      const double t = g_step_seconds / w + t_ar;
      std::printf("  %4d  %13.2f  %7.2f  %7.2f  %9.0f%%  %s\n", w, t_ar * 1e3, t * 1e3, g_step_seconds / t,
                  100.0 * g_step_seconds / t / w, how);
    }
  }
  std::printf("(the all-reduce numbers above come from the backends listed in the benchmark names; run the NCCL\n"
              " bench on a multi-GPU machine and pass SDD_BENCH_STEP_MS for a GPU step to estimate GPU scaling)\n");
}

}  // namespace

int main(int argc, char** argv) {
  for (int64_t n : {k11M, k43M})
    for (int w : {2, 4})
      benchmark::RegisterBenchmark("InProcess", BM_InProcess)
          ->Args({w, n})
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
  const bool mpi = sdd::dist::launched_under_mpi() && sdd::dist::backend_built(sdd::dist::Backend::Mpi);
#ifdef SDD_HAVE_MPI
  if (mpi)
    for (int64_t n : {k11M, k43M})
      benchmark::RegisterBenchmark("Mpi", BM_Mpi)
          ->Arg(n)
          ->Iterations(10)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
#endif
  if (!mpi)
    std::printf("MPI all-reduce: not measured (run this binary under mpirun -np 2 --oversubscribe "
                "--benchmark_filter=Mpi to measure it)\n");
  if (sdd::dist::backend_built(sdd::dist::Backend::Nccl) && sdd::cuda_device_count() >= 2)
    for (int64_t n : {k11M, k43M})
      benchmark::RegisterBenchmark(("Nccl/" + std::to_string(sdd::cuda_device_count()) + "gpus").c_str(), BM_Nccl)
          ->Arg(n)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
  else
    std::printf("NCCL all-reduce: not measured (needs an NCCL build and 2+ GPUs)\n");
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  measure_step();
  print_estimate();
  benchmark::Shutdown();
  return 0;
}
