// models/vgg.cpp — the CIFAR VGG family (SPEC 3.2 (b)).
#include "models/vgg.h"

#include "engine/errors.h"
#include "engine/ops.h"

namespace sdd::models {

VggConvBlock::VggConvBlock(int64_t in_channels, int64_t out_channels) : nn::Module("ConvModule") {
  conv_ = register_module("conv", std::make_shared<nn::Conv2d>(in_channels, out_channels, 3, 1, 1, true));
  bn_ = register_module("bn", std::make_shared<nn::BatchNorm2d>(out_channels));
}

Tensor VggConvBlock::forward(const Tensor& x) { return ops::relu(bn_->forward(conv_->forward(x))); }

std::vector<int> vgg_plan(int depth) {
  switch (depth) {
    case 11: return {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512};
    case 13: return {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512};
    case 16: return {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512};
    case 19:
      return {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512};
  }
  SDD_FAIL("no VGG plan for depth " << depth);
}

Vgg::Vgg(const ModelName& name, int64_t outputs) : Model("Vgg", name, outputs) {
  layers_ = register_module("layers", std::make_shared<nn::Sequential>());
  int64_t current = 3;
  for (int spec : vgg_plan(name.depth)) {
    if (spec == 0) {
      layers_->push_back(std::make_shared<nn::MaxPool2d>(2, 2));
    } else {
      layers_->push_back(std::make_shared<VggConvBlock>(current, spec));
      current = spec;
    }
  }
  fc_ = register_module("fc", std::make_shared<nn::Linear>(512, outputs));
}

Tensor Vgg::forward(const Tensor& x) {
  Tensor h = layers_->forward(x);       // [N,512,2,2] for 32x32 input
  h = ops::avg_pool2d(h, 2, 2, 0);      // [N,512,1,1]
  return fc_->forward(ops::flatten(h)); // [N,outputs]
}

}  // namespace sdd::models
