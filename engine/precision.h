// engine/precision.h — the process-wide math mode of the GPU backend: which precision convolutions
// and matrix products run in, and whether cuDNN may only pick deterministic algorithms. Set once per
// run from the run context (--precision, and --torch_seed / --fix_all_random_seeds for determinism,
// as the original sets torch.backends.cudnn.deterministic exactly when torch_seed is given); read by
// engine/cuda/conv_cuda.cpp and engine/cuda/gemm_cuda.cpp. Both builds have it; the CPU backend
// ignores it (it always computes in fp32 and is deterministic).
//
//   fp32  no TF32 anywhere: cuDNN FMA math only, cuBLAS default (fp32) math
//   tf32  (default) TF32 tensor cores for convolutions, like PyTorch's cudnn.allow_tf32 = True;
//         GEMMs stay fp32, like PyTorch's default matmul allow_tf32 = False
//   bf16  autocast: convolution and GEMM operands rounded to bf16 (kernels/bf16_ops.h), fp32
//         accumulation, fp32 outputs, in the forward and the backward passes; master weights,
//         gradients, optimizer state, batch norm and losses stay fp32
#pragma once
#include <string>

namespace sdd {

enum class Precision { fp32, tf32, bf16 };

struct MathMode {
  Precision precision = Precision::tf32;
  bool deterministic = false;  // cuDNN: deterministic algorithms only
};

// "fp32" | "tf32" | "bf16" -> Precision; anything else is a UserError naming the choices.
Precision parse_precision(const std::string& name);
const char* precision_name(Precision p);

// The current process-wide mode (default: tf32, not deterministic).
MathMode math_mode();
void set_math_mode(const MathMode& m);

// Derived questions the backends ask.
inline bool conv_uses_tf32() { return math_mode().precision == Precision::tf32; }
inline bool gemm_uses_tf32() { return false; }  // PyTorch's default: fp32 matmuls under tf32
inline bool bf16_autocast() { return math_mode().precision == Precision::bf16; }

// Sets a mode for a scope and restores the previous one (tests, benches).
class MathModeGuard {
 public:
  explicit MathModeGuard(const MathMode& m) : saved_(math_mode()) { set_math_mode(m); }
  ~MathModeGuard() { set_math_mode(saved_); }
  MathModeGuard(const MathModeGuard&) = delete;
  MathModeGuard& operator=(const MathModeGuard&) = delete;

 private:
  MathMode saved_;
};

}  // namespace sdd
