// experiments/train/metric_logger.cpp — the training logger's records and text format.
#include "experiments/train/metric_logger.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/pyfmt.h"

namespace sdd::exp {

void MetricLogger::add(const std::string& name, int64_t iteration, double value) {
  SDD_CHECK(!name.empty() && name.find(',') == std::string::npos && name.find('\n') == std::string::npos,
            "bad metric name '" << name << "'");
  for (auto& r : records_)
    if (r.name == name && r.iteration == iteration) {
      r.value = value;
      return;
    }
  records_.push_back({name, iteration, value});
}

std::optional<double> MetricLogger::get(const std::string& name, int64_t iteration) const {
  for (const auto& r : records_)
    if (r.name == name && r.iteration == iteration) return r.value;
  return std::nullopt;
}

std::optional<double> MetricLogger::latest(const std::string& name) const {
  const MetricRecord* best = nullptr;
  for (const MetricRecord& r : records_)
    if (r.name == name && (best == nullptr || r.iteration > best->iteration)) best = &r;
  if (best == nullptr) return std::nullopt;
  return best->value;
}

std::string MetricLogger::str() const {
  std::string out;
  for (size_t i = 0; i < records_.size(); ++i) {
    if (i) out += '\n';
    out += records_[i].name + "," + std::to_string(records_[i].iteration) + "," + py_float_repr(records_[i].value);
  }
  return out;
}

namespace {
bool parse_i64(const std::string& s, int64_t* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *v = x;
  return true;
}
bool parse_f64(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double x = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return false;
  *v = x;
  return true;
}
}  // namespace

MetricLogger MetricLogger::parse(const std::string& text, const std::string& source) {
  MetricLogger out;
  if (text.empty()) return out;
  std::istringstream is(text);
  std::string line;
  int64_t lineno = 0;
  while (std::getline(is, line)) {
    ++lineno;
    const size_t a = line.find(','), b = line.rfind(',');
    int64_t it = 0;
    double v = 0.0;
    SDD_USER_CHECK(a != std::string::npos && b != a && a > 0 && parse_i64(line.substr(a + 1, b - a - 1), &it) &&
                       parse_f64(line.substr(b + 1), &v),
                   "malformed line " << lineno << " in " << source << " ('" << line
                                     << "'): expected name,iteration,value; delete the file to recompute it");
    out.add(line.substr(0, a), it, v);
  }
  return out;
}

void MetricLogger::save(const std::string& dir) const { io::write_file_atomic(dir + "/logger", str()); }

MetricLogger MetricLogger::load(const std::string& dir) {
  const std::string path = dir + "/logger";
  return parse(io::read_file(path), path);
}

bool MetricLogger::exists(const std::string& dir) { return io::file_exists(dir + "/logger"); }

bool MetricLogger::operator==(const MetricLogger& o) const {
  if (records_.size() != o.records_.size()) return false;
  for (size_t i = 0; i < records_.size(); ++i) {
    const auto &a = records_[i], &b = o.records_[i];
    if (a.name != b.name || a.iteration != b.iteration || !(a.value == b.value)) return false;
  }
  return true;
}

}  // namespace sdd::exp
