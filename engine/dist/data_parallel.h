// engine/dist/data_parallel.h — data-parallel training helpers: the deterministic split of a global
// batch over W replicas and the gradient step that makes W replicas equal one replica.
//
// Batch split: a global batch of B examples (rows 0..B-1, in the data order every replica shares) is
// cut into W contiguous shards; shard r goes to rank r. Sizes differ by at most 1: the first B mod W
// ranks get ceil(B/W) rows, the others floor(B/W). At a last partial batch with B < W, the trailing
// ranks get an EMPTY shard (size 0): they skip forward/backward but still join every collective.
//
// Gradient step (all_reduce_gradients): every replica computes its loss as the MEAN over its own
// shard of n_r examples, so its gradient arena holds g_r = (1/n_r) sum_{i in shard r} dl_i. The
// gradient of the mean over the GLOBAL batch is
//     g = (1/B) sum_i dl_i = sum_r (n_r / B) g_r
// so each replica scales its arena by n_r / B (an empty shard: its arena is zero-filled instead, so a
// NaN from a mean over no examples cannot leak) and one all_reduce_sum adds the W arenas. In exact
// arithmetic W replicas then take exactly the step one replica takes on the whole batch; in float the
// difference is rounding only. (A plain all_reduce_mean would be wrong whenever shard sizes differ.)
//
// BatchNorm (documented behaviour, as PyTorch DataParallel): in training mode each replica normalises
// with ITS shard's batch statistics, so the result differs from one replica on the whole batch (BN
// layers see smaller batches). Gradients are still combined as above, so the replicas' weights stay
// identical. Running statistics: each replica updates its own from its shard; broadcast_buffers(comm,
// model, 0) after each step makes every replica hold replica 0's (what a DataParallel model keeps).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/dist/communicator.h"
#include "engine/nn/module.h"

namespace sdd::dist {

struct Shard {
  int64_t begin = 0;   // first row of the global batch
  int64_t size = 0;    // rows (may be 0)
  bool empty() const { return size == 0; }
};

// Shard of `rank` when `batch_size` rows are split over `world_size` replicas (see above).
Shard shard_of(int64_t batch_size, int world_size, int rank);
// All W shards, in rank order (sizes sum to batch_size, begins are increasing and contiguous).
std::vector<Shard> split_batch(int64_t batch_size, int world_size);

// Rows [s.begin, s.begin + s.size) of batch[B, ...] as a view sharing its storage (no copy, no
// autograd); an empty shard gives an undefined tensor (callers skip forward/backward).
Tensor shard_rows(const Tensor& batch, const Shard& s);

// In place: grads (this replica's f32 gradient arena, the mean over its shard of shard_size rows)
// becomes the gradient of the mean over the global batch of global_batch rows, identical on every
// rank: grads = sum_r (n_r / B) * grads_r. One all_reduce_sum over the whole arena.
void all_reduce_gradients(Communicator& comm, Tensor& grads, int64_t shard_size, int64_t global_batch);

// Every replica's parameter arena (f32) becomes root's (call once before training so all replicas
// start from the same weights).
void broadcast_parameters(Communicator& comm, Tensor& params, int root = 0);

// Every f32 buffer of the module (BN running_mean / running_var) becomes root's, one broadcast per
// buffer in named_buffers() order. Integer buffers (num_batches_tracked) are left alone: every
// replica counts the same training forwards.
void broadcast_buffers(Communicator& comm, nn::Module& module, int root = 0);

}  // namespace sdd::dist
