// pruning/threshold.h — the pruning threshold rule shared by every strategy (SPEC 7.1-7.2).
//
//   R   = number of ones in the current mask over ALL mask tensors (ignored ones included)
//   n   = ceil(f * R) in double precision
//   thr = value at index n of the candidates' scores sorted ascending (candidates: entries with
//         mask 1 in candidate tensors)
//   new mask = old mask where score > thr, else 0   (so n+1 entries go for distinct scores)
// Layer scope applies the same rule per tensor with R_k, n_k of that tensor alone.
// Scores are compared as double; float32 scores convert exactly, so the order is the float32 order.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "pruning/mask.h"

namespace sdd::pruning {

// Scores for one candidate tensor, in C order, one per mask entry (entries with mask 0 are ignored).
struct TensorScores {
  std::string name;
  std::vector<double> scores;
};

// Global scope: one threshold over all candidates. `ones_total` is R. Throws UserError when n is not
// smaller than the number of candidates (nothing left to prune at that fraction).
Mask apply_global_threshold(const Mask& current, const std::vector<TensorScores>& candidates, double fraction);

// Layer scope: one threshold per candidate tensor.
Mask apply_layer_threshold(const Mask& current, const std::vector<TensorScores>& candidates, double fraction);

// n = ceil(f * R), computed in double as the original does.
int64_t prune_count(double fraction, int64_t remaining);

}  // namespace sdd::pruning
