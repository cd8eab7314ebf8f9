// engine/dist/data_parallel.cpp — batch split and the weighted gradient all-reduce (see the header).
#include "engine/dist/data_parallel.h"

#include <algorithm>

#include "engine/ops.h"

namespace sdd::dist {

Shard shard_of(int64_t batch_size, int world_size, int rank) {
  SDD_CHECK(batch_size >= 0, "batch size " << batch_size);
  SDD_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "rank " << rank << " of world " << world_size);
  const int64_t base = batch_size / world_size;
  const int64_t extra = batch_size % world_size;   // the first `extra` ranks get one more row
  const int64_t r = rank;
  Shard s;
  s.size = base + (r < extra ? 1 : 0);
  s.begin = r * base + std::min(r, extra);
  return s;
}

std::vector<Shard> split_batch(int64_t batch_size, int world_size) {
  std::vector<Shard> out;
  for (int r = 0; r < world_size; ++r) out.push_back(shard_of(batch_size, world_size, r));
  return out;
}

Tensor shard_rows(const Tensor& batch, const Shard& s) {
  SDD_CHECK(batch.dim() >= 1, "shard_rows needs a batch with a leading dimension, got " << batch.str());
  SDD_CHECK(s.begin >= 0 && s.size >= 0 && s.begin + s.size <= batch.size(0),
            "shard [" << s.begin << ", " << s.begin + s.size << ") of a batch of " << batch.size(0));
  if (s.empty()) return Tensor();
  const int64_t row = batch.size(0) == 0 ? 0 : batch.numel() / batch.size(0);
  Shape shape = batch.shape();
  shape[0] = s.size;
  return Tensor::view_of(batch, s.begin * row, shape);
}

void all_reduce_gradients(Communicator& comm, Tensor& grads, int64_t shard_size, int64_t global_batch) {
  detail::check_f32(grads, "all_reduce_gradients");
  SDD_CHECK(global_batch >= 1 && shard_size >= 0 && shard_size <= global_batch,
            "shard of " << shard_size << " rows in a global batch of " << global_batch);
  if (shard_size == 0) {
    grads.fill_(0.0);   // an empty shard contributes nothing (and no NaN from a mean over nothing)
  } else if (shard_size != global_batch) {
    // g_r *= n_r / B
    ops::scale_(grads, static_cast<float>(static_cast<double>(shard_size) / static_cast<double>(global_batch)));
  }
  // g = sum_r (n_r / B) g_r
  comm.all_reduce_sum(grads);
}

void broadcast_parameters(Communicator& comm, Tensor& params, int root) { comm.broadcast(params, root); }

void broadcast_buffers(Communicator& comm, nn::Module& module, int root) {
  for (auto& [name, buf] : module.named_buffers()) {
    (void)name;
    if (buf.dtype() != DType::f32) continue;
    comm.broadcast(buf, root);
  }
}

}  // namespace sdd::dist
