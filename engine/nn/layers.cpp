// engine/nn/layers.cpp — the standard layers: construction with PyTorch's default initialisation,
// and forward passes through engine/ops.h.
#include "engine/nn/layers.h"

#include <cmath>

#include "engine/nn/init.h"
#include "engine/ops.h"

namespace sdd::nn {

namespace {
// PyTorch reset_parameters for Linear / Conv2d: kaiming_uniform(a=sqrt(5)) on the weight, which is
// U(±1/sqrt(fan_in)), and U(±1/sqrt(fan_in)) on the bias. Weight drawn first, then bias.
void default_init(const Tensor& w, const Tensor& b) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(init::fan_in(w)));
  init::uniform_(w, -bound, bound);
  if (b.defined()) init::uniform_(b, -bound, bound);
}

int64_t default_stride(int64_t kernel, int64_t stride) { return stride < 0 ? kernel : stride; }
}  // namespace

// ---------------------------------------------------------------- Linear

Linear::Linear(int64_t in, int64_t out, bool has_bias) : Module("Linear"), in_features(in), out_features(out) {
  SDD_CHECK(in > 0 && out > 0, "Linear(" << in << ", " << out << ")");
  weight = register_parameter("weight", Tensor::empty({out, in}));
  if (has_bias) bias = register_parameter("bias", Tensor::empty({out}));
  reset_parameters();
}

void Linear::reset_parameters() { default_init(weight, bias); }

Tensor Linear::forward(const Tensor& x) { return ops::linear(x, weight, bias); }

// ---------------------------------------------------------------- Conv2d

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, bool has_bias)
    : Module("Conv2d"), in_channels(in), out_channels(out), kernel_size(k), stride(s), padding(p) {
  SDD_CHECK(in > 0 && out > 0 && k > 0 && s > 0 && p >= 0,
            "Conv2d(" << in << ", " << out << ", k=" << k << ", s=" << s << ", p=" << p << ")");
  weight = register_parameter("weight", Tensor::empty({out, in, k, k}));
  if (has_bias) bias = register_parameter("bias", Tensor::empty({out}));
  reset_parameters();
}

void Conv2d::reset_parameters() { default_init(weight, bias); }

Tensor Conv2d::forward(const Tensor& x) { return ops::conv2d(x, weight, bias, stride, padding); }

// ---------------------------------------------------------------- BatchNorm2d

BatchNorm2d::BatchNorm2d(int64_t c, double eps_, double momentum_)
    : Module("BatchNorm2d"), num_features(c), eps(eps_), momentum(momentum_) {
  SDD_CHECK(c > 0, "BatchNorm2d(" << c << ")");
  weight = register_parameter("weight", Tensor::ones({c}));
  bias = register_parameter("bias", Tensor::zeros({c}));
  running_mean = register_buffer("running_mean", Tensor::zeros({c}));
  running_var = register_buffer("running_var", Tensor::ones({c}));
  num_batches_tracked = register_buffer("num_batches_tracked", Tensor::zeros({}, DType::i64));
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  const bool training = is_training();
  Tensor y = ops::batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps);
  if (training) {
    if (num_batches_tracked.device().is_cpu()) {
      ++*num_batches_tracked.data<int64_t>();
    } else {
      num_batches_tracked.fill_(num_batches_tracked.item() + 1.0);   // a 1-element round trip
    }
  }
  return y;
}

// ---------------------------------------------------------------- stateless layers

Tensor ReLU::forward(const Tensor& x) { return ops::relu(x); }

MaxPool2d::MaxPool2d(int64_t k, int64_t s, int64_t p)
    : Module("MaxPool2d"), kernel_size(k), stride(default_stride(k, s)), padding(p) {
  SDD_CHECK(k > 0 && stride > 0 && p >= 0 && 2 * p <= k, "MaxPool2d(" << k << ", " << s << ", " << p << ")");
}

Tensor MaxPool2d::forward(const Tensor& x) { return ops::max_pool2d(x, kernel_size, stride, padding); }

AvgPool2d::AvgPool2d(int64_t k, int64_t s, int64_t p)
    : Module("AvgPool2d"), kernel_size(k), stride(default_stride(k, s)), padding(p) {
  SDD_CHECK(k > 0 && stride > 0 && p >= 0 && 2 * p <= k, "AvgPool2d(" << k << ", " << s << ", " << p << ")");
}

Tensor AvgPool2d::forward(const Tensor& x) { return ops::avg_pool2d(x, kernel_size, stride, padding); }

AdaptiveAvgPool2d::AdaptiveAvgPool2d(int64_t output_size) : Module("AdaptiveAvgPool2d") {
  SDD_CHECK(output_size == 1, "AdaptiveAvgPool2d supports output size 1 only, got " << output_size);
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return ops::adaptive_avg_pool2d_1x1(x); }

Tensor Flatten::forward(const Tensor& x) { return ops::flatten(x); }

// ---------------------------------------------------------------- Sequential

Sequential::Sequential(std::vector<std::shared_ptr<Module>> mods) : Module("Sequential") {
  for (auto& m : mods) push_back(std::move(m));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& c : children()) h = c.second->forward(h);
  return h;
}

}  // namespace sdd::nn
