// engine/cpu/cpu_backend.h — the CPU backend: the reference implementation of every op
// (DESIGN rule 1). OpenBLAS sgemm, im2col convolution, OpenMP loops over the shared functors.
#pragma once
#include <cstddef>

#include "engine/geometry.h"
#include "engine/tensor.h"
#include "kernels/adam_ops.h"
#include "kernels/masked_sgd_ops.h"

namespace sdd::cpu {
#include "engine/backend_core.inc"
#include "engine/backend_pruning.inc"  // prune scores, k-th candidate value, mask update
#include "engine/backend_data.inc"     // on-device batch augmentation
}  // namespace sdd::cpu
