// tests/support/allclose.h — tensor comparison with a stated tolerance (DESIGN rule 9).
// |a - b| <= atol + rtol * |b| elementwise; on failure prints the worst index and both values.
#pragma once
#include <string>

#include "engine/tensor.h"

namespace sdd::test {

struct CloseReport {
  bool ok = true;
  int64_t worst_index = -1;   // flat index of the largest excess over the tolerance
  double worst_a = 0, worst_b = 0;
  double max_abs_diff = 0;
  std::string message;        // one line, empty when ok
};

// Compares two f32/f64 tensors (any device; copied to the host) of equal numel. NaN never matches.
CloseReport compare(const Tensor& a, const Tensor& b, double rtol, double atol);

// True when close; otherwise prints compare()'s message to stderr and returns false.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-6);

}  // namespace sdd::test
