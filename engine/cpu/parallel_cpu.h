// engine/cpu/parallel_cpu.h — the CPU backend's own worker threads, for ops split into a fixed number
// of independent parts (a matrix product in column blocks, a sparse product in row ranges).
//
// Determinism: callers choose the parts from the shapes alone, never from the thread count, and each
// part writes its own outputs. The threads only decide who computes a part, so a result is bitwise
// the same with 1, 2 or 16 threads (tests/test_parallel_cpu.cpp checks a whole training run).
//
// The pool: threads() - 1 helper threads; the caller computes parts too. A helper spins briefly after
// each job (the parts of a training step come every few microseconds), then sleeps. A second caller
// arriving while the pool is busy (data-parallel replicas in threads), and a part that itself calls
// run_parts, run their parts serially. A job never waits for a helper that has not joined it (asleep,
// or running a background task): the submitter then computes the remaining parts itself.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>

namespace sdd::cpu {

// Threads the pool uses (1: everything on the calling thread). Default 1; the sparsedd binary sets it
// from SPARSEDD_THREADS or the CPUs it may run on (configure_threads_from_env).
int threads();
void set_threads(int n);

// Runs body(p) for p = 0 .. parts-1, spread over the pool; returns when all have run. The first
// exception a part throws is rethrown here (after every part has finished).
void run_parts(int64_t parts, const std::function<void(int64_t)>& body);

// A task for an idle pool thread while the caller goes on (the next training batch while this step
// computes). wait() returns once it has run — on the calling thread, if no helper took it yet — and
// rethrows its exception; the destructor waits too (exceptions dropped). With one thread, or while
// another task holds the pool's single background slot, the task runs inside wait(). Inside the task,
// run_parts runs its parts serially. Whoever runs it, it runs exactly once, so its results do not
// depend on the thread count.
class BackgroundTask {
 public:
  explicit BackgroundTask(std::function<void()> fn);
  ~BackgroundTask();
  BackgroundTask(const BackgroundTask&) = delete;
  BackgroundTask& operator=(const BackgroundTask&) = delete;
  void wait();

 private:
  std::function<void()> fn_;   // when not posted: run by wait()
  bool posted_ = false;
  bool done_ = false;
};

// Parts for idle pool threads while the caller goes on (the evaluation passes of an epoch while the
// next epoch trains): a helper with nothing else to do (no job, no background task) runs them one at
// a time, always preferring a job or a task that arrives in between. finish() runs the parts nobody
// has started on the calling thread, waits for the others and rethrows the first exception; the
// destructor skips the parts nobody has started and waits for the running ones. Every part runs at
// most once (exactly once when finish() is called), so results do not depend on who ran a part. The
// pool holds one set at a time: with one thread, or while another set holds the slot, every part
// runs in finish(). Inside a part, run_parts runs its parts serially.
class IdleParts {
 public:
  struct State;
  IdleParts(int64_t parts, std::function<void(int64_t)> body);
  ~IdleParts();
  IdleParts(const IdleParts&) = delete;
  IdleParts& operator=(const IdleParts&) = delete;
  void finish();

 private:
  void end(bool run_rest);
  std::shared_ptr<State> state_;
  bool posted_ = false;
  bool ended_ = false;
};

// How many column (or row) blocks a product of this size is split into: a function of the shape only.
// 1 below about a million multiply-adds; 2 up to 2^26; then 4, and 8 from 2^28.
int64_t product_parts(int64_t macs);

// [begin, end) of part p of `n` items split into `parts` blocks whose boundaries fall on multiples of
// `align` (the last block takes the rest).
void part_range(int64_t n, int64_t parts, int64_t p, int64_t align, int64_t& begin, int64_t& end);

}  // namespace sdd::cpu
