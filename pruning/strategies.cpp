// pruning/strategies.cpp — score computation per strategy on top of pruning/threshold.h.
#include "pruning/strategies.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "engine/errors.h"
#include "engine/rng_compat.h"
#include "pruning/device_threshold.h"
#include "pruning/threshold.h"

namespace sdd::pruning {

namespace {

const Tensor& find_tensor(const NamedTensors& ts, const std::string& name, const char* what) {
  for (const auto& [n, t] : ts)
    if (n == name) return t;
  SDD_FAIL("no " << what << " for prunable tensor " << name);
}

// first_n / last_n -> (is_first, n); throws UserError when malformed.
std::pair<bool, int64_t> parse_layers_to_prune(const std::string& s) {
  const bool first = s.rfind("first_", 0) == 0, last = s.rfind("last_", 0) == 0;
  const std::string num = first ? s.substr(6) : last ? s.substr(5) : "";
  bool digits = !num.empty() && num.size() < 10;
  for (char ch : num) digits = digits && ch >= '0' && ch <= '9';
  SDD_USER_CHECK((first || last) && digits && std::stoll(num) > 0,
                 "--layers_to_prune='" << s << "' is not valid: use first_N or last_N with N > 0");
  return {first, std::stoll(num)};
}

Mask threshold(const Mask& current, const std::vector<TensorScores>& scores, const PruningConfig& c) {
  return c.scope == "layer" ? apply_layer_threshold(current, scores, c.fraction)
                            : apply_global_threshold(current, scores, c.fraction);
}

std::vector<double> to_doubles(const Tensor& t) {
  SDD_CHECK(t.device().is_cpu() && t.dtype() == DType::f32, "pruning expects host f32 tensors, got " << t.str());
  const float* p = t.data<float>();
  return std::vector<double>(p, p + t.numel());
}

// True when the weights of the candidates live on a CUDA device: magnitude and gradient pruning then
// run through pruning/device_threshold.h (scores, CUB select and mask update on the device; the
// same masks). Host weights keep the host path below unchanged.
bool on_cuda(const Mask& current, const NamedTensors& weights, const PruningConfig& c) {
  const std::vector<std::string> names = candidate_names(current.names(), c);
  return !names.empty() && find_tensor(weights, names.front(), "weights").device().is_cuda();
}

}  // namespace

void validate(const PruningConfig& c) {
  const std::vector<std::string> strategies = {"magnitude", "gradient", "random", "network_slimming"};
  SDD_USER_CHECK(std::find(strategies.begin(), strategies.end(), c.strategy) != strategies.end(),
                 "unknown --pruning_strategy='" << c.strategy
                                                << "': use magnitude, gradient, random or network_slimming");
  SDD_USER_CHECK(c.scope == "global" || c.scope == "layer",
                 "unknown --pruning_scope='" << c.scope << "': use global or layer");
  SDD_USER_CHECK(c.fraction >= 0.0 && c.fraction < 1.0,
                 "--pruning_fraction=" << c.fraction << " is outside [0, 1): give the fraction of the remaining weights to prune per level");
  if (!c.layers_to_prune.empty()) {
    SDD_USER_CHECK(c.scope == "layer", "--layers_to_prune needs --pruning_scope=layer (it is meaningless with global scope)");
    parse_layers_to_prune(c.layers_to_prune);
  }
}

std::vector<std::string> candidate_names(const std::vector<std::string>& prunable, const PruningConfig& c) {
  for (const auto& ig : c.layers_to_ignore)
    SDD_USER_CHECK(std::find(prunable.begin(), prunable.end(), ig) != prunable.end(),
                   "--pruning_layers_to_ignore names '" << ig << "', which is not a prunable tensor of this model "
                                                        "(run `sparsedd model NAME` to list them)");
  std::vector<std::string> names = prunable;
  if (!c.layers_to_prune.empty() && c.strategy == "magnitude") {
    const auto [first, n] = parse_layers_to_prune(c.layers_to_prune);
    const size_t k = static_cast<size_t>(std::min<int64_t>(n, static_cast<int64_t>(names.size())));
    names = first ? std::vector<std::string>(names.begin(), names.begin() + static_cast<long>(k))
                  : std::vector<std::string>(names.end() - static_cast<long>(k), names.end());
  }
  std::vector<std::string> out;
  for (const auto& n : names)
    if (std::find(c.layers_to_ignore.begin(), c.layers_to_ignore.end(), n) == c.layers_to_ignore.end()) out.push_back(n);
  return out;
}

Mask prune_magnitude(const Mask& current, const NamedTensors& weights, const PruningConfig& c) {
  if (on_cuda(current, weights, c)) return prune_magnitude_device(current, weights, c);
  std::vector<TensorScores> scores;
  for (const auto& name : candidate_names(current.names(), c)) {
    std::vector<double> s = to_doubles(find_tensor(weights, name, "weights"));
    // |w| in float32 (exact in double). Max-magnitude pruning removes the largest: rank by -|w|.
    for (double& v : s) v = c.prune_max_magnitude ? -std::fabs(v) : std::fabs(v);
    scores.push_back({name, std::move(s)});
  }
  return threshold(current, scores, c);
}

Mask prune_gradient(const Mask& current, const NamedTensors& weights, const NamedTensors& grads,
                    const PruningConfig& c) {
  if (on_cuda(current, weights, c)) {
    NamedTensors device_grads;  // gradients next to their weights (host gradients are copied over)
    for (const auto& name : candidate_names(current.names(), c))
      device_grads.emplace_back(name, find_tensor(grads, name, "gradients").to(find_tensor(weights, name, "weights").device()));
    return prune_gradient_device(current, weights, device_grads, c);
  }
  std::vector<TensorScores> scores;
  for (const auto& name : candidate_names(current.names(), c)) {
    const Tensor& w = find_tensor(weights, name, "weights");
    const Tensor& g = find_tensor(grads, name, "gradients");
    SDD_CHECK(w.numel() == g.numel(), "gradient of " << name << " has " << g.numel() << " entries");
    const float* pw = w.data<float>();
    const float* pg = g.data<float>();
    std::vector<double> s(static_cast<size_t>(w.numel()));
    for (size_t i = 0; i < s.size(); ++i) s[i] = std::fabs(pw[i] * pg[i]);   // product in float32
    scores.push_back({name, std::move(s)});
  }
  return threshold(current, scores, c);
}

Mask prune_random(const Mask& current, const PruningConfig& c) {
  // Every tensor gets a FRESH RandomState(seed).rand(shape): the same stream prefix (SPEC 7.2).
  std::optional<uint32_t> seed;
  if (c.random_mask_seed) seed = static_cast<uint32_t>(*c.random_mask_seed);
  std::vector<TensorScores> scores;
  for (const auto& name : candidate_names(current.names(), c)) {
    const uint32_t s = seed ? *seed : std::random_device{}();
    NumpyRandomState rs(s);
    scores.push_back({name, rs.rand(current.at(name).numel())});
  }
  return threshold(current, scores, c);
}

Mask prune_network_slimming(const Mask& current, const NamedTensors& gammas, const PruningConfig& c) {
  // R: ones of the BN weight masks (ignored included); candidates: non-ignored BN weights.
  auto is_weight = [](const std::string& n) { return n.size() > 7 && n.compare(n.size() - 7, 7, ".weight") == 0; };
  int64_t R = 0;
  std::vector<std::string> weight_names;
  for (const auto& [name, m] : current.entries()) {
    if (!is_weight(name)) continue;
    weight_names.push_back(name);
    const float* p = m.data<float>();
    for (int64_t i = 0; i < m.numel(); ++i) R += p[i] != 0.f;
  }
  const int64_t n = prune_count(c.fraction, R);
  std::vector<double> all;
  std::vector<TensorScores> scores;
  for (const auto& name : weight_names) {
    if (std::find(c.layers_to_ignore.begin(), c.layers_to_ignore.end(), name) != c.layers_to_ignore.end()) continue;
    std::vector<double> s = to_doubles(find_tensor(gammas, name, "BatchNorm weights"));
    for (double& v : s) v = std::fabs(v);
    const float* m = current.at(name).data<float>();
    for (size_t i = 0; i < s.size(); ++i)
      if (m[i] != 0.f) all.push_back(s[i]);
    scores.push_back({name, std::move(s)});
  }
  SDD_USER_CHECK(n < static_cast<int64_t>(all.size()),
                 "cannot prune " << n + 1 << " BatchNorm channels: only " << all.size() << " are left");
  std::nth_element(all.begin(), all.begin() + n, all.end());
  const double thr = all[static_cast<size_t>(n)];
  Mask out = current;
  for (const auto& ts : scores) {
    const std::string bias = ts.name.substr(0, ts.name.size() - 7) + ".bias";
    Tensor gm = current.at(ts.name).clone();
    float* g = gm.data<float>();
    for (size_t i = 0; i < ts.scores.size(); ++i)
      if (!(ts.scores[i] > thr)) g[i] = 0.f;
    out.set(ts.name, gm);
    if (current.contains(bias)) {
      Tensor bm = current.at(bias).clone();
      float* b = bm.data<float>();
      for (size_t i = 0; i < ts.scores.size(); ++i)
        if (g[i] == 0.f) b[i] = 0.f;
      out.set(bias, bm);
    }
  }
  return out;
}

}  // namespace sdd::pruning
