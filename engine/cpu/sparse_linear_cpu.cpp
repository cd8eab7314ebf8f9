// engine/cpu/sparse_linear_cpu.cpp — y = x @ w^T from the nonzero entries of w (see the header).
//
// Layout: w is compressed by rows (output features) into (column, value) pairs; x is transposed block
// by block: the batch is cut into blocks of kBlock rows and each block [nb][I] is stored transposed,
// [I][nb], one after the other ("blocked transpose": block b starts at b * kBlock * I, row stride nb).
// Each nonzero w[o][j] adds w[o][j] * x_b[j][0..nb) into an accumulator of nb batch rows held in
// registers; the accumulators form y's blocked transpose, transposed back into y[N,O]. A block keeps
// the rows it reads within 256 contiguous bytes each (no half-used cache lines or pages, as a plain
// [I][N] transpose had): about a quarter faster on the quickstart's first layer.
// The input gradient is the same kernel on w compressed by columns (gx_b[i] = sum_o w[o][i] g_b[o]);
// the weight gradient is one dot product g[o] . x[j] (block by block) per support entry. The hot loops
// exist twice (AVX2+FMA intrinsics and portable C++), picked once at run time.
#include "engine/cpu/sparse_linear_cpu.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/cpu/parallel_cpu.h"
#include "engine/errors.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace sdd::cpu {

namespace {

constexpr int64_t kBlock = 64;   // batch rows per accumulator block (8 AVX registers)

std::atomic<bool> g_force_portable{false};

// FrozenWeights: the generation of the outermost live scope (0: none), the addresses it covers
// [begin, end), its nesting depth and the last generation handed out. The range is set before the
// generation is published and only changes while no scope lives.
std::atomic<uint64_t> g_frozen_gen{0};
std::atomic<uintptr_t> g_frozen_begin{0}, g_frozen_end{0};
std::mutex g_frozen_mutex;
int g_frozen_depth = 0;
uint64_t g_frozen_last = 0;

// The generation of the scope that covers the weight at w (0: none).
uint64_t frozen_generation(const float* w) {
  const uint64_t gen = g_frozen_gen.load(std::memory_order_acquire);
  if (gen == 0) return 0;
  const auto a = reinterpret_cast<uintptr_t>(w);
  return a >= g_frozen_begin.load(std::memory_order_relaxed) && a < g_frozen_end.load(std::memory_order_relaxed) ? gen
                                                                                                                 : 0;
}

// Whether the AVX2+FMA versions run: the CPU has them and tests did not ask for the portable code.
bool use_avx2() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("popcnt");
  }();
  return has && !g_force_portable.load(std::memory_order_relaxed);
#else
  return false;
#endif
}

struct Csr {
  std::vector<int64_t> row_begin;   // [O + 1]
  std::vector<int32_t> col;         // [nnz]
  std::vector<float> val;           // [nnz]
};

using BlockFn = void (*)(const int64_t*, const int32_t*, const float*, const float*, float*, int64_t, int64_t);

// One block: yb[o][0..nb) for every o < O, from xb ([*][nb]) and the compressed rows (portable version).
void block_baseline(const int64_t* row_begin, const int32_t* col, const float* val, const float* xb, float* yb,
                    int64_t O, int64_t nb) {
  for (int64_t o = 0; o < O; ++o) {
    float acc[kBlock] = {};
    for (int64_t k = row_begin[o]; k < row_begin[o + 1]; ++k) {
      const float v = val[k];
      const float* src = xb + static_cast<int64_t>(col[k]) * nb;
      for (int64_t n = 0; n < nb; ++n) acc[n] += v * src[n];
    }
    float* dst = yb + o * nb;
    for (int64_t n = 0; n < nb; ++n) dst[n] = acc[n];
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// Full blocks: the 64 accumulators live in 8 AVX registers; remainder blocks take the baseline loop.
__attribute__((target("avx2,fma"))) void block_avx2(const int64_t* row_begin, const int32_t* col, const float* val,
                                                    const float* xb, float* yb, int64_t O, int64_t nb) {
  static_assert(kBlock == 64, "the AVX2 block holds 64 rows in 8 registers");
  if (nb != kBlock) {
    block_baseline(row_begin, col, val, xb, yb, O, nb);
    return;
  }
  for (int64_t o = 0; o < O; ++o) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int64_t k = row_begin[o], ke = row_begin[o + 1]; k < ke; ++k) {
      const __m256 v = _mm256_broadcast_ss(val + k);
      const float* src = xb + static_cast<int64_t>(col[k]) * kBlock;
      a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(src), a0);
      a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(src + 8), a1);
      a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(src + 16), a2);
      a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(src + 24), a3);
      a4 = _mm256_fmadd_ps(v, _mm256_loadu_ps(src + 32), a4);
      a5 = _mm256_fmadd_ps(v, _mm256_loadu_ps(src + 40), a5);
      a6 = _mm256_fmadd_ps(v, _mm256_loadu_ps(src + 48), a6);
      a7 = _mm256_fmadd_ps(v, _mm256_loadu_ps(src + 56), a7);
    }
    float* dst = yb + o * kBlock;
    _mm256_storeu_ps(dst, a0);
    _mm256_storeu_ps(dst + 8, a1);
    _mm256_storeu_ps(dst + 16, a2);
    _mm256_storeu_ps(dst + 24, a3);
    _mm256_storeu_ps(dst + 32, a4);
    _mm256_storeu_ps(dst + 40, a5);
    _mm256_storeu_ps(dst + 48, a6);
    _mm256_storeu_ps(dst + 56, a7);
  }
}
#endif

