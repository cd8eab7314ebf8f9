// kernels/pool.cu — 2-D max and average pooling, NCHW, x[N,C,H,W] -> y[N,C,P,Q].
//   window of output (p, q): rows h0 = p*stride_h - pad_h .. h0 + kh - 1, columns likewise
//   max:  y = max over the in-bounds window (padding ignored); argmax = h*W + w of the FIRST maximum
//         in row-major window order (a NaN wins and propagates, as in PyTorch)
//   avg:  y = sum over the in-bounds window / |window clipped to the padded extent|
//         (count_include_pad=True, PyTorch's divisor; kh*kw for every window when ceil_mode=False)
// Backward passes gather (one thread per input element, looping over the outputs whose windows
// cover it) instead of scattering with atomics: deterministic, and every gx element is written.
#include "engine/cuda/cuda_check.h"
#include "kernels/launch.h"
#include "kernels/pool.h"

namespace sdd::kern {

namespace {

struct PoolDims {
  int64_t planes, H, W, P, Q, kh, kw, sh, sw, ph, pw;
};

PoolDims dims_of(const Pool2dGeom& g) {
  return {g.N * g.C, g.H, g.W, g.P, g.Q, g.kh, g.kw, g.stride_h, g.stride_w, g.pad_h, g.pad_w};
}

// Range of outputs o (along one axis) whose window [o*s - p, o*s - p + k) contains input i.
__device__ __forceinline__ void covering(int64_t i, int64_t k, int64_t s, int64_t p, int64_t out_len, int64_t& lo,
                                         int64_t& hi) {
  // o*s - p <= i  and  o*s - p + k - 1 >= i   =>   (i + p - k + 1) / s <= o <= (i + p) / s
  const int64_t a = i + p - k + 1;
  lo = a <= 0 ? 0 : (a + s - 1) / s;
  hi = (i + p) / s;
  if (hi > out_len - 1) hi = out_len - 1;
}

// PyTorch's count_include_pad divisor: the window clipped to the padded input [−pad, H + pad).
__device__ __forceinline__ float window_size(const PoolDims& d, int64_t h0, int64_t w0) {
  const int64_t he = h0 + d.kh < d.H + d.ph ? h0 + d.kh : d.H + d.ph;
  const int64_t we = w0 + d.kw < d.W + d.pw ? w0 + d.kw : d.W + d.pw;
  return static_cast<float>((he - h0) * (we - w0));
}

__global__ void maxpool_forward_kernel(PoolDims d, const float* x, float* y, int32_t* argmax) {
  const int64_t total = d.planes * d.P * d.Q;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t q = i % d.Q, p = (i / d.Q) % d.P, plane = i / (d.P * d.Q);
    const float* xp = x + plane * d.H * d.W;
    const int64_t h0 = p * d.sh - d.ph, w0 = q * d.sw - d.pw;
    float best = -INFINITY;
    int64_t best_idx = -1;
    for (int64_t h = h0; h < h0 + d.kh; ++h) {
      if (h < 0 || h >= d.H) continue;
      for (int64_t w = w0; w < w0 + d.kw; ++w) {
        if (w < 0 || w >= d.W) continue;
        const float v = xp[h * d.W + w];
        if (best_idx < 0 || v > best || (isnan(v) && !isnan(best))) {
          best = v;
          best_idx = h * d.W + w;
        }
      }
    }
    y[i] = best;
    argmax[i] = static_cast<int32_t>(best_idx < 0 ? 0 : best_idx);
  }
}

__global__ void maxpool_backward_kernel(PoolDims d, const float* gy, const int32_t* argmax, float* gx) {
  const int64_t total = d.planes * d.H * d.W;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t w = i % d.W, h = (i / d.W) % d.H, plane = i / (d.H * d.W);
    int64_t plo, phi, qlo, qhi;
    covering(h, d.kh, d.sh, d.ph, d.P, plo, phi);
    covering(w, d.kw, d.sw, d.pw, d.Q, qlo, qhi);
    const int32_t me = static_cast<int32_t>(h * d.W + w);
    const int64_t base = plane * d.P * d.Q;
    float acc = 0.f;
    for (int64_t p = plo; p <= phi; ++p)
      for (int64_t q = qlo; q <= qhi; ++q)
        if (argmax[base + p * d.Q + q] == me) acc += gy[base + p * d.Q + q];
    gx[i] = acc;
  }
}

