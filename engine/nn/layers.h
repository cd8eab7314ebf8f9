// engine/nn/layers.h — the standard layers the models are built from: Linear, Conv2d, BatchNorm2d,
// ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Flatten, Identity and Sequential. Parameter and
// buffer names, shapes and default initialisation equal PyTorch's (weights and biases drawn from
// sdd::global_generator()). Forward passes call engine/ops.h only.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/module.h"

namespace sdd::nn {

// y[N,O] = x[N,I] w[O,I]^T + b[O]. Params "weight" [out,in], "bias" [out] (when bias).
// Default init: w, b ~ U(±1/sqrt(in)) (PyTorch kaiming_uniform(a=sqrt(5))).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  // Re-draws weight and bias with PyTorch's default init.
  void reset_parameters();
  int64_t in_features, out_features;
  Tensor weight;   // [out, in]
  Tensor bias;     // [out] or undefined
};

// y[N,K,P,Q] = conv(x[N,C,H,W], w[K,C,k,k]) + b[K]. Params "weight" [out,in,k,k], "bias" [out].
// Default init: w, b ~ U(±1/sqrt(in*k*k)).
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride = 1,
         int64_t padding = 0, bool bias = true);
  Tensor forward(const Tensor& x) override;
  void reset_parameters();
  int64_t in_channels, out_channels, kernel_size, stride, padding;
  Tensor weight;   // [out, in, k, k]
  Tensor bias;     // [out] or undefined
};

// BatchNorm over channel C of x[N,C,H,W] (or [N,C]). Params "weight" [C] (1), "bias" [C] (0);
// buffers "running_mean" [C] (0), "running_var" [C] (1), "num_batches_tracked" i64 [] (0),
// incremented by each training-mode forward. momentum 0.1, eps 1e-5.
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1);
  Tensor forward(const Tensor& x) override;
  int64_t num_features;
  double eps, momentum;
  Tensor weight, bias;                 // [C]
  Tensor running_mean, running_var;    // [C]
  Tensor num_batches_tracked;          // i64, shape {} (numel 1)
};

class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& x) override;
};

class MaxPool2d : public Module {
 public:
  // stride < 0 means stride = kernel (PyTorch's default stride=None).
  explicit MaxPool2d(int64_t kernel_size, int64_t stride = -1, int64_t padding = 0);
  Tensor forward(const Tensor& x) override;
  int64_t kernel_size, stride, padding;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel_size, int64_t stride = -1, int64_t padding = 0);
  Tensor forward(const Tensor& x) override;
  int64_t kernel_size, stride, padding;
};

// Only output size 1 is supported: [N,C,H,W] -> [N,C,1,1].
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(int64_t output_size = 1);
  Tensor forward(const Tensor& x) override;
};

// [N, ...] -> [N, prod(...)]
class Flatten : public Module {
 public:
  Flatten() : Module("Flatten") {}
  Tensor forward(const Tensor& x) override;
};

class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
};

// Children named "0", "1", ... in order; forward chains them.
class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  explicit Sequential(std::vector<std::shared_ptr<Module>> mods);
  // Appends m as child str(size()) and returns it.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    add_child(std::to_string(size()), m);
    return m;
  }
  Tensor forward(const Tensor& x) override;
  size_t size() const { return children().size(); }
  Module& operator[](size_t i) const { return *children().at(i).second; }
  std::shared_ptr<Module> at(size_t i) const { return children().at(i).second; }
};

}  // namespace sdd::nn
