// pruning/threshold.cpp — global and per-layer threshold selection.
#include "pruning/threshold.h"

#include <algorithm>
#include <cmath>

#include "engine/errors.h"

namespace sdd::pruning {

int64_t prune_count(double fraction, int64_t remaining) {
  return static_cast<int64_t>(std::ceil(fraction * static_cast<double>(remaining)));
}

namespace {

// Values of `s` at positions where the mask is 1.
std::vector<double> live_scores(const Tensor& mask, const std::vector<double>& s, const std::string& name) {
  SDD_CHECK(static_cast<int64_t>(s.size()) == mask.numel(), "scores for " << name << ": " << s.size()
                                                                          << " values for " << mask.numel() << " mask entries");
  const float* m = mask.data<float>();
  std::vector<double> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i)
    if (m[i] != 0.f) out.push_back(s[i]);
  return out;
}

Tensor keep_above(const Tensor& mask, const std::vector<double>& s, double thr) {
  Tensor out = mask.clone();
  float* o = out.data<float>();
  for (size_t i = 0; i < s.size(); ++i)
    if (o[i] != 0.f && !(s[i] > thr)) o[i] = 0.f;
  return out;
}

double nth_value(std::vector<double> v, int64_t n, const std::string& what) {
  SDD_USER_CHECK(n >= 0 && n < static_cast<int64_t>(v.size()),
                 "cannot prune " << n + 1 << " weights of " << what << ": only " << v.size()
                                 << " unpruned candidates are left; lower --pruning_fraction or the number of levels");
  std::nth_element(v.begin(), v.begin() + n, v.end());
  return v[static_cast<size_t>(n)];
}

}  // namespace

Mask apply_global_threshold(const Mask& current, const std::vector<TensorScores>& candidates, double fraction) {
  const int64_t n = prune_count(fraction, current.unpruned());
  std::vector<double> all;
  for (const auto& c : candidates) {
    std::vector<double> live = live_scores(current.at(c.name), c.scores, c.name);
    all.insert(all.end(), live.begin(), live.end());
  }
  const double thr = nth_value(std::move(all), n, "the candidate tensors");
  Mask out = current;
  for (const auto& c : candidates) out.set(c.name, keep_above(current.at(c.name), c.scores, thr));
  return out;
}

Mask apply_layer_threshold(const Mask& current, const std::vector<TensorScores>& candidates, double fraction) {
  Mask out = current;
  for (const auto& c : candidates) {
    const Tensor& m = current.at(c.name);
    std::vector<double> live = live_scores(m, c.scores, c.name);
    const int64_t n = prune_count(fraction, static_cast<int64_t>(live.size()));
    const double thr = nth_value(std::move(live), n, "tensor " + c.name);
    out.set(c.name, keep_above(m, c.scores, thr));
  }
  return out;
}

}  // namespace sdd::pruning
