// engine/cpu/threads_cpu.cpp — the CPU thread policy of the sparsedd binary.
//
// OpenBLAS (its own pthread pool) and OpenMP (libgomp's pool) both spin-wait between calls. On small
// machines that are also busy with other work, two pools spinning against each other made one
// Fashion-MNIST MLP epoch 11x slower than one thread each (measured 2026-11-25 on the 2-core
// development machine: 74 s vs 6.7 s per epoch). So unless the user sets OMP_NUM_THREADS or
// OPENBLAS_NUM_THREADS, sparsedd runs each pool with one thread; setting them opts in to more.
#include <cblas.h>
#include <omp.h>

#include <cstdlib>

#include "engine/cpu/cpu_backend.h"

namespace sdd::cpu {

void configure_threads_from_env() {
  if (!std::getenv("OMP_NUM_THREADS")) omp_set_num_threads(1);
  if (!std::getenv("OPENBLAS_NUM_THREADS")) openblas_set_num_threads(1);
}

}  // namespace sdd::cpu