BlockFn pick_block_fn() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (use_avx2()) return block_avx2;
#endif
  return block_baseline;
}

void check_args(const Tensor& x, const Tensor& w, const Tensor& out, const Tensor& bias) {
  SDD_CHECK(x.dtype() == DType::f32 && w.dtype() == DType::f32 && out.dtype() == DType::f32 && x.dim() == 2 &&
                w.dim() == 2 && out.dim() == 2 && x.size(1) == w.size(1) && out.size(0) == x.size(0) &&
                out.size(1) == w.size(0) &&
                (!bias.defined() || (bias.dtype() == DType::f32 && bias.numel() == w.size(0))),
            "sparse_linear_forward: x " << x.str() << ", w " << w.str() << ", out " << out.str() << ", bias "
                                        << (bias.defined() ? bias.str() : std::string("none")));
}

// Entries != 0 (NaN counts, -0 does not) in p[0..n): every forward and weight gradient of a pruned
// layer counts its weights or support, so the AVX2 version (8 compares per instruction) matters.
int64_t count_nonzero_baseline(const float* p, int64_t n) {
  int64_t nz = 0;
  for (int64_t i = 0; i < n; ++i) nz += p[i] != 0.f;
  return nz;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma,popcnt"))) int64_t count_nonzero_avx2(const float* p, int64_t n) {
  const __m256 zero = _mm256_setzero_ps();
  int64_t nz = 0, i = 0;
  for (; i + 32 <= n; i += 32) {
    const auto m0 = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(p + i), zero, _CMP_NEQ_UQ)));
    const auto m1 = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(p + i + 8), zero, _CMP_NEQ_UQ)));
    const auto m2 = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(p + i + 16), zero, _CMP_NEQ_UQ)));
    const auto m3 = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(p + i + 24), zero, _CMP_NEQ_UQ)));
    nz += __builtin_popcount(m0 | (m1 << 8) | (m2 << 16) | (m3 << 24));
  }
  for (; i < n; ++i) nz += p[i] != 0.f;
  return nz;
}
#endif

int64_t count_nonzero(const float* p, int64_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (use_avx2()) return count_nonzero_avx2(p, n);
#endif
  return count_nonzero_baseline(p, n);
}

// The nonzero pattern of a weight, cached between calls: a pruned layer keeps its pattern for a whole
// training phase while its values change every step. A cached pattern is reused when it still covers
// every nonzero (checked on each call: the values gathered at its positions hold all nnz nonzeros) and
// is not much larger than nnz; otherwise it is rebuilt. Keyed by the weight's address and shape.
struct Pattern {
  const float* weight = nullptr;
  int64_t O = 0, I = 0;
  Csr csr;
  // The same pattern compressed by columns (input features), built on the first input gradient:
  // csc.row_begin [I + 1], csc.col holds output indices (ascending within a column), and
  // csc.val[q] = csr.val[perm[q]] (refreshed from the current values on every use).
  bool has_csc = false;
  Csr csc;
  std::vector<int64_t> perm;
  uint64_t last_use = 0;
  uint64_t frozen_gen = 0;   // csr.val is current for the FrozenWeights scope of this generation
  int64_t registration = 0;  // the gradient support's registration the pattern was checked under (0: none)
};

struct Workspace {
  Workspace() { patterns.reserve(kMaxPatterns); }   // references to patterns stay valid
  static constexpr size_t kMaxPatterns = 16;
  std::vector<Pattern> patterns;   // a few layers
  std::vector<float> yT, gT;
  // Transposed layer inputs, remembered by tensor identity: the backward of a layer reuses the
  // transpose its forward made (a few entries: one per layer of a small network).
  struct Transposed {
    std::weak_ptr<Storage> storage;   // expired or different: another tensor
    size_t offset = 0;
    int64_t R = 0, C = 0;
    std::vector<float> data;          // blocked transpose of [R][C]
    uint64_t last_use = 0;
  };
  std::vector<Transposed> inputs;
  // Nonzero counts taken inside a FrozenWeights scope (weights cannot change until it ends).
  struct FrozenCount {
    const float* p = nullptr;
    int64_t n = 0, limit = 0, nnz = 0;
    uint64_t gen = 0;
  };
  std::vector<FrozenCount> counts;
  uint64_t clock = 0;
};

Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}

