// engine/cpu/conv_cpu.cpp — CPU 2-D convolution (no bias) via im2col / col2im + OpenBLAS sgemm.
//
// Per sample n, with col[C*R*S, P*Q] the unfolded input (zero where the window hits padding):
//   forward          y[n][K, PQ]    = w[K, CRS] @ col(x[n])
//   backward data    col            = w^T[CRS, K] @ gy[n][K, PQ];  gx[n] = col2im(col)
//   backward filter  gw[K, CRS]    += gy[n][K, PQ] @ col(x[n])^T
// The batch is split over OpenMP threads; each thread owns a reused column buffer (thread_local, so
// no allocation in the steady state) and, for the filter gradient, its own partial sum. While the
// threads run, OpenBLAS (pthreads build) is held to one thread so the cores are not oversubscribed.
// 1x1 / stride 1 / no padding convolutions use x[n] itself as the column matrix.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/cpu/cpu_backend.h"

namespace sdd::cpu {

namespace {

// Holds OpenBLAS to a single thread for its lifetime (pthreads build only; the OpenMP build detects
// nested parallel regions itself and a sequential build has nothing to hold).
class SerialBlasScope {
 public:
  SerialBlasScope() {
    if (openblas_get_parallel() == 1) {
      saved_ = openblas_get_num_threads();
      if (saved_ > 1) openblas_set_num_threads(1);
    }
  }
  ~SerialBlasScope() {
    if (saved_ > 1) openblas_set_num_threads(saved_);
  }
  SerialBlasScope(const SerialBlasScope&) = delete;
  SerialBlasScope& operator=(const SerialBlasScope&) = delete;

 private:
  int saved_ = 0;
};

// A per-thread scratch buffer of at least n floats, reused across calls.
float* thread_buffer(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

bool is_identity_unfold(const Conv2dGeom& g) {
  return g.R == 1 && g.S == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
}

// x[C,H,W] -> col[C*R*S, P*Q]
void im2col(const Conv2dGeom& g, const float* x, float* col) {
  const int64_t PQ = g.P * g.Q;
  for (int64_t c = 0; c < g.C; ++c) {
    const float* xc = x + c * g.H * g.W;
    for (int64_t r = 0; r < g.R; ++r) {
      for (int64_t s = 0; s < g.S; ++s) {
        float* row = col + ((c * g.R + r) * g.S + s) * PQ;
        for (int64_t p = 0; p < g.P; ++p) {
          const int64_t ih = p * g.stride_h - g.pad_h + r;
          float* out = row + p * g.Q;
          if (ih < 0 || ih >= g.H) {
            std::memset(out, 0, sizeof(float) * static_cast<size_t>(g.Q));
            continue;
          }
          const float* xrow = xc + ih * g.W;
          for (int64_t q = 0; q < g.Q; ++q) {
            const int64_t iw = q * g.stride_w - g.pad_w + s;
            out[q] = (iw >= 0 && iw < g.W) ? xrow[iw] : 0.f;
          }
        }
      }
    }
  }
}

// gx[C,H,W] = sum of col[C*R*S, P*Q] entries folded back onto the input positions (gx overwritten)
void col2im(const Conv2dGeom& g, const float* col, float* gx) {
  const int64_t PQ = g.P * g.Q;
  std::memset(gx, 0, sizeof(float) * static_cast<size_t>(g.C * g.H * g.W));
  for (int64_t c = 0; c < g.C; ++c) {
    float* gc = gx + c * g.H * g.W;
    for (int64_t r = 0; r < g.R; ++r) {
      for (int64_t s = 0; s < g.S; ++s) {
        const float* row = col + ((c * g.R + r) * g.S + s) * PQ;
        for (int64_t p = 0; p < g.P; ++p) {
          const int64_t ih = p * g.stride_h - g.pad_h + r;
          if (ih < 0 || ih >= g.H) continue;
          float* grow = gc + ih * g.W;
          const float* in = row + p * g.Q;
          for (int64_t q = 0; q < g.Q; ++q) {
            const int64_t iw = q * g.stride_w - g.pad_w + s;
            if (iw >= 0 && iw < g.W) grow[iw] += in[q];
          }
        }
      }
    }
  }
}

// Below this many multiply-adds per call, threads cost more than they save.
constexpr int64_t kParallelMacs = int64_t{1} << 22;

// Runs body(n, thread_id) for n in [0, N): over OpenMP threads with single-threaded BLAS when the
// batch can feed several threads and the work is large enough, otherwise sequentially with BLAS's
// own threading. Returns the number of thread ids used.
template <class Body>
int for_each_sample(const Conv2dGeom& g, Body&& body) {
  const int64_t N = g.N;
  const int64_t macs = g.N * g.K * g.C * g.R * g.S * g.P * g.Q;
  const int nt = static_cast<int>(std::min<int64_t>(omp_get_max_threads(), N));
  if (nt > 1 && macs >= kParallelMacs && !omp_in_parallel()) {
    SerialBlasScope serial;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t n = 0; n < N; ++n) body(n, omp_get_thread_num());
    return nt;
  }
  for (int64_t n = 0; n < N; ++n) body(n, 0);
  return 1;
}

int i(int64_t v) { return static_cast<int>(v); }

}  // namespace

// y[N,K,P,Q] = conv(x[N,C,H,W], w[K,C,R,S])
void conv2d_forward(const Conv2dGeom& g, const Tensor& x, const Tensor& w, const Tensor& y) {
  const float* px = x.data<float>();
  const float* pw = w.data<float>();
  float* py = y.data<float>();
  const int64_t CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W;
  const bool identity = is_identity_unfold(g);
  for_each_sample(g, [&](int64_t n, int) {
    const float* col = px + n * CHW;
    if (!identity) {
      float* buf = thread_buffer(static_cast<size_t>(CRS * PQ));
      im2col(g, px + n * CHW, buf);
      col = buf;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, i(g.K), i(PQ), i(CRS), 1.f, pw, i(CRS), col, i(PQ), 0.f,
                py + n * g.K * PQ, i(PQ));
  });
}

// gx[N,C,H,W] = conv^T(gy[N,K,P,Q], w[K,C,R,S])
void conv2d_backward_data(const Conv2dGeom& g, const Tensor& gy, const Tensor& w, const Tensor& gx) {
  const float* pgy = gy.data<float>();
  const float* pw = w.data<float>();
  float* pgx = gx.data<float>();
  const int64_t CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W;
  const bool identity = is_identity_unfold(g);
  for_each_sample(g, [&](int64_t n, int) {
    float* col = identity ? pgx + n * CHW : thread_buffer(static_cast<size_t>(CRS * PQ));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, i(CRS), i(PQ), i(g.K), 1.f, pw, i(CRS),
                pgy + n * g.K * PQ, i(PQ), 0.f, col, i(PQ));
    if (!identity) col2im(g, col, pgx + n * CHW);
  });
}

