// engine/rng.h — the engine's host random generator: Philox4x32-10 (kernels/philox.h) with a 64-bit
// seed as key and a 128-bit position as counter. Deterministic on every machine; its state is two
// integers (seed, offset), saved in checkpoints. Bit-exact numpy / torch / CPython generators for
// label noise and data order live elsewhere (experiments); this one draws everything else.
#pragma once
#include <cstdint>
#include <vector>

namespace sdd {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }   // number of 4-word blocks consumed
  void set_state(uint64_t seed, uint64_t offset) { seed_ = seed; offset_ = offset; buffered_ = 0; }

  uint32_t next_u32();
  double uniform();                  // [0, 1), 53 bits
  double uniform(double lo, double hi);
  double normal();                   // standard normal (Box-Muller on two uniforms)
  uint64_t below(uint64_t n);        // uniform integer in [0, n), unbiased
  std::vector<int64_t> permutation(int64_t n);   // Fisher-Yates

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
  uint32_t buf_[4] = {0, 0, 0, 0};
  int buffered_ = 0;
};

// The process-wide generator used when nothing more specific is given (weight init, unseeded data
// order). Seeded with --torch_seed (or 0 by default: sparsedd runs are reproducible unless asked).
Generator& global_generator();
void manual_seed(uint64_t seed);

}  // namespace sdd
