// models/mlp.h — mnist_mlp_N1[_N2...] (OpenLTH mnist_lenet_*), SPEC 3.2 (a).
//   x[N,1,28,28] -> flatten [N,784] -> Linear(784,N1) -> ReLU -> ... -> Linear(Nk, outputs) [N,outputs]
// Tensor names: fc_layers.<i>.weight/bias, fc.weight, fc.bias. Output layer: fc.*.
#pragma once
#include <memory>
#include <vector>

#include "engine/nn/layers.h"
#include "models/model.h"

namespace sdd::models {

class Mlp : public Model {
 public:
  Mlp(const ModelName& name, int64_t outputs);
  Tensor forward(const Tensor& x) override;
  std::vector<std::string> output_layer_names() const override { return {"fc.weight", "fc.bias"}; }

 private:
  std::vector<std::shared_ptr<nn::Linear>> hidden_;
  std::shared_ptr<nn::Linear> fc_;
};

}  // namespace sdd::models