// v holds at least n floats. Buffers only grow: layers of different widths take turns with the same
// buffers, and shrinking then growing again would zero-fill them on every call.
float* at_least(std::vector<float>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}

void build_pattern(Pattern& p, const float* w, int64_t O, int64_t I, int64_t nnz) {
  p.weight = w;
  p.O = O;
  p.I = I;
  p.has_csc = false;
  p.frozen_gen = 0;
  p.registration = 0;
  Csr& c = p.csr;
  // nnz sizes the arrays; the pattern is whatever w holds (a count from elsewhere cannot overrun it).
  c.row_begin.assign(static_cast<size_t>(O + 1), 0);
  c.col.clear();
  c.val.clear();
  c.col.reserve(static_cast<size_t>(nnz));
  c.val.reserve(static_cast<size_t>(nnz));
  for (int64_t o = 0; o < O; ++o) {
    c.row_begin[static_cast<size_t>(o)] = static_cast<int64_t>(c.col.size());
    const float* row = w + o * I;
    for (int64_t j = 0; j < I; ++j)
      if (row[j] != 0.f) {
        c.col.push_back(static_cast<int32_t>(j));
        c.val.push_back(row[j]);
      }
  }
  c.row_begin[static_cast<size_t>(O)] = static_cast<int64_t>(c.col.size());
}

// The compressed rows of w with its current values.
// exact: reuse a cached pattern only when it is exactly the nonzero set (gradient supports); otherwise
// a pattern that covers every nonzero and is at most a quarter larger is reused (weights).
// registration (exact only, != 0): w is a registered gradient support (unchanged while registered); a
// pattern checked under the same registration is reused as it is (its values are not read: the
// weight-gradient kernel uses the positions only).
Pattern& compressed(const float* w, int64_t O, int64_t I, int64_t nnz, bool exact, int64_t registration = 0) {
  Workspace& ws = workspace();
  ++ws.clock;
  Pattern* hit = nullptr;
  for (Pattern& p : ws.patterns)
    if (p.weight == w && p.O == O && p.I == I) hit = &p;
  if (hit != nullptr && exact && registration != 0 && hit->registration == registration) {
    hit->last_use = ws.clock;
    return *hit;
  }
  const uint64_t gen = frozen_generation(w);
  if (hit != nullptr && gen != 0 && hit->frozen_gen == gen) {   // values gathered in this frozen scope
    hit->last_use = ws.clock;
    return *hit;
  }
  if (hit != nullptr) {
    Csr& c = hit->csr;
    const int64_t size = static_cast<int64_t>(c.col.size());
    if (size >= nnz && size <= (exact ? nnz : nnz + nnz / 4 + 64)) {
      int64_t covered = 0;
      for (int64_t o = 0; o < O; ++o) {
        const float* row = w + o * I;
        for (int64_t k = c.row_begin[static_cast<size_t>(o)]; k < c.row_begin[static_cast<size_t>(o + 1)]; ++k) {
          const float v = row[c.col[static_cast<size_t>(k)]];
          c.val[static_cast<size_t>(k)] = v;
          covered += v != 0.f;
        }
      }
      if (covered == nnz) {
        hit->last_use = ws.clock;
        hit->frozen_gen = gen;
        hit->registration = exact ? registration : 0;
        return *hit;
      }
    }
  } else {
    if (ws.patterns.size() < Workspace::kMaxPatterns) {
      ws.patterns.emplace_back();
      hit = &ws.patterns.back();
    } else {
      hit = &ws.patterns.front();
      for (Pattern& p : ws.patterns)
        if (p.last_use < hit->last_use) hit = &p;
    }
  }
  build_pattern(*hit, w, O, I, nnz);
  hit->last_use = ws.clock;
  hit->frozen_gen = gen;
  hit->registration = exact ? registration : 0;
  return *hit;
}

