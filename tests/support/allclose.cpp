// tests/support/allclose.cpp — see allclose.h.
#include "support/allclose.h"

#include <cmath>
#include <iostream>
#include <sstream>
#include <vector>

namespace sdd::test {

namespace {
std::vector<double> host_values(const Tensor& t) {
  Tensor h = t.to(Device::cpu());
  if (h.dtype() != DType::f64) h = h.to_dtype(DType::f64);
  return h.to_vector<double>();
}
}  // namespace

CloseReport compare(const Tensor& a, const Tensor& b, double rtol, double atol) {
  CloseReport r;
  if (!a.defined() || !b.defined() || a.numel() != b.numel()) {
    r.ok = false;
    r.message = "allclose: cannot compare " + a.str() + " with " + b.str();
    return r;
  }
  const std::vector<double> va = host_values(a), vb = host_values(b);
  double worst_excess = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    const double d = std::fabs(va[i] - vb[i]);
    const double tol = atol + rtol * std::fabs(vb[i]);
    const bool bad = !(d <= tol);  // NaN-safe
    if (!std::isnan(d) && d > r.max_abs_diff) r.max_abs_diff = d;
    const double excess = std::isnan(d) ? INFINITY : d - tol;
    if (bad && (r.ok || excess > worst_excess)) {
      r.ok = false;
      worst_excess = excess;
      r.worst_index = static_cast<int64_t>(i);
      r.worst_a = va[i];
      r.worst_b = vb[i];
    }
  }
  if (!r.ok) {
    std::ostringstream os;
    os << "allclose failed (rtol " << rtol << ", atol " << atol << ") for " << a.str() << ": worst at flat index "
       << r.worst_index << ": " << r.worst_a << " vs " << r.worst_b << " (max |diff| " << r.max_abs_diff << ")";
    r.message = os.str();
  }
  return r;
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  const CloseReport r = compare(a, b, rtol, atol);
  if (!r.ok) std::cerr << r.message << "\n";
  return r.ok;
}

}  // namespace sdd::test
