// engine/cpu/threads_cpu.cpp — the CPU thread policy of the sparsedd binary.
//
// OpenBLAS (its own pthread pool) and OpenMP (libgomp's pool) both spin-wait between calls. On small
// machines that are also busy with other work, two pools spinning against each other made one
// Fashion-MNIST MLP epoch 11x slower than one thread each (measured 2026-11-25 on the 2-core
// development machine: 74 s vs 6.7 s per epoch). So unless the user sets OMP_NUM_THREADS or
// OPENBLAS_NUM_THREADS, each of those pools runs one thread, and the parallelism comes from our own
// pool (engine/cpu/parallel_cpu.h): matrix products split into blocks fixed by their shapes, one
// single-threaded sgemm per block, so results do not depend on the thread count. That pool has
// SPARSEDD_THREADS threads, by default one per CPU this process may run on (divided among the ranks
// of the node under mpirun).
#include <cblas.h>
#include <omp.h>
#include <sched.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/parallel_cpu.h"
#include "engine/errors.h"

namespace sdd::cpu {

namespace {

// CPUs this process may run on, shared among the ranks of this node under mpirun (Open MPI and MPICH
// name the local rank count), so that N ranks on N cores do not each start N threads.
int default_threads() {
  int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
#ifdef CPU_COUNT
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cpus = std::max(1, CPU_COUNT(&set));
#endif
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"})
    if (const char* v = std::getenv(name)) {
      const int ranks = std::atoi(v);
      if (ranks > 1) return std::max(1, cpus / ranks);
    }
  return cpus;
}

}  // namespace

void configure_threads_from_env() {
  if (!std::getenv("OMP_NUM_THREADS")) omp_set_num_threads(1);
  if (!std::getenv("OPENBLAS_NUM_THREADS")) openblas_set_num_threads(1);
  int n = default_threads();
  if (const char* env = std::getenv("SPARSEDD_THREADS")) {
    const std::string s = env;
    size_t used = 0;
    long v = 0;
    try {
      v = std::stol(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    SDD_USER_CHECK(used == s.size() && v >= 1 && v <= 1024,
                   "SPARSEDD_THREADS='" << s << "' must be a whole number of threads from 1 to 1024");
    n = static_cast<int>(v);
  }
  set_threads(n);
}

}  // namespace sdd::cpu
