// models/model.h — the base of every model in the registry: an nn::Module that knows its parsed name,
// its output count, which tensors are prunable and which form the output layer (SPEC 3.1).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "models/names.h"

namespace sdd::models {

// Which tensors pruning acts on (SPEC 3.1 "Prunable tensors").
enum class PrunableType {
  Default,   // every Conv2d / Linear .weight, in module-registration order
  BN,        // every BatchNorm2d .weight and .bias (network slimming)
};

// "default" or "BN".
const char* prunable_type_name(PrunableType t);
// The prunable type for a pruning strategy: BN for "network_slimming", Default otherwise.
PrunableType prunable_type_for_strategy(const std::string& strategy);

class Model : public nn::Module {
 public:
  Model(std::string type_name, ModelName name, int64_t outputs)
      : nn::Module(std::move(type_name)), name_(std::move(name)), outputs_(outputs) {}

  const ModelName& model_name() const { return name_; }
  const std::string& name() const { return name_.name; }
  int64_t outputs() const { return outputs_; }

  // State-dict names of the output layer (e.g. {"fc.weight", "fc.bias"}).
  virtual std::vector<std::string> output_layer_names() const = 0;

  // Names of the prunable tensors of `type`, in named_modules() order (= registration order).
  std::vector<std::string> prunable_layer_names(PrunableType type = PrunableType::Default);

  // Number of elements in the prunable tensors of `type`.
  int64_t num_prunable(PrunableType type = PrunableType::Default);

 private:
  ModelName name_;
  int64_t outputs_;
};

using ModelPtr = std::shared_ptr<Model>;

}  // namespace sdd::models
