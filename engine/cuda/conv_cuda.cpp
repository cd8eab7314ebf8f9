// engine/cuda/conv_cuda.cpp — 2-D convolution forward, backward-data and backward-filter through
// cuDNN (NCHW, cross-correlation, no dilation or groups; bias is separate).
//   y[N,K,P,Q]  = conv(x[N,C,H,W], w[K,C,R,S])
//   gx[N,C,H,W] = conv_transpose(gy, w);   gw[K,C,R,S] = corr(x, gy)
// The math mode (engine/precision.h) decides the data type and the allowed algorithms:
//   fp32  f32 tensors, FMA math only (no TF32 tensor cores)
//   tf32  f32 tensors, each algorithm with its own math type (TF32 allowed, PyTorch's default)
//   bf16  autocast: the two inputs of each pass cast to bf16 (kernels/bf16_cast.cu), cuDNN in bf16
//         with fp32 compute (PSEUDO_BFLOAT16), the bf16 result cast back into the f32 output
//   deterministic (--torch_seed / --fix_all_random_seeds): only algorithms whose determinism is
//         CUDNN_DETERMINISTIC (heuristics first; if they offer none, cudnnFind's list)
// One plan per (device, geometry, precision, determinism): descriptors built once, the algorithm of
// each pass chosen once (the first in cuDNN's order that passes the filters within the workspace
// cap) and cached, and the device's workspace (engine/cuda/context.h) reused between calls.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "kernels/bf16_cast.h"

namespace sdd::cuda {

namespace {

constexpr size_t kWorkspaceCap = size_t(1) << 30;  // never ask for more than 1 GiB of workspace
constexpr int kMaxAlgos = 16;

struct ConvPlan {
  MathMode mode;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  bool have_fwd = false, have_bwd_data = false, have_bwd_filter = false;
  cudnnConvolutionFwdAlgo_t fwd{};
  cudnnConvolutionBwdDataAlgo_t bwd_data{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter{};
  size_t fwd_ws = 0, bwd_data_ws = 0, bwd_filter_ws = 0;
  cudnnMathType_t fwd_math{}, bwd_data_math{}, bwd_filter_math{};
};

using PlanKey = std::tuple<int, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                           int64_t, int64_t, int, bool>;

struct PlanCache {
  std::mutex mu;
  std::map<PlanKey, std::unique_ptr<ConvPlan>> plans;
};

PlanCache& cache() {
  static PlanCache* c = new PlanCache();  // never destroyed (CUDA objects outlive static teardown)
  return *c;
}

int i32(int64_t v) {
  SDD_CHECK(v >= 0 && v < (int64_t(1) << 31), "convolution dimension " << v << " exceeds cuDNN's int range");
  return static_cast<int>(v);
}

cudnnMathType_t base_math(Precision p) { return p == Precision::fp32 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH; }

// The plan of this geometry on this device under the current math mode; descriptors built on first use.
ConvPlan& plan_for(Context& ctx, const Conv2dGeom& g) {
  const MathMode mode = math_mode();
  if (mode.precision == Precision::bf16) require_bf16(ctx);
  const PlanKey key{ctx.device, g.N,        g.C,      g.H,     g.W, g.K, g.R, g.S, g.stride_h, g.stride_w, g.pad_h,
                    g.pad_w,    static_cast<int>(mode.precision), mode.deterministic};
  PlanCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto& slot = c.plans[key];
  if (slot) return *slot;
  auto p = std::make_unique<ConvPlan>();
  p->mode = mode;
  const cudnnDataType_t dt = mode.precision == Precision::bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
  SDD_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->x));
  SDD_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->y));
  SDD_CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->w));
  SDD_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->conv));
  SDD_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, dt, i32(g.N), i32(g.C), i32(g.H), i32(g.W)));
  SDD_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, dt, i32(g.N), i32(g.K), i32(g.P), i32(g.Q)));
  SDD_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w, dt, CUDNN_TENSOR_NCHW, i32(g.K), i32(g.C), i32(g.R), i32(g.S)));
  // Compute (accumulation) type f32 in every mode.
  SDD_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p->conv, i32(g.pad_h), i32(g.pad_w), i32(g.stride_h),
                                                  i32(g.stride_w), 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  SDD_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, base_math(mode.precision)));
  // cuDNN must agree with our output size (a mismatch is a bug in the dispatch layer).
  int n = 0, k = 0, pp = 0, q = 0;
  SDD_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(p->conv, p->x, p->w, &n, &k, &pp, &q));
  SDD_CHECK(n == g.N && k == g.K && pp == g.P && q == g.Q,
            "conv output [" << n << "," << k << "," << pp << "," << q << "] vs geometry P=" << g.P << " Q=" << g.Q);
  slot = std::move(p);
  return *slot;
}

