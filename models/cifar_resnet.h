// models/cifar_resnet.h — OpenLTH's cifar_resnet_D[_W] (the ResNet-20 family), SPEC 3.4.
//   x[N,3,32,32] -> conv 3x3 (W) -> bn -> relu [N,W,32,32]
//   -> blocks: 3 segments of (D-2)/6 blocks, widths W, 2W, 4W (stride 2 entering segments 2, 3)
//   -> avg pool over the whole map [N,4W,1,1] -> flatten -> fc Linear(4W, outputs) [N,outputs]
// Tensor names: conv.weight, bn.*, blocks.<i>.conv1/bn1/conv2/bn2, blocks.<i>.shortcut.0/1, fc.*.
#pragma once
#include <memory>

#include "engine/nn/layers.h"
#include "models/model.h"

namespace sdd::models {

// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); the projection shortcut (conv1x1 stride 2,
// no bias, then BN) exists when downsampling or when the widths differ; otherwise "shortcut" is an
// empty Sequential (identity, no tensors).
class CifarResnetBlock : public nn::Module {
 public:
  CifarResnetBlock(int64_t f_in, int64_t f_out, bool downsample);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<nn::Sequential> shortcut_;
};

class CifarResnet : public Model {
 public:
  CifarResnet(const ModelName& name, int64_t outputs);
  Tensor forward(const Tensor& x) override;
  std::vector<std::string> output_layer_names() const override { return {"fc.weight", "fc.bias"}; }

 private:
  std::shared_ptr<nn::Conv2d> conv_;
  std::shared_ptr<nn::BatchNorm2d> bn_;
  std::shared_ptr<nn::Sequential> blocks_;
  std::shared_ptr<nn::Linear> fc_;
};

}  // namespace sdd::models
