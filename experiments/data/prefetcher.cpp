// experiments/data/prefetcher.cpp — the background batch producer (see prefetcher.h).
#include "experiments/data/prefetcher.h"

#include <memory>

#include "engine/errors.h"

namespace sdd::exp {

Prefetcher::Prefetcher(Produce produce, int64_t depth, int64_t count)
    : produce_(std::move(produce)), depth_(depth), count_(count) {
  SDD_CHECK(depth_ >= 1, "prefetch depth " << depth_ << " must be at least 1");
  worker_ = std::thread([this] { run(); });
}

Prefetcher::Prefetcher(const Dataset& d, const DataOrder& order, const AugmentSpec& spec, int64_t epoch,
                       int64_t iteration, int64_t depth, int64_t count)
    : Prefetcher(
          [&d, spec, it = std::make_shared<BatchIterator>(order, epoch, iteration)](int64_t) {
            PrefetchItem item;
            item.epoch = it->epoch();
            item.iteration = it->iteration();
            const std::vector<int64_t> idx = it->next();
            item.batch = make_batch(d, idx, spec, item.epoch);
            return item;
          },
          depth, count) {}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Prefetcher::run() {
  for (int64_t k = 0; count_ < 0 || k < count_; ++k) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || static_cast<int64_t>(ready_.size()) < depth_; });
      if (stop_) break;
    }
    try {
      PrefetchItem item = produce_(k);
      std::lock_guard<std::mutex> lock(mu_);
      ready_.push_back(std::move(item));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
      break;
    }
    cv_.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
}

PrefetchItem Prefetcher::next() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !ready_.empty() || done_; });
  if (ready_.empty()) {
    if (error_) std::rethrow_exception(error_);
    SDD_FAIL("prefetcher exhausted after " << consumed_ << " batches");
  }
  PrefetchItem item = std::move(ready_.front());
  ready_.pop_front();
  ++consumed_;
  lock.unlock();
  cv_.notify_all();
  return item;
}

}  // namespace sdd::exp
