// engine/rng.cpp — Generator draws on top of Philox4x32-10.
#include "engine/rng.h"

#include <cmath>

#include "kernels/philox.h"

namespace sdd {

uint32_t Generator::next_u32() {
  if (buffered_ == 0) {
    const kern::U32x4 r = kern::philox4x32(static_cast<uint32_t>(offset_), static_cast<uint32_t>(offset_ >> 32), 0u,
                                           0u, static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32));
    ++offset_;
    for (int i = 0; i < 4; ++i) buf_[i] = r.v[i];
    buffered_ = 4;
  }
  return buf_[4 - buffered_--];
}

double Generator::uniform() {
  const uint32_t a = next_u32();
  const uint32_t b = next_u32();
  return kern::philox_u01d(a, b);
}

double Generator::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

double Generator::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

uint64_t Generator::below(uint64_t n) {
  if (n <= 1) return 0;
  if (n <= 0xFFFFFFFFull) {
    const uint32_t m = static_cast<uint32_t>(n);
    const uint32_t limit = static_cast<uint32_t>(0x100000000ull - (0x100000000ull % m));
    for (;;) {
      const uint32_t x = next_u32();
      if (limit == 0 || x < limit) return x % m;
    }
  }
  for (;;) {
    const uint64_t x = (static_cast<uint64_t>(next_u32()) << 32) | next_u32();
    const uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    if (x < limit) return x % n;
  }
}

std::vector<int64_t> Generator::permutation(int64_t n) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(below(static_cast<uint64_t>(i) + 1));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

Generator& global_generator() {
  static Generator g(0);
  return g;
}

void manual_seed(uint64_t seed) { global_generator().set_state(seed, 0); }

}  // namespace sdd
