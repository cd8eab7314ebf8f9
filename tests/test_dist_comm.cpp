// tests/test_dist_comm.cpp — communicator collectives and the batch split: in-process all-reduce
// (sum, mean, deterministic, any world size), broadcast, barrier, abort on a failing replica, the
// single communicator, backend names, and the contiguous shard split with empty shards.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/dist/communicator.h"
#include "engine/dist/data_parallel.h"
#include "engine/dist/in_process_communicator.h"

using namespace sdd;
using namespace sdd::dist;

namespace {
// Rank r's input: element i = (r + 1) * 0.1 + i * 1e-3 (different on every rank and element).
std::vector<float> rank_values(int r, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>((r + 1) * 0.1 + i * 1e-3);
  return v;
}
}  // namespace

TEST_CASE("batch split: contiguous shards differing by at most one, empty shards at a small batch", "[dist]") {
  for (int64_t b : {0, 1, 2, 5, 10, 11, 128, 129}) {
    for (int w : {1, 2, 3, 4, 8}) {
      auto shards = split_batch(b, w);
      REQUIRE(shards.size() == static_cast<size_t>(w));
      int64_t next = 0, lo = b, hi = 0;
      for (int r = 0; r < w; ++r) {
        CHECK(shards[static_cast<size_t>(r)].begin == next);
        next += shards[static_cast<size_t>(r)].size;
        lo = std::min(lo, shards[static_cast<size_t>(r)].size);
        hi = std::max(hi, shards[static_cast<size_t>(r)].size);
        if (r > 0) CHECK(shards[static_cast<size_t>(r)].size <= shards[static_cast<size_t>(r - 1)].size);
      }
      CHECK(next == b);
      CHECK(hi - lo <= 1);
    }
  }
  CHECK(shard_of(10, 3, 0).size == 4);
  CHECK(shard_of(10, 3, 1).begin == 4);
  CHECK(shard_of(10, 3, 2).begin == 7);
  CHECK(shard_of(2, 3, 2).empty());
  CHECK(shard_of(2, 3, 2).begin == 2);

  Tensor x = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {5, 2});
  Tensor s = shard_rows(x, shard_of(5, 2, 1));   // rows 3..4
  CHECK(s.shape() == Shape{2, 2});
  CHECK(s.to_vector<float>() == std::vector<float>{6, 7, 8, 9});
  CHECK_FALSE(shard_rows(x, Shard{5, 0}).defined());
  CHECK_THROWS(shard_rows(x, Shard{4, 2}));
}

TEST_CASE("in-process all_reduce sum and mean over 2 and 3 replicas, identical on every rank", "[dist]") {
  for (int w : {2, 3}) {
    const int64_t n = 1001;   // not a multiple of w: uneven chunks
    std::vector<std::vector<float>> sums(static_cast<size_t>(w)), means(static_cast<size_t>(w));
    InProcessGroup group(w);
    group.run([&](Communicator& comm) {
      CHECK(comm.world_size() == w);
      CHECK(comm.backend_name() == "inprocess");
      Tensor t = Tensor::from_vector(rank_values(comm.rank(), n), {n});
      comm.all_reduce_sum(t);
      sums[static_cast<size_t>(comm.rank())] = t.to_vector<float>();
      Tensor m = Tensor::from_vector(rank_values(comm.rank(), n), {7, 11, 13});
      comm.all_reduce_mean(m);
      means[static_cast<size_t>(comm.rank())] = m.to_vector<float>();
    });
    for (int64_t i = 0; i < n; ++i) {
      float expect = 0.f;   // rank order, as the communicator sums
      for (int r = 0; r < w; ++r) expect += rank_values(r, n)[static_cast<size_t>(i)];
      REQUIRE(sums[0][static_cast<size_t>(i)] == expect);
      REQUIRE(means[0][static_cast<size_t>(i)] == Approx(expect / w).epsilon(1e-6));
    }
    for (int r = 1; r < w; ++r) {
      CHECK(sums[static_cast<size_t>(r)] == sums[0]);     // bitwise identical everywhere
      CHECK(means[static_cast<size_t>(r)] == means[0]);
    }
  }
}

