// engine/cpu/prune_cpu.cpp — CPU reference of the pruning entries (engine/backend_pruning.inc):
// scores and mask updates are OpenMP loops over kernels/prune_scores_ops.h; the k-th candidate
// value is std::nth_element on the compacted candidate scores, as pruning/threshold.cpp does.
#include <algorithm>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "kernels/prune_scores_ops.h"

namespace sdd::cpu {

namespace {
constexpr int64_t kParallelMin = 1 << 15;

void check_f32_same(const Tensor& a, const Tensor& b, const char* what) {
  SDD_CHECK(a.dtype() == DType::f32 && b.dtype() == DType::f32 && a.numel() == b.numel(),
            what << ": expected f32 tensors of equal size, got " << a.str() << " and " << b.str());
}
}  // namespace

void prune_scores(const Tensor& w, const Tensor& g, bool negate, const Tensor& out) {
  check_f32_same(w, out, "prune_scores");
  if (g.defined()) check_f32_same(w, g, "prune_scores");
  const int32_t mode = g.defined() ? kern::kScoreGradient : negate ? kern::kScoreMaxMagnitude : kern::kScoreMagnitude;
  const float* pw = w.data<float>();
  const float* pg = g.defined() ? g.data<float>() : nullptr;
  float* po = out.data<float>();
  const int64_t n = w.numel();
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) po[i] = kern::prune_score(mode, pw[i], pg ? pg[i] : 0.f);
}

int64_t count_nonzero(const Tensor& mask) {
  SDD_CHECK(mask.dtype() == DType::f32, "count_nonzero expects an f32 mask, got " << mask.str());
  const float* p = mask.data<float>();
  const int64_t n = mask.numel();
  int64_t count = 0;
#pragma omp parallel for reduction(+ : count) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) count += kern::prune_candidate(p[i]) ? 1 : 0;
  return count;
}

bool candidate_kth_value(const std::vector<Tensor>& scores, const std::vector<Tensor>& masks, int64_t n, float* thr,
                         int64_t* candidates) {
  SDD_CHECK(scores.size() == masks.size(), "candidate_kth_value: " << scores.size() << " score tensors for "
                                                                   << masks.size() << " masks");
  std::vector<float> live;
  for (size_t k = 0; k < scores.size(); ++k) {
    check_f32_same(scores[k], masks[k], "candidate_kth_value");
    const float* s = scores[k].data<float>();
    const float* m = masks[k].data<float>();
    for (int64_t i = 0; i < scores[k].numel(); ++i)
      if (kern::prune_candidate(m[i])) live.push_back(s[i]);
  }
  if (candidates) *candidates = static_cast<int64_t>(live.size());
  if (n < 0 || n >= static_cast<int64_t>(live.size())) return false;
  std::nth_element(live.begin(), live.begin() + n, live.end());
  *thr = live[static_cast<size_t>(n)];
  return true;
}

void mask_keep_above(const Tensor& scores, const Tensor& mask, float thr, const Tensor& out) {
  check_f32_same(scores, mask, "mask_keep_above");
  check_f32_same(mask, out, "mask_keep_above");
  const float* s = scores.data<float>();
  const float* m = mask.data<float>();
  float* o = out.data<float>();
  const int64_t n = mask.numel();
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) o[i] = kern::mask_keep_above(m[i], s[i], thr);
}

}  // namespace sdd::cpu