// p's column-compressed copy with the current values (p.csr's, just refreshed by compressed()).
const Csr& by_columns(Pattern& p) {
  const Csr& r = p.csr;
  Csr& c = p.csc;
  const int64_t nnz = r.row_begin[static_cast<size_t>(p.O)];
  if (!p.has_csc) {
    c.row_begin.assign(static_cast<size_t>(p.I + 1), 0);
    for (int64_t k = 0; k < nnz; ++k) ++c.row_begin[static_cast<size_t>(r.col[static_cast<size_t>(k)]) + 1];
    for (int64_t j = 0; j < p.I; ++j) c.row_begin[static_cast<size_t>(j + 1)] += c.row_begin[static_cast<size_t>(j)];
    c.col.resize(static_cast<size_t>(nnz));
    c.val.resize(static_cast<size_t>(nnz));
    p.perm.resize(static_cast<size_t>(nnz));
    std::vector<int64_t> next(c.row_begin.begin(), c.row_begin.end() - 1);
    for (int64_t o = 0; o < p.O; ++o)   // rows in ascending order: each column's outputs come out sorted
      for (int64_t k = r.row_begin[static_cast<size_t>(o)]; k < r.row_begin[static_cast<size_t>(o + 1)]; ++k) {
        const int64_t q = next[static_cast<size_t>(r.col[static_cast<size_t>(k)])]++;
        c.col[static_cast<size_t>(q)] = static_cast<int32_t>(o);
        p.perm[static_cast<size_t>(q)] = k;
      }
    p.has_csc = true;
  }
  for (int64_t q = 0; q < nnz; ++q) c.val[static_cast<size_t>(q)] = r.val[static_cast<size_t>(p.perm[static_cast<size_t>(q)])];
  return c;
}

// dst[C][R] = src[R][C] (+ add[r] when add is given: a bias per source row, added as the value moves,
// the same single rounding as adding it afterwards), in tiles so that both sides stay in cache.
void transpose_baseline(const float* src, float* dst, int64_t R, int64_t C, const float* add) {
  constexpr int64_t T = 16;
  for (int64_t r0 = 0; r0 < R; r0 += T)
    for (int64_t c0 = 0; c0 < C; c0 += T) {
      const int64_t r1 = std::min(R, r0 + T), c1 = std::min(C, c0 + T);
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) dst[c * R + r] = add == nullptr ? src[r * C + c] : src[r * C + c] + add[r];
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
// The same with 8 x 8 blocks transposed in registers (unpack, shuffle, lane permute); edges scalar.
__attribute__((target("avx2,fma"))) void transpose_avx2(const float* src, float* dst, int64_t R, int64_t C,
                                                        const float* add) {
  const int64_t R8 = R - R % 8, C8 = C - C % 8;
  for (int64_t r = 0; r < R8; r += 8) {
    const __m256 b = add == nullptr ? _mm256_setzero_ps() : _mm256_loadu_ps(add + r);
    for (int64_t c = 0; c < C8; c += 8) {
      const float* s = src + r * C + c;
      const __m256 a0 = _mm256_loadu_ps(s), a1 = _mm256_loadu_ps(s + C), a2 = _mm256_loadu_ps(s + 2 * C),
                   a3 = _mm256_loadu_ps(s + 3 * C), a4 = _mm256_loadu_ps(s + 4 * C), a5 = _mm256_loadu_ps(s + 5 * C),
                   a6 = _mm256_loadu_ps(s + 6 * C), a7 = _mm256_loadu_ps(s + 7 * C);
      const __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1), t2 = _mm256_unpacklo_ps(a2, a3),
                   t3 = _mm256_unpackhi_ps(a2, a3), t4 = _mm256_unpacklo_ps(a4, a5), t5 = _mm256_unpackhi_ps(a4, a5),
                   t6 = _mm256_unpacklo_ps(a6, a7), t7 = _mm256_unpackhi_ps(a6, a7);
      const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
                   u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
                   u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
                   u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      __m256 d[8] = {_mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
                     _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
                     _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
                     _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
      float* o = dst + c * R + r;
      if (add != nullptr)
        for (int i = 0; i < 8; ++i) d[i] = _mm256_add_ps(d[i], b);
      for (int i = 0; i < 8; ++i) _mm256_storeu_ps(o + i * R, d[i]);
    }
  }
  for (int64_t r = 0; r < R; ++r)   // edges: the last C % 8 columns, and the last R % 8 rows
    for (int64_t c = (r < R8 ? C8 : 0); c < C; ++c)
      dst[c * R + r] = add == nullptr ? src[r * C + c] : src[r * C + c] + add[r];
}
#endif

using TransposeFn = void (*)(const float*, float*, int64_t, int64_t, const float*);

TransposeFn pick_transpose_fn() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (use_avx2()) return transpose_avx2;
#endif
  return transpose_baseline;
}

// dst[C][R] = src[R][C] (+ add[r]). On the calling thread: a transpose is memory-bound and its result
// is read next by this thread, so splitting it over the pool moved more data between cores than it saved.
void transpose(const float* src, float* dst, int64_t R, int64_t C, const float* add = nullptr) {
  const TransposeFn fn = pick_transpose_fn();
  fn(src, dst, R, C, add);
}

