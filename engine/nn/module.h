// engine/nn/module.h — Module: named parameters, buffers and children with PyTorch state-dict
// naming ("layer2.0.downsample.0.weight"), train / eval mode, device moves, and the flat
// parameter / gradient arena (DESIGN rule 6).
//
// Order rules (they fix tensor names and the arena layout, and equal PyTorch's):
//   named_parameters(): own parameters in registration order, then each child's, recursively.
//   state_dict():       per module, own parameters then own buffers, then children recursively.
//   named_modules():    depth-first pre-order, the root first with the name "".
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace sdd::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Single-input forward; composite models override it.
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  const std::string& type_name() const { return type_name_; }

  // ---- registration (returns the registered handle)
  Tensor register_parameter(const std::string& name, Tensor t);   // sets requires_grad
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

  // ---- traversal
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  NamedTensors state_dict() const;
  std::vector<std::pair<std::string, Module*>> named_modules();
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  const NamedTensors& own_parameters() const { return params_; }
  const NamedTensors& own_buffers() const { return buffers_; }
  Tensor parameter(const std::string& dotted_name) const;   // throws when missing
  int64_t num_parameters() const;

  // ---- mode and device
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves every parameter and buffer (and existing grads) to dev in place (the handles stay valid).
  // Parameters leave any flat arena: call flatten_parameters again afterwards.
  void to(Device dev);
  Device device() const;

  // ---- state copy by name (shape-checked; throws UserError naming the tensor on mismatch).
  // strict: missing and unexpected names are an error (listed in the message); otherwise ignored.
  // Values are copied into the existing tensors (any device; dtype converted when it differs).
  void load_state(const NamedTensors& state, bool strict = true);

 protected:
  void add_child(const std::string& name, std::shared_ptr<Module> m);

 private:
  std::string type_name_;
  bool training_ = true;
  NamedTensors params_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// One contiguous buffer each for parameters and gradients (and the matching slot table). After
// flatten_parameters(m), every parameter of m is a view into `params` and its grad a view into
// `grads`, in named_parameters() order; zeroing gradients is one fill, an optimizer step one launch,
// an all-reduce one call.
struct FlatEntry {
  std::string name;
  int64_t offset = 0;   // elements into the arena
  int64_t numel = 0;
  Shape shape;
  bool requires_grad = true;   // false for frozen parameters (skipped by the optimizer)
};

struct FlatParams {
  Tensor params;   // f32 [total]
  Tensor grads;    // f32 [total]
  std::vector<FlatEntry> entries;
  std::vector<Tensor> tensors;   // the parameter handles, parallel to entries
  int64_t total = 0;
  const FlatEntry* find(const std::string& name) const;
  // Contiguous [begin, end) ranges of trainable entries, merged (usually one range). Reads the
  // handles' current requires_grad when present (freezing after flattening counts).
  std::vector<std::pair<int64_t, int64_t>> trainable_ranges() const;
  void zero_grad();
  // A new zero-filled f32 [total] arena on the params' device (momentum, masks, reset values).
  Tensor new_arena(double fill = 0.0) const;
};

// Copies every parameter (f32, all on one device) into one arena in named_parameters() order and
// re-points each parameter's TensorImpl at its slice (existing handles stay valid); each parameter's
// grad becomes a view into a zeroed grads arena. Module::to() afterwards un-flattens (call again).
FlatParams flatten_parameters(Module& m);

}  // namespace sdd::nn
