// engine/cpu/parallel_cpu.cpp — the CPU worker pool of parallel_cpu.h.
//
// One job at a time. The submitter publishes (body, parts), bumps the generation, claims parts from a
// shared counter like every helper, and returns once every helper has checked in for this generation
// (so no helper can still be looking at a job that has ended). Helpers spin about 2 ms on the
// generation before sleeping on a condition variable; the submitter notifies only when one sleeps.
#include "engine/cpu/parallel_cpu.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/errors.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SDD_CPU_RELAX() _mm_pause()
#else
#define SDD_CPU_RELAX() std::this_thread::yield()
#endif

namespace sdd::cpu {

namespace {

thread_local bool t_in_part = false;   // this thread is running a part: nested run_parts run serially

class Pool {
 public:
  // Never destroyed: helpers are not joined at exit, so a thread still submitting while static
  // objects are torn down (an error exit during data-parallel training) finds the pool intact.
  static Pool& get() {
    static Pool* pool = new Pool;
    return *pool;
  }

  int threads() const { return count_.load(std::memory_order_relaxed); }

  void set_threads(int n) {
    std::lock_guard<std::mutex> lock(submit_);
    resize(std::max(1, n));
  }

  void run(int64_t parts, const std::function<void(int64_t)>& body) {
    std::unique_lock<std::mutex> lock(submit_, std::defer_lock);
    if (parts <= 1 || t_in_part || !lock.try_lock() || helpers_.empty()) {  // serial: same parts, same results
      std::exception_ptr first;
      for (int64_t p = 0; p < parts; ++p) {
        try {
          body(p);
        } catch (...) {
          if (!first) first = std::current_exception();
        }
      }
      if (first) std::rethrow_exception(first);
      return;
    }
    body_ = &body;
    parts_ = parts;
    error_ = nullptr;
    next_.store(0, std::memory_order_relaxed);
    checked_in_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> l(sleep_mu_);
      wake_.notify_all();
    }
    work();
    const auto helpers = static_cast<int64_t>(helpers_.size());
    while (checked_in_.load(std::memory_order_acquire) != helpers) SDD_CPU_RELAX();
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work() {
    for (;;) {
      const int64_t p = next_.fetch_add(1, std::memory_order_acq_rel);
      if (p >= parts_) return;
      try {
        t_in_part = true;
        (*body_)(p);
        t_in_part = false;
      } catch (...) {
        t_in_part = false;
        std::lock_guard<std::mutex> l(error_mu_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }

  // `seen`: the generation when the helper was made (a job published before the thread runs is still
  // seen as new).
  void helper_loop(uint64_t seen) {
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      int64_t spins = 0;
      while (generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed)) {
        SDD_CPU_RELAX();
        if (++spins % 128 != 0 || std::chrono::steady_clock::now() - start < std::chrono::microseconds(2000)) continue;
        std::unique_lock<std::mutex> l(sleep_mu_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(l, [&] {
          return generation_.load(std::memory_order_seq_cst) != seen || stop_.load(std::memory_order_relaxed);
        });
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
      if (stop_.load(std::memory_order_relaxed)) return;
      seen = generation_.load(std::memory_order_acquire);
      work();
      checked_in_.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  // Caller holds submit_.
  void resize(int n) {
    if (static_cast<int>(helpers_.size()) + 1 == n) return;
    {
      std::lock_guard<std::mutex> l(sleep_mu_);
      stop_.store(true);
      wake_.notify_all();
    }
    for (std::thread& t : helpers_) t.join();
    helpers_.clear();
    stop_.store(false);
    const uint64_t now = generation_.load(std::memory_order_acquire);
    for (int i = 1; i < n; ++i) helpers_.emplace_back([this, now] { helper_loop(now); });
    count_.store(n, std::memory_order_relaxed);
  }

  std::mutex submit_;                 // one job at a time; held by the submitter for the whole job
  std::vector<std::thread> helpers_;
  std::atomic<int> count_{1};          // helpers_.size() + 1, readable without the lock
  const std::function<void(int64_t)>* body_ = nullptr;
  int64_t parts_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> checked_in_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};
  std::mutex sleep_mu_;
  std::condition_variable wake_;
  std::mutex error_mu_;
  std::exception_ptr error_;
};

}  // namespace

int threads() { return Pool::get().threads(); }

void set_threads(int n) { Pool::get().set_threads(n); }

void run_parts(int64_t parts, const std::function<void(int64_t)>& body) { Pool::get().run(parts, body); }

int64_t product_parts(int64_t macs) {
  if (macs < (int64_t{1} << 20)) return 1;
  if (macs < (int64_t{1} << 26)) return 2;
  if (macs < (int64_t{1} << 28)) return 4;
  return 8;
}

void part_range(int64_t n, int64_t parts, int64_t p, int64_t align, int64_t& begin, int64_t& end) {
  SDD_CHECK(parts >= 1 && p >= 0 && p < parts && align >= 1, "part_range: part " << p << " of " << parts);
  auto boundary = [&](int64_t q) {
    if (q >= parts) return n;
    const int64_t b = (n * q / parts) / align * align;
    return std::min(n, b);
  };
  begin = boundary(p);
  end = boundary(p + 1);
}

}  // namespace sdd::cpu
