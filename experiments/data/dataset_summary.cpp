// experiments/data/dataset_summary.cpp — summarize() and its text form.
#include "experiments/data/dataset_summary.h"

#include <algorithm>
#include <sstream>

namespace sdd::exp {

DatasetSummary summarize(const Dataset& d, int64_t first) {
  DatasetSummary s;
  s.name = d.name;
  s.train = d.train;
  s.n = d.n;
  s.h = d.h;
  s.w = d.w;
  s.c = d.c;
  s.num_classes = d.num_classes;
  s.histogram.assign(static_cast<size_t>(std::max<int64_t>(d.num_classes, 0)), 0);
  for (size_t i = 0; i < d.labels.size(); ++i) {
    const int64_t l = d.labels[i];
    if (l >= 0 && l < d.num_classes) ++s.histogram[static_cast<size_t>(l)];
    if (i < d.original_labels.size() && d.original_labels[i] != l) ++s.changed;
  }
  const auto k = static_cast<size_t>(std::min<int64_t>(first, static_cast<int64_t>(d.labels.size())));
  s.first_labels.assign(d.labels.begin(), d.labels.begin() + static_cast<std::ptrdiff_t>(k));
  return s;
}

std::string format_summary(const DatasetSummary& s) {
  std::ostringstream os;
  os << s.name << (s.train ? " train" : " test") << ": " << s.n << " examples of " << s.h << "x" << s.w << "x" << s.c
     << ", " << s.num_classes << " classes\n";
  os << "unchanged labels: " << (s.n - s.changed) << " (changed: " << s.changed << ")\n";
  os << "class histogram:";
  for (auto v : s.histogram) os << " " << v;
  os << "\nfirst labels:";
  for (auto v : s.first_labels) os << " " << v;
  os << "\n";
  return os.str();
}

}  // namespace sdd::exp
