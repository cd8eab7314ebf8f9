// experiments/train/progress.h — the live progress line of an experiment on stderr: one update per
// epoch with the phase label, epoch e/E, images per second, the phase ETA and (when the total work of
// the experiment is known) the experiment ETA, and the last train / test accuracy. On a terminal the
// line is rewritten in place with '\r'; otherwise one line per epoch is printed. Silent when quiet.
#pragma once
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace sdd::exp {

class Progress {
 public:
  // verbose false: nothing is printed. out: the stream (stderr by default); tty: rewrite in place.
  explicit Progress(bool verbose = true);
  Progress(bool verbose, std::ostream& out, bool tty);

  // Total training iterations of the whole experiment (all phases), when the runner knows it.
  void set_total_work(int64_t iterations) { total_work_ = iterations; }
  // Iterations of earlier phases already counted (phases skipped or finished).
  void add_done_work(int64_t iterations) { done_work_ += iterations; }

  // A phase starts: label, its first and last global iteration, the iterations per epoch.
  void begin_phase(const std::string& label, int64_t start_iteration, int64_t end_iteration, int64_t ipe);
  // Called at each epoch start with the current iteration, the images trained since the last call and
  // the last accuracies (when known).
  void epoch(int64_t iteration, int64_t images, std::optional<double> train_acc, std::optional<double> test_acc);
  // The phase ended at `iteration` (finishes the line on a terminal).
  void end_phase(int64_t iteration);

  // The last line rendered (tests).
  const std::string& last_line() const { return last_; }

 private:
  bool verbose_, tty_;
  std::ostream* out_;
  std::string label_, last_;
  int64_t start_ = 0, end_ = 0, ipe_ = 1, last_it_ = 0;
  int64_t total_work_ = 0, done_work_ = 0;
  std::chrono::steady_clock::time_point phase_t0_, last_t_;
  double ips_ = 0.0;   // iterations per second, smoothed
};

// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace sdd::exp
