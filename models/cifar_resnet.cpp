// models/cifar_resnet.cpp — OpenLTH's CIFAR ResNet family (SPEC 3.4).
#include "models/cifar_resnet.h"

#include "engine/ops.h"

namespace sdd::models {

CifarResnetBlock::CifarResnetBlock(int64_t f_in, int64_t f_out, bool downsample) : nn::Module("Block") {
  const int64_t stride = downsample ? 2 : 1;
  conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(f_in, f_out, 3, stride, 1, false));
  bn1_ = register_module("bn1", std::make_shared<nn::BatchNorm2d>(f_out));
  conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(f_out, f_out, 3, 1, 1, false));
  bn2_ = register_module("bn2", std::make_shared<nn::BatchNorm2d>(f_out));
  shortcut_ = register_module("shortcut", std::make_shared<nn::Sequential>());
  if (downsample || f_in != f_out) {
    // The original uses stride 2 here even when only the widths differ.
    shortcut_->push_back(std::make_shared<nn::Conv2d>(f_in, f_out, 1, 2, 0, false));
    shortcut_->push_back(std::make_shared<nn::BatchNorm2d>(f_out));
  }
}

Tensor CifarResnetBlock::forward(const Tensor& x) {
  Tensor out = ops::relu(bn1_->forward(conv1_->forward(x)));
  out = bn2_->forward(conv2_->forward(out));
  Tensor sc = shortcut_->size() == 0 ? x : shortcut_->forward(x);
  return ops::relu(ops::add(out, sc));
}

CifarResnet::CifarResnet(const ModelName& name, int64_t outputs) : Model("CifarResnet", name, outputs) {
  const int64_t w = name.width;
  const int per_segment = (name.depth - 2) / 6;
  conv_ = register_module("conv", std::make_shared<nn::Conv2d>(3, w, 3, 1, 1, false));
  bn_ = register_module("bn", std::make_shared<nn::BatchNorm2d>(w));
  blocks_ = register_module("blocks", std::make_shared<nn::Sequential>());
  int64_t current = w;
  for (int segment = 0; segment < 3; ++segment) {
    const int64_t filters = w << segment;
    for (int b = 0; b < per_segment; ++b) {
      const bool downsample = segment > 0 && b == 0;
      blocks_->push_back(std::make_shared<CifarResnetBlock>(current, filters, downsample));
      current = filters;
    }
  }
  fc_ = register_module("fc", std::make_shared<nn::Linear>(current, outputs));
}

Tensor CifarResnet::forward(const Tensor& x) {
  Tensor h = ops::relu(bn_->forward(conv_->forward(x)));   // [N,W,32,32]
  h = blocks_->forward(h);                                  // [N,4W,8,8]
  h = ops::avg_pool2d(h, h.size(3), h.size(3), 0);          // [N,4W,1,1]
  return fc_->forward(ops::flatten(h));                     // [N,outputs]
}

}  // namespace sdd::models