// The blocked transpose of src [R][C] (see the top of the file): rows r0..r0+nb transposed to
// [C][nb] at dst + r0 * C, for r0 = 0, kBlock, 2 kBlock, ...
void transpose_blocks(const float* src, float* dst, int64_t R, int64_t C) {
  for (int64_t r0 = 0; r0 < R; r0 += kBlock) transpose(src + r0 * C, dst + r0 * C, std::min(kBlock, R - r0), C);
}

// Where x [R, C]'s blocked transpose is kept: the forward always transposes (a caller may have refilled
// the same tensor since its last forward) and remembers the result; the weight gradient of the same
// tensor (same storage and offset, still alive) reuses it, as the dense backward reuses x itself.
// *found: the slot already belonged to x (else it is new or taken over, its contents stale).
float* input_slot(const Tensor& x, bool* found) {
  Workspace& ws = workspace();
  ++ws.clock;
  const std::shared_ptr<TensorImpl>& impl = x.impl_ptr();
  const int64_t R = x.size(0), C = x.size(1);
  Workspace::Transposed* slot = nullptr;
  *found = true;
  for (Workspace::Transposed& t : ws.inputs)
    if (t.storage.lock() == impl->storage && t.offset == impl->offset && t.R == R && t.C == C) {
      t.last_use = ws.clock;
      return t.data.data();
    }
  *found = false;
  constexpr size_t kMaxInputs = 4;
  if (ws.inputs.size() < kMaxInputs) {
    ws.inputs.emplace_back();
    slot = &ws.inputs.back();
  } else {
    slot = &ws.inputs.front();
    for (Workspace::Transposed& t : ws.inputs)
      if (t.last_use < slot->last_use) slot = &t;
  }
  slot->storage = impl->storage;
  slot->offset = impl->offset;
  slot->R = R;
  slot->C = C;
  slot->last_use = ws.clock;
  return at_least(slot->data, R * C);
}

// x's blocked transpose (made now when refresh or not kept yet).
const float* transposed_input(const Tensor& x, bool refresh) {
  bool found = false;
  float* slot = input_slot(x, &found);
  if (refresh || !found) transpose_blocks(x.data<float>(), slot, x.size(0), x.size(1));
  return slot;
}

// out_b[r][n] = sum over the entries k of compressed row r of val[k] * in_b[col[k]][n], for rows
// r < rows, every block b of the N batch rows (in: blocked transpose with in_rows rows, out: with
// `rows` rows). With in_src, each block of in is first made from in_src [N][in_rows]; with out_dst,
// each block of out is then transposed into out_dst [N][rows] (adding out_add[r] to column r when
// given: the layer's bias): a block's three steps run on one
// thread, its data staying in that core's cache. The blocks are independent: spread over the CPU pool
// when there is enough work (about a million multiply-adds, a transposed float counting as
// kTransposeWork of them; less is faster on one core).
constexpr int64_t kTransposeWork = 4;

void compressed_product(const Csr& c, const float* in_src, float* in, int64_t in_rows, float* out, float* out_dst,
                        int64_t rows, int64_t N, int64_t nnz, const float* out_add = nullptr) {
  const BlockFn block = pick_block_fn();
  const int64_t blocks = (N + kBlock - 1) / kBlock;
  auto one_block = [&](int64_t b) {
    const int64_t n0 = b * kBlock, nb = std::min(kBlock, N - n0);
    if (in_src != nullptr) transpose(in_src + n0 * in_rows, in + n0 * in_rows, nb, in_rows);
    block(c.row_begin.data(), c.col.data(), c.val.data(), in + n0 * in_rows, out + n0 * rows, rows, nb);
    if (out_dst != nullptr) transpose(out + n0 * rows, out_dst + n0 * rows, rows, nb, out_add);
  };
  const int64_t transposed = N * ((in_src != nullptr ? in_rows : 0) + (out_dst != nullptr ? rows : 0));
  if (nnz * N + kTransposeWork * transposed < (1 << 20)) {
    for (int64_t b = 0; b < blocks; ++b) one_block(b);
  } else {
    run_parts(blocks, one_block);
  }
}

void run(const Tensor& x, const Tensor& w, const Tensor& out, int64_t nnz, const Tensor& bias) {
  const int64_t N = x.size(0), I = x.size(1), O = w.size(0);
  float* y = out.data<float>();
  if (N == 0 || O == 0) return;
  const Csr& c = compressed(w.data<float>(), O, I, nnz, /*exact=*/false).csr;
  Workspace& ws = workspace();
  bool found = false;
  float* xT = input_slot(x, &found);   // x's blocked transpose, made block by block below
  compressed_product(c, x.data<float>(), xT, I, at_least(ws.yT, O * N), y, O, N, nnz,
                     bias.defined() ? bias.data<float>() : nullptr);
}

