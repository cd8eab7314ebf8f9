// pruning/device_threshold.h — the threshold rule of pruning/threshold.h (SPEC 7.1-7.2) computed
// through the ops (ops::count_nonzero, ops::candidate_kth_value, ops::mask_keep_above) on tensors
// that stay on their device, so a model on the GPU prunes without copying its weights to the host or
// sorting there (DESIGN section 5: a device select).
//
//   R   = ones of the current mask over ALL mask tensors (ignored ones included; global scope)
//   n   = ceil(f * R) in double precision (prune_count)
//   thr = value at index n of the ascending candidate scores (candidates: mask != 0)
//   new mask = old mask where score > thr, else 0
// Scores are f32: magnitude |w|, -|w| and gradient |w*g| (float product) are exactly the floats whose
// double values pruning/threshold.cpp sorts, so both give the same masks. Random scores (numpy,
// double) stay on the host path of pruning/strategies.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "pruning/mask.h"
#include "pruning/strategies.h"

namespace sdd::pruning {

// One candidate tensor: its current mask and its scores, f32 of one shape on one device.
struct DeviceCandidate {
  std::string name;
  Tensor mask;     // f32 [shape], 0/1
  Tensor scores;   // f32 [shape]
};

// Global scope: one threshold over every candidate; `remaining` is R (ones over all mask tensors,
// ignored ones included). Returns the new masks, one per candidate in order, on the candidates'
// device. Throws UserError (the message of threshold.cpp) when n is not below the candidate count.
std::vector<Tensor> device_global_threshold(const std::vector<DeviceCandidate>& candidates, int64_t remaining,
                                            double fraction);

// Layer scope: per candidate, R_k = its own ones, its own threshold.
std::vector<Tensor> device_layer_threshold(const std::vector<DeviceCandidate>& candidates, double fraction);

// R of a list of device masks (ops::count_nonzero summed).
int64_t device_remaining(const std::vector<Tensor>& masks);

// The Mask-level counterparts of apply_global_threshold / apply_layer_threshold: `scores` maps
// candidate names to f32 score tensors on a device; the current mask of each candidate is copied
// there, R comes from the host mask, and the new masks come back into a copy of `current` (masks
// are host tensors, pruning/mask.h). Equal to the host functions for the same float scores.
Mask apply_global_threshold_device(const Mask& current, const NamedTensors& scores, double fraction);
Mask apply_layer_threshold_device(const Mask& current, const NamedTensors& scores, double fraction);

// Magnitude and gradient pruning with weights (and gradients) left on their device: the scores are
// ops::prune_scores, the candidates those of candidate_names(). Same masks as prune_magnitude /
// prune_gradient of pruning/strategies.h.
Mask prune_magnitude_device(const Mask& current, const NamedTensors& weights, const PruningConfig& c);
Mask prune_gradient_device(const Mask& current, const NamedTensors& weights, const NamedTensors& grads,
                           const PruningConfig& c);

}  // namespace sdd::pruning
