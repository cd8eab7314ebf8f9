// engine/cpu/parallel_cpu.cpp — the CPU worker pool of parallel_cpu.h.
//
// One job at a time. The submitter publishes (body, parts), opens the job and bumps the generation,
// then claims parts from a shared counter like every helper. A helper that sees the new generation
// enters the job (a counter in `state_`) unless the submitter has already closed it; when the
// submitter runs out of parts it closes the job and waits only for the helpers that entered, so a
// helper that is asleep or busy with a background task never delays a job. Helpers spin about 2 ms
// on the generation (and the background slot) before sleeping on a condition variable; the submitter
// notifies only when one sleeps.
//
// The background slot holds one task (BackgroundTask): an idle helper claims and runs it; the owner's
// wait() runs it itself when no helper has claimed it yet, so a task always runs exactly once.
//
// The idle slot holds one set of IdleParts: a helper with no job to enter and no task to run claims
// one part of it at a time from the set's own counter (a job or task that arrives meanwhile comes
// first once that part ends); the owner's finish() claims what is left next to them, takes the set
// out of the slot and waits for the parts still running.
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

thread_local bool t_in_part = false;   // this thread is running a part or a task: nested run_parts run serially

// Runs fn with nested run_parts serial on this thread; restores the flag (fn may throw).
template <class Fn>
void as_part(const Fn& fn) {
  struct Restore {
    bool saved;
    ~Restore() { t_in_part = saved; }
  } restore{t_in_part};
  t_in_part = true;
  fn();
}

}  // namespace

struct IdleParts::State {
  int64_t parts = 0;
  std::function<void(int64_t)> body;
  std::atomic<int64_t> next{0};      // parts claimed
  std::atomic<int64_t> done{0};      // parts run or skipped
  std::atomic<bool> skip{false};     // the owner gave up: parts claimed from now on are not run
  std::mutex error_mu;
  std::exception_ptr error;

  // Claims one part and runs it (or skips it); false when every part is claimed.
  bool run_one() {
    const int64_t p = next.fetch_add(1, std::memory_order_acq_rel);
    if (p >= parts) return false;
    if (!skip.load(std::memory_order_acquire)) {
      try {
        as_part([&] { body(p); });
      } catch (...) {
        std::lock_guard<std::mutex> l(error_mu);
        if (!error) error = std::current_exception();
      }
    }
    done.fetch_add(1, std::memory_order_acq_rel);
    return true;
  }
};

namespace {

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
    state_.store(0, std::memory_order_release);   // open: everything above is visible to who enters
    generation_.fetch_add(1, std::memory_order_seq_cst);
    wake_sleepers();
    work();
    const int64_t entered = state_.fetch_or(kClosed, std::memory_order_acq_rel) & ~kClosed;
    while (checked_in_.load(std::memory_order_acquire) != entered) SDD_CPU_RELAX();
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

  // ---- the background slot (one task at a time; false: the slot is taken, the caller runs fn later)
  bool post(std::function<void()> fn) {
    int idle = kIdle;
    if (!bg_state_.compare_exchange_strong(idle, kFilling, std::memory_order_acq_rel)) return false;
    bg_fn_ = std::move(fn);
    bg_error_ = nullptr;
    bg_state_.store(kPosted, std::memory_order_seq_cst);
    wake_sleepers();
    return true;
  }

  // ---- the idle-parts slot (one set at a time; false: the slot is taken)
  bool post_idle(const std::shared_ptr<IdleParts::State>& st) {
    {
      std::lock_guard<std::mutex> l(idle_mu_);
      if (idle_) return false;
      idle_ = st;
      idle_news_.store(true, std::memory_order_seq_cst);
    }
    wake_sleepers();
    return true;
  }

  void clear_idle(const IdleParts::State* st) {
    std::lock_guard<std::mutex> l(idle_mu_);
    if (idle_.get() != st) return;
    idle_.reset();
    idle_news_.store(false, std::memory_order_seq_cst);
  }

  // Waits for the posted task (running it here if nobody claimed it), frees the slot, rethrows.
  void wait_posted() {
    if (!try_run_posted())
      while (bg_state_.load(std::memory_order_acquire) != kDone) SDD_CPU_RELAX();
    std::exception_ptr e = bg_error_;
    bg_fn_ = nullptr;
    bg_error_ = nullptr;
    bg_state_.store(kIdle, std::memory_order_release);
    if (e) std::rethrow_exception(e);
  }

 private:
  static constexpr int64_t kClosed = int64_t{1} << 62;
  enum : int { kIdle = 0, kFilling = 1, kPosted = 2, kRunning = 3, kDone = 4 };

