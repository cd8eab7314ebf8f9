// experiments/data/dataset_summary.h — a short description of a (transformed) split: sizes, class
// histogram, how many labels differ from the file's, the first labels. Printed by `sparsedd dataset`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/data/dataset.h"

namespace sdd::exp {

struct DatasetSummary {
  std::string name;
  bool train = true;
  int64_t n = 0, h = 0, w = 0, c = 0, num_classes = 0;
  std::vector<int64_t> histogram;     // [num_classes] label counts
  int64_t changed = 0;                // labels != original_labels (same example order)
  std::vector<int64_t> first_labels;  // labels[0 .. min(n, first)-1]
};

DatasetSummary summarize(const Dataset& d, int64_t first = 20);

// Multi-line text, e.g.
//   fashion_mnist train: 60000 examples of 28x28x1, 10 classes
//   unchanged labels: 60000 (changed: 0)
//   class histogram: 6000 6000 ...
//   first labels: 9 0 0 3 ...
std::string format_summary(const DatasetSummary& s);

}  // namespace sdd::exp
