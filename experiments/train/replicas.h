// experiments/train/replicas.h — the replicas of a data-parallel training phase (issue 8, DESIGN
// rules 4 and 6, section 4 item 30).
//
// Two layouts, never combined:
//   local    one process drives L >= 2 devices (--gpu=0,1,2,3, or SPARSEDD_CPU_REPLICAS=N on the CPU):
//            replica 0 is the caller's model on devices[0], replicas 1..L-1 are copies (same weights,
//            buffers and frozen flags) on devices[1..], each run on its own persistent worker thread;
//            the communicators come from NCCL (ncclCommInitAll) when every device is CUDA and NCCL is
//            built, otherwise from an in-process group (deterministic rank-order sums).
//   process  mpirun -np N: each process holds ONE replica (the caller's model) and the process
//            communicator (MPI, or NCCL bootstrapped over MPI); world = N, global rank = MPI rank.
// A single replica (L = 1, no process communicator) is the plain run: run() calls fn(0) inline.
//
// Copies draw no random numbers from sdd::global_generator() (its state is saved and restored around
// their construction), so the data order and label noise do not depend on the replica count.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/device.h"
#include "engine/dist/communicator.h"
#include "models/model.h"

namespace sdd::dist {
class InProcessGroup;
}

namespace sdd::exp {

// Every process gets process rank 0's `values` through `comm` (one broadcast of f32 [4 * n] on
// `device`, each value as four exact 16-bit pieces).
void agree_values(dist::Communicator& comm, Device device, std::vector<uint64_t>& values);

class ReplicaSet {
 public:
  // `model` is replica 0 and must already be on devices[0]. With a process communicator of world size
  // > 1, `devices` must hold one device (UserError otherwise).
  ReplicaSet(models::Model& model, const std::vector<Device>& devices,
             std::shared_ptr<dist::Communicator> process_comm);
  ~ReplicaSet();   // stops and joins the worker threads
  ReplicaSet(const ReplicaSet&) = delete;
  ReplicaSet& operator=(const ReplicaSet&) = delete;

  int local_count() const { return static_cast<int>(devices_.size()); }
  int world_size() const;               // replicas over every process
  int global_rank(int r) const;         // rank of local replica r in [0, world_size())
  bool parallel() const { return world_size() > 1; }
  bool is_process_rank0() const;        // this process writes the result files
  models::Model& model(int r) { return *models_[static_cast<size_t>(r)]; }
  Device device(int r) const { return devices_[static_cast<size_t>(r)]; }
  dist::Communicator& comm(int r);

  // Runs fn(r) for every local replica at once (r = 0 on the calling thread, r >= 1 on its worker)
  // and returns when all are done. The first exception is rethrown; an in-process group is aborted
  // as soon as one replica throws, so the others leave their collectives instead of waiting forever.
  void run(const std::function<void(int)>& fn);

  // Barrier over the processes (no-op without a process communicator).
  void process_barrier();

 private:
  void worker_loop(int r);
  void fail(std::exception_ptr e);

  std::vector<Device> devices_;
  std::vector<models::Model*> models_;
  std::vector<models::ModelPtr> copies_;                    // replicas 1..L-1
  std::shared_ptr<dist::Communicator> process_comm_;
  std::vector<std::unique_ptr<dist::Communicator>> local_comms_;
  std::shared_ptr<dist::InProcessGroup> group_;             // when the local communicators are in-process

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void(int)>* task_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace sdd::exp
