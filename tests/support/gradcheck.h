// tests/support/gradcheck.h — central-difference gradient checker (DESIGN rule 9, Caffe's
// GradientChecker).
//
// For f(inputs) -> out, the checker reduces out to the scalar L = sum(out * R) with a fixed random
// R in [-1, 1] (so every output entry matters), runs backward once for the analytic gradient, then
// for every input entry computes in double
//   numeric = (L(x + eps) - L(x - eps)) / (2 eps)
// and requires |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|).
// Entries near a kink (relu at 0, max-pool ties) are skipped: there the one-sided slopes
// (L(x+eps) - L(x)) / eps and (L(x) - L(x-eps)) / eps disagree by more than kink_tol.
// Every buffer allocated during the check is NaN-poisoned (set_poison_new_buffers), so a backward
// that forgets entries yields NaN and fails.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace sdd::test {

struct GradCheckOptions {
  double eps = 1e-2;
  double rtol = 1e-2;
  double atol = 1e-3;
  double kink_tol = 0.05;     // skip entries whose one-sided slopes differ by more than this
  uint64_t seed = 1234;       // for R
  std::vector<bool> check;    // check[i]: check input i (default: all)
};

struct GradCheckResult {
  bool ok = true;
  int64_t checked = 0, skipped = 0;
  std::string message;  // first failures, one per line
};

using GradFn = std::function<Tensor(const std::vector<Tensor>& inputs)>;

// inputs: f32 CPU tensors (not modified). f is called with leaf copies that require gradients.
GradCheckResult gradcheck(const GradFn& f, const std::vector<Tensor>& inputs, const GradCheckOptions& opt = {});

// Turns NaN poisoning of new buffers on for its lifetime.
class PoisonScope {
 public:
  PoisonScope();
  ~PoisonScope();
  PoisonScope(const PoisonScope&) = delete;
  PoisonScope& operator=(const PoisonScope&) = delete;

 private:
  bool prev_;
};

// A CPU f32 tensor of `shape` with values uniform in [lo, hi), from a fixed seed.
Tensor random_tensor(const Shape& shape, uint64_t seed, float lo = -1.f, float hi = 1.f);

}  // namespace sdd::test
