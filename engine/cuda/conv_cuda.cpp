// engine/cuda/conv_cuda.cpp — 2-D convolution forward, backward-data and backward-filter through
// cuDNN (NCHW, f32, cross-correlation, no dilation or groups; bias is separate).
//   y[N,K,P,Q]  = conv(x[N,C,H,W], w[K,C,R,S])
//   gx[N,C,H,W] = conv_transpose(gy, w);   gw[K,C,R,S] = corr(x, gy)
// One plan per (device, geometry, TF32 flag): descriptors built once, the algorithm of each pass
// chosen once by cuDNN's heuristics (the first that succeeds within the workspace cap) and cached,
// and the device's workspace (engine/cuda/context.h) reused between calls.
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"

namespace sdd::cuda {

namespace {

constexpr size_t kWorkspaceCap = size_t(1) << 30;  // never ask for more than 1 GiB of workspace
constexpr int kMaxAlgos = 16;

struct ConvPlan {
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
                           int64_t, int64_t, bool>;

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

cudnnMathType_t base_math(bool tf32) { return tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH; }

// The plan of this geometry on this device; descriptors built on first use. Caller holds no lock.
ConvPlan& plan_for(int device, const Conv2dGeom& g) {
  const bool tf32 = conv_allow_tf32();
  const PlanKey key{device, g.N, g.C, g.H, g.W, g.K, g.R, g.S, g.stride_h, g.stride_w, g.pad_h, g.pad_w, tf32};
  PlanCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto& slot = c.plans[key];
  if (slot) return *slot;
  auto p = std::make_unique<ConvPlan>();
  SDD_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->x));
  SDD_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->y));
  SDD_CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->w));
  SDD_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->conv));
  SDD_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, i32(g.N), i32(g.C), i32(g.H),
                                             i32(g.W)));
  SDD_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, i32(g.N), i32(g.K), i32(g.P),
                                             i32(g.Q)));
  SDD_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, i32(g.K), i32(g.C), i32(g.R),
                                             i32(g.S)));
  SDD_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p->conv, i32(g.pad_h), i32(g.pad_w), i32(g.stride_h),
                                                  i32(g.stride_w), 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  SDD_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, base_math(tf32)));
  // cuDNN must agree with our output size (a mismatch is a bug in the dispatch layer).
  int n = 0, k = 0, pp = 0, q = 0;
  SDD_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(p->conv, p->x, p->w, &n, &k, &pp, &q));
  SDD_CHECK(n == g.N && k == g.K && pp == g.P && q == g.Q,
            "conv output [" << n << "," << k << "," << pp << "," << q << "] vs geometry P=" << g.P << " Q=" << g.Q);
  slot = std::move(p);
  return *slot;
}

// The math type to run an algorithm with: its own when TF32 is allowed, FMA otherwise.
cudnnMathType_t run_math(cudnnMathType_t algo_math) {
  return conv_allow_tf32() ? algo_math : CUDNN_FMA_MATH;
}

void choose_fwd(Context& ctx, ConvPlan& p) {
  if (p.have_fwd) return;
  cudnnConvolutionFwdAlgoPerf_t perf[kMaxAlgos];
  int got = 0;
  SDD_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(ctx.cudnn, p.x, p.w, p.conv, p.y, kMaxAlgos, &got, perf));
  for (int i = 0; i < got; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kWorkspaceCap) continue;
    if (!conv_allow_tf32() && perf[i].mathType == CUDNN_TENSOR_OP_MATH) continue;
    p.fwd = perf[i].algo;
    p.fwd_math = perf[i].mathType;
    SDD_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(ctx.cudnn, p.x, p.w, p.conv, p.y, p.fwd, &p.fwd_ws));
    p.have_fwd = true;
    return;
  }
  throw DeviceError("cuDNN offers no forward convolution algorithm for this shape");
}

