// engine/cpu/optim_cpu.cpp — CPU optimizer entries: loops (blocks over the CPU pool) over the shared element functors
// (kernels/masked_sgd_ops.h, kernels/adam_ops.h) on [begin, end) of the flat arenas.
// w, g, buf / m, v, mask, reset: f32 [total]; mask and reset may be undefined.
#include <algorithm>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/parallel_cpu.h"

namespace sdd::cpu {

namespace {
// Memory-bound: ranges of at least 128K elements are updated in blocks of 64K or more (at most 8) over
// the CPU pool (parallel_cpu.h); below that a second thread saves less than moving the weights between
// cores costs. The MLP-300-100 arena (266K) in 4 blocks: a dense quickstart level 0.967x on 2 cores
// (2026-11-26; 2 blocks of 128K were no faster). Elementwise, so the blocks do not change any value.
constexpr int64_t kParallelMin = 1 << 17;

void check_range(const Tensor& w, int64_t begin, int64_t end) {
  SDD_CHECK(0 <= begin && begin <= end && end <= w.numel(), "range [" << begin << ", " << end << ") of " << w.str());
}

// Calls body(lo, hi) on [begin, end): directly when short, otherwise block by block over the pool.
// Bodies are `omp simd` loops (the arenas never overlap; mask / reset presence are template
// parameters, so the loops carry no per-element branches on them).
template <class Body>
void chunked(int64_t begin, int64_t end, const Body& body) {
  const int64_t n = end - begin;
  if (n < kParallelMin) return body(begin, end);
  const int64_t parts = std::min<int64_t>(8, n >> 16);
  run_parts(parts, [&](int64_t p) {
    int64_t lo = 0, hi = 0;
    part_range(n, parts, p, 16, lo, hi);
    if (lo < hi) body(begin + lo, begin + hi);
  });
}

// HasMomentum false: the momentum arena is neither read nor written (the functor's buffer is a local).
// ZeroGrad: each gradient entry is written back to 0 right after it is read (Optimizer::step_and_zero_grad),
// one pass over the arena instead of a separate fill.
template <bool HasMask, bool HasReset, bool HasMomentum, bool ZeroGrad>
void sgd_range(float* pw, float* pg, float* pb, const float* pm, const float* pr, const kern::SgdHyper& h,
               int64_t begin, int64_t end) {
  chunked(begin, end, [=](int64_t lo, int64_t hi) {
    const kern::SgdHyper hh = h;
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) {
      float unused = 0.f;
      float& b = HasMomentum ? pb[i] : unused;
      kern::masked_sgd_element(pw[i], pg[i], b, HasMask ? pm[i] : 1.f, HasReset ? pr[i] : 0.f, HasMask, HasReset, hh);
      if (ZeroGrad) pg[i] = 0.f;
    }
  });
}

template <bool HasMask, bool HasReset>
void sgd_masked(float* pw, float* pg, float* pb, const float* pm, const float* pr, const kern::SgdHyper& h,
                int64_t begin, int64_t end) {
  const bool mom = h.momentum != 0.f;
  if (mom && h.zero_grad) return sgd_range<HasMask, HasReset, true, true>(pw, pg, pb, pm, pr, h, begin, end);
  if (mom) return sgd_range<HasMask, HasReset, true, false>(pw, pg, pb, pm, pr, h, begin, end);
  if (h.zero_grad) return sgd_range<HasMask, HasReset, false, true>(pw, pg, pb, pm, pr, h, begin, end);
  sgd_range<HasMask, HasReset, false, false>(pw, pg, pb, pm, pr, h, begin, end);
}

// The support's mask is 1: the functor's kept-weight branch, the same operations as masked_sgd.
template <bool ZeroGrad>
void sgd_on_support(float* __restrict pw, float* __restrict pg, const int32_t* __restrict idx, int64_t count,
                    const kern::SgdHyper& h) {
  const kern::SgdHyper hh = h;
  for (int64_t k = 0; k < count; ++k) {
    const int32_t i = idx[k];
    float unused = 0.f;
    kern::masked_sgd_element(pw[i], pg[i], unused, 1.f, 0.f, true, false, hh);
    if (ZeroGrad) pg[i] = 0.f;
  }
}

template <bool HasMask, bool HasReset, bool ZeroGrad>
void adam_range(float* pw, float* pg, float* pm1, float* pv, const float* pm, const float* pr,
                const kern::AdamHyper& h, int64_t begin, int64_t end) {
  chunked(begin, end, [=](int64_t lo, int64_t hi) {
    const kern::AdamHyper hh = h;
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) {
      kern::adam_element(pw[i], pg[i], pm1[i], pv[i], HasMask ? pm[i] : 1.f, HasReset ? pr[i] : 0.f, HasMask,
                         HasReset, hh);
      if (ZeroGrad) pg[i] = 0.f;
    }
  });
}

