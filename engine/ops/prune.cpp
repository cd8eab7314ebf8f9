// engine/ops/prune.cpp — dispatch of the pruning entries (engine/backend_pruning.inc): scores, the
// k-th candidate value (a device select on CUDA, nth_element on the CPU) and the mask update, so a
// model on the GPU prunes without copying its weights to the host (DESIGN section 5).
//   scores s = |w|, -|w| or |w * g|;  thr = sorted({s : mask != 0})[n];  new = mask where s > thr
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/op_checks.h"

namespace sdd::ops {

// w f32 [any], g undefined or f32 like w -> f32 like w
Tensor prune_scores(const Tensor& w, const Tensor& g, bool negate) {
  detail::check_f32("prune_scores", w, "w");
  if (g.defined()) {
    detail::check_f32("prune_scores", g, "g");
    detail::check_same_shape("prune_scores", w, g);
    detail::check_same_device("prune_scores", {w, g});
  }
  Tensor out = Tensor::empty(w.shape(), DType::f32, w.device());
  if (w.numel() > 0) SDD_DISPATCH(w.device(), prune_scores, w, g, negate, out);
  return out;
}

// mask f32 [any] -> number of nonzero entries
int64_t count_nonzero(const Tensor& mask) {
  detail::check_f32("count_nonzero", mask, "mask");
  if (mask.numel() == 0) return 0;
  return SDD_DISPATCH(mask.device(), count_nonzero, mask);
}

// scores[k], masks[k]: f32 of equal shapes, all on one device
bool candidate_kth_value(const std::vector<Tensor>& scores, const std::vector<Tensor>& masks, int64_t n, float* thr,
                         int64_t* candidates) {
  SDD_CHECK(thr != nullptr, "candidate_kth_value: thr is null");
  SDD_CHECK(scores.size() == masks.size(),
            "candidate_kth_value: " << scores.size() << " score tensors for " << masks.size() << " masks");
  if (scores.empty()) {
    if (candidates) *candidates = 0;
    return false;
  }
  for (size_t k = 0; k < scores.size(); ++k) {
    detail::check_f32("candidate_kth_value", scores[k], "scores");
    detail::check_f32("candidate_kth_value", masks[k], "mask");
    detail::check_same_shape("candidate_kth_value", scores[k], masks[k]);
    detail::check_same_device("candidate_kth_value", {scores[0], scores[k], masks[k]});
  }
  int64_t count = 0;
  const bool ok = SDD_DISPATCH(scores[0].device(), candidate_kth_value, scores, masks, n, thr, &count);
  if (candidates) *candidates = count;
  return ok;
}

// scores, mask f32 of one shape -> new mask
Tensor mask_keep_above(const Tensor& scores, const Tensor& mask, float thr) {
  detail::check_f32("mask_keep_above", scores, "scores");
  detail::check_f32("mask_keep_above", mask, "mask");
  detail::check_same_shape("mask_keep_above", scores, mask);
  detail::check_same_device("mask_keep_above", {scores, mask});
  Tensor out = Tensor::empty(mask.shape(), DType::f32, mask.device());
  if (mask.numel() > 0) SDD_DISPATCH(mask.device(), mask_keep_above, scores, mask, thr, out);
  return out;
}

}  // namespace sdd::ops
