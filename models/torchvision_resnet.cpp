// models/torchvision_resnet.cpp — torchvision-style ResNets (SPEC 3.2 (c), (d), (e)).
#include "models/torchvision_resnet.h"

#include "engine/errors.h"
#include "engine/ops.h"

namespace sdd::models {

BasicBlock::BasicBlock(int64_t inplanes, int64_t planes, int64_t stride,
                       std::shared_ptr<nn::Sequential> downsample)
    : nn::Module("BasicBlock") {
  conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(inplanes, planes, 3, stride, 1, false));
  bn1_ = register_module("bn1", std::make_shared<nn::BatchNorm2d>(planes));
  conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(planes, planes, 3, 1, 1, false));
  bn2_ = register_module("bn2", std::make_shared<nn::BatchNorm2d>(planes));
  if (downsample) downsample_ = register_module("downsample", std::move(downsample));
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor out = ops::relu(bn1_->forward(conv1_->forward(x)));
  out = bn2_->forward(conv2_->forward(out));
  Tensor identity = downsample_ ? downsample_->forward(x) : x;
  return ops::relu(ops::add(out, identity));
}

Bottleneck::Bottleneck(int64_t inplanes, int64_t planes, int64_t stride,
                       std::shared_ptr<nn::Sequential> downsample)
    : nn::Module("Bottleneck") {
  conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(inplanes, planes, 1, 1, 0, false));
  bn1_ = register_module("bn1", std::make_shared<nn::BatchNorm2d>(planes));
  conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(planes, planes, 3, stride, 1, false));
  bn2_ = register_module("bn2", std::make_shared<nn::BatchNorm2d>(planes));
  conv3_ = register_module("conv3", std::make_shared<nn::Conv2d>(planes, planes * kExpansion, 1, 1, 0, false));
  bn3_ = register_module("bn3", std::make_shared<nn::BatchNorm2d>(planes * kExpansion));
  if (downsample) downsample_ = register_module("downsample", std::move(downsample));
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor out = ops::relu(bn1_->forward(conv1_->forward(x)));
  out = ops::relu(bn2_->forward(conv2_->forward(out)));
  out = bn3_->forward(conv3_->forward(out));
  Tensor identity = downsample_ ? downsample_->forward(x) : x;
  return ops::relu(ops::add(out, identity));
}

ResnetPlan torchvision_resnet_plan(int depth) {
  switch (depth) {
    case 18: return {false, {2, 2, 2, 2}};
    case 34: return {false, {3, 4, 6, 3}};
    case 50: return {true, {3, 4, 6, 3}};
    case 101: return {true, {3, 4, 23, 3}};
    case 152: return {true, {3, 8, 36, 3}};
    case 200: return {true, {3, 24, 36, 3}};
  }
  SDD_FAIL("no ResNet plan for depth " << depth);
}

TorchvisionResnet::TorchvisionResnet(int depth, int64_t width, int64_t outputs, bool imagenet_stem)
    : nn::Module("ResNet") {
  const ResnetPlan plan = torchvision_resnet_plan(depth);
  const int64_t expansion = plan.bottleneck ? Bottleneck::kExpansion : BasicBlock::kExpansion;
  if (imagenet_stem) {
    conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(3, width, 7, 2, 3, false));
  } else {
    conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(3, width, 3, 1, 1, false));
  }
  bn1_ = register_module("bn1", std::make_shared<nn::BatchNorm2d>(width));
  register_module("relu", std::make_shared<nn::ReLU>());
  if (imagenet_stem) {
    maxpool_ = register_module("maxpool", std::make_shared<nn::MaxPool2d>(3, 2, 1));
  } else {
    maxpool_ = register_module("maxpool", std::make_shared<nn::Identity>());
  }
  int64_t inplanes = width;
  for (int s = 0; s < 4; ++s) {
    const int64_t planes = width << s;          // W, 2W, 4W, 8W
    const int64_t stride = s == 0 ? 1 : 2;
    auto stage = std::make_shared<nn::Sequential>();
    for (int b = 0; b < plan.blocks[s]; ++b) {
      const int64_t block_stride = b == 0 ? stride : 1;
      std::shared_ptr<nn::Sequential> downsample;
      if (b == 0 && (stride != 1 || inplanes != planes * expansion)) {
        downsample = std::make_shared<nn::Sequential>();
        downsample->push_back(std::make_shared<nn::Conv2d>(inplanes, planes * expansion, 1, stride, 0, false));
        downsample->push_back(std::make_shared<nn::BatchNorm2d>(planes * expansion));
      }
      if (plan.bottleneck) {
        stage->push_back(std::make_shared<Bottleneck>(inplanes, planes, block_stride, downsample));
      } else {
        stage->push_back(std::make_shared<BasicBlock>(inplanes, planes, block_stride, downsample));
      }
      inplanes = planes * expansion;
    }
    stages_.push_back(register_module("layer" + std::to_string(s + 1), stage));
  }
  register_module("avgpool", std::make_shared<nn::AdaptiveAvgPool2d>(1));
  fc_ = register_module("fc", std::make_shared<nn::Linear>(inplanes, outputs));
}

Tensor TorchvisionResnet::forward(const Tensor& x) {
  Tensor h = ops::relu(bn1_->forward(conv1_->forward(x)));   // [N,W,H',W']
  h = maxpool_->forward(h);
  for (auto& stage : stages_) h = stage->forward(h);         // [N,8W*e,h,w]
  h = ops::adaptive_avg_pool2d_1x1(h);                        // [N,8W*e,1,1]
  return fc_->forward(ops::flatten(h));                       // [N,outputs]
}

TorchvisionResnetModel::TorchvisionResnetModel(const ModelName& name, int64_t outputs)
    : Model("TorchvisionResnetModel", name, outputs) {
  const bool imagenet_stem = name.family == ModelFamily::ImagenetResnet;
  net_ = register_module("model", std::make_shared<TorchvisionResnet>(name.depth, name.width, outputs, imagenet_stem));
}

}  // namespace sdd::models
