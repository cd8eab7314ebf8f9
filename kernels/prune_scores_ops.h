// kernels/prune_scores_ops.h — per-element pruning math shared by the CPU backend
// (engine/cpu/prune_cpu.cpp) and the CUDA kernels (kernels/prune_scores.cu, kernels/topk_threshold.cu),
// DESIGN rule 2. The rules are those of pruning/strategies.cpp and pruning/threshold.cpp (SPEC 7.1-7.2):
//   magnitude      s = |w|
//   max magnitude  s = -|w|          (prune_max_magnitude prunes the largest weights)
//   gradient       s = |w * g|       (product in float32)
//   random scores are numpy RandomState draws, bit-exact only on the host: they never reach a kernel.
// Mask update after the threshold thr (value at index n of the ascending candidate scores):
//   new = old where score > thr, else 0       (entries already 0 stay 0)
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/hd.h"

namespace sdd::kern {

// Which score: magnitude (|w|), max magnitude (-|w|) or gradient (|w*g|).
enum PruneScoreMode : int32_t { kScoreMagnitude = 0, kScoreMaxMagnitude = 1, kScoreGradient = 2 };

SDD_HD float prune_score(int32_t mode, float w, float g) {
  if (mode == kScoreGradient) return fabsf(w * g);
  const float a = fabsf(w);
  return mode == kScoreMaxMagnitude ? -a : a;
}

// New mask value of one entry: kept (old value) when the score is strictly above thr.
SDD_HD float mask_keep_above(float mask, float score, float thr) {
  return (mask != 0.f && !(score > thr)) ? 0.f : mask;
}

// Whether an entry is a candidate for the threshold (unpruned in the current mask).
SDD_HD bool prune_candidate(float mask) { return mask != 0.f; }

}  // namespace sdd::kern
