// engine/dist/in_process_communicator.cpp — the thread rendezvous and the deterministic in-place
// all-reduce / broadcast of InProcessCommunicator (see the header for the protocol).
#include "engine/dist/in_process_communicator.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <thread>

namespace sdd::dist {

InProcessGroup::InProcessGroup(int world_size) : world_(world_size) {
  SDD_USER_CHECK(world_size >= 1, "in-process communicator: world size must be at least 1, got " << world_size);
  slots_.resize(static_cast<size_t>(world_size));
}

void InProcessGroup::arrive_and_wait() {
  std::unique_lock<std::mutex> lk(mu_);
  if (aborted_) throw Error("in-process communicator: another replica failed (group aborted)");
  const uint64_t gen = generation_;
  if (++arrived_ == world_) {
    arrived_ = 0;
    ++generation_;
    cv_.notify_all();
    return;
  }
  cv_.wait(lk, [&] { return generation_ != gen || aborted_; });
  if (generation_ == gen) throw Error("in-process communicator: another replica failed (group aborted)");
}

void InProcessGroup::abort() {
  std::lock_guard<std::mutex> lk(mu_);
  aborted_ = true;
  cv_.notify_all();
}

std::vector<std::unique_ptr<Communicator>> InProcessGroup::communicators() {
  // The communicators share ownership of the group, so it must itself be held by a shared_ptr.
  std::shared_ptr<InProcessGroup> self = weak_from_this().lock();
  SDD_CHECK(self != nullptr, "InProcessGroup::communicators needs a group created with std::make_shared");
  std::vector<std::unique_ptr<Communicator>> out;
  for (int r = 0; r < world_; ++r) out.push_back(std::make_unique<InProcessCommunicator>(self, r));
  return out;
}

void InProcessGroup::run(const std::function<void(Communicator&)>& fn) {
  // Non-owning shared_ptr: run() joins every thread before returning, so *this outlives them.
  std::shared_ptr<InProcessGroup> self(this, [](InProcessGroup*) {});
  std::vector<std::exception_ptr> errors(static_cast<size_t>(world_));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(world_));
  for (int r = 0; r < world_; ++r) {
    threads.emplace_back([&, r] {
      try {
        InProcessCommunicator comm(self, r);
        fn(comm);
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
        abort();
      }
    });
  }
  for (auto& t : threads) t.join();
  // Prefer the exception that caused the abort over the "group aborted" ones it triggered.
  for (auto& e : errors) {
    if (!e) continue;
    try {
      std::rethrow_exception(e);
    } catch (const Error& err) {
      if (std::string(err.what()).find("group aborted") != std::string::npos) continue;
      throw;
    }
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

InProcessCommunicator::InProcessCommunicator(std::shared_ptr<InProcessGroup> group, int rank)
    : group_(std::move(group)), rank_(rank) {
  SDD_CHECK(rank >= 0 && rank < group_->world_size(), "rank " << rank << " of " << group_->world_size());
}

void InProcessCommunicator::barrier() { group_->arrive_and_wait(); }

void InProcessCommunicator::all_reduce_host(float* data, int64_t numel) {
  auto& slots = group_->slots();
  const int w = group_->world_size();
  slots[static_cast<size_t>(rank_)] = {data, numel, 0};
  group_->arrive_and_wait();   // every rank has published its buffer
  for (int k = 0; k < w; ++k)
    if (slots[static_cast<size_t>(k)].numel != numel) {
      const int64_t other = slots[static_cast<size_t>(k)].numel;
      group_->arrive_and_wait();   // keep the ranks in step before everyone throws
      SDD_FAIL("in-process all_reduce: rank " << rank_ << " has " << numel << " elements, rank " << k << " has "
                                              << other);
    }
  // Chunk r of the elements: summed in rank order, written into every rank's buffer.
  const int64_t chunk = (numel + w - 1) / w;
  const int64_t begin = std::min<int64_t>(numel, chunk * rank_);
  const int64_t end = std::min<int64_t>(numel, begin + chunk);
  for (int64_t i = begin; i < end; ++i) {
    float s = slots[0].data[i];
    for (int k = 1; k < w; ++k) s += slots[static_cast<size_t>(k)].data[i];
    for (int k = 0; k < w; ++k) slots[static_cast<size_t>(k)].data[i] = s;
  }
  group_->arrive_and_wait();   // every chunk written; slots may be reused after this
}

void InProcessCommunicator::broadcast_host(float* data, int64_t numel, int root) {
  auto& slots = group_->slots();
  slots[static_cast<size_t>(rank_)] = {data, numel, root};
  group_->arrive_and_wait();
  const auto& src = slots[static_cast<size_t>(root)];
  const bool ok = src.numel == numel && src.root == root;
  if (ok && rank_ != root && numel > 0) std::memcpy(data, src.data, static_cast<size_t>(numel) * sizeof(float));
  group_->arrive_and_wait();   // the root's buffer is no longer read
  SDD_CHECK(ok, "in-process broadcast: rank " << rank_ << " has " << numel << " elements and root " << root
                                              << ", root has " << src.numel << " and root " << src.root);
}

void InProcessCommunicator::all_reduce_sum(Tensor& t) {
  detail::check_f32(t, "all_reduce_sum");
  if (t.device().is_cpu()) {
    all_reduce_host(t.data<float>(), t.numel());
    return;
  }
  Tensor host = t.to(Device::cpu());   // staged through the host
  all_reduce_host(host.data<float>(), host.numel());
  t.copy_(host);
}

void InProcessCommunicator::broadcast(Tensor& t, int root) {
  detail::check_f32(t, "broadcast");
  SDD_CHECK(root >= 0 && root < world_size(), "broadcast root " << root << " of world " << world_size());
  if (t.device().is_cpu()) {
    broadcast_host(t.data<float>(), t.numel(), root);
    return;
  }
  Tensor host = t.to(Device::cpu());
  broadcast_host(host.data<float>(), host.numel(), root);
  t.copy_(host);
}

}  // namespace sdd::dist
