// kernels/philox.h — Philox4x32-10, the counter-based generator behind every engine random draw
// (init, unseeded data order, augmentation). Same stream on every machine and on host and device:
// the output for (key, counter) is a pure function, so a draw can be addressed directly, e.g.
// augmentation keyed by (seed, epoch, example index) (Salmon et al., SC'11).
#pragma once
#include <stdint.h>

#include "kernels/hd.h"

namespace sdd::kern {

struct U32x4 {
  uint32_t v[4];
};

SDD_HD uint32_t philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

// Philox4x32 with 10 rounds: counter c (128 bits), key k (64 bits).
SDD_HD U32x4 philox4x32(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = philox_mulhilo(M0, c0, &hi0);
    const uint32_t lo1 = philox_mulhilo(M1, c2, &hi1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += W0;
    k1 += W1;
  }
  U32x4 out;
  out.v[0] = c0; out.v[1] = c1; out.v[2] = c2; out.v[3] = c3;
  return out;
}

// Uniform float in [0, 1) from 24 high bits; uniform double in [0, 1) from 53 bits of two words.
SDD_HD float philox_u01f(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }
SDD_HD double philox_u01d(uint32_t a, uint32_t b) {
  return static_cast<double>((static_cast<uint64_t>(a >> 5) << 26) | (b >> 6)) * (1.0 / 9007199254740992.0);
}

}  // namespace sdd::kern