  void wake_sleepers() {
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> l(sleep_mu_);
      wake_.notify_all();
    }
  }

  bool try_run_posted() {
    int posted = kPosted;
    if (!bg_state_.compare_exchange_strong(posted, kRunning, std::memory_order_acq_rel)) return false;
    try {
      as_part(bg_fn_);
    } catch (...) {
      bg_error_ = std::current_exception();
    }
    bg_state_.store(kDone, std::memory_order_release);
    return true;
  }

  // Enters the current job unless it is closed.
  bool try_enter() {
    int64_t s = state_.load(std::memory_order_acquire);
    while ((s & kClosed) == 0)
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) return true;
    return false;
  }

  // Parts are claimed from the last one down: the submitter, first to claim, takes the last part,
  // which part_range makes the largest, and a helper that joins later takes a smaller one.
  void work() {
    for (;;) {
      const int64_t claimed = next_.fetch_add(1, std::memory_order_acq_rel);
      if (claimed >= parts_) return;
      const int64_t p = parts_ - 1 - claimed;
      try {
        as_part([&] { (*body_)(p); });
      } catch (...) {
        std::lock_guard<std::mutex> l(error_mu_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }

  bool has_news(uint64_t seen) const {
    return generation_.load(std::memory_order_seq_cst) != seen ||
           bg_state_.load(std::memory_order_seq_cst) == kPosted || idle_news_.load(std::memory_order_seq_cst) ||
           stop_.load(std::memory_order_relaxed);
  }

  // Runs one part of the posted idle set; false (and no more news from it) when it has none left.
  bool run_idle_part() {
    std::shared_ptr<IdleParts::State> st;
    {
      std::lock_guard<std::mutex> l(idle_mu_);
      if (!idle_) {
        idle_news_.store(false, std::memory_order_seq_cst);
        return false;
      }
      st = idle_;
    }
    if (st->run_one()) return true;
    std::lock_guard<std::mutex> l(idle_mu_);
    if (idle_ == st) idle_news_.store(false, std::memory_order_seq_cst);
    return false;
  }

  // `seen`: the generation when the helper was made (a job published before the thread runs is still
  // seen as new).
  void helper_loop(uint64_t seen) {
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      int64_t spins = 0;
      while (!has_news(seen)) {
        SDD_CPU_RELAX();
        if (++spins % 128 != 0 || std::chrono::steady_clock::now() - start < std::chrono::microseconds(2000)) continue;
        std::unique_lock<std::mutex> l(sleep_mu_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(l, [&] { return has_news(seen); });
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
      if (stop_.load(std::memory_order_relaxed)) return;
      if (try_run_posted()) continue;
      const uint64_t g = generation_.load(std::memory_order_acquire);
      if (g == seen) {   // no new job: an idle part, if any (the news may have been a task another thread claimed)
        run_idle_part();
        continue;
      }
      seen = g;
      if (!try_enter()) continue;   // that job is over (or closed before this helper got to it)
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
  std::atomic<int64_t> state_{kClosed};   // helpers in the current job, | kClosed once it takes no more
  std::atomic<int64_t> checked_in_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};
  std::mutex sleep_mu_;
  std::condition_variable wake_;
  std::mutex error_mu_;
  std::exception_ptr error_;

  std::mutex idle_mu_;
  std::shared_ptr<IdleParts::State> idle_;   // guarded by idle_mu_
  std::atomic<bool> idle_news_{false};       // idle_ may hold unclaimed parts

  std::atomic<int> bg_state_{kIdle};
  std::function<void()> bg_fn_;
  std::exception_ptr bg_error_;
};

}  // namespace

int threads() { return Pool::get().threads(); }

void set_threads(int n) { Pool::get().set_threads(n); }

void run_parts(int64_t parts, const std::function<void(int64_t)>& body) { Pool::get().run(parts, body); }

BackgroundTask::BackgroundTask(std::function<void()> fn) {
  if (threads() > 1) posted_ = Pool::get().post(fn);
  if (!posted_) fn_ = std::move(fn);
}

void BackgroundTask::wait() {
  if (done_) return;
  done_ = true;
  if (posted_) {
    Pool::get().wait_posted();
  } else {
    const std::function<void()> fn = std::move(fn_);
    fn();
  }
}

BackgroundTask::~BackgroundTask() {
  try {
    wait();
  } catch (...) {   // an unwaited task's error has nobody to go to (its owner is unwinding already)
  }
}

IdleParts::IdleParts(int64_t parts, std::function<void(int64_t)> body) : state_(std::make_shared<State>()) {
  state_->parts = std::max<int64_t>(0, parts);
  state_->body = std::move(body);
  if (state_->parts > 0 && threads() > 1) posted_ = Pool::get().post_idle(state_);
}

// Claims what is left (running it, or skipping it when !run_rest) next to the helpers still taking
// parts, then frees the slot and waits for the parts other threads are running.
void IdleParts::end(bool run_rest) {
  if (ended_) return;
  ended_ = true;
  if (!run_rest) state_->skip.store(true, std::memory_order_release);
  while (state_->run_one()) {
  }
  if (posted_) Pool::get().clear_idle(state_.get());
  while (state_->done.load(std::memory_order_acquire) != state_->parts) SDD_CPU_RELAX();
}

void IdleParts::finish() {
  end(/*run_rest=*/true);
  std::exception_ptr e;
  std::swap(e, state_->error);
  if (e) std::rethrow_exception(e);
}

IdleParts::~IdleParts() { end(/*run_rest=*/false); }

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
