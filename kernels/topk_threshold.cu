// kernels/topk_threshold.cu — the k-th smallest candidate score (SPEC 7.1 threshold) on the device.
//   R          = #{i : mask[i] != 0}                       (count_candidates_kernel)
//   candidates = [scores[i] for i with mask[i] != 0]        (gather_candidates_kernel, any order)
//   sorted     = cub::DeviceRadixSort::SortKeys(candidates) (ascending float order)
//   thr        = sorted[n]                                  (read by the caller, engine/cuda/prune_cuda.cpp)
// Equal to std::nth_element on the host: both return the value at index n of the sorted multiset.
#include <cub/device/device_radix_sort.cuh>

#include "engine/cuda/cuda_check.h"
#include "kernels/launch.h"
#include "kernels/prune_scores_ops.h"
#include "kernels/topk_threshold.h"

namespace sdd::kern {

namespace {

constexpr unsigned kFullWarp = 0xffffffffu;

// One atomicAdd per warp with the warp's count of candidates.
__global__ void count_candidates_kernel(const float* mask, int64_t n, unsigned long long* count) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t start = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  // Every lane runs the same number of iterations (rounded up to a full grid), so ballots are full-warp.
  const int64_t rounds = (n + stride - 1) / stride;
  unsigned long long local = 0;
  for (int64_t r = 0; r < rounds; ++r) {
    const int64_t i = start + r * stride;
    local += (i < n && prune_candidate(mask[i])) ? 1 : 0;
  }
  for (int off = 16; off > 0; off >>= 1) local += __shfl_down_sync(kFullWarp, local, off);
  if ((threadIdx.x & 31) == 0 && local) atomicAdd(count, local);
}

// Warp-aggregated append: lane 0 reserves room for the warp's candidates, each lane writes its own.
__global__ void gather_candidates_kernel(const float* scores, const float* mask, int64_t n, float* out,
                                         unsigned long long* count) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t start = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t rounds = (n + stride - 1) / stride;
  const unsigned lane = threadIdx.x & 31;
  for (int64_t r = 0; r < rounds; ++r) {
    const int64_t i = start + r * stride;
    const bool take = i < n && prune_candidate(mask[i]);
    const unsigned ballot = __ballot_sync(kFullWarp, take);
    if (ballot == 0) continue;
    unsigned long long base = 0;
    if (lane == 0) base = atomicAdd(count, static_cast<unsigned long long>(__popc(ballot)));
    base = __shfl_sync(kFullWarp, base, 0);
    if (take) out[base + __popc(ballot & ((1u << lane) - 1u))] = scores[i];
  }
}

}  // namespace

void launch_count_candidates(const float* mask, int64_t n, unsigned long long* count, cudaStream_t stream) {
  if (n <= 0) return;
  count_candidates_kernel<<<grid_for(n), kThreads, 0, stream>>>(mask, n, count);
  SDD_CUDA_LAUNCH_CHECK("count_candidates_kernel");
}

void launch_gather_candidates(const float* scores, const float* mask, int64_t n, float* out,
                              unsigned long long* count, cudaStream_t stream) {
  if (n <= 0) return;
  gather_candidates_kernel<<<grid_for(n), kThreads, 0, stream>>>(scores, mask, n, out, count);
  SDD_CUDA_LAUNCH_CHECK("gather_candidates_kernel");
}

size_t sort_keys_temp_bytes(int64_t n) {
  size_t bytes = 0;
  SDD_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(nullptr, bytes, static_cast<const float*>(nullptr),
                                                static_cast<float*>(nullptr), n));
  return bytes;
}

void launch_sort_keys(void* temp, size_t temp_bytes, const float* keys_in, float* keys_out, int64_t n,
                      cudaStream_t stream) {
  if (n <= 0) return;
  SDD_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(temp, temp_bytes, keys_in, keys_out, n, 0, 32, stream));
  SDD_CUDA_LAUNCH_CHECK("cub::DeviceRadixSort::SortKeys");
}

}  // namespace sdd::kern
