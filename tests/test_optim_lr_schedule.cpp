// tests/test_optim_lr_schedule.cpp — the SPEC 6.2 learning-rate schedule goldens.
#include <catch2/catch.hpp>

#include "engine/errors.h"
#include "engine/optim/lr_schedule.h"

using namespace sdd;
using namespace sdd::optim;

TEST_CASE("LR golden: lr 0.1, warmup 10it, ipe 12, milestone 2ep x0.1", "[optim]") {
  LrSchedule s(0.1, {2 * 12}, 0.1, 10);
  CHECK(s.lr_at(0) == 0.0);   // the first update uses LR 0
  CHECK(s.lr_at(2) == Approx(0.02).epsilon(1e-12));
  CHECK(s.lr_at(6) == Approx(0.06).epsilon(1e-12));
  CHECK(s.lr_at(12) == Approx(0.1).epsilon(1e-12));
  CHECK(s.lr_at(23) == Approx(0.1).epsilon(1e-12));
  CHECK(s.lr_at(24) == Approx(0.01).epsilon(1e-12));
  // bit-exact with Python: 0.1 * (1.0 * 0.1**0 * 0.2) and 0.1 * (0.1**1 * 1)
  CHECK(s.lr_at(2) == 0.020000000000000004);
  CHECK(s.lr_at(24) == 0.010000000000000002);
}

TEST_CASE("LR golden: warmup 20it at ipe 10 is linear", "[optim]") {
  LrSchedule s(0.1, {}, 0.0, 20);
  for (int i = 0; i < 20; ++i) CHECK(s.lr_at(i) == Approx(0.1 * i / 20.0).epsilon(1e-12));
  CHECK(s.lr_at(20) == 0.1);
  CHECK(s.lr_at(500) == 0.1);
}

TEST_CASE("LR golden: milestones 2ep,4ep,7ep,8ep at ipe 10 drop exactly at 20,40,70,80", "[optim]") {
  LrSchedule s(1.0, {20, 40, 70, 80}, 0.5, std::nullopt);
  double prev = s.lr_at(0);
  CHECK(prev == 1.0);
  for (int64_t t = 1; t <= 100; ++t) {
    const double lr = s.lr_at(t);
    const bool drop = t == 20 || t == 40 || t == 70 || t == 80;
    if (drop) CHECK(lr == prev * 0.5);
    else CHECK(lr == prev);
    prev = lr;
  }
  CHECK(s.lr_at(100) == 0.0625);
}

TEST_CASE("LR is lr*(gamma^k*w), not (lr*gamma^k)*w", "[optim]") {
  // Python: 0.3 * (1.0 * 0.7**2 * min(1, 32/50)) == 0.09408, while (0.3*0.49)*0.64 == 0.09407999999999998
  CHECK(lr_at(32, 0.3, {10, 20}, 0.7, 50) == 0.09408);
  CHECK(lr_at(35, 0.3, {10, 20}, 0.7, 50) == 0.10289999999999998);
}

TEST_CASE("LR milestones: bisect-right on the list as given", "[optim]") {
  CHECK(bisect_right({20, 40}, 19) == 0);
  CHECK(bisect_right({20, 40}, 20) == 1);
  CHECK(bisect_right({20, 40}, 45) == 2);
  // unsorted: Python's bisect.bisect_right([40, 20], t)
  CHECK(bisect_right({40, 20}, 10) == 0);
  CHECK(bisect_right({40, 20}, 19) == 0);
  CHECK(bisect_right({40, 20}, 20) == 2);
  CHECK(bisect_right({40, 20}, 30) == 2);
}

TEST_CASE("LR schedule errors: zero-length warmup, gamma without milestones", "[optim]") {
  CHECK_THROWS_AS(LrSchedule(0.1, {}, 0.0, 0), UserError);
  CHECK_THROWS_AS(LrSchedule(0.1, {10}, 0.0, std::nullopt), UserError);   // gamma 0 counts as unset
  CHECK_THROWS_AS(LrSchedule(0.1, {}, 0.1, std::nullopt), UserError);
  CHECK_NOTHROW(LrSchedule(0.1, {}, 0.0, std::nullopt));
  CHECK(lr_at(5, 0.1, {}, 0.0, std::nullopt) == 0.1);
}