// The math type to run an algorithm with: FMA in fp32 mode, the algorithm's own otherwise.
cudnnMathType_t run_math(const ConvPlan& p, cudnnMathType_t algo_math) {
  return p.mode.precision == Precision::fp32 ? CUDNN_FMA_MATH : algo_math;
}

// Whether an algorithm of cuDNN's list may be used under the plan's mode.
template <class Perf>
bool acceptable(const ConvPlan& p, const Perf& perf) {
  if (perf.status != CUDNN_STATUS_SUCCESS || perf.memory > kWorkspaceCap) return false;
  if (p.mode.precision == Precision::fp32 && perf.mathType == CUDNN_TENSOR_OP_MATH) return false;
  if (p.mode.deterministic && perf.determinism != CUDNN_DETERMINISTIC) return false;
  return true;
}

// The first acceptable algorithm of the heuristics' list, else (deterministic mode) of cudnnFind's.
// heuristics / find: (Perf* out, int* got) -> cudnnStatus_t.
template <class Perf, class Heuristics, class Find>
Perf choose(const ConvPlan& p, Heuristics heuristics, Find find, const char* pass) {
  Perf perf[kMaxAlgos];
  int got = 0;
  SDD_CUDNN_CHECK(heuristics(perf, &got));
  for (int i = 0; i < got; ++i)
    if (acceptable(p, perf[i])) return perf[i];
  if (p.mode.deterministic) {
    got = 0;
    SDD_CUDNN_CHECK(find(perf, &got));
    for (int i = 0; i < got; ++i)
      if (acceptable(p, perf[i])) return perf[i];
  }
  throw DeviceError(std::string("cuDNN offers no ") + (p.mode.deterministic ? "deterministic " : "") + pass +
                    " convolution algorithm for this shape in " + precision_name(p.mode.precision) + " mode");
}

void choose_fwd(Context& ctx, ConvPlan& p) {
  if (p.have_fwd) return;
  const auto best = choose<cudnnConvolutionFwdAlgoPerf_t>(
      p,
      [&](cudnnConvolutionFwdAlgoPerf_t* out, int* got) {
        return cudnnGetConvolutionForwardAlgorithm_v7(ctx.cudnn, p.x, p.w, p.conv, p.y, kMaxAlgos, got, out);
      },
      [&](cudnnConvolutionFwdAlgoPerf_t* out, int* got) {
        return cudnnFindConvolutionForwardAlgorithm(ctx.cudnn, p.x, p.w, p.conv, p.y, kMaxAlgos, got, out);
      },
      "forward");
  p.fwd = best.algo;
  p.fwd_math = best.mathType;
  SDD_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(ctx.cudnn, p.x, p.w, p.conv, p.y, p.fwd, &p.fwd_ws));
  p.have_fwd = true;
}

void choose_bwd_data(Context& ctx, ConvPlan& p) {
  if (p.have_bwd_data) return;
  const auto best = choose<cudnnConvolutionBwdDataAlgoPerf_t>(
      p,
      [&](cudnnConvolutionBwdDataAlgoPerf_t* out, int* got) {
        return cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx.cudnn, p.w, p.y, p.conv, p.x, kMaxAlgos, got, out);
      },
      [&](cudnnConvolutionBwdDataAlgoPerf_t* out, int* got) {
        return cudnnFindConvolutionBackwardDataAlgorithm(ctx.cudnn, p.w, p.y, p.conv, p.x, kMaxAlgos, got, out);
      },
      "backward-data");
  p.bwd_data = best.algo;
  p.bwd_data_math = best.mathType;
  SDD_CUDNN_CHECK(
      cudnnGetConvolutionBackwardDataWorkspaceSize(ctx.cudnn, p.w, p.y, p.conv, p.x, p.bwd_data, &p.bwd_data_ws));
  p.have_bwd_data = true;
}

void choose_bwd_filter(Context& ctx, ConvPlan& p) {
  if (p.have_bwd_filter) return;
  const auto best = choose<cudnnConvolutionBwdFilterAlgoPerf_t>(
      p,
      [&](cudnnConvolutionBwdFilterAlgoPerf_t* out, int* got) {
        return cudnnGetConvolutionBackwardFilterAlgorithm_v7(ctx.cudnn, p.x, p.y, p.conv, p.w, kMaxAlgos, got, out);
      },
      [&](cudnnConvolutionBwdFilterAlgoPerf_t* out, int* got) {
        return cudnnFindConvolutionBackwardFilterAlgorithm(ctx.cudnn, p.x, p.y, p.conv, p.w, kMaxAlgos, got, out);
      },
      "backward-filter");
  p.bwd_filter = best.algo;
  p.bwd_filter_math = best.mathType;
  SDD_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(ctx.cudnn, p.x, p.y, p.conv, p.w, p.bwd_filter,
                                                                 &p.bwd_filter_ws));
  p.have_bwd_filter = true;
}

