// models/registry.h — building models by name (SPEC 3.1): construct with the dataset's output count,
// apply the weight initializer then the BN initializer to every submodule, freeze subsets (SPEC 2.2),
// and save / load weights as safetensors under the original state-dict names.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/io/safetensors.h"
#include "models/model.h"

namespace sdd::models {

// Constructs the model named `name` with `outputs` classes (outputs <= 0: the family's default) and
// the layers' PyTorch-default initialisation only. Throws UserError for an invalid name.
ModelPtr create_model(const std::string& name, int64_t outputs = 0);

// SPEC 3.1 steps 1-4: validates `init` and `bn_init` (UserError listing the valid names), constructs,
// then applies init(m) and bn_init(m) to every submodule depth-first. Biases keep the default init.
ModelPtr get_model(const std::string& name, int64_t outputs, const std::string& init,
                   const std::string& bn_init);

// SPEC 2.2 freezing: requires_grad = false for BatchNorm2d weight/bias (batchnorm_frozen), the output
// layer (output_frozen), every other parameter except the comma-separated `others_exceptions`
// (others_frozen). Each exception must be a state-dict name (UserError otherwise).
void apply_freezing(Model& m, bool batchnorm_frozen, bool output_frozen, bool others_frozen,
                    const std::string& others_exceptions = "");

// The plain state dict (parameters and buffers, original names, original order).
io::TensorList model_state(const Model& m);

// Writes the state dict as safetensors (atomically).
void save_model(const Model& m, const std::string& path, const io::Metadata& metadata = {});

// Loads a state dict into `m` strictly: every name must match and every shape agree (UserError
// naming the file and the tensor otherwise).
void load_model_state(Model& m, const io::TensorList& state, const std::string& source);
void load_model_weights(Model& m, const std::string& path);

// SPEC 3.1 "Loading a model": a freshly initialised model (consuming RNG) with the file's weights.
ModelPtr load_model(const std::string& path, const std::string& name, int64_t outputs,
                    const std::string& init, const std::string& bn_init);

}  // namespace sdd::models
