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

// Momentum-free SGD on the entries idx[0..count) of the flat arenas w, g only (their mask is 1): each
// entry updated by the masked-SGD functor exactly as masked_sgd updates it, its gradient then 0 when
// h.zero_grad. Sgd uses it for a sparse mask while every other entry is known to hold its pruned weight
// and a zero gradient (engine/optim/grad_support.h); h.momentum must be 0.
void masked_sgd_on_support(const Tensor& w, const Tensor& g, const int32_t* idx, int64_t count,
                           const kern::SgdHyper& h);

// The binary's thread policy (engine/cpu/threads_cpu.cpp): one OpenMP and one OpenBLAS thread unless
// OMP_NUM_THREADS / OPENBLAS_NUM_THREADS are set; the backend's own pool (parallel_cpu.h) gets
// SPARSEDD_THREADS threads, by default one per available CPU. A bad SPARSEDD_THREADS is a UserError.
void configure_threads_from_env();
}  // namespace sdd::cpu
