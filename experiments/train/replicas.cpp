// experiments/train/replicas.cpp — replica copies, their communicators and the worker threads
// (see replicas.h).
#include "experiments/train/replicas.h"

#include <cstring>

#include "engine/dist/in_process_communicator.h"
#include "engine/errors.h"
#include "engine/rng.h"
#include "experiments/train/checkpoint.h"
#include "models/registry.h"

namespace sdd::exp {

ReplicaSet::ReplicaSet(models::Model& model, const std::vector<Device>& devices,
                       std::shared_ptr<dist::Communicator> process_comm)
    : devices_(devices.empty() ? std::vector<Device>{model.device()} : devices),
      process_comm_(std::move(process_comm)) {
  if (process_comm_ && process_comm_->world_size() <= 1) process_comm_.reset();
  SDD_USER_CHECK(!process_comm_ || devices_.size() == 1,
                 "this process was started by mpirun with " << process_comm_->world_size() << " ranks and also asked for "
                                                            << devices_.size()
                                                            << " replicas of its own; use one GPU per MPI rank (or one "
                                                               "process with --gpu=0,1,...), not both");
  models_.push_back(&model);
  if (devices_.size() > 1) {
    // Copies of replica 0: same architecture, weights, buffers and frozen flags; no RNG consumed.
    const RngState saved = capture_rng(global_generator());
    const nn::NamedTensors params = model.named_parameters();
    const nn::NamedTensors state = model.state_dict();
    for (size_t r = 1; r < devices_.size(); ++r) {
      models::ModelPtr copy = models::create_model(model.name(), model.outputs());
      nn::NamedTensors cp = copy->named_parameters();
      SDD_CHECK(cp.size() == params.size(), "replica of " << model.name() << " has " << cp.size() << " parameters, not "
                                                          << params.size());
      for (size_t i = 0; i < cp.size(); ++i) cp[i].second.set_requires_grad(params[i].second.requires_grad());
      copy->load_state(state, /*strict=*/true);
      copy->train(model.is_training());
      copy->to(devices_[r]);
      models_.push_back(copy.get());
      copies_.push_back(std::move(copy));
    }
    restore_rng(global_generator(), saved);

    bool all_cuda = true;
    for (const Device& d : devices_) all_cuda = all_cuda && d.is_cuda();
    if (all_cuda && dist::backend_built(dist::Backend::Nccl)) {
      local_comms_ = dist::make_local_communicators(devices_, dist::Backend::Nccl);
    } else {
      group_ = std::make_shared<dist::InProcessGroup>(static_cast<int>(devices_.size()));
      local_comms_ = group_->communicators();
    }
    for (int r = 1; r < local_count(); ++r) workers_.emplace_back([this, r] { worker_loop(r); });
  } else if (!process_comm_) {
    local_comms_.push_back(std::make_unique<dist::SingleCommunicator>());
  }
}

ReplicaSet::~ReplicaSet() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

int ReplicaSet::world_size() const { return process_comm_ ? process_comm_->world_size() : local_count(); }

int ReplicaSet::global_rank(int r) const { return process_comm_ ? process_comm_->rank() : r; }

bool ReplicaSet::is_process_rank0() const { return !process_comm_ || process_comm_->rank() == 0; }

dist::Communicator& ReplicaSet::comm(int r) {
  if (process_comm_) return *process_comm_;
  return *local_comms_[static_cast<size_t>(r)];
}

void ReplicaSet::fail(std::exception_ptr e) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!error_) error_ = e;
  }
  if (group_) group_->abort();   // replicas blocked in a collective throw instead of waiting
}

void ReplicaSet::worker_loop(int r) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int)>* task = nullptr;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      task = task_;
    }
    try {
      (*task)(r);
    } catch (...) {
      fail(std::current_exception());
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      --pending_;
    }
    cv_.notify_all();
  }
}

void ReplicaSet::run(const std::function<void(int)>& fn) {
  if (workers_.empty()) {
    fn(0);
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    SDD_CHECK(!error_, "replica set used after a failed run");
    task_ = &fn;
    pending_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  cv_.notify_all();
  try {
    fn(0);
  } catch (...) {
    fail(std::current_exception());
  }
  std::exception_ptr err;
  {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return pending_ == 0; });
    task_ = nullptr;
    err = error_;
  }
  if (err) std::rethrow_exception(err);
}

void ReplicaSet::process_barrier() {
  if (process_comm_) process_comm_->barrier();
}

void agree_values(dist::Communicator& comm, Device device, std::vector<uint64_t>& values) {
  if (values.empty()) return;
  std::vector<float> pieces;
  for (uint64_t v : values)
    for (int k = 0; k < 4; ++k) pieces.push_back(static_cast<float>((v >> (16 * k)) & 0xFFFFu));
  Tensor t = Tensor::from_vector(pieces, {static_cast<int64_t>(pieces.size())}, device);
  comm.broadcast(t, 0);
  const std::vector<float> back = t.to_vector<float>();
  for (size_t i = 0; i < values.size(); ++i) {
    uint64_t v = 0;
    for (int k = 0; k < 4; ++k) v |= static_cast<uint64_t>(back[i * 4 + static_cast<size_t>(k)]) << (16 * k);
    values[i] = v;
  }
}

}  // namespace sdd::exp
