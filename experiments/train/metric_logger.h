// experiments/train/metric_logger.h — the `logger` file of a training phase (SPEC 6.5): records
// (name, global iteration, value) in insertion order; re-adding the same (name, iteration) overwrites
// the value in place. Text form: lines `name,iteration,value` joined by "\n", no trailing newline,
// value in Python float repr (e.g. `train_loss,5,1.420252685546875`, `train_examples,5,100.0`).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sdd::exp {

struct MetricRecord {
  std::string name;
  int64_t iteration = 0;
  double value = 0.0;
};

class MetricLogger {
 public:
  // Inserts (name, iteration, value) at the end, or overwrites the value of an existing record.
  void add(const std::string& name, int64_t iteration, double value);
  std::optional<double> get(const std::string& name, int64_t iteration) const;
  // The value of `name` at its highest iteration (none when it has no record).
  std::optional<double> latest(const std::string& name) const;
  const std::vector<MetricRecord>& records() const { return records_; }
  bool empty() const { return records_.empty(); }
  void clear() { records_.clear(); }

  std::string str() const;
  // Parses str() output back; UserError naming `source` on a malformed line.
  static MetricLogger parse(const std::string& text, const std::string& source = "logger");
  // <dir>/logger, written atomically / read back.
  void save(const std::string& dir) const;
  static MetricLogger load(const std::string& dir);
  static bool exists(const std::string& dir);

  bool operator==(const MetricLogger& o) const;

 private:
  std::vector<MetricRecord> records_;
};

}  // namespace sdd::exp