int64_t count_nonzero(const Tensor& w) { return count_nonzero(w.data<float>(), w.numel()); }

// nnz of p[0..n) when it is at most `limit`, else -1 (stops counting once past the limit).
int64_t count_nonzero_upto(const float* p, int64_t n, int64_t limit) {
  constexpr int64_t kChunk = 4096;
  int64_t nnz = 0;
  for (int64_t i = 0; i < n; i += kChunk) {
    nnz += count_nonzero(p + i, std::min(kChunk, n - i));
    if (nnz > limit) return -1;
  }
  return nnz;
}

// count_nonzero_upto for a layer's weight: inside a FrozenWeights scope, counted once per scope and
// thread (an evaluation pass runs hundreds of forwards with the same weights).
int64_t weight_nnz_upto(const float* p, int64_t n, int64_t limit) {
  const uint64_t gen = frozen_generation(p);
  if (gen == 0) return count_nonzero_upto(p, n, limit);
  Workspace& ws = workspace();
  Workspace::FrozenCount* slot = nullptr;
  for (Workspace::FrozenCount& e : ws.counts) {
    if (e.p == p && e.n == n && e.limit == limit && e.gen == gen) return e.nnz;
    if (e.gen != gen) slot = &e;   // left by an earlier scope: reusable
  }
  if (slot == nullptr) {
    ws.counts.emplace_back();
    slot = &ws.counts.back();
  }
  *slot = {p, n, limit, count_nonzero_upto(p, n, limit), gen};
  return slot->nnz;
}

// ---------------------------------------------------------------- weight gradient on a support

using DotRowFn = void (*)(const int64_t*, const int32_t*, const float*, const float*, float*, int64_t, int64_t,
                          int64_t);

// One batch block: acc[o * I + col[k]] += dot(g[o][0..nb), x[col[k]][0..nb)) for the entries k of
// row o, where g = gb[O][nb] and x = xb[I][nb] are the block's parts of the blocked transposes of gy
// and x (see the top of the file).
void dot_rows_baseline(const int64_t* row_begin, const int32_t* col, const float* gb, const float* xb, float* acc,
                       int64_t o, int64_t nb, int64_t I) {
  const float* g = gb + o * nb;
  for (int64_t k = row_begin[o]; k < row_begin[o + 1]; ++k) {
    const float* xs = xb + static_cast<int64_t>(col[k]) * nb;
    float s = 0.f;
    for (int64_t n = 0; n < nb; ++n) s += g[n] * xs[n];
    acc[o * I + col[k]] += s;
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// The sum of the 8 lanes of each of a0..a7, as the 8 lanes of one register (lane k: a_k's sum).
__attribute__((target("avx2,fma"))) inline __m256 lane_sums8(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 a4,
                                                             __m256 a5, __m256 a6, __m256 a7) {
  const __m256 h01 = _mm256_hadd_ps(a0, a1), h23 = _mm256_hadd_ps(a2, a3), h45 = _mm256_hadd_ps(a4, a5),
               h67 = _mm256_hadd_ps(a6, a7);
  const __m256 q0 = _mm256_hadd_ps(h01, h23), q1 = _mm256_hadd_ps(h45, h67);
  // q0 = [s0 s1 s2 s3 | s0' s1' s2' s3'] (low and high 128-bit halves), q1 likewise for a4..a7.
  return _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20), _mm256_permute2f128_ps(q0, q1, 0x31));
}

