// engine/cpu/pool_cpu.cpp — CPU max and average pooling, forward and backward, over x[N,C,H,W] ->
// y[N,C,P,Q]. Max pooling ignores padding and records the first maximum's flat index into the H*W
// plane (i32); average pooling counts padded zeros (PyTorch count_include_pad=True, ceil_mode=False).
// Planes (n, c) run in parallel, so backward scatters never race.
#include <algorithm>
#include <limits>

#include "engine/cpu/cpu_backend.h"

namespace sdd::cpu {

void maxpool2d_forward(const Pool2dGeom& g, const Tensor& x, const Tensor& y, const Tensor& argmax) {
  const float* px = x.data<float>();
  float* py = y.data<float>();
  int32_t* pa = argmax.data<int32_t>();
  const int64_t HW = g.H * g.W, PQ = g.P * g.Q;
#pragma omp parallel for if (x.numel() > (1 << 14))
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    const float* in = px + nc * HW;
    float* out = py + nc * PQ;
    int32_t* idx = pa + nc * PQ;
    for (int64_t p = 0; p < g.P; ++p) {
      const int64_t h0 = p * g.stride_h - g.pad_h;
      const int64_t hs = std::max<int64_t>(h0, 0), he = std::min<int64_t>(h0 + g.kh, g.H);
      for (int64_t q = 0; q < g.Q; ++q) {
        const int64_t w0 = q * g.stride_w - g.pad_w;
        const int64_t ws = std::max<int64_t>(w0, 0), we = std::min<int64_t>(w0 + g.kw, g.W);
        float best = -std::numeric_limits<float>::infinity();
        int64_t bi = hs * g.W + ws;
        for (int64_t h = hs; h < he; ++h)
          for (int64_t w = ws; w < we; ++w) {
            const float v = in[h * g.W + w];
            if (v > best || v != v) {  // NaN wins, as in PyTorch
              best = v;
              bi = h * g.W + w;
              if (v != v) goto done;
            }
          }
      done:
        out[p * g.Q + q] = best;
        idx[p * g.Q + q] = static_cast<int32_t>(bi);
      }
    }
  }
}

void maxpool2d_backward(const Pool2dGeom& g, const Tensor& gy, const Tensor& argmax, const Tensor& gx) {
  const float* pgy = gy.data<float>();
  const int32_t* pa = argmax.data<int32_t>();
  float* pgx = gx.data<float>();
  const int64_t HW = g.H * g.W, PQ = g.P * g.Q;
#pragma omp parallel for if (gx.numel() > (1 << 14))
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    float* out = pgx + nc * HW;
    std::fill(out, out + HW, 0.f);
    const float* in = pgy + nc * PQ;
    const int32_t* idx = pa + nc * PQ;
    for (int64_t i = 0; i < PQ; ++i) out[idx[i]] += in[i];
  }
}

namespace {
// PyTorch's divisor with count_include_pad: the window clipped to the padded extent.
int64_t window_size(const Pool2dGeom& g, int64_t h0, int64_t w0) {
  const int64_t he = std::min<int64_t>(h0 + g.kh, g.H + g.pad_h);
  const int64_t we = std::min<int64_t>(w0 + g.kw, g.W + g.pad_w);
  return (he - h0) * (we - w0);
}
}  // namespace

void avgpool2d_forward(const Pool2dGeom& g, const Tensor& x, const Tensor& y) {
  const float* px = x.data<float>();
  float* py = y.data<float>();
  const int64_t HW = g.H * g.W, PQ = g.P * g.Q;
#pragma omp parallel for if (x.numel() > (1 << 14))
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    const float* in = px + nc * HW;
    float* out = py + nc * PQ;
    for (int64_t p = 0; p < g.P; ++p) {
      const int64_t h0 = p * g.stride_h - g.pad_h;
      const int64_t hs = std::max<int64_t>(h0, 0), he = std::min<int64_t>(h0 + g.kh, g.H);
      for (int64_t q = 0; q < g.Q; ++q) {
        const int64_t w0 = q * g.stride_w - g.pad_w;
        const int64_t ws = std::max<int64_t>(w0, 0), we = std::min<int64_t>(w0 + g.kw, g.W);
        float s = 0.f;
        for (int64_t h = hs; h < he; ++h)
          for (int64_t w = ws; w < we; ++w) s += in[h * g.W + w];
        out[p * g.Q + q] = s / static_cast<float>(window_size(g, h0, w0));
      }
    }
  }
}

void avgpool2d_backward(const Pool2dGeom& g, const Tensor& gy, const Tensor& gx) {
  const float* pgy = gy.data<float>();
  float* pgx = gx.data<float>();
  const int64_t HW = g.H * g.W, PQ = g.P * g.Q;
#pragma omp parallel for if (gx.numel() > (1 << 14))
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    float* out = pgx + nc * HW;
    std::fill(out, out + HW, 0.f);
    const float* in = pgy + nc * PQ;
    for (int64_t p = 0; p < g.P; ++p) {
      const int64_t h0 = p * g.stride_h - g.pad_h;
      const int64_t hs = std::max<int64_t>(h0, 0), he = std::min<int64_t>(h0 + g.kh, g.H);
      for (int64_t q = 0; q < g.Q; ++q) {
        const int64_t w0 = q * g.stride_w - g.pad_w;
        const int64_t ws = std::max<int64_t>(w0, 0), we = std::min<int64_t>(w0 + g.kw, g.W);
        const float v = in[p * g.Q + q] / static_cast<float>(window_size(g, h0, w0));
        for (int64_t h = hs; h < he; ++h)
          for (int64_t w = ws; w < we; ++w) out[h * g.W + w] += v;
      }
    }
  }
}

}  // namespace sdd::cpu
