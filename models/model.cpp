// models/model.cpp — Model base: prunable tensor lists (SPEC 3.1).
#include "models/model.h"

#include "engine/nn/layers.h"

namespace sdd::models {

const char* prunable_type_name(PrunableType t) { return t == PrunableType::BN ? "BN" : "default"; }

PrunableType prunable_type_for_strategy(const std::string& strategy) {
  return strategy == "network_slimming" ? PrunableType::BN : PrunableType::Default;
}

std::vector<std::string> Model::prunable_layer_names(PrunableType type) {
  std::vector<std::string> out;
  for (const auto& [prefix, mod] : named_modules()) {
    const std::string dot = prefix.empty() ? "" : prefix + ".";
    if (type == PrunableType::Default) {
      if (dynamic_cast<nn::Conv2d*>(mod) != nullptr || dynamic_cast<nn::Linear*>(mod) != nullptr)
        out.push_back(dot + "weight");
    } else if (dynamic_cast<nn::BatchNorm2d*>(mod) != nullptr) {
      out.push_back(dot + "weight");
      out.push_back(dot + "bias");
    }
  }
  return out;
}

int64_t Model::num_prunable(PrunableType type) {
  int64_t n = 0;
  for (const auto& name : prunable_layer_names(type)) n += parameter(name).numel();
  return n;
}

}  // namespace sdd::models
