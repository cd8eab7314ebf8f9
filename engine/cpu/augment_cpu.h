// engine/cpu/augment_cpu.h — the CPU loop of batch assembly over kern::CropFlipBatchOp, shared by the
// backend entry cpu::crop_flip_batch and the host batch builder exp::make_batch.
#pragma once
#include <cstdint>

#include "kernels/augment_ops.h"

namespace sdd::cpu {

// Fills op.out ([batch, C, H, W] floats) row by row (kern::CropFlipBatchOp::row: one random draw and
// index split per row) through a normalisation table; op.lut is ignored (a local table is used).
void crop_flip_rows(kern::CropFlipBatchOp op, int64_t batch);

}  // namespace sdd::cpu
