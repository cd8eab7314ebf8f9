// engine/cpu/gemm_cpu.cpp — CPU matrix multiply through OpenBLAS cblas_sgemm, and the bias helpers
// (row bias for linear layers, channel bias for convolutions) with their gradient reductions.
#include <cblas.h>

#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/parallel_cpu.h"

namespace sdd::cpu {

// c[M,N] = alpha * op(a) @ op(b) + beta * c; a is [M,K] ([K,M] when trans_a), b is [K,N] ([N,K]).
// Products of a million multiply-adds or more are computed in product_parts() blocks of columns of c
// (of rows when M > 2N), one single-threaded sgemm per block spread over the CPU pool; the blocks are
// a function of the shape only, so the result does not depend on the number of threads.
void gemm(bool trans_a, bool trans_b, float alpha, const Tensor& a, const Tensor& b, float beta, const Tensor& c) {
  const int64_t M = c.size(0), N = c.size(1);
  const int64_t K = trans_a ? a.size(0) : a.size(1);
  float* pc = c.data<float>();
  if (M == 0 || N == 0) return;
  if (K == 0) {  // empty product: c = beta * c (beta 0 overwrites, so NaN-poisoned buffers are cleared)
    for (int64_t i = 0; i < M * N; ++i) pc[i] = beta == 0.f ? 0.f : beta * pc[i];
    return;
  }
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  const int64_t lda = a.size(1), ldb = b.size(1);
  // c[m0:m1, n0:n1] from rows m0:m1 of op(a) and columns n0:n1 of op(b).
  auto block = [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    const float* sa = trans_a ? pa + m0 : pa + m0 * lda;
    const float* sb = trans_b ? pb + n0 * ldb : pb + n0;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                static_cast<int>(m1 - m0), static_cast<int>(n1 - n0), static_cast<int>(K), alpha, sa,
                static_cast<int>(lda), sb, static_cast<int>(ldb), beta, pc + m0 * N + n0, static_cast<int>(N));
  };
  const int64_t parts = product_parts(M * N * K);
  if (parts == 1) {
    block(0, M, 0, N);
    return;
  }
  const bool split_rows = M > 2 * N;
  run_parts(parts, [&](int64_t p) {
    int64_t lo = 0, hi = 0;
    part_range(split_rows ? M : N, parts, p, 16, lo, hi);
    if (lo >= hi) return;
    if (split_rows) {
      block(lo, hi, 0, N);
    } else {
      block(0, M, lo, hi);
    }
  });
}

// y[N,F] += bias[F]
void add_row_bias(const Tensor& y, const Tensor& bias) {
  const int64_t F = bias.numel();
  const int64_t N = F == 0 ? 0 : y.numel() / F;
  float* py = y.data<float>();
  const float* pb = bias.data<float>();
#pragma omp parallel for if (N * F > (1 << 17))
  for (int64_t n = 0; n < N; ++n) {
    float* row = py + n * F;
#pragma omp simd
    for (int64_t f = 0; f < F; ++f) row[f] += pb[f];
  }
}

// out[F] = sum_n g[N,F]
void sum_rows(const Tensor& g, const Tensor& out) {
  const int64_t F = out.numel();
  const int64_t N = F == 0 ? 0 : g.numel() / F;
  const float* pg = g.data<float>();
  float* po = out.data<float>();
  for (int64_t f = 0; f < F; ++f) po[f] = 0.f;
  for (int64_t n = 0; n < N; ++n) {
    const float* row = pg + n * F;
#pragma omp simd
    for (int64_t f = 0; f < F; ++f) po[f] += row[f];
  }
}

// y[N,C,H,W] += bias[C]
void add_channel_bias(const Tensor& y, const Tensor& bias) {
  const int64_t N = y.size(0), C = y.size(1);
  const int64_t HW = N * C == 0 ? 0 : y.numel() / (N * C);
  float* py = y.data<float>();
  const float* pb = bias.data<float>();
#pragma omp parallel for if (y.numel() > (1 << 17))
  for (int64_t nc = 0; nc < N * C; ++nc) {
    const float b = pb[nc % C];
    float* plane = py + nc * HW;
#pragma omp simd
    for (int64_t i = 0; i < HW; ++i) plane[i] += b;
  }
}

// out[C] = sum_{n,h,w} g[N,C,H,W], accumulated in double
void sum_channels(const Tensor& g, const Tensor& out) {
  const int64_t N = g.size(0), C = g.size(1);
  const int64_t HW = N * C == 0 ? 0 : g.numel() / (N * C);
  const float* pg = g.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for if (g.numel() > (1 << 15))
  for (int64_t c = 0; c < C; ++c) {
    double s = 0.0;
    for (int64_t n = 0; n < N; ++n) {
      const float* plane = pg + (n * C + c) * HW;
      float part = 0.f;
#pragma omp simd reduction(+ : part)
      for (int64_t i = 0; i < HW; ++i) part += plane[i];
      s += part;
    }
    po[c] = static_cast<float>(s);
  }
}

}  // namespace sdd::cpu
