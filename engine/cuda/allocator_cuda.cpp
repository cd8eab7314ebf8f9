// engine/cuda/allocator_cuda.cpp — the caching device allocator behind Storage (DESIGN section 5:
// no cudaMalloc in the steady-state step).
//
// Requests are rounded up to a bucket size (multiples of 512 B up to 1 MiB; above that, four
// buckets per power of two), and freed blocks go to a per-device, per-bucket free list instead of
// cudaFree. A later request of the same bucket reuses a cached block. Every op runs on the device's
// one stream (engine/cuda/context.h), so a block freed after its last use is enqueued can be handed
// out again at once: the next user's work is ordered after it. When cudaMalloc fails, the cache is
// released (cudaFree) and the allocation retried once.
#include <map>
#include <sstream>
#include <mutex>
#include <vector>

#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/cuda_check.h"

namespace sdd::cuda {

namespace {

struct DevicePool {
  std::map<size_t, std::vector<void*>> free_lists;  // bucket size -> cached blocks
  MemoryStats stats;
};

struct Allocator {
  std::mutex mu;
  std::vector<DevicePool> pools;
  DevicePool& pool(int device) {
    if (pools.size() <= static_cast<size_t>(device)) pools.resize(static_cast<size_t>(device) + 1);
    return pools[static_cast<size_t>(device)];
  }
};

// Never destroyed (see context_cuda.cpp): blocks are released by the driver at process exit.
Allocator& allocator() {
  static Allocator* a = new Allocator();
  return *a;
}

size_t bucket_size(size_t n) {
  constexpr size_t kSmall = 512, kLarge = size_t(1) << 20;
  if (n <= kLarge) return (n + kSmall - 1) / kSmall * kSmall;
  // Four buckets per power of two: step = 2^(floor(log2 n) - 2).
  size_t pow2 = kLarge;
  while (pow2 * 2 <= n) pow2 *= 2;
  const size_t step = pow2 / 4;
  return (n + step - 1) / step * step;
}

void release_cache(DevicePool& p) {
  for (auto& [size, blocks] : p.free_lists) {
    for (void* b : blocks) {
      (void)cudaFree(b);
      p.stats.cached_bytes -= size;
    }
    blocks.clear();
  }
  p.free_lists.clear();
}

}  // namespace

void* device_alloc(size_t nbytes, int device) {
  if (nbytes == 0) return nullptr;
  const size_t size = bucket_size(nbytes);
  Allocator& a = allocator();
  context(device);  // makes `device` current and validates it
  std::lock_guard<std::mutex> lock(a.mu);
  DevicePool& p = a.pool(device);
  void* ptr = nullptr;
  auto it = p.free_lists.find(size);
  if (it != p.free_lists.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
    p.stats.cached_bytes -= size;
  } else {
    cudaError_t e = cudaMalloc(&ptr, size);
    if (e == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      SDD_CUDA_CHECK(cudaDeviceSynchronize());
      release_cache(p);
      e = cudaMalloc(&ptr, size);
    }
    if (e == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      std::ostringstream os;
      os << "out of memory on cuda:" << device << " allocating " << size << " bytes (" << p.stats.current_bytes
         << " bytes in use): use a smaller batch size or model";
      throw DeviceError(os.str());
    }
    SDD_CUDA_CHECK(e);
  }
  p.stats.current_bytes += size;
  if (p.stats.current_bytes > p.stats.peak_bytes) p.stats.peak_bytes = p.stats.current_bytes;
  return ptr;
}

void device_free(void* ptr, size_t nbytes, int device) {
  if (!ptr) return;
  const size_t size = bucket_size(nbytes);
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mu);
  DevicePool& p = a.pool(device);
  p.free_lists[size].push_back(ptr);
  p.stats.current_bytes -= size;
  p.stats.cached_bytes += size;
}

MemoryStats memory_stats(int device) {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mu);
  if (device < 0) return {};
  return a.pool(device).stats;
}

}  // namespace sdd::cuda
