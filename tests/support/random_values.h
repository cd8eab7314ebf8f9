// tests/support/random_values.h — seeded test data: n values drawn from N(0, 1), each kept with
// probability `density` and 0 otherwise (pruned-weight-like tensors when density < 1).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace sdd::test {

inline std::vector<float> random_values(size_t n, double density, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::uniform_real_distribution<float> keep(0.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = keep(gen) < density ? nd(gen) : 0.f;
  return v;
}

}  // namespace sdd::test
