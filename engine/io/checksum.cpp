// engine/io/checksum.cpp — see checksum.h.
#include "engine/io/checksum.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace sdd::io {

uint64_t content_hash(const void* bytes, size_t n) {
  const auto* data = static_cast<const uint8_t*>(bytes);
  constexpr size_t kChunk = size_t{1} << 20;
  const int64_t chunks = static_cast<int64_t>((n + kChunk - 1) / kChunk);
  std::vector<uint64_t> part(static_cast<size_t>(chunks));
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < chunks; ++k) {
    const size_t lo = static_cast<size_t>(k) * kChunk, hi = std::min(n, lo + kChunk);
    uint64_t h = 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(k);
    size_t i = lo;
    for (; i + 8 <= hi; i += 8) {
      uint64_t v;
      std::memcpy(&v, data + i, 8);
      h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
      h ^= h >> 31;
    }
    for (; i < hi; ++i) h = (h ^ data[i]) * 0x94D049BB133111EBull;
    part[static_cast<size_t>(k)] = h ^ (h >> 29);
  }
  uint64_t h = 0xCBF29CE484222325ull ^ static_cast<uint64_t>(n);
  for (uint64_t p : part) h = hash_combine(h, p);
  return h;
}

}  // namespace sdd::io
