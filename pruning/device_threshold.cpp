// pruning/device_threshold.cpp — the SPEC 7.1 threshold through the device ops (count_nonzero,
// candidate_kth_value, mask_keep_above); see pruning/device_threshold.h.
#include "pruning/device_threshold.h"

#include "engine/errors.h"
#include "engine/ops.h"
#include "pruning/threshold.h"

namespace sdd::pruning {

namespace {

void check_candidate(const DeviceCandidate& c) {
  SDD_CHECK(c.mask.defined() && c.scores.defined(), "device threshold: " << c.name << " lacks a mask or scores");
  SDD_CHECK(c.mask.numel() == c.scores.numel() && c.mask.dtype() == DType::f32 && c.scores.dtype() == DType::f32 &&
                c.mask.device() == c.scores.device(),
            "device threshold: scores " << c.scores.str() << " do not fit mask " << c.mask.str() << " of " << c.name);
}

// thr = ascending candidate value at index n, or the threshold.cpp UserError when there is none.
float kth_or_fail(const std::vector<Tensor>& scores, const std::vector<Tensor>& masks, int64_t n,
                  const std::string& what) {
  float thr = 0.f;
  int64_t count = 0;
  const bool ok = ops::candidate_kth_value(scores, masks, n, &thr, &count);
  SDD_USER_CHECK(ok, "cannot prune " << n + 1 << " weights of " << what << ": only " << count
                                     << " unpruned candidates are left; lower --pruning_fraction or the number of levels");
  return thr;
}

const Tensor& find_named(const NamedTensors& ts, const std::string& name, const char* what) {
  const Tensor* found = nullptr;
  for (const auto& [n, t] : ts)
    if (n == name && !found) found = &t;
  SDD_CHECK(found != nullptr, "device pruning: no " << what << " named " << name);
  return *found;
}

// Candidates (names of `scores`, in order) with their current masks moved to the scores' device.
std::vector<DeviceCandidate> candidates_of(const Mask& current, const NamedTensors& scores) {
  std::vector<DeviceCandidate> out;
  for (const auto& [name, s] : scores) out.push_back({name, current.at(name).to(s.device()), s});
  return out;
}

Mask with_masks(const Mask& current, const std::vector<DeviceCandidate>& cands, const std::vector<Tensor>& masks) {
  Mask out = current;
  for (size_t k = 0; k < cands.size(); ++k) {
    // host copy in the tensor's shape (Mask::set stores host f32)
    Tensor host = masks[k].to(Device::cpu()).view(current.at(cands[k].name).shape());
    out.set(cands[k].name, host);
  }
  return out;
}

}  // namespace

int64_t device_remaining(const std::vector<Tensor>& masks) {
  int64_t r = 0;
  for (const Tensor& m : masks) r += ops::count_nonzero(m);
  return r;
}

std::vector<Tensor> device_global_threshold(const std::vector<DeviceCandidate>& candidates, int64_t remaining,
                                            double fraction) {
  const int64_t n = prune_count(fraction, remaining);
  std::vector<Tensor> scores, masks;
  for (const DeviceCandidate& c : candidates) {
    check_candidate(c);
    scores.push_back(c.scores);
    masks.push_back(c.mask);
  }
  const float thr = kth_or_fail(scores, masks, n, "the candidate tensors");
  std::vector<Tensor> out;
  for (const DeviceCandidate& c : candidates) out.push_back(ops::mask_keep_above(c.scores, c.mask, thr));
  return out;
}

std::vector<Tensor> device_layer_threshold(const std::vector<DeviceCandidate>& candidates, double fraction) {
  std::vector<Tensor> out;
  for (const DeviceCandidate& c : candidates) {
    check_candidate(c);
    const int64_t n = prune_count(fraction, ops::count_nonzero(c.mask));
    const float thr = kth_or_fail({c.scores}, {c.mask}, n, "tensor " + c.name);
    out.push_back(ops::mask_keep_above(c.scores, c.mask, thr));
  }
  return out;
}

Mask apply_global_threshold_device(const Mask& current, const NamedTensors& scores, double fraction) {
  const std::vector<DeviceCandidate> cands = candidates_of(current, scores);
  return with_masks(current, cands, device_global_threshold(cands, current.unpruned(), fraction));
}

Mask apply_layer_threshold_device(const Mask& current, const NamedTensors& scores, double fraction) {
  const std::vector<DeviceCandidate> cands = candidates_of(current, scores);
  return with_masks(current, cands, device_layer_threshold(cands, fraction));
}

Mask prune_magnitude_device(const Mask& current, const NamedTensors& weights, const PruningConfig& c) {
  NamedTensors scores;
  for (const auto& name : candidate_names(current.names(), c)) {
    const Tensor& w = find_named(weights, name, "weights");
    scores.emplace_back(name, ops::prune_scores(w.detach(), Tensor(), c.prune_max_magnitude));
  }
  return c.scope == "layer" ? apply_layer_threshold_device(current, scores, c.fraction)
                            : apply_global_threshold_device(current, scores, c.fraction);
}

Mask prune_gradient_device(const Mask& current, const NamedTensors& weights, const NamedTensors& grads,
                           const PruningConfig& c) {
  NamedTensors scores;
  for (const auto& name : candidate_names(current.names(), c)) {
    const Tensor& w = find_named(weights, name, "weights");
    const Tensor& g = find_named(grads, name, "gradients");
    scores.emplace_back(name, ops::prune_scores(w.detach(), g.detach(), false));
  }
  return c.scope == "layer" ? apply_layer_threshold_device(current, scores, c.fraction)
                            : apply_global_threshold_device(current, scores, c.fraction);
}

}  // namespace sdd::pruning
