// models/mlp.cpp — the MNIST MLP (SPEC 3.2 (a)).
#include "models/mlp.h"

#include "engine/ops.h"

namespace sdd::models {

Mlp::Mlp(const ModelName& name, int64_t outputs) : Model("Mlp", name, outputs) {
  // fc_layers is a ModuleList in the original: children "0", "1", ... without a forward of its own.
  auto list = register_module("fc_layers", std::make_shared<nn::Sequential>());
  int64_t current = 28 * 28;
  for (int size : name.hidden) {
    hidden_.push_back(list->push_back(std::make_shared<nn::Linear>(current, size)));
    current = size;
  }
  fc_ = register_module("fc", std::make_shared<nn::Linear>(current, outputs));
}

Tensor Mlp::forward(const Tensor& x) {
  Tensor h = ops::flatten(x);   // [N, 784]
  for (auto& layer : hidden_) h = ops::relu(layer->forward(h));
  return fc_->forward(h);       // [N, outputs]
}

}  // namespace sdd::models
