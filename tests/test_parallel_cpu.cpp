// tests/test_parallel_cpu.cpp — the CPU backend's worker pool (engine/cpu/parallel_cpu.h): every part
// runs exactly once whatever the thread count, errors come back to the caller, nested and concurrent
// submissions run serially without deadlock; the block split of matrix products (values against a
// double-precision reference for every transpose case and both split directions); and the promise
// the pool is built on: results bitwise identical with 1, 2 and 3 threads — products, the sparse
// kernels, batch assembly and a masked MLP trained for a few steps.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/cpu/augment_cpu.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/parallel_cpu.h"
#include "engine/cpu/sparse_linear_cpu.h"
#include "engine/nn/layers.h"
#include "engine/nn/module.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "engine/rng.h"
#include "tests/support/random_values.h"

using namespace sdd;

namespace {

// Sets the pool's thread count for a scope (tests run with 1 by default).
struct Threads {
  explicit Threads(int n) { cpu::set_threads(n); }
  ~Threads() { cpu::set_threads(1); }
};

std::vector<float> normal_values(size_t n, uint32_t seed, double density = 1.0) {
  return test::random_values(n, density, seed);
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return false;
  return true;
}

// c = alpha * op(a) op(b) + beta * c0 through cpu::gemm, with the pool at `threads`.
std::vector<float> gemm_with(int threads, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, float beta) {
  Threads t(threads);
  const Tensor a = Tensor::from_vector(normal_values(static_cast<size_t>(M * K), 1), ta ? std::vector<int64_t>{K, M}
                                                                                         : std::vector<int64_t>{M, K});
  const Tensor b = Tensor::from_vector(normal_values(static_cast<size_t>(K * N), 2), tb ? std::vector<int64_t>{N, K}
                                                                                         : std::vector<int64_t>{K, N});
  const Tensor c = Tensor::from_vector(normal_values(static_cast<size_t>(M * N), 3), {M, N});
  cpu::gemm(ta, tb, alpha, a, b, beta, c);
  return c.to_vector<float>();
}

}  // namespace

TEST_CASE("cpu pool: every part runs once, errors reach the caller, nesting and concurrency are serial", "[cpu]") {
  for (const int threads : {1, 2, 4}) {
    Threads t(threads);
    REQUIRE(cpu::threads() == threads);
    for (const int64_t parts : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{3}, int64_t{17}}) {
      std::vector<std::atomic<int>> runs(static_cast<size_t>(parts));
      for (int rep = 0; rep < 50; ++rep) cpu::run_parts(parts, [&](int64_t p) { runs[static_cast<size_t>(p)]++; });
      for (const auto& r : runs) REQUIRE(r.load() == 50);
    }
    // An exception from a part is rethrown to the caller after the others ran; the pool still works.
    std::atomic<int> ran{0};
    REQUIRE_THROWS_WITH(cpu::run_parts(4,
                                       [&](int64_t p) {
                                         ran++;
                                         if (p == 2) throw std::runtime_error("part 2 failed");
                                       }),
                        "part 2 failed");
    REQUIRE(ran.load() == 4);
    // A part that submits again runs its inner parts itself (no deadlock).
    std::atomic<int> inner{0};
    cpu::run_parts(3, [&](int64_t) { cpu::run_parts(5, [&](int64_t) { inner++; }); });
    REQUIRE(inner.load() == 15);
    // Two threads submitting at once (data-parallel replicas): both complete every part.
    std::atomic<int> a{0}, b{0};
    std::thread other([&] {
      for (int i = 0; i < 200; ++i) cpu::run_parts(3, [&](int64_t) { a++; });
    });
    for (int i = 0; i < 200; ++i) cpu::run_parts(3, [&](int64_t) { b++; });
    other.join();
    REQUIRE(a.load() == 600);
    REQUIRE(b.load() == 600);
  }
}

