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

// The binary's thread policy (engine/cpu/threads_cpu.cpp): one OpenMP and one OpenBLAS thread unless
// OMP_NUM_THREADS / OPENBLAS_NUM_THREADS are set; the backend's own pool (parallel_cpu.h) gets
// SPARSEDD_THREADS threads, by default one per available CPU. A bad SPARSEDD_THREADS is a UserError.
void configure_threads_from_env();
}  // namespace sdd::cpu
