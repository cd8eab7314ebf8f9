// tests/test_precision.cpp — [precision] the process-wide GPU math mode on the CPU (engine/precision.h):
// parsing and names, set / get / scoped guard, the older conv_allow_tf32 switch, the run context
// setting it from --precision and --torch_seed / --fix_all_random_seeds, and the float <-> bf16
// functors (kernels/bf16_ops.h) that the CUDA autocast kernels run, checked bit by bit.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cuda/cuda_backend.h"
#include "engine/errors.h"
#include "engine/precision.h"
#include "experiments/hparams/flags.h"
#include "experiments/runners/runner.h"
#include "kernels/bf16_ops.h"

using namespace sdd;

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream is(line);
  std::vector<std::string> out;
  for (std::string w; is >> w;) out.push_back(w);
  return out;
}

// The math mode make_run_context leaves behind for a command line.
MathMode mode_after(const std::string& line) {
  MathModeGuard keep(math_mode());  // restore whatever the test binary had
  exp::ParseOutcome po = exp::parse_command_line(words(line));
  REQUIRE(po.kind == exp::ParseOutcome::Kind::Run);
  std::ostringstream warn;
  exp::make_run_context(po.experiment.global, warn);
  return math_mode();
}

}  // namespace

TEST_CASE("precision names parse, print and reject unknown values", "[precision]") {
  CHECK(parse_precision("fp32") == Precision::fp32);
  CHECK(parse_precision("tf32") == Precision::tf32);
  CHECK(parse_precision("bf16") == Precision::bf16);
  for (Precision p : {Precision::fp32, Precision::tf32, Precision::bf16}) CHECK(parse_precision(precision_name(p)) == p);
  CHECK_THROWS_AS(parse_precision("fp16"), UserError);
  CHECK_THROWS_AS(parse_precision("TF32"), UserError);
  try {
    parse_precision("fp8");
  } catch (const UserError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("--precision") != std::string::npos);
    CHECK(msg.find("fp32, tf32 or bf16") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("math mode: set, get, scoped guard and the derived questions", "[precision]") {
  const MathMode before = math_mode();
  {
    MathModeGuard g({Precision::fp32, true});
    CHECK(math_mode().precision == Precision::fp32);
    CHECK(math_mode().deterministic);
    CHECK_FALSE(conv_uses_tf32());
    CHECK_FALSE(bf16_autocast());
    {
      MathModeGuard inner({Precision::bf16, false});
      CHECK(bf16_autocast());
      CHECK_FALSE(conv_uses_tf32());
      CHECK_FALSE(math_mode().deterministic);
    }
    CHECK(math_mode().precision == Precision::fp32);
    CHECK(math_mode().deterministic);
    set_math_mode({Precision::tf32, false});
    CHECK(conv_uses_tf32());
    CHECK_FALSE(gemm_uses_tf32());  // PyTorch's default: matmuls stay fp32 under tf32
  }
  CHECK(math_mode().precision == before.precision);
  CHECK(math_mode().deterministic == before.deterministic);
}

TEST_CASE("conv_allow_tf32 switch reads and sets the precision, keeping determinism", "[precision]") {
  MathModeGuard g({Precision::tf32, true});
  CHECK(static_cast<bool>(cuda::conv_allow_tf32()));
  cuda::conv_allow_tf32() = false;
  CHECK(math_mode().precision == Precision::fp32);
  CHECK(math_mode().deterministic);
  CHECK_FALSE(static_cast<bool>(cuda::conv_allow_tf32()));
  cuda::conv_allow_tf32() = true;
  CHECK(math_mode().precision == Precision::tf32);
  set_math_mode({Precision::bf16, false});
  CHECK_FALSE(static_cast<bool>(cuda::conv_allow_tf32()));
}

TEST_CASE("run context sets the math mode from --precision and the torch seed", "[precision]") {
  const std::string base = "lottery --default_hparams=mnist_mlp_300_100 --levels=1 --quiet --device=cpu ";
  MathMode m = mode_after(base);
  CHECK(m.precision == Precision::tf32);
  CHECK_FALSE(m.deterministic);  // no torch_seed: cuDNN free to pick (the original's benchmark=False)
  m = mode_after(base + "--precision=fp32");
  CHECK(m.precision == Precision::fp32);
  CHECK_FALSE(m.deterministic);
  m = mode_after(base + "--precision=bf16 --fix_all_random_seeds=7");
  CHECK(m.precision == Precision::bf16);
  CHECK(m.deterministic);  // --fix_all_random_seeds sets torch_seed, which makes cuDNN deterministic
  m = mode_after(base + "--torch_seed=0");
  CHECK(m.deterministic);  // a given seed of 0 still counts as set
}

TEST_CASE("bf16 functors round to nearest even and keep specials", "[precision]") {
  using kern::bf16_to_f32;
  using kern::f32_to_bf16;
  CHECK(f32_to_bf16(1.0f) == 0x3f80);
  CHECK(f32_to_bf16(-2.0f) == 0xc000);
  CHECK(f32_to_bf16(0.0f) == 0x0000);
  CHECK(f32_to_bf16(-0.0f) == 0x8000);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to the even mantissa (1.0).
  CHECK(f32_to_bf16(from_bits(0x3f808000u)) == 0x3f80);
  // 1 + 3*2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6: ties to even (up).
  CHECK(f32_to_bf16(from_bits(0x3f818000u)) == 0x3f82);
  // Just above / below the halfway point round up / down.
  CHECK(f32_to_bf16(from_bits(0x3f808001u)) == 0x3f81);
  CHECK(f32_to_bf16(from_bits(0x3f807fffu)) == 0x3f80);
  // Overflow past the largest bf16 goes to infinity; infinities stay.
  CHECK(f32_to_bf16(std::numeric_limits<float>::max()) == 0x7f80);
  CHECK(f32_to_bf16(std::numeric_limits<float>::infinity()) == 0x7f80);
  CHECK(f32_to_bf16(-std::numeric_limits<float>::infinity()) == 0xff80);
  // NaN (even a signalling one whose payload is all in the low bits) stays NaN.
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(from_bits(0x7f800001u)))));
  // Subnormals round like any other value.
  CHECK(f32_to_bf16(from_bits(0x00008000u)) == 0x0000);
  CHECK(f32_to_bf16(from_bits(0x00018000u)) == 0x0002);
  // bf16 -> f32 is exact: every bf16 value survives the round trip.
  for (uint32_t b = 0; b < 0x10000u; b += 7) {
    const float f = bf16_to_f32(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    CHECK(bits(f) == b << 16);
    CHECK(f32_to_bf16(f) == b);
  }
  // Relative rounding error at most 2^-9 for normal values.
  for (float x : {3.14159265f, -1e-3f, 12345.678f, 1e30f, -7.7e-30f}) {
    const float r = kern::round_to_bf16(x);
    CHECK(std::fabs(r - x) <= std::ldexp(std::fabs(x), -9));
  }
}
