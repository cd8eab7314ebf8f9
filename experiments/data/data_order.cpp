// experiments/data/data_order.cpp — epoch permutations and batch slicing (SPEC appendix B).
#include "experiments/data/data_order.h"

#include <algorithm>

#include "engine/errors.h"
#include "engine/rng.h"
#include "engine/rng_compat.h"

namespace sdd::exp {

DataOrder::DataOrder(Mode m, int64_t n, int64_t b, int64_t seed) : mode_(m), n_(n), b_(b), seed_(seed) {
  SDD_CHECK(n >= 0, "negative dataset size " << n);
  SDD_USER_CHECK(b >= 1, "batch_size must be a positive integer, got " << b);
}

DataOrder DataOrder::sequential(int64_t n, int64_t b) { return DataOrder(Mode::sequential, n, b, 0); }
DataOrder DataOrder::seeded(int64_t n, int64_t b, int64_t seed) { return DataOrder(Mode::seeded, n, b, seed); }
DataOrder DataOrder::unseeded(int64_t n, int64_t b) { return DataOrder(Mode::unseeded, n, b, 0); }
DataOrder DataOrder::for_training(int64_t n, int64_t b, std::optional<int64_t> seed) {
  return seed ? seeded(n, b, *seed) : unseeded(n, b);
}

std::vector<int64_t> DataOrder::epoch_order(int64_t epoch) const {
  if (mode_ == Mode::seeded) {
    const int64_t s = seed_ + epoch;
    if (s != -1) return torch_randperm(n_, static_cast<uint64_t>(s));  // torch takes the seed mod 2^32
  } else if (mode_ == Mode::unseeded) {
    return global_generator().permutation(n_);
  }
  std::vector<int64_t> r(static_cast<size_t>(n_));
  for (int64_t i = 0; i < n_; ++i) r[static_cast<size_t>(i)] = i;
  return r;
}

std::vector<int64_t> DataOrder::batch(const std::vector<int64_t>& order, int64_t iteration) const {
  SDD_CHECK(iteration >= 0 && iteration < iterations_per_epoch(),
            "iteration " << iteration << " outside 0.." << iterations_per_epoch() - 1);
  const int64_t lo = iteration * b_, hi = std::min(n_, lo + b_);
  return std::vector<int64_t>(order.begin() + lo, order.begin() + hi);
}

BatchIterator::BatchIterator(const DataOrder& order, int64_t epoch, int64_t iteration)
    : order_(&order), epoch_(epoch), it_(iteration) {
  SDD_CHECK(order.iterations_per_epoch() > 0, "cannot iterate over an empty dataset");
  SDD_CHECK(iteration >= 0 && iteration < order.iterations_per_epoch(),
            "start iteration " << iteration << " outside 0.." << order.iterations_per_epoch() - 1);
}

std::vector<int64_t> BatchIterator::next() {
  // The epoch's permutation is drawn when its first batch is taken (an unseeded order consumes the
  // global generator only then, as the reference's sampler does).
  if (!have_perm_) {
    perm_ = order_->epoch_order(epoch_);
    have_perm_ = true;
  }
  std::vector<int64_t> b = order_->batch(perm_, it_);
  if (++it_ == order_->iterations_per_epoch()) {
    it_ = 0;
    ++epoch_;
    have_perm_ = false;
  }
  return b;
}

}  // namespace sdd::exp
