// engine/cuda/prune_cuda.cpp — CUDA entries of engine/backend_pruning.inc over kernels/prune_scores.cu
// and kernels/topk_threshold.cu. The k-th candidate value: one gather launch per tensor into one
// buffer, one host read of the count, a CUB radix sort, one host read of sorted[n].
#include <vector>

#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "kernels/prune_scores.h"
#include "kernels/prune_scores_ops.h"
#include "kernels/topk_threshold.h"

namespace sdd::cuda {

namespace {

void check_f32_same(const Tensor& a, const Tensor& b, const char* what) {
  SDD_CHECK(a.dtype() == DType::f32 && b.dtype() == DType::f32 && a.numel() == b.numel() && a.device() == b.device(),
            what << ": expected f32 tensors of equal size on one device, got " << a.str() << " and " << b.str());
}

// Synchronous device -> host read of one value enqueued on ctx.stream.
template <class T>
T read_back(Context& ctx, const void* src) {
  T v{};
  SDD_CUDA_CHECK(cudaMemcpyAsync(&v, src, sizeof(T), cudaMemcpyDeviceToHost, ctx.stream));
  SDD_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  return v;
}

}  // namespace

void prune_scores(const Tensor& w, const Tensor& g, bool negate, const Tensor& out) {
  check_f32_same(w, out, "prune_scores");
  if (g.defined()) check_f32_same(w, g, "prune_scores");
  const int32_t mode = g.defined() ? kern::kScoreGradient : negate ? kern::kScoreMaxMagnitude : kern::kScoreMagnitude;
  Context& ctx = context_for(w);
  kern::launch_prune_scores(mode, w.data<float>(), g.defined() ? g.data<float>() : nullptr, out.data<float>(),
                            w.numel(), ctx.stream);
}

int64_t count_nonzero(const Tensor& mask) {
  SDD_CHECK(mask.dtype() == DType::f32, "count_nonzero expects an f32 mask, got " << mask.str());
  Context& ctx = context_for(mask);
  Tensor counter = Tensor::zeros({1}, DType::i64, mask.device());
  auto* c = reinterpret_cast<unsigned long long*>(counter.data<int64_t>());
  kern::launch_count_candidates(mask.data<float>(), mask.numel(), c, ctx.stream);
  return static_cast<int64_t>(read_back<unsigned long long>(ctx, c));
}

bool candidate_kth_value(const std::vector<Tensor>& scores, const std::vector<Tensor>& masks, int64_t n, float* thr,
                         int64_t* candidates) {
  SDD_CHECK(scores.size() == masks.size(), "candidate_kth_value: " << scores.size() << " score tensors for "
                                                                   << masks.size() << " masks");
  if (scores.empty()) {
    if (candidates) *candidates = 0;
    return false;
  }
  int64_t total = 0;
  for (size_t k = 0; k < scores.size(); ++k) {
    check_f32_same(scores[k], masks[k], "candidate_kth_value");
    SDD_CHECK(scores[k].device() == scores[0].device(), "candidate_kth_value: tensors on several devices");
    total += scores[k].numel();
  }
  const Device dev = scores[0].device();
  Context& ctx = context_for(scores[0]);
  Tensor counter = Tensor::zeros({1}, DType::i64, dev);
  auto* c = reinterpret_cast<unsigned long long*>(counter.data<int64_t>());
  Tensor live = Tensor::empty({total > 0 ? total : 1}, DType::f32, dev);
  for (size_t k = 0; k < scores.size(); ++k)
    kern::launch_gather_candidates(scores[k].data<float>(), masks[k].data<float>(), scores[k].numel(),
                                   live.data<float>(), c, ctx.stream);
  const auto count = static_cast<int64_t>(read_back<unsigned long long>(ctx, c));
  if (candidates) *candidates = count;
  if (n < 0 || n >= count) return false;
  Tensor sorted = Tensor::empty({count}, DType::f32, dev);
  const size_t temp_bytes = kern::sort_keys_temp_bytes(count);
  Tensor temp = Tensor::empty({static_cast<int64_t>(temp_bytes > 0 ? temp_bytes : 1)}, DType::u8, dev);
  kern::launch_sort_keys(temp.raw(), temp_bytes, live.data<float>(), sorted.data<float>(), count, ctx.stream);
  *thr = read_back<float>(ctx, sorted.data<float>() + n);
  return true;
}

void mask_keep_above(const Tensor& scores, const Tensor& mask, float thr, const Tensor& out) {
  check_f32_same(scores, mask, "mask_keep_above");
  check_f32_same(mask, out, "mask_keep_above");
  Context& ctx = context_for(mask);
  kern::launch_mask_keep_above(scores.data<float>(), mask.data<float>(), thr, out.data<float>(), mask.numel(),
                               ctx.stream);
}

}  // namespace sdd::cuda
