// engine/nn/init.h — weight initializers (SPEC 3.1). Weight initializers act on Conv2d / Linear
// `weight` tensors only (biases keep PyTorch's default init); BN initializers act on BatchNorm2d
// weight γ and bias β. Every draw uses sdd::global_generator() unless a generator is given.
#pragma once
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "engine/rng.h"

namespace sdd::nn::init {

// fan_in of a weight [out, in, ...]: in * prod(kernel dims).
int64_t fan_in(const Tensor& w);

// Tensor-level initializers (any device; drawn on the host in double, written as f32).
void uniform_(const Tensor& w, double lo, double hi, Generator& g = global_generator());
void normal_(const Tensor& w, double mean, double std, Generator& g = global_generator());
void kaiming_normal_(const Tensor& w, Generator& g = global_generator());    // N(0, sqrt(2/fan_in))
void kaiming_uniform_(const Tensor& w, Generator& g = global_generator());   // U(±sqrt(6/fan_in))
// PyTorch orthogonal_: QR of a normal [rows, cols] matrix (rows = shape[0], cols = numel/rows),
// Q sign-corrected by sign(diag(R)), transposed when rows < cols. gain 1.
void orthogonal_(const Tensor& w, Generator& g = global_generator());
// kaiming_normal_, then w <- sign(w) * std(w) (unbiased std, as torch.std).
void binary_(const Tensor& w, Generator& g = global_generator());

// Module-level: one named initializer applied to one module (no-op for other module types).
//   weight initializers: "kaiming_normal", "kaiming_uniform", "orthogonal", "binary" (Conv2d, Linear)
//   BN initializers:     "uniform", "fixed", "oneone", "positivenegative" (BatchNorm2d)
void apply_weight_init(Module& m, const std::string& name);
void apply_bn_init(Module& m, const std::string& bn_name);

const std::vector<std::string>& weight_initializer_names();
const std::vector<std::string>& bn_initializer_names();

// SPEC 3.1 step 4: for every submodule in named_modules() order (depth-first, root first), apply
// the weight initializer then the BN initializer. Unknown names throw UserError listing valid ones
// (checked before anything is drawn).
void apply_initializers(Module& root, const std::string& name, const std::string& bn_name);

}  // namespace sdd::nn::init
