// engine/rng_compat.h — bit-exact copies of the reference framework's random streams:
//   * numpy's legacy RandomState (label noise, subsampling, random pruning masks; SPEC appendix A),
//   * torch's CPU randperm with a seeded generator (data order; SPEC appendix B),
//   * CPython's random.Random(seed).shuffle (the `permuted` freeze type; SPEC appendix D).
// All three sit on MT19937 with the standard tempered 32-bit output; they differ in seeding and in how
// they turn words into numbers. Everything else in sparsedd draws from sdd::Generator (engine/rng.h).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace sdd {

// MT19937 (Matsumoto & Nishimura) with the two reference seeding procedures.
class MT19937 {
 public:
  static constexpr int kN = 624;
  MT19937() { init_genrand(5489u); }
  explicit MT19937(uint32_t seed) { init_genrand(seed); }

  void init_genrand(uint32_t seed);                      // numpy RandomState(seed), torch manual_seed
  void init_by_array(const std::vector<uint32_t>& key);  // CPython random.seed(int)
  uint32_t u32();                                        // tempered output

 private:
  void regenerate();
  std::array<uint32_t, kN> mt_{};
  int idx_ = kN;
};

// numpy.random.RandomState (legacy), seeded with a 32-bit integer.
class NumpyRandomState {
 public:
  explicit NumpyRandomState(uint32_t seed) : mt_(seed) {}

  double random_sample();                                // rand(): 53-bit double in [0, 1)
  std::vector<double> rand(int64_t n);                   // n draws in order (C order for any shape)
  uint64_t bounded(uint64_t max);                        // uniform in [0, max], masked rejection
  std::vector<int64_t> randint(int64_t high, int64_t n); // n draws of bounded(high-1): values in [0, high)
  std::vector<int64_t> permutation(int64_t n);
  template <class T> void shuffle(std::vector<T>& a) {
    for (int64_t i = static_cast<int64_t>(a.size()) - 1; i >= 1; --i) {
      const auto j = static_cast<size_t>(bounded(static_cast<uint64_t>(i)));
      std::swap(a[static_cast<size_t>(i)], a[j]);
    }
  }
  int64_t binomial(int64_t n, double p);                 // legacy binomial (inversion for n*p < 30)
  std::vector<int64_t> multinomial(int64_t n, const std::vector<double>& pvals);  // counts per class
  // multinomial(1, p): the index of the chosen class.
  int64_t multinomial_one(const std::vector<double>& pvals);

 private:
  int64_t binomial_inversion(int64_t n, double p);
  MT19937 mt_;
};

// torch.randperm(n, generator=g) on the CPU after g.manual_seed(seed) (seed taken mod 2^32).
std::vector<int64_t> torch_randperm(int64_t n, uint64_t seed);

// CPython random.Random(seed) for a non-negative integer seed.
class PyRandom {
 public:
  explicit PyRandom(uint64_t seed);
  uint32_t randbelow(uint32_t m);  // 1 <= m
  template <class T> void shuffle(std::vector<T>& a) {
    for (int64_t i = static_cast<int64_t>(a.size()) - 1; i >= 1; --i) {
      const auto j = static_cast<size_t>(randbelow(static_cast<uint32_t>(i + 1)));
      std::swap(a[static_cast<size_t>(i)], a[j]);
    }
  }

 private:
  MT19937 mt_;
};

}  // namespace sdd
