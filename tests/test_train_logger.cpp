// tests/test_train_logger.cpp — the training logger's text format (SPEC 6.5), the progress line and
// the generator-state capture used by checkpoints.
#include <catch2/catch.hpp>

#include <sstream>

#include "engine/errors.h"
#include "engine/rng.h"
#include "experiments/train/checkpoint.h"
#include "experiments/train/metric_logger.h"
#include "experiments/train/progress.h"
#include "test_train_fixture.h"

using namespace sdd;
using namespace sdd::exp;

TEST_CASE("metric logger: insertion order, overwrite in place, Python float text", "[train]") {
  MetricLogger l;
  l.add("train_loss", 5, 1.420252685546875);
  l.add("train_accuracy", 5, 0.6);
  l.add("train_examples", 5, 100.0);
  l.add("test_loss", 5, 0.1);
  l.add("train_accuracy", 5, 0.7);   // overwrite keeps the position
  CHECK(l.records().size() == 4);
  CHECK(l.str() == "train_loss,5,1.420252685546875\ntrain_accuracy,5,0.7\ntrain_examples,5,100.0\ntest_loss,5,0.1");
  CHECK(l.get("train_accuracy", 5) == Approx(0.7));
  CHECK_FALSE(l.get("train_accuracy", 6).has_value());

  const MetricLogger back = MetricLogger::parse(l.str());
  CHECK(back == l);
  CHECK(back.str() == l.str());
  CHECK(MetricLogger().str().empty());
  CHECK(MetricLogger::parse("").empty());
  CHECK_THROWS_AS(MetricLogger::parse("train_loss,5"), UserError);
  CHECK_THROWS_AS(MetricLogger::parse("train_loss,x,1.0"), UserError);

  test_train::TempDir d("logger");
  CHECK_FALSE(MetricLogger::exists(d.path));
  l.save(d.path);
  CHECK(MetricLogger::exists(d.path));
  CHECK(MetricLogger::load(d.path) == l);
}

TEST_CASE("progress line: epoch, ETA and accuracies; silent when quiet", "[train]") {
  std::ostringstream os;
  Progress p(true, os, /*tty=*/false);
  p.set_total_work(100);
  p.begin_phase("level 1/2", 0, 36, 12);
  p.epoch(12, 600, 0.5, 0.25);
  CHECK(p.last_line().find("level 1/2") == 0);
  CHECK(p.last_line().find("ep 1/3") != std::string::npos);
  CHECK(p.last_line().find("train 50.00%") != std::string::npos);
  CHECK(p.last_line().find("test 25.00%") != std::string::npos);
  CHECK(os.str().find("ep 1/3") != std::string::npos);
  CHECK(os.str().back() == '\n');

  std::ostringstream quiet;
  Progress q(false, quiet, false);
  q.begin_phase("x", 0, 10, 5);
  q.epoch(5, 10, std::nullopt, std::nullopt);
  CHECK(quiet.str().empty());
  CHECK(format_duration(3725) == "1h02m");
  CHECK(format_duration(65) == "1m05s");
}

TEST_CASE("generator state capture restores the exact stream, buffered words included", "[train]") {
  for (int consumed = 0; consumed < 9; ++consumed) {
    Generator g(99);
    for (int i = 0; i < consumed; ++i) g.next_u32();
    const RngState s = capture_rng(g);
    std::vector<uint32_t> expect;
    for (int i = 0; i < 7; ++i) expect.push_back(g.next_u32());
    Generator h(1);
    h.next_u32();
    restore_rng(h, s);
    std::vector<uint32_t> got;
    for (int i = 0; i < 7; ++i) got.push_back(h.next_u32());
    CHECK(got == expect);
  }
}
