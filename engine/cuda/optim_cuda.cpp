// engine/cuda/optim_cuda.cpp — CUDA entry points of the fused optimizer steps over [begin, end) of
// the flat arenas (kernels/masked_sgd.cu, kernels/adam.cu): one launch per step.
#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "kernels/adam.h"
#include "kernels/fill_cast.h"
#include "kernels/masked_sgd.h"

namespace sdd::cuda {

namespace {
// h.zero_grad (Optimizer::step_and_zero_grad): the gradient range back to 0 after the step's launch,
// on the same stream (the CPU backend fuses it into its loop).
void zero_grad_range(const Tensor& g, int64_t begin, int64_t end, cudaStream_t stream) {
  kern::launch_fill(DType::f32, g.data<float>() + begin, 0.0, end - begin, stream);
}

// Element `begin` of an optional f32 arena, or null when the arena is undefined.
float* at_or_null(const Tensor& t, int64_t begin, int64_t end) {
  if (!t.defined()) return nullptr;
  SDD_CHECK(end <= t.numel(), "optimizer range [" << begin << ", " << end << ") exceeds " << t.str());
  return t.data<float>() + begin;
}
}  // namespace

void masked_sgd(const Tensor& w, const Tensor& g, const Tensor& buf, const Tensor& mask, const Tensor& reset,
                const kern::SgdHyper& h, int64_t begin, int64_t end) {
  SDD_CHECK(0 <= begin && begin <= end && end <= w.numel(), "masked_sgd range [" << begin << ", " << end << ") of "
                                                                                  << w.str());
  if (begin == end) return;
  SDD_CHECK(g.defined(), "masked_sgd needs a gradient arena");
  Context& ctx = context_for(w);
  SDD_CHECK(buf.defined() || h.momentum == 0.f, "masked_sgd with momentum needs a momentum arena");
  kern::launch_masked_sgd(w.data<float>() + begin, at_or_null(g, begin, end), at_or_null(buf, begin, end),
                          at_or_null(mask, begin, end), at_or_null(reset, begin, end), end - begin, h, ctx.stream);
  if (h.zero_grad) zero_grad_range(g, begin, end, ctx.stream);
}

void adam(const Tensor& w, const Tensor& g, const Tensor& m, const Tensor& v, const Tensor& mask, const Tensor& reset,
          const kern::AdamHyper& h, int64_t begin, int64_t end) {
  SDD_CHECK(0 <= begin && begin <= end && end <= w.numel(), "adam range [" << begin << ", " << end << ") of "
                                                                           << w.str());
  if (begin == end) return;
  SDD_CHECK(g.defined() && m.defined() && v.defined(), "adam needs gradient, m and v arenas");
  Context& ctx = context_for(w);
  kern::launch_adam(w.data<float>() + begin, at_or_null(g, begin, end), at_or_null(m, begin, end),
                    at_or_null(v, begin, end), at_or_null(mask, begin, end), at_or_null(reset, begin, end),
                    end - begin, h, ctx.stream);
  if (h.zero_grad) zero_grad_range(g, begin, end, ctx.stream);
}

}  // namespace sdd::cuda