TEST_CASE("cpu pool: a background task runs exactly once, errors reach wait(), jobs never wait for its helper", "[cpu]") {
  for (const int threads : {1, 2, 3}) {
    Threads t(threads);
    INFO("threads " << threads);
    // Exactly once, whoever runs it; the result is there after wait(); nested run_parts inside work.
    for (int rep = 0; rep < 200; ++rep) {
      std::atomic<int> runs{0}, inner{0};
      cpu::BackgroundTask task([&] {
        runs++;
        cpu::run_parts(4, [&](int64_t) { inner++; });
      });
      if (rep % 2 == 0) cpu::run_parts(3, [](int64_t) {});
      task.wait();
      task.wait();   // a second wait is a no-op
      REQUIRE(runs.load() == 1);
      REQUIRE(inner.load() == 4);
    }
    // The task's exception comes back from wait(); the slot is free again afterwards.
    {
      cpu::BackgroundTask bad([] { throw std::runtime_error("task failed"); });
      REQUIRE_THROWS_WITH(bad.wait(), "task failed");
    }
    // Two tasks at once: the second finds the slot taken and runs inside its own wait().
    std::atomic<int> both{0};
    {
      cpu::BackgroundTask a([&] { both++; }), b([&] { both++; });
      b.wait();
      a.wait();
    }
    REQUIRE(both.load() == 2);
    // The destructor waits for a task nobody waited for.
    std::atomic<int> late{0};
    { cpu::BackgroundTask lazy([&] { late++; }); }
    REQUIRE(late.load() == 1);
  }
  // A helper busy with a task does not hold up jobs: the task below only ends once a job has ended
  // after it started, which would never happen if the job waited for that helper.
  Threads t(2);
  for (int rep = 0; rep < 20; ++rep) {
    std::atomic<bool> started{false}, job_done{false}, saw_job_end{false};
    std::atomic<int> parts_run{0};
    cpu::BackgroundTask task([&] {
      started = true;
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!job_done.load() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
      saw_job_end = job_done.load();
    });
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!started.load() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    REQUIRE(started.load());   // the idle helper took the task
    cpu::run_parts(8, [&](int64_t) { parts_run++; });
    job_done = true;
    task.wait();
    REQUIRE(parts_run.load() == 8);
    REQUIRE(saw_job_end.load());   // the job ended while the helper was still in the task
  }
}

TEST_CASE("cpu pool: idle parts run once each, by idle helpers, and never hold up jobs or tasks", "[cpu]") {
  for (const int threads : {1, 2, 3}) {
    Threads t(threads);
    INFO("threads " << threads);
    // finish(): every part exactly once, nested run_parts inside work, everything done when it returns.
    for (int rep = 0; rep < 100; ++rep) {
      std::vector<std::atomic<int>> runs(37);
      std::atomic<int> inner{0};
      cpu::IdleParts parts(37, [&](int64_t p) {
        runs[static_cast<size_t>(p)]++;
        cpu::run_parts(3, [&](int64_t) { inner++; });
      });
      if (rep % 2 == 0) cpu::run_parts(5, [](int64_t) {});
      parts.finish();
      parts.finish();   // a second finish is a no-op
      for (const auto& r : runs) REQUIRE(r.load() == 1);
      REQUIRE(inner.load() == 37 * 3);
    }
    // The first exception comes back from finish(), after every part has run.
    {
      std::atomic<int> ran{0};
      cpu::IdleParts bad(10, [&](int64_t p) {
        ran++;
        if (p == 4) throw std::runtime_error("part 4 failed");
      });
      REQUIRE_THROWS_WITH(bad.finish(), "part 4 failed");
      REQUIRE(ran.load() == 10);
    }
    // Without finish(), the destructor skips what nobody started and returns only once no part runs.
    {
      std::atomic<int> ran{0}, after{0};
      std::atomic<bool> gone{false};
      {
        cpu::IdleParts lazy(1000, [&](int64_t) {
          if (gone.load()) after++;
          std::this_thread::sleep_for(std::chrono::microseconds(50));
          ran++;
        });
      }
      gone = true;
      const int at_end = ran.load();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      REQUIRE(after.load() == 0);
      REQUIRE(ran.load() == at_end);
      REQUIRE(at_end < 1000);
    }
    // Two sets at once: the second finds the slot taken and runs in its own finish().
    std::atomic<int> both{0};
    {
      cpu::IdleParts a(5, [&](int64_t) { both++; }), b(5, [&](int64_t) { both++; });
      b.finish();
      a.finish();
    }
    REQUIRE(both.load() == 10);
  }
  Threads t(2);
  // The idle helper computes the parts while the caller does something else.
  {
    const auto caller = std::this_thread::get_id();
    std::atomic<int> by_helper{0};
    cpu::IdleParts parts(8, [&](int64_t) {
      if (std::this_thread::get_id() != caller) by_helper++;
    });
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (by_helper.load() < 8 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    REQUIRE(by_helper.load() == 8);
    parts.finish();
  }
  // A helper inside a long idle part holds up neither a job nor a background task: the part ends only
  // once both have, which would never happen if either waited for that helper.
  for (int rep = 0; rep < 20; ++rep) {
    std::atomic<bool> in_part{false}, release{false}, saw_release{false};
    cpu::IdleParts slow(1, [&](int64_t) {
      in_part = true;
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!release.load() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
      saw_release = release.load();
    });
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!in_part.load() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    REQUIRE(in_part.load());   // the idle helper took the part
    std::atomic<int> parts_run{0};
    cpu::run_parts(8, [&](int64_t) { parts_run++; });
    int task_ran = 0;
    {
      cpu::BackgroundTask task([&] { task_ran = 1; });
      task.wait();
    }
    release = true;
    slow.finish();
    REQUIRE(parts_run.load() == 8);
    REQUIRE(task_ran == 1);
    REQUIRE(saw_release.load());
  }
}

TEST_CASE("cpu pool: part ranges cover the items once, aligned, and product parts depend on size only", "[cpu]") {
  for (const int64_t n : {int64_t{0}, int64_t{1}, int64_t{15}, int64_t{300}, int64_t{784}})
    for (const int64_t parts : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{8}})
      for (const int64_t align : {int64_t{1}, int64_t{8}, int64_t{16}}) {
        int64_t expect = 0;
        for (int64_t p = 0; p < parts; ++p) {
          int64_t lo = -1, hi = -1;
          cpu::part_range(n, parts, p, align, lo, hi);
          INFO("n " << n << " parts " << parts << " align " << align << " part " << p);
          REQUIRE(lo == expect);
          REQUIRE(hi >= lo);
          if (hi < n) REQUIRE(hi % align == 0);
          expect = hi;
        }
        REQUIRE(expect == n);
      }
  CHECK(cpu::product_parts(128 * 10 * 100) == 1);
  CHECK(cpu::product_parts(128 * 300 * 784) == 2);
  CHECK(cpu::product_parts(int64_t{1} << 27) == 4);
  CHECK(cpu::product_parts(int64_t{1} << 30) == 8);
}

