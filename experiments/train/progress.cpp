// experiments/train/progress.cpp — the live progress line.
#include "experiments/train/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace sdd::exp {

Progress::Progress(bool verbose) : Progress(verbose, std::cerr, ::isatty(2) != 0) {}

Progress::Progress(bool verbose, std::ostream& out, bool tty) : verbose_(verbose), tty_(tty), out_(&out) {}

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = static_cast<long long>(s + 0.5);
  char buf[64];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%llds", t);
  return buf;
}

void Progress::begin_phase(const std::string& label, int64_t start_iteration, int64_t end_iteration, int64_t ipe) {
  label_ = label;
  start_ = last_it_ = start_iteration;
  end_ = end_iteration;
  ipe_ = ipe > 0 ? ipe : 1;
  ips_ = 0.0;
  phase_t0_ = last_t_ = std::chrono::steady_clock::now();
}

void Progress::epoch(int64_t iteration, int64_t images, std::optional<double> train_acc, std::optional<double> test_acc) {
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - last_t_).count();
  const int64_t dit = iteration - last_it_;
  if (dit > 0 && dt > 0) ips_ = ips_ == 0.0 ? dit / dt : 0.7 * ips_ + 0.3 * (dit / dt);
  const double img_s = dt > 0 ? images / dt : 0.0;
  last_t_ = now;
  done_work_ += dit > 0 ? dit : 0;
  last_it_ = iteration;

  char buf[512];
  const long long e = iteration / ipe_, E = (end_ + ipe_ - 1) / ipe_;
  int n = std::snprintf(buf, sizeof buf, "%s%sep %lld/%lld  %.0f img/s", label_.c_str(), label_.empty() ? "" : "  ", e, E,
                        img_s);
  std::string line(buf, static_cast<size_t>(n));
  if (ips_ > 0) {
    line += "  ETA " + format_duration(static_cast<double>(end_ - iteration) / ips_);
    if (total_work_ > 0) line += "  (all " + format_duration(static_cast<double>(total_work_ - done_work_) / ips_) + ")";
  }
  if (train_acc) {
    std::snprintf(buf, sizeof buf, "  train %.2f%%", *train_acc * 100.0);
    line += buf;
  }
  if (test_acc) {
    std::snprintf(buf, sizeof buf, "  test %.2f%%", *test_acc * 100.0);
    line += buf;
  }
  last_ = line;
  if (!verbose_) return;
  if (tty_)
    *out_ << '\r' << line << "\033[K" << std::flush;
  else
    *out_ << line << '\n' << std::flush;
}

void Progress::end_phase(int64_t iteration) {
  if (iteration > last_it_) done_work_ += iteration - last_it_;
  last_it_ = iteration;
  if (verbose_ && tty_) *out_ << '\n' << std::flush;
}

}  // namespace sdd::exp
