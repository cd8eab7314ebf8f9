// engine/geometry.h — shape bundles passed from the dispatch layer to the backends.
#pragma once
#include <cstdint>

namespace sdd {

// 2-D convolution, NCHW input x[N,C,H,W], weight w[K,C,R,S], output y[N,K,P,Q];
// P = (H + 2*pad_h - R) / stride_h + 1, Q likewise. No dilation, no groups (the models need neither).
struct Conv2dGeom {
  int64_t N = 0, C = 0, H = 0, W = 0;  // input
  int64_t K = 0, R = 0, S = 0;         // filters
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t P = 0, Q = 0;                // output
};

// 2-D pooling, x[N,C,H,W] -> y[N,C,P,Q], window kh x kw. Average pooling counts padded zeros
// (PyTorch's count_include_pad=True default); max pooling ignores padding.
struct Pool2dGeom {
  int64_t N = 0, C = 0, H = 0, W = 0;
  int64_t kh = 1, kw = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t P = 0, Q = 0;
};

enum class BinaryOp : uint8_t { add, sub, mul, div };

}  // namespace sdd