TEST_CASE("cpu gemm in blocks: values for every transpose case and split, bitwise equal for 1, 2, 3 threads", "[cpu]") {
  struct Shape {
    int64_t M, N, K;
  };
  // Column blocks (N >= M/2), row blocks (M > 2N), 4 blocks, and one below the split threshold.
  const Shape shapes[] = {{128, 300, 40}, {700, 60, 30}, {64, 1100, 1000}, {9, 13, 7}};
  for (const Shape& s : shapes)
    for (const bool ta : {false, true})
      for (const bool tb : {false, true}) {
        INFO("M " << s.M << " N " << s.N << " K " << s.K << " ta " << ta << " tb " << tb);
        const float alpha = 0.75f, beta = 0.5f;
        const std::vector<float> one = gemm_with(1, ta, tb, s.M, s.N, s.K, alpha, beta);
        REQUIRE(bitwise_equal(one, gemm_with(2, ta, tb, s.M, s.N, s.K, alpha, beta)));
        REQUIRE(bitwise_equal(one, gemm_with(3, ta, tb, s.M, s.N, s.K, alpha, beta)));
        // Against a double-precision product (catches a block given the wrong offsets).
        const std::vector<float> a = normal_values(static_cast<size_t>(s.M * s.K), 1);
        const std::vector<float> b = normal_values(static_cast<size_t>(s.K * s.N), 2);
        const std::vector<float> c0 = normal_values(static_cast<size_t>(s.M * s.N), 3);
        double worst = 0.0;
        for (int64_t m = 0; m < s.M; m += 7)
          for (int64_t n = 0; n < s.N; n += 5) {
            double acc = 0.0;
            for (int64_t k = 0; k < s.K; ++k) {
              const double av = ta ? a[static_cast<size_t>(k * s.M + m)] : a[static_cast<size_t>(m * s.K + k)];
              const double bv = tb ? b[static_cast<size_t>(n * s.K + k)] : b[static_cast<size_t>(k * s.N + n)];
              acc += av * bv;
            }
            const double want = alpha * acc + beta * c0[static_cast<size_t>(m * s.N + n)];
            worst = std::max(worst, std::fabs(want - one[static_cast<size_t>(m * s.N + n)]));
          }
        REQUIRE(worst < 1e-3);
      }
}

