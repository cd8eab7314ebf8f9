// engine/precision.cpp — storage and parsing of the process-wide math mode (engine/precision.h).
#include "engine/precision.h"

#include <atomic>

#include "engine/errors.h"

namespace sdd {

namespace {
// Packed so that a read from any thread sees one consistent (precision, deterministic) pair.
std::atomic<int>& packed_mode() {
  static std::atomic<int> m{static_cast<int>(Precision::tf32) << 1};
  return m;
}
}  // namespace

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::fp32;
  if (name == "tf32") return Precision::tf32;
  if (name == "bf16") return Precision::bf16;
  SDD_USER_FAIL("--precision='" << name << "' is not valid: use fp32, tf32 or bf16");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::bf16: return "bf16";
  }
  return "?";
}

MathMode math_mode() {
  const int v = packed_mode().load(std::memory_order_relaxed);
  MathMode m;
  m.precision = static_cast<Precision>(v >> 1);
  m.deterministic = (v & 1) != 0;
  return m;
}

void set_math_mode(const MathMode& m) {
  packed_mode().store((static_cast<int>(m.precision) << 1) | (m.deterministic ? 1 : 0), std::memory_order_relaxed);
}

}  // namespace sdd
