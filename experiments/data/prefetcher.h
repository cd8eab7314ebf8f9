// experiments/data/prefetcher.h — a background producer of training batches: one worker thread builds
// the next batches (make_batch) into a small ring while the trainer consumes the current one.
//
// Deterministic: the worker produces batches strictly in sequence (produce(0), produce(1), ...), so
// the consumer sees exactly the batches of the synchronous path. next() blocks until the next batch
// is ready and rethrows, in the consumer's thread, an exception the producer raised. The destructor
// stops the worker and joins it (batches not yet consumed are dropped).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "experiments/data/augment.h"
#include "experiments/data/data_order.h"

namespace sdd::exp {

struct PrefetchItem {
  Batch batch;
  int64_t epoch = 0;
  int64_t iteration = 0;  // iteration within the epoch
};

class Prefetcher {
 public:
  // produce(k) builds item k (k = 0, 1, ...); it is called on the worker thread, in order.
  using Produce = std::function<PrefetchItem(int64_t k)>;

  // Runs `produce` for k = 0 .. count-1 (count < 0: without end), keeping at most `depth` ready items.
  Prefetcher(Produce produce, int64_t depth = 2, int64_t count = -1);
  // The training loader: batches of `order` from (epoch, iteration) onwards, augmented per `spec`, the
  // same as BatchIterator + make_batch. `d` and `order` must outlive the prefetcher. An unseeded order
  // draws its permutations from the global generator on the worker thread.
  Prefetcher(const Dataset& d, const DataOrder& order, const AugmentSpec& spec, int64_t epoch, int64_t iteration,
             int64_t depth = 2, int64_t count = -1);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // The next item, in order. Rethrows the producer's exception; past `count` items it is an error.
  PrefetchItem next();
  int64_t consumed() const { return consumed_; }

 private:
  void run();

  Produce produce_;
  int64_t depth_, count_;
  int64_t consumed_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PrefetchItem> ready_;
  std::exception_ptr error_;
  bool stop_ = false, done_ = false;
  std::thread worker_;
};

}  // namespace sdd::exp