TEST_CASE("sparse kernels and batch assembly: bitwise equal for 1, 2 and 3 threads", "[cpu]") {
  const int64_t N = 130, I = 784, O = 300;
  const Tensor x = Tensor::from_vector(normal_values(static_cast<size_t>(N * I), 4), {N, I});
  const Tensor w = Tensor::from_vector(normal_values(static_cast<size_t>(O * I), 5, 0.1), {O, I});
  const Tensor gy = Tensor::from_vector(normal_values(static_cast<size_t>(N * O), 6), {N, O});
  auto run = [&](int threads) {
    Threads t(threads);
    Tensor y = Tensor::full({N, O}, NAN);
    cpu::sparse_linear_forward_always(x, w, y);
    Tensor acc = Tensor::from_vector(normal_values(static_cast<size_t>(O * I), 7), {O, I});
    cpu::sparse_linear_weight_grad_always(gy, x, w, acc);
    const Tensor gx = cpu::sparse_linear_input_grad_always(gy, w);
    std::vector<float> out = y.to_vector<float>();
    const std::vector<float> g = acc.to_vector<float>(), gi = gx.to_vector<float>();
    out.insert(out.end(), g.begin(), g.end());
    out.insert(out.end(), gi.begin(), gi.end());
    return out;
  };
  const std::vector<float> one = run(1);
  CHECK(bitwise_equal(one, run(2)));
  CHECK(bitwise_equal(one, run(3)));

  // Batch assembly with crops and flips (CIFAR-shaped, 3 channels) and normalisation only (1 channel).
  for (const int32_t C : {1, 3}) {
    const int32_t H = 32, W = 32;
    std::vector<uint8_t> images(static_cast<size_t>(50 * H * W * C));
    for (size_t i = 0; i < images.size(); ++i) images[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
    std::vector<int64_t> idx;
    for (int64_t b = 0; b < 40; ++b) idx.push_back((b * 17) % 50);
    auto assemble = [&](int threads) {
      Threads t(threads);
      std::vector<float> out(static_cast<size_t>(idx.size() * C * H * W), NAN);
      kern::CropFlipBatchOp op{};
      op.images = images.data();
      op.indices = idx.data();
      op.out = out.data();
      op.H = H;
      op.W = W;
      op.C = C;
      op.pad = 4;
      op.augment = C == 3 ? 1 : 0;
      op.seed = 11;
      op.epoch = 2;
      for (int32_t c = 0; c < C; ++c) {
        op.mean[c] = 0.4f + 0.01f * static_cast<float>(c);
        op.stdv[c] = 0.25f;
      }
      cpu::crop_flip_rows(op, static_cast<int64_t>(idx.size()));
      return out;
    };
    const std::vector<float> ref = assemble(1);
    for (const float v : ref) REQUIRE(std::isfinite(v));
    CHECK(bitwise_equal(ref, assemble(2)));
    CHECK(bitwise_equal(ref, assemble(3)));
  }
}

TEST_CASE("a masked MLP trained with 1, 2 and 3 CPU threads ends with bitwise identical weights", "[cpu]") {
  const int64_t B = 128;
  const Tensor x = Tensor::from_vector(normal_values(static_cast<size_t>(B * 784), 8), {B, 784});
  std::vector<int64_t> yv(static_cast<size_t>(B));
  for (int64_t i = 0; i < B; ++i) yv[static_cast<size_t>(i)] = (i * 7) % 10;
  const Tensor y = Tensor::from_vector(yv, {B});
  // density 1: dense products split in blocks; 0.05 (about 6.5 % kept): the sparse forward and weight gradient
  for (const double density : {1.0, 0.05}) {
    auto train = [&](int threads) {
      Threads t(threads);
      manual_seed(5);
      auto net = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
          std::make_shared<nn::Linear>(784, 300), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(300, 100),
          std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(100, 10)});
      nn::FlatParams fp = nn::flatten_parameters(*net);
      optim::Sgd sgd(fp, optim::SgdOptions{0.0, false, 0.0});
      std::vector<float> m(static_cast<size_t>(fp.total), 1.f);
      const std::vector<float> keep = normal_values(m.size(), 9);
      for (const auto& e : fp.entries)
        if (e.shape.size() == 2)
          for (int64_t i = 0; i < e.numel; ++i)
            m[static_cast<size_t>(e.offset + i)] =
                density >= 1.0 || std::fabs(keep[static_cast<size_t>(e.offset + i)]) < 1.645 * density ? 1.f : 0.f;
      const Tensor mask = Tensor::from_vector(m, {fp.total});
      sgd.set_mask(mask);
      fp.params.copy_(ops::mul(fp.params, mask));
      for (int step = 0; step < 4; ++step) {
        sgd.zero_grad();
        ops::cross_entropy(net->forward(x), y).backward();
        sgd.step(0.1);
      }
      return fp.params.to_vector<float>();
    };
    INFO("density " << density);
    const std::vector<float> one = train(1);
    CHECK(bitwise_equal(one, train(2)));
    CHECK(bitwise_equal(one, train(3)));
  }
}
