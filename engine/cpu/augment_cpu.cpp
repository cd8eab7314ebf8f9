// engine/cpu/augment_cpu.cpp — CPU reference of the batch assembly entry (engine/backend_data.inc):
// an OpenMP loop over kern::CropFlipBatchOp (kernels/augment_ops.h), the functor the CUDA kernel runs.
#include "engine/cpu/augment_cpu.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/ops/op_checks.h"
#include "kernels/augment_ops.h"

namespace sdd::cpu {

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
  // One task per output row (b, ch, y): the per-element functor's values, drawn once per row.
  const int64_t rows = batch * op.C * op.H;
#pragma omp parallel for schedule(static) if (rows * op.W > (1 << 15))
  for (int64_t r = 0; r < rows; ++r)
    op.row(r / (op.C * op.H), static_cast<int32_t>((r / op.H) % op.C), static_cast<int32_t>(r % op.H));
}

}  // namespace sdd::cpu
