// models/vgg.h — cifar_vgg_{11,13,16,19} (SPEC 3.2 (b)).
//   x[N,3,32,32] -> layers (blocks "conv3x3(bias) -> BN -> ReLU" and 2x2 max-pools) [N,512,2,2]
//   -> AvgPool2d(2) [N,512,1,1] -> flatten [N,512] -> fc Linear(512, outputs) [N,outputs]
// Tensor names: layers.<idx>.conv.weight/bias, layers.<idx>.bn.*, fc.weight/bias, where idx counts
// Sequential positions including the pools. Output layer: fc.*.
#pragma once
#include <memory>
#include <vector>

#include "engine/nn/layers.h"
#include "models/model.h"

namespace sdd::models {

// One VGG block: relu(bn(conv(x))), children "conv" and "bn".
class VggConvBlock : public nn::Module {
 public:
  VggConvBlock(int64_t in_channels, int64_t out_channels);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<nn::Conv2d> conv_;
  std::shared_ptr<nn::BatchNorm2d> bn_;
};

// The VGG plan for a depth: channel counts, 0 meaning a 2x2 max-pool.
std::vector<int> vgg_plan(int depth);

class Vgg : public Model {
 public:
  Vgg(const ModelName& name, int64_t outputs);
  Tensor forward(const Tensor& x) override;
  std::vector<std::string> output_layer_names() const override { return {"fc.weight", "fc.bias"}; }

 private:
  std::shared_ptr<nn::Sequential> layers_;
  std::shared_ptr<nn::Linear> fc_;
};

}  // namespace sdd::models
