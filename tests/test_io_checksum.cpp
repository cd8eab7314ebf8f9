// tests/test_io_checksum.cpp — the content hash behind the Tiny ImageNet cache and checkpoint checksums:
// pinned values (files written by earlier versions must still verify), and a single flipped bit, a
// changed length or swapped chunks change it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "engine/io/checksum.h"

using sdd::io::content_hash;

TEST_CASE("io: content_hash keeps its pinned values and sees a flipped bit", "[io]") {
  std::vector<unsigned char> b(3000003);   // three 1 MiB chunks and a tail
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<unsigned char>(i % 251);
  // The values of the Tiny ImageNet cache's payload hash before it moved to engine/io.
  CHECK(content_hash(b.data(), b.size()) == 0xfd7f33bd593e1c69ull);
  CHECK(content_hash(b.data(), 5) == 0x348a13fe3c015159ull);
  const uint64_t h = content_hash(b.data(), b.size());
  for (size_t at : {size_t{0}, size_t{1} << 20, b.size() - 1}) {
    b[at] ^= 0x10;
    CHECK(content_hash(b.data(), b.size()) != h);
    b[at] ^= 0x10;
  }
  CHECK(content_hash(b.data(), b.size() - 1) != h);
  // Swapping the first two chunks changes it (chunks are folded in order).
  std::vector<unsigned char> s(b);
  std::swap_ranges(s.begin(), s.begin() + (1 << 20), s.begin() + (1 << 20));
  CHECK(content_hash(s.data(), s.size()) != h);
  CHECK(content_hash(b.data(), b.size()) == h);
}
