// kernels/bf16_ops.h — float <-> bfloat16 conversion, shared by the host and the device (DESIGN
// rule 2): the autocast kernels of kernels/bf16_cast.cu grid-stride over these functors and the
// CPU tests (tests/test_precision.cpp) check them and compute bf16 references with them.
//
// bf16 = the top 16 bits of an IEEE float (1 sign, 8 exponent, 7 mantissa bits). float -> bf16
// rounds to nearest, ties to even (as __float2bfloat16_rn and PyTorch's .to(torch.bfloat16));
// NaN stays a quiet NaN of the same sign; +-inf and overflow past the largest bf16 give +-inf.
#pragma once
#include <stdint.h>
#include <string.h>

#include "kernels/hd.h"

namespace sdd::kern {

SDD_HD uint32_t f32_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
#endif
}

SDD_HD float f32_from_bits(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// float -> bf16 bits, round to nearest even.
SDD_HD uint16_t f32_to_bf16(float f) {
  const uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // quiet NaN
  const uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding) >> 16);
}

// bf16 bits -> float (exact).
SDD_HD float bf16_to_f32(uint16_t b) { return f32_from_bits(static_cast<uint32_t>(b) << 16); }

// The float a value becomes after a round trip through bf16 (the autocast rounding of an operand).
SDD_HD float round_to_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }

}  // namespace sdd::kern
