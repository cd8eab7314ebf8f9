// engine/cpu/augment_cpu.cpp — CPU reference of the batch assembly entry (engine/backend_data.inc):
// a loop (example ranges over the CPU pool) over kern::CropFlipBatchOp (kernels/augment_ops.h), the
// functor the CUDA kernel runs.
#include "engine/cpu/augment_cpu.h"
#include <algorithm>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/parallel_cpu.h"
#include "engine/ops/op_checks.h"
#include "kernels/augment_ops.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SDD_AUGMENT_AVX2 1
#endif

namespace sdd::cpu {

namespace {

// One single-channel image without augmentation: out[i] = normalize_u8(src[i], mean, stdv). With AVX2,
// eight pixels at a time through the same correctly rounded operations (u8 -> f32 is exact, then a
// division by 255, a subtraction and a division), so the values are the functor's bit for bit; three
// times faster than the table lookup per pixel.
void normalize_plain(const uint8_t* src, float* out, int64_t n, float mean, float stdv, const float* table);

#ifdef SDD_AUGMENT_AVX2
bool has_avx2() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
  }();
  return has;
}

__attribute__((target("avx2"))) void normalize_plain_avx2(const uint8_t* src, float* out, int64_t n, float mean,
                                                          float stdv) {
  const __m256 k255 = _mm256_set1_ps(255.0f), m = _mm256_set1_ps(mean), s = _mm256_set1_ps(stdv);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i));
    const __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
    _mm256_storeu_ps(out + i, _mm256_div_ps(_mm256_sub_ps(_mm256_div_ps(f, k255), m), s));
  }
  for (; i < n; ++i) out[i] = kern::normalize_u8(src[i], mean, stdv);
}
#endif

void normalize_plain(const uint8_t* src, float* out, int64_t n, float mean, float stdv, const float* table) {
#ifdef SDD_AUGMENT_AVX2
  if (has_avx2()) return normalize_plain_avx2(src, out, n, mean, stdv);
#endif
  for (int64_t i = 0; i < n; ++i) out[i] = table[src[i]];
}

}  // namespace

void crop_flip_batch(const Tensor& images, const Tensor& indices, const Tensor& out, int32_t pad, bool augment,
                     uint64_t seed, uint64_t epoch, const std::vector<float>& mean, const std::vector<float>& stdv) {
  ops::detail::check_crop_flip_batch_entry(images, indices, out, pad, mean, stdv);
  const int64_t N = images.size(0), H = images.size(1), W = images.size(2), C = images.size(3);
  const int64_t B = indices.size(0);
  const int64_t* idx = indices.data<int64_t>();
  for (int64_t b = 0; b < B; ++b)
    SDD_CHECK(idx[b] >= 0 && idx[b] < N, "example index " << idx[b] << " outside 0.." << N - 1);

  kern::CropFlipBatchOp op{};
  op.images = images.data<uint8_t>();
  op.indices = idx;
  op.out = out.data<float>();
  op.H = static_cast<int32_t>(H);
  op.W = static_cast<int32_t>(W);
  op.C = static_cast<int32_t>(C);
  op.pad = pad;
  op.augment = augment ? 1 : 0;
  op.seed = seed;
  op.epoch = epoch;
  for (int64_t c = 0; c < C; ++c) {
    op.mean[c] = mean[static_cast<size_t>(c)];
    op.stdv[c] = stdv[static_cast<size_t>(c)];
  }
  crop_flip_rows(op, B);
}

void crop_flip_rows(kern::CropFlipBatchOp op, int64_t batch) {
  float table[4 * 256];
  kern::fill_normalize_table(op, table);
  op.lut = table;
  // Rows (b, ch, y) in nested loops (no index division per row), each the per-element functor's values
  // with the random draw done once per row. Batches of 32K values or more are built in up to 4 ranges
  // of examples over the CPU pool (each value depends only on its example: the ranges change nothing).
  // Examples of a shuffled batch lie anywhere in a dataset larger than the caches: the example two
  // ahead is prefetched line by line, so its memory latency overlaps the current rows.
  const int64_t image_bytes = static_cast<int64_t>(op.H) * op.W * op.C;
  const int64_t parts = batch * image_bytes < (1 << 15) ? 1 : std::min<int64_t>(4, batch);
  run_parts(parts, [&](int64_t p) {
    int64_t lo = 0, hi = 0;
    part_range(batch, parts, p, 1, lo, hi);
    for (int64_t b = lo; b < hi; ++b) {
      if (b + 2 < hi) {
        const uint8_t* ahead = op.images + op.indices[b + 2] * image_bytes;
        for (int64_t off = 0; off < image_bytes; off += 64) __builtin_prefetch(ahead + off);
      }
      if (op.augment == 0 && op.C == 1) {   // the plain image: one contiguous run of pixels
        normalize_plain(op.images + op.indices[b] * image_bytes, op.out + b * image_bytes, image_bytes, op.mean[0],
                        op.stdv[0], table);
        continue;
      }
      for (int32_t ch = 0; ch < op.C; ++ch)
        for (int32_t y = 0; y < op.H; ++y) op.row(b, ch, y);
    }
  });
}

}  // namespace sdd::cpu