// Eight support entries at a time: g[o] is loaded 8 lanes at a time and multiplied into eight
// accumulators, one per entry (one load of x per multiply-add, eight independent chains); the eight
// sums come out of one lane reduction. Remaining entries (fewer than 8) one by one; a block of other
// than 64 rows takes the portable loop.
__attribute__((target("avx2,fma"))) void dot_rows_avx2(const int64_t* row_begin, const int32_t* col, const float* gb,
                                                       const float* xb, float* acc, int64_t o, int64_t nb,
                                                       int64_t I) {
  if (nb != kBlock) {
    dot_rows_baseline(row_begin, col, gb, xb, acc, o, nb, I);
    return;
  }
  const float* g = gb + o * kBlock;
  float* out = acc + o * I;
  int64_t k = row_begin[o];
  const int64_t ke = row_begin[o + 1];
  for (; k + 8 <= ke; k += 8) {
    const float* xs[8];
    for (int e = 0; e < 8; ++e) xs[e] = xb + static_cast<int64_t>(col[k + e]) * kBlock;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int64_t n = 0; n < kBlock; n += 8) {
      const __m256 gv = _mm256_loadu_ps(g + n);
      a0 = _mm256_fmadd_ps(gv, _mm256_loadu_ps(xs[0] + n), a0);
      a1 = _mm256_fmadd_ps(gv, _mm256_loadu_ps(xs[1] + n), a1);
      a2 = _mm256_fmadd_ps(gv, _mm256_loadu_ps(xs[2] + n), a2);
      a3 = _mm256_fmadd_ps(gv, _mm256_loadu_ps(xs[3] + n), a3);
      a4 = _mm256_fmadd_ps(gv, _mm256_loadu_ps(xs[4] + n), a4);
      a5 = _mm256_fmadd_ps(gv, _mm256_loadu_ps(xs[5] + n), a5);
      a6 = _mm256_fmadd_ps(gv, _mm256_loadu_ps(xs[6] + n), a6);
      a7 = _mm256_fmadd_ps(gv, _mm256_loadu_ps(xs[7] + n), a7);
    }
    alignas(32) float s[8];
    _mm256_store_ps(s, lane_sums8(a0, a1, a2, a3, a4, a5, a6, a7));
    for (int e = 0; e < 8; ++e) out[col[k + e]] += s[e];
  }
  for (; k < ke; ++k) {
    const float* xs = xb + static_cast<int64_t>(col[k]) * kBlock;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    for (int64_t n = 0; n < kBlock; n += 16) {
      s0 = _mm256_fmadd_ps(_mm256_loadu_ps(g + n), _mm256_loadu_ps(xs + n), s0);
      s1 = _mm256_fmadd_ps(_mm256_loadu_ps(g + n + 8), _mm256_loadu_ps(xs + n + 8), s1);
    }
    const __m256 s = _mm256_add_ps(s0, s1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    out[col[k]] += _mm_cvtss_f32(h);
  }
}
#endif

DotRowFn pick_dot_rows_fn() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (use_avx2()) return dot_rows_avx2;
#endif
  return dot_rows_baseline;
}

void check_grad_args(const Tensor& gy, const Tensor& x, const Tensor& support, const Tensor& acc) {
  SDD_CHECK(gy.dtype() == DType::f32 && x.dtype() == DType::f32 && support.dtype() == DType::f32 &&
                acc.dtype() == DType::f32 && gy.dim() == 2 && x.dim() == 2 && gy.size(0) == x.size(0) &&
                support.numel() == gy.size(1) * x.size(1) && acc.numel() == support.numel(),
            "sparse_linear_weight_grad: gy " << gy.str() << ", x " << x.str() << ", support " << support.str()
                                             << ", acc " << acc.str());
}

// acc += gy^T x on the support's entries; gT = gy's blocked transpose.
void run_weight_grad(const float* gT, const Tensor& x, const Tensor& support, const Tensor& acc, int64_t nnz,
                     int64_t registration) {
  const int64_t N = x.size(0), I = x.size(1), O = support.numel() / std::max<int64_t>(1, I);
  if (N == 0 || O == 0 || I == 0) return;
  const Csr& c = compressed(support.data<float>(), O, I, nnz, /*exact=*/true, registration).csr;
  const float* xT = transposed_input(x, /*refresh=*/false);  // blocked, usually the forward's
  const DotRowFn dot_rows = pick_dot_rows_fn();
  float* pa = acc.data<float>();
  // Rows are independent: two ranges holding about half the entries each, over the CPU pool from
  // a quarter of a million multiply-adds.
  const int64_t parts = nnz * N < (1 << 18) ? 1 : 2;
  const int64_t* rb = c.row_begin.data();
  const int64_t mid = std::upper_bound(rb, rb + O, nnz / 2) - rb;
  run_parts(parts, [&](int64_t p) {
    const int64_t lo = parts == 1 ? 0 : (p == 0 ? 0 : mid), hi = parts == 1 ? O : (p == 0 ? mid : O);
    for (int64_t n0 = 0; n0 < N; n0 += kBlock) {   // block by block: one block's x stays in cache
      const int64_t nb = std::min(kBlock, N - n0);
      for (int64_t o = lo; o < hi; ++o) dot_rows(rb, c.col.data(), gT + n0 * O, xT + n0 * I, pa, o, nb, I);
    }
  });
}

// gx[N,I] = gy[N,O] @ w[O,I] from the nonzero weights: the forward's block kernel run on w's
// column-compressed copy, gx_b[i][n] = sum over the outputs o of column i (ascending) of w[o,i] * g_b[o][n].
void run_input_grad(float* gT, const Tensor& w, const Tensor& gx, int64_t nnz) {
  const int64_t N = gx.size(0), I = w.size(1), O = w.size(0);
  if (N == 0 || I == 0) return;
  Pattern& p = compressed(w.data<float>(), O, I, nnz, /*exact=*/false);
  const Csr& c = by_columns(p);
  Workspace& ws = workspace();
  compressed_product(c, nullptr, gT, O, at_least(ws.yT, I * N), gx.data<float>(), I, N, nnz);
}

}  // namespace

