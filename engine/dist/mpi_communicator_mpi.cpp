// engine/dist/mpi_communicator_mpi.cpp — MpiCommunicator over MPI_COMM_WORLD on host buffers
// (compiled only with MPI: the `_mpi.cpp` suffix). Large arenas are sent in chunks of at most 2^30
// elements because MPI counts are int.
// The C++ bindings are deprecated and do not compile warning-free.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <cstdlib>

#include "engine/dist/mpi_communicator.h"

namespace sdd::dist {

namespace {

void mpi_check(int rc, const char* stmt) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw DeviceError(std::string("MPI error: ") + std::string(msg, static_cast<size_t>(len)) + " in `" + stmt + "`");
}
#define SDD_MPI_CHECK(stmt) mpi_check((stmt), #stmt)

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

constexpr int64_t kChunk = int64_t{1} << 30;

}  // namespace

void mpi_ensure_initialized() {
  int initialized = 0;
  SDD_MPI_CHECK(MPI_Initialized(&initialized));
  if (initialized) return;
  int provided = 0;
  SDD_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided));
  std::atexit(finalize_at_exit);
}

int mpi_world_rank() {
  mpi_ensure_initialized();
  int r = 0;
  SDD_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &r));
  return r;
}

int mpi_world_size() {
  mpi_ensure_initialized();
  int s = 0;
  SDD_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &s));
  return s;
}

MpiCommunicator::MpiCommunicator() : rank_(mpi_world_rank()), size_(mpi_world_size()) {}

void MpiCommunicator::all_reduce_sum(Tensor& t) {
  detail::check_f32(t, "all_reduce_sum");
  Tensor host = t.device().is_cpu() ? t : t.to(Device::cpu());   // staged through the host
  float* p = host.data<float>();
  for (int64_t off = 0; off < host.numel(); off += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, host.numel() - off));
    SDD_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, p + off, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD));
  }
  if (!t.device().is_cpu()) t.copy_(host);
}

void MpiCommunicator::broadcast(Tensor& t, int root) {
  detail::check_f32(t, "broadcast");
  SDD_CHECK(root >= 0 && root < size_, "broadcast root " << root << " of world " << size_);
  Tensor host = t.device().is_cpu() ? t : t.to(Device::cpu());
  float* p = host.data<float>();
  for (int64_t off = 0; off < host.numel(); off += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, host.numel() - off));
    SDD_MPI_CHECK(MPI_Bcast(p + off, n, MPI_FLOAT, root, MPI_COMM_WORLD));
  }
  if (!t.device().is_cpu()) t.copy_(host);
}

void MpiCommunicator::barrier() { SDD_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD)); }

}  // namespace sdd::dist
