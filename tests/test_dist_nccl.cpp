// tests/test_dist_nccl.cpp — the NCCL communicator on CUDA tensors: one rank on cuda:0 ([cuda]), and
// one process driving 2+ GPUs with ncclCommInitAll ([multigpu]): all-reduce sum / mean, broadcast,
// barrier, and the data-parallel gradient step against the in-process communicator on the same data.
// Both skip visibly (SKIPPED: ...) without NCCL or enough GPUs.
#include <catch2/catch.hpp>

#include <cstdio>
#include <thread>

#include "engine/dist/communicator.h"
#include "engine/dist/data_parallel.h"
#include "engine/dist/in_process_communicator.h"

using namespace sdd;
using namespace sdd::dist;

namespace {

bool skip_unless(int gpus) {
  if (!backend_built(Backend::Nccl)) {
    std::printf("SKIPPED: built without NCCL\n");
    return true;
  }
  if (cuda_device_count() < gpus) {
    std::printf("SKIPPED: needs %d CUDA device(s), found %d\n", gpus, cuda_device_count());
    return true;
  }
  return false;
}

std::vector<float> rank_values(int r, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>((r + 1) * 0.25 + (i % 97) * 1e-2);
  return v;
}

// Runs the collectives on `w` GPUs (one thread each) and returns what every rank ended with.
struct Seen {
  std::vector<float> sum, mean, bcast, grad;
};
std::vector<Seen> run_collectives(std::vector<std::unique_ptr<Communicator>>& comms, const std::vector<Device>& devs,
                                  int64_t n) {
  const int w = static_cast<int>(comms.size());
  std::vector<Seen> seen(static_cast<size_t>(w));
  std::vector<std::exception_ptr> errs(static_cast<size_t>(w));
  std::vector<std::thread> threads;
  for (int r = 0; r < w; ++r)
    threads.emplace_back([&, r] {
      try {
        Communicator& c = *comms[static_cast<size_t>(r)];
        const Device d = devs[static_cast<size_t>(r)];
        Seen& s = seen[static_cast<size_t>(r)];
        Tensor t = Tensor::from_vector(rank_values(r, n), {n}, d);
        c.all_reduce_sum(t);
        s.sum = t.to_vector<float>();
        t = Tensor::from_vector(rank_values(r, n), {n}, d);
        c.all_reduce_mean(t);
        s.mean = t.to_vector<float>();
        t = Tensor::from_vector(rank_values(r, n), {n}, d);
        c.broadcast(t, w - 1);
        s.bcast = t.to_vector<float>();
        // weighted step: shards of a global batch of 2w+1 rows
        const Shard sh = shard_of(2 * w + 1, w, r);
        t = Tensor::from_vector(rank_values(r, n), {n}, d);
        all_reduce_gradients(c, t, sh.size, 2 * w + 1);
        s.grad = t.to_vector<float>();
        c.barrier();
      } catch (...) {
        errs[static_cast<size_t>(r)] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errs)
    if (e) std::rethrow_exception(e);
  return seen;
}

void check_against_in_process(int w, const std::vector<Seen>& seen, int64_t n) {
  auto cpu = make_local_communicators(std::vector<Device>(static_cast<size_t>(w), Device::cpu()), Backend::InProcess);
  const auto ref = run_collectives(cpu, std::vector<Device>(static_cast<size_t>(w), Device::cpu()), n);
  for (int r = 0; r < w; ++r) {
    INFO("rank " << r);
    const Seen& s = seen[static_cast<size_t>(r)];
    for (int64_t i = 0; i < n; ++i) {
      const size_t k = static_cast<size_t>(i);
      REQUIRE(s.sum[k] == Approx(ref[0].sum[k]).epsilon(1e-6));
      REQUIRE(s.mean[k] == Approx(ref[0].mean[k]).epsilon(1e-6));
      REQUIRE(s.bcast[k] == ref[0].bcast[k]);
      REQUIRE(s.grad[k] == Approx(ref[0].grad[k]).epsilon(1e-6));
    }
  }
}

}  // namespace

TEST_CASE("NCCL communicator with one rank on cuda:0", "[cuda][dist]") {
  if (skip_unless(1)) return;
  const std::vector<Device> devs = {Device::cuda(0)};
  auto comms = make_local_communicators(devs, Backend::Nccl);
  REQUIRE(comms.size() == 1);
  CHECK(comms[0]->backend_name() == "nccl");
  const auto seen = run_collectives(comms, devs, 4099);
  check_against_in_process(1, seen, 4099);
}

TEST_CASE("NCCL communicator: one process driving every visible GPU (ncclCommInitAll)", "[multigpu][dist]") {
  if (skip_unless(2)) return;
  std::vector<Device> devs;
  for (int d = 0; d < cuda_device_count(); ++d) devs.push_back(Device::cuda(d));
  auto comms = make_local_communicators(devs);   // Auto picks NCCL for CUDA devices
  REQUIRE(comms.size() == devs.size());
  CHECK(comms[0]->backend_name() == "nccl");
  const int64_t n = 100003;
  const auto seen = run_collectives(comms, devs, n);
  check_against_in_process(static_cast<int>(devs.size()), seen, n);
}

TEST_CASE("in-process communicator stages CUDA tensors through the host", "[cuda][dist]") {
  if (cuda_device_count() < 1) {
    std::printf("SKIPPED: no CUDA device\n");
    return;
  }
  InProcessGroup group(2);
  std::vector<std::vector<float>> got(2);
  group.run([&](Communicator& c) {
    Tensor t = Tensor::from_vector(rank_values(c.rank(), 33), {33}, Device::cuda(0));
    c.all_reduce_mean(t);
    CHECK(t.device() == Device::cuda(0));
    got[static_cast<size_t>(c.rank())] = t.to_vector<float>();
  });
  CHECK(got[0] == got[1]);
  CHECK(got[0][5] == Approx((rank_values(0, 33)[5] + rank_values(1, 33)[5]) / 2));
}
