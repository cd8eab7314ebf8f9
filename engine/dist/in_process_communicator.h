// engine/dist/in_process_communicator.h — N replicas as threads of one process sharing a rendezvous
// (used by the data-parallel tests and the CPU bench).
//
//   auto group = std::make_shared<InProcessGroup>(3);
//   group->run([&](Communicator& comm) { ... replica comm.rank() ... });   // 3 threads, joined
//
// Collectives work on host memory; a CUDA tensor is staged through a host copy. The all-reduce is
// deterministic: every element is summed in rank order 0, 1, ..., W-1 (whichever thread computes it),
// so results are identical run to run and equal on every rank. The W threads split the elements in
// contiguous chunks; thread r sums chunk r over all W buffers and writes the sum into all of them.
//
// If one replica throws inside run(), the group is aborted: replicas blocked in (or later entering) a
// collective throw too, every thread is joined, and run() rethrows the first exception.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/dist/communicator.h"

namespace sdd::dist {

class InProcessGroup : public std::enable_shared_from_this<InProcessGroup> {
 public:
  explicit InProcessGroup(int world_size);
  int world_size() const { return world_; }

  // Runs fn(comm_r) on W threads (rank r on thread r) and joins them; rethrows the first exception.
  void run(const std::function<void(Communicator&)>& fn);
  // Communicators for callers that manage their own threads (one per rank; each used by one thread).
  // The group must be held by a std::shared_ptr (make_shared).
  std::vector<std::unique_ptr<Communicator>> communicators();

  // ---- used by InProcessCommunicator
  // Blocks until all W ranks have called it (generation barrier); throws when the group is aborted.
  void arrive_and_wait();
  void abort();
  // Per-rank slots published before a collective's first barrier.
  struct Slot {
    float* data = nullptr;
    int64_t numel = 0;
    int root = 0;
  };
  std::vector<Slot>& slots() { return slots_; }

 private:
  int world_;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
  bool aborted_ = false;
  std::vector<Slot> slots_;
};

class InProcessCommunicator : public Communicator {
 public:
  InProcessCommunicator(std::shared_ptr<InProcessGroup> group, int rank);
  int rank() const override { return rank_; }
  int world_size() const override { return group_->world_size(); }
  std::string backend_name() const override { return "inprocess"; }
  void all_reduce_sum(Tensor& t) override;
  void broadcast(Tensor& t, int root) override;
  void barrier() override;

 private:
  void all_reduce_host(float* data, int64_t numel);
  void broadcast_host(float* data, int64_t numel, int root);
  std::shared_ptr<InProcessGroup> group_;
  int rank_;
};

}  // namespace sdd::dist
