// engine/io/checksum.h — a fast 64-bit content hash for detecting damaged files (the Tiny ImageNet
// cache, checkpoints). Not cryptographic: it catches truncation, bit flips and stray writes.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sdd::io {

// Hash of a byte buffer: word-wise multiply-xorshift over 1 MiB chunks (chunks in parallel), the
// chunk hashes folded in order with the length. The same bytes give the same value on every machine.
uint64_t content_hash(const void* data, size_t n);

// Folds `next` into a running hash `h` (order matters).
inline uint64_t hash_combine(uint64_t h, uint64_t next) { return (h ^ next) * 0x100000001B3ull + (h >> 17); }

}  // namespace sdd::io
