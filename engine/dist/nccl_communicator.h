// engine/dist/nccl_communicator.h — NcclCommunicator: one CUDA device per replica, collectives on
// the device's stream (engine/cuda/context.h), so the all-reduce of a gradient arena is one NCCL call
// ordered after the backward pass that wrote it (DESIGN rule 6). Defined in nccl_communicator_cuda.cpp
// (CUDA builds only); without NCCL (SDD_HAVE_NCCL unset) the factories throw UserError. This header
// includes no CUDA or NCCL header.
//
// Two ways to build a set of communicators:
//   create_local({0, 1, 2, 3}): one process drives several GPUs, ncclCommInitAll; the caller runs
//     replica r on its own thread, using element r (rank r on devices[r]).
//   create_with_mpi(device): one process per GPU (mpirun, possibly across machines); rank 0 makes an
//     ncclUniqueId, MPI_Bcast sends it to every rank, then ncclCommInitRank (needs SDD_HAVE_MPI too).
#pragma once
#include <memory>
#include <vector>

#include "engine/dist/communicator.h"

namespace sdd::dist {

class NcclCommunicator : public Communicator {
 public:
  static std::vector<std::unique_ptr<Communicator>> create_local(const std::vector<int>& devices);
  static std::unique_ptr<Communicator> create_with_mpi(int device);
  ~NcclCommunicator() override;

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  std::string backend_name() const override { return "nccl"; }
  int device() const { return device_; }
  // Tensors must live on device(); the calls are enqueued on its stream (asynchronous to the host).
  void all_reduce_sum(Tensor& t) override;
  void all_reduce_mean(Tensor& t) override;   // ncclAvg: one call
  void broadcast(Tensor& t, int root) override;
  void barrier() override;                    // a 1-float all-reduce, then a stream synchronisation

  struct Impl;
  NcclCommunicator(int rank, int size, int device, std::unique_ptr<Impl> impl);

 private:
  int rank_, size_, device_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sdd::dist
