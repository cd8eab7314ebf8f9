// engine/ops/dispatch.h — routes a backend call by device (DESIGN rule 3). Only engine/ uses it;
// models, pruning and experiments call the ops of engine/ops.h.
#pragma once
#include "engine/cpu/cpu_backend.h"
#include "engine/cuda/cuda_backend.h"

#define SDD_DISPATCH(dev, fn, ...) \
  ((dev).is_cuda() ? ::sdd::cuda::fn(__VA_ARGS__) : ::sdd::cpu::fn(__VA_ARGS__))
