// engine/cpu/optim_cpu.cpp — CPU optimizer entries: OpenMP loops over the shared element functors
// (kernels/masked_sgd_ops.h, kernels/adam_ops.h) on [begin, end) of the flat arenas.
// w, g, buf / m, v, mask, reset: f32 [total]; mask and reset may be undefined.
#include "engine/cpu/cpu_backend.h"

namespace sdd::cpu {

namespace {
constexpr int64_t kParallelMin = 1 << 15;

void check_range(const Tensor& w, int64_t begin, int64_t end) {
  SDD_CHECK(0 <= begin && begin <= end && end <= w.numel(), "range [" << begin << ", " << end << ") of " << w.str());
}
}  // namespace

void masked_sgd(const Tensor& w, const Tensor& g, const Tensor& buf, const Tensor& mask, const Tensor& reset,
                const kern::SgdHyper& h, int64_t begin, int64_t end) {
  check_range(w, begin, end);
  float* pw = w.data<float>();
  const float* pg = g.data<float>();
  float* pb = buf.data<float>();
  const bool has_mask = mask.defined(), has_reset = reset.defined();
  const float* pm = has_mask ? mask.data<float>() : nullptr;
  const float* pr = has_reset ? reset.data<float>() : nullptr;
  const kern::SgdHyper hh = h;
#pragma omp parallel for if (end - begin > kParallelMin)
  for (int64_t i = begin; i < end; ++i) {
    kern::masked_sgd_element(pw[i], pg[i], pb[i], has_mask ? pm[i] : 1.f, has_reset ? pr[i] : 0.f, has_mask,
                             has_reset, hh);
  }
}

void adam(const Tensor& w, const Tensor& g, const Tensor& m, const Tensor& v, const Tensor& mask,
          const Tensor& reset, const kern::AdamHyper& h, int64_t begin, int64_t end) {
  check_range(w, begin, end);
  float* pw = w.data<float>();
  const float* pg = g.data<float>();
  float* pm1 = m.data<float>();
  float* pv = v.data<float>();
  const bool has_mask = mask.defined(), has_reset = reset.defined();
  const float* pm = has_mask ? mask.data<float>() : nullptr;
  const float* pr = has_reset ? reset.data<float>() : nullptr;
  const kern::AdamHyper hh = h;
#pragma omp parallel for if (end - begin > kParallelMin)
  for (int64_t i = begin; i < end; ++i) {
    kern::adam_element(pw[i], pg[i], pm1[i], pv[i], has_mask ? pm[i] : 1.f, has_reset ? pr[i] : 0.f, has_mask,
                       has_reset, hh);
  }
}

}  // namespace sdd::cpu
