// experiments/md5.cpp — MD5 (RFC 1321): 512-bit blocks, four rounds of 16 operations, little-endian.
#include "experiments/md5.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace sdd::exp {
namespace {

// Per-operation left-rotation amounts, round by round (RFC 1321 section 3.4).
constexpr uint32_t kShift[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

// T[i] = floor(2^32 * |sin(i + 1)|), computed once.
struct SineTable {
  uint32_t t[64];
  SineTable() {
    for (int i = 0; i < 64; ++i)
      t[i] = static_cast<uint32_t>(std::floor(4294967296.0 * std::fabs(std::sin(static_cast<double>(i + 1)))));
  }
};

inline uint32_t rotl(uint32_t x, uint32_t c) { return (x << c) | (x >> (32 - c)); }

void process_block(const uint8_t* block, uint32_t state[4], const uint32_t* T) {
  uint32_t m[16];
  for (int i = 0; i < 16; ++i)
    m[i] = static_cast<uint32_t>(block[4 * i]) | (static_cast<uint32_t>(block[4 * i + 1]) << 8) |
           (static_cast<uint32_t>(block[4 * i + 2]) << 16) | (static_cast<uint32_t>(block[4 * i + 3]) << 24);
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  for (int i = 0; i < 64; ++i) {
    uint32_t f;
    int g;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) % 16;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) % 16;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) % 16;
    }
    const uint32_t tmp = d;
    d = c;
    c = b;
    b = b + rotl(a + f + T[i] + m[g], kShift[i]);
    a = tmp;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

}  // namespace

void md5_digest(const void* data, size_t n, uint8_t out[16]) {
  static const SineTable table;
  uint32_t state[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
  const uint8_t* p = static_cast<const uint8_t*>(data);
  size_t full = n / 64;
  for (size_t i = 0; i < full; ++i) process_block(p + 64 * i, state, table.t);

  // Padding: 0x80, zeros up to 56 mod 64, then the bit length as 64-bit little-endian.
  std::vector<uint8_t> tail(p + 64 * full, p + n);
  tail.push_back(0x80);
  while (tail.size() % 64 != 56) tail.push_back(0);
  const uint64_t bits = static_cast<uint64_t>(n) * 8u;
  for (int i = 0; i < 8; ++i) tail.push_back(static_cast<uint8_t>(bits >> (8 * i)));
  for (size_t i = 0; i < tail.size(); i += 64) process_block(tail.data() + i, state, table.t);

  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<uint8_t>(state[i] >> (8 * j));
}

std::string md5_hex(const std::string& data) {
  uint8_t d[16];
  md5_digest(data.data(), data.size(), d);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return s;
}

}  // namespace sdd::exp
