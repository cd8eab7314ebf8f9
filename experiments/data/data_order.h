// experiments/data/data_order.h — which examples each training batch holds (SPEC 4.1, 6.3,
// appendix B).
//
// Seeded: epoch e visits the examples in torch.randperm(N) order with a generator seeded
// data_order_seed + e (bit-exact with the reference; seed + e == -1 means sequential, the sampler's
// quirk). Unseeded: every pass draws a fresh permutation from sdd::global_generator(). Sequential:
// 0..N-1 (the test loader). Batches of B, the last partial batch kept: ipe = ceil(N / B).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace sdd::exp {

class DataOrder {
 public:
  enum class Mode { sequential, seeded, unseeded };

  static DataOrder sequential(int64_t n, int64_t batch_size);
  static DataOrder seeded(int64_t n, int64_t batch_size, int64_t data_order_seed);
  static DataOrder unseeded(int64_t n, int64_t batch_size);
  // seeded when the seed is given, unseeded otherwise (the training loader's rule).
  static DataOrder for_training(int64_t n, int64_t batch_size, std::optional<int64_t> data_order_seed);

  Mode mode() const { return mode_; }
  int64_t size() const { return n_; }
  int64_t batch_size() const { return b_; }
  int64_t iterations_per_epoch() const { return (n_ + b_ - 1) / b_; }

  // The visiting order of one pass over the data in `epoch`. Seeded and sequential orders are pure
  // functions of the epoch; the unseeded one consumes the global generator on every call.
  std::vector<int64_t> epoch_order(int64_t epoch) const;
  // Example indices of batch `iteration` within an order: order[it*B : min((it+1)*B, N)].
  std::vector<int64_t> batch(const std::vector<int64_t>& order, int64_t iteration) const;

 private:
  DataOrder(Mode m, int64_t n, int64_t b, int64_t seed);
  Mode mode_;
  int64_t n_, b_, seed_;
};

// Walks batches from (epoch, iteration) onwards without replaying earlier ones: one permutation per
// epoch, drawn when the epoch's first batch is taken. Resuming a seeded run at (e, i) yields the same batches as
// the uninterrupted run.
class BatchIterator {
 public:
  BatchIterator(const DataOrder& order, int64_t epoch, int64_t iteration = 0);
  int64_t epoch() const { return epoch_; }
  int64_t iteration() const { return it_; }
  // Fills the next batch's example indices and advances; rolls into the next epoch after the last batch.
  std::vector<int64_t> next();

 private:
  const DataOrder* order_;
  int64_t epoch_, it_;
  std::vector<int64_t> perm_;
  bool have_perm_ = false;
};

}  // namespace sdd::exp
