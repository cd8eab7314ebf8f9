// engine/optim/lr_schedule.cpp — the SPEC 6.2 learning-rate schedule.
#include "engine/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "engine/errors.h"

namespace sdd::optim {

int64_t bisect_right(const std::vector<int64_t>& a, int64_t t) {
  size_t lo = 0, hi = a.size();
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (t < a[mid]) hi = mid;
    else lo = mid + 1;
  }
  return static_cast<int64_t>(lo);
}

LrSchedule::LrSchedule(double base, std::vector<int64_t> ms, double g, std::optional<int64_t> w)
    : base_lr(base), milestones(std::move(ms)), gamma(g), warmup(w) {
  const bool has_ms = !milestones.empty(), has_gamma = gamma != 0.0;
  SDD_USER_CHECK(has_ms == has_gamma,
                 "milestone_steps and gamma must be set together (gamma 0 counts as unset); set both or neither");
  SDD_USER_CHECK(!warmup || *warmup > 0,
                 "warmup_steps converts to 0 iterations, which divides by zero; omit warmup_steps or make it positive");
}

double LrSchedule::factor(int64_t t) const {
  double f = 1.0;
  if (!milestones.empty()) f = f * std::pow(gamma, static_cast<double>(bisect_right(milestones, t)));
  if (warmup) f = f * std::min(1.0, static_cast<double>(t) / static_cast<double>(*warmup));
  return f;
}

double lr_at(int64_t t, double base_lr, const std::vector<int64_t>& milestones, double gamma,
             std::optional<int64_t> warmup) {
  return LrSchedule(base_lr, milestones, gamma, warmup).lr_at(t);
}

}  // namespace sdd::optim