TEST_CASE("in-process broadcast from every root, barrier, and a world of one", "[dist]") {
  const int w = 3;
  std::atomic<int> before{0};
  std::atomic<int> wrong{0};
  InProcessGroup group(w);
  group.run([&](Communicator& comm) {
    for (int root = 0; root < w; ++root) {
      Tensor t = Tensor::from_vector(rank_values(comm.rank(), 17), {17});
      comm.broadcast(t, root);
      if (t.to_vector<float>() != rank_values(root, 17)) ++wrong;
    }
    // Nobody leaves the barrier before everybody entered it.
    if (comm.rank() == 2) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ++before;
    comm.barrier();
    if (before.load() != w) ++wrong;
  });
  CHECK(wrong.load() == 0);

  InProcessGroup one(1);
  one.run([](Communicator& comm) {
    Tensor t = Tensor::from_vector(std::vector<float>{1.5f, -2.f}, {2});
    comm.all_reduce_mean(t);
    comm.broadcast(t, 0);
    comm.barrier();
    CHECK(t.to_vector<float>() == std::vector<float>{1.5f, -2.f});
  });

  SingleCommunicator single;
  Tensor t = Tensor::from_vector(std::vector<float>{3.f}, {1});
  single.all_reduce_mean(t);
  single.all_reduce_sum(t);
  CHECK(t.item() == 3.0);
  CHECK(single.world_size() == 1);
}

TEST_CASE("in-process group: a failing replica aborts the others instead of hanging", "[dist]") {
  InProcessGroup group(3);
  try {
    group.run([](Communicator& comm) {
      if (comm.rank() == 1) throw UserError("replica 1 failed on purpose");
      Tensor t = Tensor::zeros({4});
      comm.all_reduce_sum(t);   // would wait forever for rank 1 without the abort
      comm.barrier();
    });
    FAIL("run() did not rethrow");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()) == "replica 1 failed on purpose");
  }
  // Mismatched sizes are reported on every rank.
  InProcessGroup g2(2);
  CHECK_THROWS_WITH(g2.run([](Communicator& comm) {
    Tensor t = Tensor::zeros({comm.rank() == 0 ? 4 : 5});
    comm.all_reduce_sum(t);
  }), Catch::Contains("elements"));
}

TEST_CASE("communicator factories and backend names", "[dist]") {
  CHECK(parse_backend("nccl") == Backend::Nccl);
  CHECK(std::string(backend_str(parse_backend("inprocess"))) == "inprocess");
  CHECK_THROWS_AS(parse_backend("gloo"), UserError);
  auto one = make_local_communicators({Device::cpu()});
  REQUIRE(one.size() == 1);
  CHECK(one[0]->backend_name() == "single");
  auto three = make_local_communicators({Device::cpu(), Device::cpu(), Device::cpu()});
  REQUIRE(three.size() == 3);
  CHECK(three[2]->rank() == 2);
  CHECK(three[0]->backend_name() == "inprocess");
  // Communicators from the factory work on threads the caller owns.
  std::vector<std::thread> threads;
  std::vector<float> got(3);
  for (int r = 0; r < 3; ++r)
    threads.emplace_back([&, r] {
      Tensor t = Tensor::full({2}, r + 1.0);
      three[static_cast<size_t>(r)]->all_reduce_sum(t);
      got[static_cast<size_t>(r)] = t.to_vector<float>()[1];
    });
  for (auto& t : threads) t.join();
  CHECK(got == std::vector<float>{6.f, 6.f, 6.f});
  CHECK_THROWS_AS(make_local_communicators({Device::cpu(), Device::cpu()}, Backend::Nccl), UserError);
  if (!launched_under_mpi()) CHECK(make_process_communicator(Device::cpu())->world_size() == 1);
}
