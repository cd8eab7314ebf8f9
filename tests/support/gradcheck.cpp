// tests/support/gradcheck.cpp — see gradcheck.h.
#include "support/gradcheck.h"

#include <cmath>
#include <random>
#include <sstream>

#include "engine/autograd/autograd.h"
#include "engine/storage.h"

namespace sdd::test {

PoisonScope::PoisonScope() : prev_(poison_new_buffers()) { set_poison_new_buffers(true); }
PoisonScope::~PoisonScope() { set_poison_new_buffers(prev_); }

Tensor random_tensor(const Shape& shape, uint64_t seed, float lo, float hi) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (float& x : v) x = dist(gen);
  return Tensor::from_vector(v, shape);
}

namespace {
// L = sum(out * R) in double
double reduce(const Tensor& out, const std::vector<float>& r) {
  const std::vector<float> v = out.to(Device::cpu()).to_vector<float>();
  double s = 0;
  for (size_t i = 0; i < v.size(); ++i) s += static_cast<double>(v[i]) * r[i];
  return s;
}

std::vector<Tensor> fresh_leaves(const std::vector<Tensor>& inputs, bool grad) {
  std::vector<Tensor> leaves;
  for (const Tensor& t : inputs) {
    Tensor c = t.detach().clone();
    if (grad && c.dtype() == DType::f32) c.set_requires_grad(true);
    leaves.push_back(c);
  }
  return leaves;
}
}  // namespace

GradCheckResult gradcheck(const GradFn& f, const std::vector<Tensor>& inputs, const GradCheckOptions& opt) {
  PoisonScope poison;
  GradCheckResult res;
  std::ostringstream msg;
  int failures = 0;
  auto want = [&](size_t i) {
    return inputs[i].dtype() == DType::f32 && (opt.check.empty() || (i < opt.check.size() && opt.check[i]));
  };

  // Analytic gradients.
  std::vector<Tensor> leaves = fresh_leaves(inputs, true);
  Tensor out = f(leaves);
  std::mt19937_64 gen(opt.seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> r(static_cast<size_t>(out.numel()));
  for (float& x : r) x = dist(gen);
  out.backward(Tensor::from_vector(r, out.shape(), out.device()));

  // Numeric gradients, one entry at a time, on unrecorded copies.
  NoGradGuard no_grad;
  std::vector<Tensor> work = fresh_leaves(inputs, false);
  const double base = reduce(f(work), r);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!want(i)) continue;
    Tensor g = leaves[i].grad();
    if (!g.defined()) {
      res.ok = false;
      msg << "input " << i << ": no gradient was produced\n";
      continue;
    }
    const std::vector<float> ga = g.to(Device::cpu()).to_vector<float>();
    float* x = work[i].data<float>();
    for (int64_t j = 0; j < work[i].numel(); ++j) {
      const float orig = x[j];
      x[j] = static_cast<float>(orig + opt.eps);
      const double lp = reduce(f(work), r);
      x[j] = static_cast<float>(orig - opt.eps);
      const double lm = reduce(f(work), r);
      x[j] = orig;
      const double right = (lp - base) / opt.eps, left = (base - lm) / opt.eps;
      if (std::fabs(right - left) > opt.kink_tol) {
        ++res.skipped;
        continue;
      }
      ++res.checked;
      const double numeric = (lp - lm) / (2 * opt.eps);
      const double analytic = ga[static_cast<size_t>(j)];
      const double tol = opt.atol + opt.rtol * std::max(std::fabs(analytic), std::fabs(numeric));
      if (!(std::fabs(analytic - numeric) <= tol)) {
        res.ok = false;
        if (failures++ < 5)
          msg << "input " << i << " " << inputs[i].str() << " entry " << j << ": analytic " << analytic
              << " vs numeric " << numeric << "\n";
      }
    }
  }
  if (failures > 5) msg << "... " << failures << " mismatches in all\n";
  res.message = msg.str();
  return res;
}

}  // namespace sdd::test
