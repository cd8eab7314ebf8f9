// kernels/topk_threshold.h — launchers of kernels/topk_threshold.cu (host-only header, CUDA sources only):
// counting mask entries, compacting candidate scores, and the k-th smallest value with CUB radix sort.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace sdd::kern {

// *count (device, unsigned long long) += number of i < n with mask[i] != 0. One launch, no sync.
void launch_count_candidates(const float* mask, int64_t n, unsigned long long* count, cudaStream_t stream);

// Appends scores[i] for every i < n with mask[i] != 0 to out[*count ...] and advances *count (device).
// The order of the appended values is unspecified (warp-aggregated atomics); only the multiset is fixed,
// which is all a sort needs. out must have room for every candidate.
void launch_gather_candidates(const float* scores, const float* mask, int64_t n, float* out,
                              unsigned long long* count, cudaStream_t stream);

// Bytes of temporary storage launch_sort_keys needs for `n` keys.
size_t sort_keys_temp_bytes(int64_t n);

// keys_out = keys_in sorted ascending (cub::DeviceRadixSort::SortKeys, float order; -0 sorts before +0,
// which compare equal, so thresholds are unaffected). temp: sort_keys_temp_bytes(n) bytes.
void launch_sort_keys(void* temp, size_t temp_bytes, const float* keys_in, float* keys_out, int64_t n,
                      cudaStream_t stream);

}  // namespace sdd::kern