void choose_bwd_data(Context& ctx, ConvPlan& p) {
  if (p.have_bwd_data) return;
  cudnnConvolutionBwdDataAlgoPerf_t perf[kMaxAlgos];
  int got = 0;
  SDD_CUDNN_CHECK(
      cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx.cudnn, p.w, p.y, p.conv, p.x, kMaxAlgos, &got, perf));
  for (int i = 0; i < got; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kWorkspaceCap) continue;
    if (!conv_allow_tf32() && perf[i].mathType == CUDNN_TENSOR_OP_MATH) continue;
    p.bwd_data = perf[i].algo;
    p.bwd_data_math = perf[i].mathType;
    SDD_CUDNN_CHECK(
        cudnnGetConvolutionBackwardDataWorkspaceSize(ctx.cudnn, p.w, p.y, p.conv, p.x, p.bwd_data, &p.bwd_data_ws));
    p.have_bwd_data = true;
    return;
  }
  throw DeviceError("cuDNN offers no backward-data convolution algorithm for this shape");
}

void choose_bwd_filter(Context& ctx, ConvPlan& p) {
  if (p.have_bwd_filter) return;
  cudnnConvolutionBwdFilterAlgoPerf_t perf[kMaxAlgos];
  int got = 0;
  SDD_CUDNN_CHECK(
      cudnnGetConvolutionBackwardFilterAlgorithm_v7(ctx.cudnn, p.x, p.y, p.conv, p.w, kMaxAlgos, &got, perf));
  for (int i = 0; i < got; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kWorkspaceCap) continue;
    if (!conv_allow_tf32() && perf[i].mathType == CUDNN_TENSOR_OP_MATH) continue;
    p.bwd_filter = perf[i].algo;
    p.bwd_filter_math = perf[i].mathType;
    SDD_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(ctx.cudnn, p.x, p.y, p.conv, p.w, p.bwd_filter,
                                                                   &p.bwd_filter_ws));
    p.have_bwd_filter = true;
    return;
  }
  throw DeviceError("cuDNN offers no backward-filter convolution algorithm for this shape");
}

}  // namespace

void conv2d_forward(const Conv2dGeom& g, const Tensor& x, const Tensor& w, const Tensor& y) {
  if (y.numel() == 0) return;
  Context& ctx = context_for(y);
  ConvPlan& p = plan_for(ctx.device, g);
  choose_fwd(ctx, p);
  SDD_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv, run_math(p.fwd_math)));
  void* ws = ctx.workspace(p.fwd_ws);
  const float one = 1.f, zero = 0.f;
  SDD_CUDNN_CHECK(cudnnConvolutionForward(ctx.cudnn, &one, p.x, x.data<float>(), p.w, w.data<float>(), p.conv, p.fwd,
                                          ws, p.fwd_ws, &zero, p.y, y.data<float>()));
}

void conv2d_backward_data(const Conv2dGeom& g, const Tensor& gy, const Tensor& w, const Tensor& gx) {
  if (gx.numel() == 0) return;
  Context& ctx = context_for(gx);
  ConvPlan& p = plan_for(ctx.device, g);
  choose_bwd_data(ctx, p);
  SDD_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv, run_math(p.bwd_data_math)));
  void* ws = ctx.workspace(p.bwd_data_ws);
  const float one = 1.f, zero = 0.f;
  SDD_CUDNN_CHECK(cudnnConvolutionBackwardData(ctx.cudnn, &one, p.w, w.data<float>(), p.y, gy.data<float>(), p.conv,
                                               p.bwd_data, ws, p.bwd_data_ws, &zero, p.x, gx.data<float>()));
}

void conv2d_backward_filter(const Conv2dGeom& g, const Tensor& x, const Tensor& gy, const Tensor& gw) {
  if (gw.numel() == 0) return;
  if (g.N == 0) {  // no samples: the filter gradient is zero (cuDNN rejects empty batches)
    fill(gw, 0.0);
    return;
  }
  Context& ctx = context_for(gw);
  ConvPlan& p = plan_for(ctx.device, g);
  choose_bwd_filter(ctx, p);
  SDD_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv, run_math(p.bwd_filter_math)));
  void* ws = ctx.workspace(p.bwd_filter_ws);
  const float one = 1.f, zero = 0.f;
  SDD_CUDNN_CHECK(cudnnConvolutionBackwardFilter(ctx.cudnn, &one, p.x, x.data<float>(), p.y, gy.data<float>(), p.conv,
                                                 p.bwd_filter, ws, p.bwd_filter_ws, &zero, p.w, gw.data<float>()));
}

}  // namespace sdd::cuda
