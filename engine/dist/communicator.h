// engine/dist/communicator.h — the communicator interface for data-parallel training (DESIGN rules 4
// and 6), and the factories that pick an implementation.
//
// A Communicator connects the W replicas of one training job; each replica (a thread or a process)
// holds its own Communicator with rank() in [0, W). Every collective is called by all W replicas in
// the same order with tensors of the same numel (f32, contiguous — normally a whole flat arena, so
// one call per step, DESIGN rule 6):
//   all_reduce_sum(t):   t = sum over ranks of t_r                 (in place)
//   all_reduce_mean(t):  t = (1/W) * sum over ranks of t_r         (in place)
//   broadcast(t, root):  t = t_root on every rank                  (in place)
//   barrier():           returns when every rank has entered it
//
// Implementations:
//   InProcessCommunicator (engine/dist/in_process_communicator.h): N replicas as threads of one process,
//     CPU buffers (device tensors staged through the host); deterministic reduction order. Tests.
//   MpiCommunicator (engine/dist/mpi_communicator.h): one process per replica, MPI on host buffers;
//     built only with MPI (SDD_HAVE_MPI).
//   NcclCommunicator (engine/dist/nccl_communicator.h): CUDA tensors, one GPU per replica; one
//     process driving several GPUs (ncclCommInitAll) or one process per GPU bootstrapped over MPI
//     (ncclCommInitRank); built only with CUDA and NCCL (SDD_HAVE_NCCL).
//   SingleCommunicator: W = 1, every collective is a no-op (the non-distributed run).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace sdd::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Name of the implementation ("single", "inprocess", "mpi", "nccl") for logs and benches.
  virtual std::string backend_name() const = 0;

  virtual void all_reduce_sum(Tensor& t) = 0;
  // Default: all_reduce_sum, then a local scale by 1/W.
  virtual void all_reduce_mean(Tensor& t);
  virtual void broadcast(Tensor& t, int root) = 0;
  virtual void barrier() = 0;
};

// W = 1: collectives leave the tensor as it is.
class SingleCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string backend_name() const override { return "single"; }
  void all_reduce_sum(Tensor& t) override;
  void all_reduce_mean(Tensor& t) override;
  void broadcast(Tensor& t, int root) override;
  void barrier() override {}
};

enum class Backend { Auto, Single, InProcess, Mpi, Nccl };
// "auto", "single", "inprocess", "mpi", "nccl"; anything else is a UserError.
Backend parse_backend(const std::string& name);
const char* backend_str(Backend b);

// Whether an implementation is compiled into this build (InProcess and Single always are).
bool backend_built(Backend b);

// True when this process was started by an MPI launcher with more than one process
// (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_SIZE > 1 in the environment).
bool launched_under_mpi();

// One communicator per local replica, for ONE process driving `devices.size()` replicas (the caller
// runs replica r on its own thread with element r). Auto: NCCL (ncclCommInitAll) when every device is
// CUDA and NCCL is built, otherwise in-process. One device gives a SingleCommunicator.
std::vector<std::unique_ptr<Communicator>> make_local_communicators(const std::vector<Device>& devices,
                                                                    Backend backend = Backend::Auto);

// The communicator of THIS process when every process drives one replica on `device` (mpirun -np W).
// Auto: NCCL bootstrapped over MPI for a CUDA device when NCCL and MPI are built, MPI for a CPU device,
// SingleCommunicator when the process was not launched under MPI.
std::unique_ptr<Communicator> make_process_communicator(Device device, Backend backend = Backend::Auto);

namespace detail {
// Throws InternalError unless t is a defined f32 tensor.
void check_f32(const Tensor& t, const char* what);
}  // namespace detail

}  // namespace sdd::dist