__global__ void avgpool_forward_kernel(PoolDims d, const float* x, float* y) {
  const int64_t total = d.planes * d.P * d.Q;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t q = i % d.Q, p = (i / d.Q) % d.P, plane = i / (d.P * d.Q);
    const float* xp = x + plane * d.H * d.W;
    const int64_t h0 = p * d.sh - d.ph, w0 = q * d.sw - d.pw;
    float acc = 0.f;
    for (int64_t h = h0; h < h0 + d.kh; ++h) {
      if (h < 0 || h >= d.H) continue;
      for (int64_t w = w0; w < w0 + d.kw; ++w)
        if (w >= 0 && w < d.W) acc += xp[h * d.W + w];
    }
    y[i] = acc / window_size(d, h0, w0);
  }
}

__global__ void avgpool_backward_kernel(PoolDims d, const float* gy, float* gx) {
  const int64_t total = d.planes * d.H * d.W;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t w = i % d.W, h = (i / d.W) % d.H, plane = i / (d.H * d.W);
    int64_t plo, phi, qlo, qhi;
    covering(h, d.kh, d.sh, d.ph, d.P, plo, phi);
    covering(w, d.kw, d.sw, d.pw, d.Q, qlo, qhi);
    const int64_t base = plane * d.P * d.Q;
    float acc = 0.f;
    for (int64_t p = plo; p <= phi; ++p)
      for (int64_t q = qlo; q <= qhi; ++q)
        acc += gy[base + p * d.Q + q] / window_size(d, p * d.sh - d.ph, q * d.sw - d.pw);
    gx[i] = acc;
  }
}

}  // namespace

void launch_maxpool2d_forward(const Pool2dGeom& g, const float* x, float* y, int32_t* argmax, cudaStream_t stream) {
  const PoolDims d = dims_of(g);
  const int64_t total = d.planes * d.P * d.Q;
  if (total <= 0) return;
  maxpool_forward_kernel<<<grid_for(total), kThreads, 0, stream>>>(d, x, y, argmax);
  SDD_CUDA_LAUNCH_CHECK("maxpool_forward_kernel");
}

void launch_maxpool2d_backward(const Pool2dGeom& g, const float* gy, const int32_t* argmax, float* gx,
                               cudaStream_t stream) {
  const PoolDims d = dims_of(g);
  const int64_t total = d.planes * d.H * d.W;
  if (total <= 0) return;
  maxpool_backward_kernel<<<grid_for(total), kThreads, 0, stream>>>(d, gy, argmax, gx);
  SDD_CUDA_LAUNCH_CHECK("maxpool_backward_kernel");
}

void launch_avgpool2d_forward(const Pool2dGeom& g, const float* x, float* y, cudaStream_t stream) {
  const PoolDims d = dims_of(g);
  const int64_t total = d.planes * d.P * d.Q;
  if (total <= 0) return;
  avgpool_forward_kernel<<<grid_for(total), kThreads, 0, stream>>>(d, x, y);
  SDD_CUDA_LAUNCH_CHECK("avgpool_forward_kernel");
}

void launch_avgpool2d_backward(const Pool2dGeom& g, const float* gy, float* gx, cudaStream_t stream) {
  const PoolDims d = dims_of(g);
  const int64_t total = d.planes * d.H * d.W;
  if (total <= 0) return;
  avgpool_backward_kernel<<<grid_for(total), kThreads, 0, stream>>>(d, gy, gx);
  SDD_CUDA_LAUNCH_CHECK("avgpool_backward_kernel");
}

}  // namespace sdd::kern