template <bool HasMask, bool HasReset>
void adam_masked(float* pw, float* pg, float* pm1, float* pv, const float* pm, const float* pr,
                 const kern::AdamHyper& h, int64_t begin, int64_t end) {
  if (h.zero_grad) return adam_range<HasMask, HasReset, true>(pw, pg, pm1, pv, pm, pr, h, begin, end);
  adam_range<HasMask, HasReset, false>(pw, pg, pm1, pv, pm, pr, h, begin, end);
}
}  // namespace

void masked_sgd(const Tensor& w, const Tensor& g, const Tensor& buf, const Tensor& mask, const Tensor& reset,
                const kern::SgdHyper& h, int64_t begin, int64_t end) {
  check_range(w, begin, end);
  float* pw = w.data<float>();
  float* pg = g.data<float>();
  float* pb = buf.data<float>();
  const bool has_mask = mask.defined(), has_reset = reset.defined();
  const float* pm = has_mask ? mask.data<float>() : nullptr;
  const float* pr = has_reset ? reset.data<float>() : nullptr;
  if (!has_mask) return sgd_masked<false, false>(pw, pg, pb, pm, pr, h, begin, end);
  if (!has_reset) return sgd_masked<true, false>(pw, pg, pb, pm, pr, h, begin, end);
  sgd_masked<true, true>(pw, pg, pb, pm, pr, h, begin, end);
}

void masked_sgd_on_support(const Tensor& w, const Tensor& g, const int32_t* idx, int64_t count,
                           const kern::SgdHyper& h) {
  SDD_CHECK(h.momentum == 0.f, "masked_sgd_on_support: momentum " << h.momentum << " keeps state off the support");
  SDD_CHECK(w.numel() == g.numel(), "masked_sgd_on_support: w " << w.str() << ", g " << g.str());
  const auto n = static_cast<uint32_t>(w.numel());
  uint32_t outside = 0;   // checked before anything is written
  for (int64_t k = 0; k < count; ++k) outside |= static_cast<uint32_t>(static_cast<uint32_t>(idx[k]) >= n);
  SDD_CHECK(outside == 0, "masked_sgd_on_support: an index lies outside " << w.str());
  if (h.zero_grad) return sgd_on_support<true>(w.data<float>(), g.data<float>(), idx, count, h);
  sgd_on_support<false>(w.data<float>(), g.data<float>(), idx, count, h);
}

void adam(const Tensor& w, const Tensor& g, const Tensor& m, const Tensor& v, const Tensor& mask,
          const Tensor& reset, const kern::AdamHyper& h, int64_t begin, int64_t end) {
  check_range(w, begin, end);
  float* pw = w.data<float>();
  float* pg = g.data<float>();
  float* pm1 = m.data<float>();
  float* pv = v.data<float>();
  const bool has_mask = mask.defined(), has_reset = reset.defined();
  const float* pm = has_mask ? mask.data<float>() : nullptr;
  const float* pr = has_reset ? reset.data<float>() : nullptr;
  if (!has_mask) return adam_masked<false, false>(pw, pg, pm1, pv, pm, pr, h, begin, end);
  if (!has_reset) return adam_masked<true, false>(pw, pg, pm1, pv, pm, pr, h, begin, end);
  adam_masked<true, true>(pw, pg, pm1, pv, pm, pr, h, begin, end);
}

}  // namespace sdd::cpu