bool sparse_linear_forward(const Tensor& x, const Tensor& w, const Tensor& out, const Tensor& bias) {
  check_args(x, w, out, bias);
  // Counting stops as soon as the limit is passed: a dense layer costs a quarter scan.
  const auto limit = static_cast<int64_t>(kSparseLinearMaxDensity * static_cast<double>(w.numel()));
  const int64_t nnz = weight_nnz_upto(w.data<float>(), w.numel(), limit);
  if (nnz < 0) return false;
  run(x, w, out, nnz, bias);
  return true;
}

void sparse_linear_forward_always(const Tensor& x, const Tensor& w, const Tensor& out, const Tensor& bias) {
  check_args(x, w, out, bias);
  run(x, w, out, count_nonzero(w), bias);
}

SparseBackward sparse_linear_backward(const Tensor& gy, const Tensor& w, const Tensor& x, const Tensor& support,
                                      const Tensor& acc, bool always, int64_t support_nnz,
                                      int64_t support_registration) {
  SparseBackward done;
  int64_t w_nnz = -1, s_nnz = -1;
  if (w.defined()) {
    SDD_CHECK(gy.dtype() == DType::f32 && w.dtype() == DType::f32 && gy.dim() == 2 && w.dim() == 2 &&
                  gy.size(1) == w.size(0),
              "sparse_linear_backward: gy " << gy.str() << ", w " << w.str());
    const auto limit = static_cast<int64_t>(kSparseLinearMaxDensity * static_cast<double>(w.numel()));
    w_nnz = always ? count_nonzero(w) : count_nonzero_upto(w.data<float>(), w.numel(), limit);
  }
  if (acc.defined()) {
    check_grad_args(gy, x, support, acc);
    const auto limit = static_cast<int64_t>(kSparseWeightGradMaxDensity * static_cast<double>(support.numel()));
    if (support_nnz >= 0)   // counted when the support was registered (its values have not changed since)
      s_nnz = always || support_nnz <= limit ? support_nnz : -1;
    else
      s_nnz = always ? count_nonzero(support) : count_nonzero_upto(support.data<float>(), support.numel(), limit);
  }
  if (w_nnz < 0 && s_nnz < 0) return done;
  // One transpose of gy serves both products.
  Workspace& ws = workspace();
  const int64_t N = gy.size(0), O = gy.size(1);
  float* gT = at_least(ws.gT, O * N);
  transpose_blocks(gy.data<float>(), gT, N, O);   // blocked [O][nb]
  if (s_nnz >= 0) {
    run_weight_grad(gT, x, support, acc, s_nnz, support_nnz >= 0 ? support_registration : 0);
    done.weight = true;
  }
  if (w_nnz >= 0) {
    done.gx = Tensor::empty({N, w.size(1)}, DType::f32);
    run_input_grad(gT, w, done.gx, w_nnz);
  }
  return done;
}

bool sparse_linear_weight_grad(const Tensor& gy, const Tensor& x, const Tensor& support, const Tensor& acc) {
  return sparse_linear_backward(gy, Tensor(), x, support, acc, false).weight;
}

void sparse_linear_weight_grad_always(const Tensor& gy, const Tensor& x, const Tensor& support, const Tensor& acc) {
  sparse_linear_backward(gy, Tensor(), x, support, acc, true);
}

Tensor sparse_linear_input_grad_always(const Tensor& gy, const Tensor& w) {
  return sparse_linear_backward(gy, w, Tensor(), Tensor(), Tensor(), true).gx;
}

void force_portable_sparse_kernels(bool on) { g_force_portable.store(on); }

FrozenWeights::FrozenWeights() : FrozenWeights(nullptr, 0) {}

FrozenWeights::FrozenWeights(const float* begin, int64_t count) {
  std::lock_guard<std::mutex> lock(g_frozen_mutex);
  if (g_frozen_depth++ != 0) return;
  const auto b = reinterpret_cast<uintptr_t>(begin);
  g_frozen_begin.store(begin == nullptr ? 0 : b, std::memory_order_relaxed);
  g_frozen_end.store(begin == nullptr ? UINTPTR_MAX : b + static_cast<uintptr_t>(count) * sizeof(float),
                     std::memory_order_relaxed);
  g_frozen_gen.store(++g_frozen_last, std::memory_order_release);
}

FrozenWeights::~FrozenWeights() {
  std::lock_guard<std::mutex> lock(g_frozen_mutex);
  if (--g_frozen_depth == 0) g_frozen_gen.store(0, std::memory_order_release);
}

}  // namespace sdd::cpu
