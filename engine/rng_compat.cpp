// engine/rng_compat.cpp — MT19937 and the numpy / torch / CPython draws built on it (SPEC appendices
// A, B, D). Each function follows the reference algorithm step by step; the tests compare against
// values produced by numpy 1.24, torch 1.13 and CPython 3.11.
#include "engine/rng_compat.h"

#include <algorithm>
#include <cmath>

#include "engine/errors.h"

namespace sdd {

// ------------------------------------------------------------------------------------------ MT19937

void MT19937::init_genrand(uint32_t seed) {
  mt_[0] = seed;
  for (int i = 1; i < kN; ++i) {
    // mt[i] = 1812433253 * (mt[i-1] ^ (mt[i-1] >> 30)) + i   (mod 2^32)
    mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<uint32_t>(i);
  }
  idx_ = kN;
}

void MT19937::init_by_array(const std::vector<uint32_t>& key) {
  init_genrand(19650218u);
  const int klen = static_cast<int>(key.size());
  SDD_CHECK(klen > 0, "init_by_array needs a non-empty key");
  int i = 1, j = 0;
  for (int k = std::max(kN, klen); k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[static_cast<size_t>(j)] +
             static_cast<uint32_t>(j);
    ++i;
    ++j;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
    if (j >= klen) j = 0;
  }
  for (int k = kN - 1; k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - static_cast<uint32_t>(i);
    ++i;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000u;
  idx_ = kN;
}

void MT19937::regenerate() {
  constexpr int M = 397;
  constexpr uint32_t kUpper = 0x80000000u, kLower = 0x7fffffffu, kMatrix = 0x9908b0dfu;
  for (int k = 0; k < kN; ++k) {
    const uint32_t y = (mt_[k] & kUpper) | (mt_[(k + 1) % kN] & kLower);
    mt_[k] = mt_[(k + M) % kN] ^ (y >> 1) ^ ((y & 1u) ? kMatrix : 0u);
  }
  idx_ = 0;
}

uint32_t MT19937::u32() {
  if (idx_ >= kN) regenerate();
  uint32_t y = mt_[idx_++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= (y >> 18);
  return y;
}

// ------------------------------------------------------------------------------ numpy RandomState

double NumpyRandomState::random_sample() {
  const uint32_t a = mt_.u32() >> 5, b = mt_.u32() >> 6;
  return (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) / 9007199254740992.0;
}

std::vector<double> NumpyRandomState::rand(int64_t n) {
  std::vector<double> out(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (auto& v : out) v = random_sample();
  return out;
}

uint64_t NumpyRandomState::bounded(uint64_t max) {
  if (max == 0) return 0;
  SDD_CHECK(max <= 0xFFFFFFFFull, "bounded() above 2^32 is not needed by sparsedd (max " << max << ")");
  uint64_t mask = max;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  uint64_t v;
  do {
    v = mt_.u32() & mask;
  } while (v > max);
  return v;
}

std::vector<int64_t> NumpyRandomState::randint(int64_t high, int64_t n) {
  SDD_CHECK(high >= 1, "randint needs high >= 1, got " << high);
  std::vector<int64_t> out(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (auto& v : out) v = static_cast<int64_t>(bounded(static_cast<uint64_t>(high - 1)));
  return out;
}

std::vector<int64_t> NumpyRandomState::permutation(int64_t n) {
  std::vector<int64_t> a(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (int64_t i = 0; i < n; ++i) a[static_cast<size_t>(i)] = i;
  shuffle(a);
  return a;
}

int64_t NumpyRandomState::binomial_inversion(int64_t n, double p) {
  const double q = 1.0 - p;
  const double qn = std::exp(static_cast<double>(n) * std::log(q));
  const double np = static_cast<double>(n) * p;
  const auto bound = static_cast<int64_t>(std::min(static_cast<double>(n), np + 10.0 * std::sqrt(np * q + 1.0)));
  int64_t x = 0;
  double px = qn;
  double u = random_sample();
  while (u > px) {
    ++x;
    if (x > bound) {
      x = 0;
      px = qn;
      u = random_sample();
    } else {
      u -= px;
      px = (static_cast<double>(n - x + 1) * p * px) / (static_cast<double>(x) * q);
    }
  }
  return x;
}

int64_t NumpyRandomState::binomial(int64_t n, double p) {
  if (n == 0 || p == 0.0) return 0;  // no draw
  if (p <= 0.5) {
    SDD_CHECK(p * static_cast<double>(n) <= 30.0, "binomial BTPE branch (n*p > 30) is not implemented");
    return binomial_inversion(n, p);
  }
  const double q = 1.0 - p;
  SDD_CHECK(q * static_cast<double>(n) <= 30.0, "binomial BTPE branch (n*q > 30) is not implemented");
  return n - binomial_inversion(n, q);
}

std::vector<int64_t> NumpyRandomState::multinomial(int64_t n, const std::vector<double>& pvals) {
  const size_t d = pvals.size();
  SDD_CHECK(d >= 1, "multinomial needs at least one category");
  std::vector<int64_t> counts(d, 0);
  double remaining = 1.0;
  int64_t dn = n;
  for (size_t j = 0; j + 1 < d; ++j) {
    counts[j] = binomial(dn, pvals[j] / remaining);
    dn -= counts[j];
    if (dn <= 0) break;
    remaining -= pvals[j];
  }
  if (dn > 0) counts[d - 1] = dn;
  return counts;
}

int64_t NumpyRandomState::multinomial_one(const std::vector<double>& pvals) {
  const std::vector<int64_t> c = multinomial(1, pvals);
  for (size_t j = 0; j < c.size(); ++j)
    if (c[j] == 1) return static_cast<int64_t>(j);
  SDD_FAIL("multinomial(1, p) produced no category");
}

// ------------------------------------------------------------------------------------ torch randperm

std::vector<int64_t> torch_randperm(int64_t n, uint64_t seed) {
  MT19937 mt(static_cast<uint32_t>(seed & 0xFFFFFFFFull));
  std::vector<int64_t> r(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (int64_t i = 0; i < n; ++i) r[static_cast<size_t>(i)] = i;
  for (int64_t i = 0; i + 1 < n; ++i) {
    const int64_t z = static_cast<int64_t>(mt.u32() % static_cast<uint64_t>(n - i));
    std::swap(r[static_cast<size_t>(i)], r[static_cast<size_t>(i + z)]);
  }
  return r;
}

// --------------------------------------------------------------------------------- CPython random

PyRandom::PyRandom(uint64_t seed) {
  // The integer's 32-bit words, least significant first; 0 gives the one-word key [0].
  std::vector<uint32_t> key;
  do {
    key.push_back(static_cast<uint32_t>(seed & 0xFFFFFFFFull));
    seed >>= 32;
  } while (seed != 0);
  mt_.init_by_array(key);
}

uint32_t PyRandom::randbelow(uint32_t m) {
  SDD_CHECK(m >= 1, "randbelow needs m >= 1");
  int k = 0;
  for (uint32_t t = m; t != 0; t >>= 1) ++k;  // bit length
  uint32_t r;
  do {
    r = mt_.u32() >> (32 - k);
  } while (r >= m);
  return r;
}

}  // namespace sdd