// gw[K,C,R,S] = sum_n gy[n] @ col(x[n])^T
void conv2d_backward_filter(const Conv2dGeom& g, const Tensor& x, const Tensor& gy, const Tensor& gw) {
  const float* px = x.data<float>();
  const float* pgy = gy.data<float>();
  float* pgw = gw.data<float>();
  const int64_t CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W, KCRS = g.K * CRS;
  const bool identity = is_identity_unfold(g);
  const int nt = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), g.N)));
  // One partial gradient per thread, owned by the calling thread and reused across calls.
  thread_local std::vector<float> partials;
  if (partials.size() < static_cast<size_t>(nt * KCRS)) partials.resize(static_cast<size_t>(nt * KCRS));
  std::vector<char> touched(static_cast<size_t>(nt), 0);
  float* base = partials.data();
  const int used = for_each_sample(g, [&](int64_t n, int tid) {
    const float* col = px + n * CHW;
    if (!identity) {
      float* buf = thread_buffer(static_cast<size_t>(CRS * PQ));
      im2col(g, px + n * CHW, buf);
      col = buf;
    }
    float* acc = base + tid * KCRS;
    const float beta = touched[static_cast<size_t>(tid)] ? 1.f : 0.f;
    touched[static_cast<size_t>(tid)] = 1;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i(g.K), i(CRS), i(PQ), 1.f, pgy + n * g.K * PQ, i(PQ), col,
                i(PQ), beta, acc, i(CRS));
  });
#pragma omp parallel for if (KCRS > (1 << 15))
  for (int64_t e = 0; e < KCRS; ++e) {
    float s = 0.f;
    for (int t = 0; t < used; ++t)
      if (touched[static_cast<size_t>(t)]) s += base[t * KCRS + e];
    pgw[e] = s;
  }
}

}  // namespace sdd::cpu
