// engine/dist/mpi_communicator.h — MpiCommunicator: one process per replica over MPI_COMM_WORLD, on
// host buffers (a CUDA tensor is staged through a host copy). Defined in mpi_communicator_mpi.cpp,
// which is compiled only when MPI is found (SDD_HAVE_MPI); this header does not include mpi.h.
//
// MPI is initialised on first use when the program has not done it (MPI_Init_thread asking for
// MPI_THREAD_SERIALIZED) and finalised at exit. Launch with, e.g.
//   mpirun -np 2 --oversubscribe ./sparsedd ...      (as root also OMPI_ALLOW_RUN_AS_ROOT=1 and
//                                                     OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)
// The reduction is MPI_Allreduce(MPI_SUM) in place; for a fixed process count Open MPI's order is fixed.
#pragma once
#include <cstdint>

#include "engine/dist/communicator.h"

namespace sdd::dist {

// Initialises MPI once when it is not initialised yet (MPI_Finalize then runs at exit).
void mpi_ensure_initialized();
// Rank and size in MPI_COMM_WORLD (initialises MPI when needed).
int mpi_world_rank();
int mpi_world_size();

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator();   // MPI_COMM_WORLD
  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  std::string backend_name() const override { return "mpi"; }
  void all_reduce_sum(Tensor& t) override;
  void broadcast(Tensor& t, int root) override;
  void barrier() override;

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace sdd::dist
