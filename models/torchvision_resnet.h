// models/torchvision_resnet.h — the torchvision-style ResNets: cifar_pytorch_resnet_D[_W],
// tinyimagenet_resnet_D[_W] (3x3 stride-1 stem, no max-pool) and imagenet_resnet_D[_W] (7x7 stride-2
// stem + 3x3 stride-2 max-pool). SPEC 3.2 (c), (d), (e). v1.5: in Bottleneck the stride sits on the 3x3.
//
//   x[N,3,H,W] -> conv1 -> bn1 -> relu -> maxpool (Identity for CIFAR stems)
//   -> layer1 (W, s1) -> layer2 (2W, s2) -> layer3 (4W, s2) -> layer4 (8W, s2)
//   -> avgpool [N,8W*e,1,1] -> flatten -> fc Linear(8W*e, outputs) [N,outputs]       (e = expansion)
// For 32x32 input with the CIFAR stem: 32 -> 32 -> 16 -> 8 -> 4 -> 1.
// The wrapper keeps the net as child "model": names model.conv1.weight, model.layer2.0.downsample.0.weight,
// model.fc.weight, ... Output layer: model.fc.weight, model.fc.bias.
#pragma once
#include <memory>
#include <vector>

#include "engine/nn/layers.h"
#include "models/model.h"

namespace sdd::models {

// conv3x3(s) -> BN -> ReLU -> conv3x3 -> BN, + shortcut, ReLU. Expansion 1.
class BasicBlock : public nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlock(int64_t inplanes, int64_t planes, int64_t stride, std::shared_ptr<nn::Sequential> downsample);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<nn::Sequential> downsample_;   // null: identity
};

// conv1x1 -> BN -> ReLU -> conv3x3(s) -> BN -> ReLU -> conv1x1 (x4) -> BN, + shortcut, ReLU. Expansion 4.
class Bottleneck : public nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  Bottleneck(int64_t inplanes, int64_t planes, int64_t stride, std::shared_ptr<nn::Sequential> downsample);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<nn::BatchNorm2d> bn1_, bn2_, bn3_;
  std::shared_ptr<nn::Sequential> downsample_;
};

// Block plan for a depth: bottleneck or not, and blocks per stage.
struct ResnetPlan {
  bool bottleneck = false;
  std::vector<int> blocks;   // 4 stages
};
ResnetPlan torchvision_resnet_plan(int depth);

// The torchvision ResNet itself (child "model" of the wrapper).
class TorchvisionResnet : public nn::Module {
 public:
  TorchvisionResnet(int depth, int64_t width, int64_t outputs, bool imagenet_stem);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<nn::Conv2d> conv1_;
  std::shared_ptr<nn::BatchNorm2d> bn1_;
  std::shared_ptr<nn::Module> maxpool_;
  std::vector<std::shared_ptr<nn::Sequential>> stages_;
  std::shared_ptr<nn::Linear> fc_;
};

// The registry model for the three torchvision-style families.
class TorchvisionResnetModel : public Model {
 public:
  TorchvisionResnetModel(const ModelName& name, int64_t outputs);
  Tensor forward(const Tensor& x) override { return net_->forward(x); }
  std::vector<std::string> output_layer_names() const override {
    return {"model.fc.weight", "model.fc.bias"};
  }

 private:
  std::shared_ptr<TorchvisionResnet> net_;
};

}  // namespace sdd::models
