// engine/optim/lr_schedule.h — the learning-rate schedule of SPEC 6.2, as a pure function of the
// global iteration t:
//   lr(t) = base_lr * (1.0 * gamma^k * min(1, t / W))      k = bisect_right(milestones, t)
// The factor is formed first in float64, left to right (gamma^k only when milestones are set, the
// warmup term only when warmup is set), then multiplied into base_lr: lr*(γ^k*w), bit-exact with the
// original. With warmup, t = 0 gives LR 0. Milestones are iterations, used in the order given.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace sdd::optim {

struct LrSchedule {
  double base_lr = 0.0;
  std::vector<int64_t> milestones;   // iterations, in the order given (empty: no milestone factor)
  double gamma = 0.0;
  std::optional<int64_t> warmup;     // warmup iterations (nullopt: no warmup factor)

  // Checks the schedule as the original does on construction: milestones and gamma set together
  // (gamma 0 counts as unset), and a set warmup of 0 iterations is an error (it divides 0 by 0).
  // Throws UserError naming the flag.
  LrSchedule(double base_lr, std::vector<int64_t> milestones, double gamma, std::optional<int64_t> warmup);

  double factor(int64_t t) const;
  double lr_at(int64_t t) const { return base_lr * factor(t); }
};

// Python's bisect.bisect_right on a list that need not be sorted.
int64_t bisect_right(const std::vector<int64_t>& a, int64_t t);

// One-call form of LrSchedule(...).lr_at(t).
double lr_at(int64_t t, double base_lr, const std::vector<int64_t>& milestones, double gamma,
             std::optional<int64_t> warmup);

}  // namespace sdd::optim