// The operands of one pass as cuDNN sees them: the f32 tensors themselves, or (bf16 mode) bf16
// copies of the two inputs in scratch slots 0 and 1 and a bf16 output buffer in slot 2.
struct PassOperands {
  const void* in0 = nullptr;
  const void* in1 = nullptr;
  void* out = nullptr;
};

PassOperands operands(Context& ctx, const ConvPlan& p, const Tensor& in0, const Tensor& in1, const Tensor& out) {
  if (p.mode.precision != Precision::bf16) return {in0.data<float>(), in1.data<float>(), out.data<float>()};
  auto* a = static_cast<uint16_t*>(ctx.scratch(0, static_cast<size_t>(in0.numel()) * 2));
  auto* b = static_cast<uint16_t*>(ctx.scratch(1, static_cast<size_t>(in1.numel()) * 2));
  void* o = ctx.scratch(2, static_cast<size_t>(out.numel()) * 2);
  kern::launch_to_bf16(in0.data<float>(), a, in0.numel(), ctx.stream);
  kern::launch_to_bf16(in1.data<float>(), b, in1.numel(), ctx.stream);
  return {a, b, o};
}

// bf16 mode: out (f32) <- the bf16 result of the pass.
void finish(Context& ctx, const ConvPlan& p, const PassOperands& ops, const Tensor& out) {
  if (p.mode.precision != Precision::bf16) return;
  kern::launch_from_bf16(static_cast<const uint16_t*>(ops.out), out.data<float>(), out.numel(), ctx.stream);
}

}  // namespace

void conv2d_forward(const Conv2dGeom& g, const Tensor& x, const Tensor& w, const Tensor& y) {
  if (y.numel() == 0) return;
  Context& ctx = context_for(y);
  ConvPlan& p = plan_for(ctx, g);
  choose_fwd(ctx, p);
  SDD_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv, run_math(p, p.fwd_math)));
  const PassOperands o = operands(ctx, p, x, w, y);
  void* ws = ctx.workspace(p.fwd_ws);
  const float one = 1.f, zero = 0.f;
  SDD_CUDNN_CHECK(cudnnConvolutionForward(ctx.cudnn, &one, p.x, o.in0, p.w, o.in1, p.conv, p.fwd, ws, p.fwd_ws, &zero,
                                          p.y, o.out));
  finish(ctx, p, o, y);
}

void conv2d_backward_data(const Conv2dGeom& g, const Tensor& gy, const Tensor& w, const Tensor& gx) {
  if (gx.numel() == 0) return;
  Context& ctx = context_for(gx);
  ConvPlan& p = plan_for(ctx, g);
  choose_bwd_data(ctx, p);
  SDD_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv, run_math(p, p.bwd_data_math)));
  const PassOperands o = operands(ctx, p, gy, w, gx);
  void* ws = ctx.workspace(p.bwd_data_ws);
  const float one = 1.f, zero = 0.f;
  SDD_CUDNN_CHECK(cudnnConvolutionBackwardData(ctx.cudnn, &one, p.w, o.in1, p.y, o.in0, p.conv, p.bwd_data, ws,
                                               p.bwd_data_ws, &zero, p.x, o.out));
  finish(ctx, p, o, gx);
}

void conv2d_backward_filter(const Conv2dGeom& g, const Tensor& x, const Tensor& gy, const Tensor& gw) {
  if (gw.numel() == 0) return;
  if (g.N == 0) {  // no samples: the filter gradient is zero (cuDNN rejects empty batches)
    fill(gw, 0.0);
    return;
  }
  Context& ctx = context_for(gw);
  ConvPlan& p = plan_for(ctx, g);
  choose_bwd_filter(ctx, p);
  SDD_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv, run_math(p, p.bwd_filter_math)));
  const PassOperands o = operands(ctx, p, x, gy, gw);
  void* ws = ctx.workspace(p.bwd_filter_ws);
  const float one = 1.f, zero = 0.f;
  SDD_CUDNN_CHECK(cudnnConvolutionBackwardFilter(ctx.cudnn, &one, p.x, o.in0, p.y, o.in1, p.conv, p.bwd_filter, ws,
                                                 p.bwd_filter_ws, &zero, p.w, o.out));
  finish(ctx, p, o, gw);
}

}  // namespace sdd::cuda
