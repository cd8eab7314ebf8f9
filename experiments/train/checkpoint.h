// experiments/train/checkpoint.h — checkpoint.safetensors of a training phase (SPEC 6.5, DESIGN
// rule 10): written atomically at every epoch start after that step's other callbacks; a relaunch
// restores it and resumes at that step (re-running its callbacks).
//
// Contents (one safetensors file, loadable with safetensors.torch.load_file):
//   model.<name>      the model's state dict (parameters and buffers, original names)
//   optimizer.<name>  optimizer state arenas, f32 [total] ("momentum_buffer"; "exp_avg", "exp_avg_sq")
//   mask.<name>       f32 mask of each masked tensor (all ones after a regain)
//   __metadata__      format, ep, it, ipe, optimizer_steps, logger text, rng_seed / rng_offset /
//                     rng_buffered (sdd::global_generator() at the epoch start, before that epoch's data
//                     order was drawn), aug_seed, regain_done, convergence_iteration ("" when none).
// Restoring validates everything before touching the model: a corrupt or mismatched file is a
// one-line UserError telling the user to delete it; nothing is half-restored.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/io/safetensors.h"
#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"
#include "engine/rng.h"

namespace sdd::exp {

// A Generator's exact position (the Philox block counter plus words still buffered from the last block).
struct RngState {
  uint64_t seed = 0;
  uint64_t offset = 0;
  int buffered = 0;
};
RngState capture_rng(const Generator& g);
void restore_rng(Generator& g, const RngState& s);

struct CheckpointState {
  int64_t ep = 0, it = 0, ipe = 1;
  int64_t optimizer_steps = 0;
  std::string logger;                          // MetricLogger::str()
  RngState rng;
  uint64_t aug_seed = 0;
  bool regain_done = false;
  std::optional<int64_t> convergence_iteration;
};

extern const char* const kCheckpointFormat;    // "sparsedd-checkpoint-1"
std::string checkpoint_path(const std::string& dir);   // <dir>/checkpoint.safetensors

void save_checkpoint(const std::string& dir, const nn::Module& model, const optim::Optimizer& opt,
                     const nn::NamedTensors& masks, const CheckpointState& st);

// A checkpoint read and validated against what the phase expects.
struct LoadedCheckpoint {
  CheckpointState state;
  nn::NamedTensors model_state;       // host tensors, model.state_dict() order
  nn::NamedTensors optimizer_state;   // host tensors
  nn::NamedTensors masks;             // host f32, in `mask_names` order
};

// Reads <dir>/checkpoint.safetensors and checks: format, ipe, step, the model state names, shapes and
// dtypes (exactly model.state_dict()), the optimizer state (exactly opt.state_tensors()), the masks
// (exactly mask_names with mask_shapes, values 0/1), no unknown tensors, metadata well-formed.
LoadedCheckpoint read_checkpoint(const std::string& dir, const nn::Module& model, const optim::Optimizer& opt,
                                 const std::vector<std::string>& mask_names, const std::vector<Shape>& mask_shapes,
                                 int64_t ipe);

}  // namespace sdd::exp
