// experiments/train/phase_masking.h — a pruning mask laid out over the flat parameter arena
// (SPEC 7.3-7.4, DESIGN rule 6): mask f32 [total] (1 at every position that is not pruned, so
// parameters without a mask entry are free) and, for freeze types init / final / permuted, the reset
// arena V f32 [total] that pruned positions hold instead of 0.
#pragma once
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "pruning/mask.h"

namespace sdd::exp {

struct ArenaMask {
  std::vector<std::string> names;   // masked tensors, in the Mask's order
  std::vector<Shape> shapes;
  std::vector<int64_t> offsets;     // element offsets into the arena
  Tensor mask;    // f32 [total] on the arena's device; undefined for a dense phase
  Tensor reset;   // f32 [total] V values; undefined for freeze type zero

  bool defined() const { return mask.defined(); }
  // Per-name views into `mask` (shared storage), for checkpoints.
  nn::NamedTensors views() const;
};

// Validates that every mask name is a parameter of identical shape (UserError otherwise), the freeze
// type (zero | init | final | permuted) and, for non-zero types, that freeze_reference holds each
// masked tensor with the same shape.
ArenaMask build_arena_mask(const pruning::Mask& mask, const std::string& freeze_type,
                           const nn::NamedTensors& freeze_reference, const nn::FlatParams& fp);

// params <- params * mask + reset * (1 - mask) (reset 0 when undefined); no-op for a dense phase.
void apply_arena_mask(const nn::FlatParams& fp, const ArenaMask& m);

}  // namespace sdd::exp
