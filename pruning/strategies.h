// pruning/strategies.h — the pruning strategies of the original (SPEC 7.2) on host tensors:
// magnitude (global / layer scope, layers_to_prune, ignore list, prune_max_magnitude), gradient
// (|w * dL/dw|), random (numpy RandomState(seed).rand per tensor, bit-exact) and network slimming
// (|gamma| of BatchNorm layers, beta follows gamma). Each returns the next level's mask.
// Magnitude and gradient pruning of weights that live on a CUDA device run on that device
// (pruning/device_threshold.h: same masks, no host copy or sort); random scores (numpy doubles) and
// network slimming stay on the host.
//
// Decisions (DESIGN section 4): prune_max_magnitude prunes the LARGEST weights (the original's bug
// kept only the n largest); gradient pruning supports layer scope (the original crashed).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pruning/mask.h"

namespace sdd::pruning {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct PruningConfig {
  std::string strategy = "magnitude";   // magnitude | gradient | random | network_slimming
  double fraction = 0.2;
  std::string scope = "global";         // global | layer
  std::vector<std::string> layers_to_ignore;
  std::string layers_to_prune;          // "" or first_n / last_n (layer scope only)
  bool prune_max_magnitude = false;
  std::optional<int64_t> random_mask_seed;
};

// Checks a configuration up front (unknown strategy/scope, layers_to_prune with global scope,
// malformed first_n/last_n, fraction outside [0, 1)); throws UserError.
void validate(const PruningConfig& c);

// The candidate tensor names: `prunable` (module order) restricted by layers_to_prune (layer scope
// only), minus the ignore list. Unknown ignored names are a UserError.
std::vector<std::string> candidate_names(const std::vector<std::string>& prunable, const PruningConfig& c);

// weights / grads: f32 tensors by name, covering at least the candidates (host, or CUDA: see above;
// host gradients of CUDA weights are copied to the device).
Mask prune_magnitude(const Mask& current, const NamedTensors& weights, const PruningConfig& c);
Mask prune_gradient(const Mask& current, const NamedTensors& weights, const NamedTensors& grads,
                    const PruningConfig& c);
Mask prune_random(const Mask& current, const PruningConfig& c);
// Network slimming: `current` holds BN weight and bias masks; gammas maps BN weight names to values.
// R counts the ones of the BN *weight* masks only.
Mask prune_network_slimming(const Mask& current, const NamedTensors& gammas, const PruningConfig& c);

}  // namespace sdd::pruning
