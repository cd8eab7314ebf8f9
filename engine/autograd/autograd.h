// engine/autograd/autograd.h — reverse-mode autograd (DESIGN rule 5).
//
// A differentiable op attaches a Node to its result: the input tensors and an inline backward
// closure. backward() sorts the graph topologically, walks it in reverse, calls each closure once
// with the summed gradient of its output, accumulates leaf gradients into Tensor::grad (in place when
// a gradient buffer exists, e.g. a view into the gradient arena), and frees the graph unless
// retain_graph is set.
//
// Closures must not capture their own output tensor (that would be a reference cycle): capture
// out.detach() instead, which shares the storage but not the history.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace sdd::autograd {

// grads[i] receives the gradient for inputs[i]; leave it undefined when needs[i] is false.
using BackwardFn =
    std::function<void(const Tensor& grad_out, const std::vector<bool>& needs, std::vector<Tensor>& grads)>;

struct Node {
  std::string name;             // op name, for error messages
  std::vector<Tensor> inputs;   // the op's differentiable inputs
  std::vector<bool> needs;      // needs[i]: inputs[i] requires a gradient
  BackwardFn backward;
};

// Whether gradient recording is on for this thread (NoGradGuard turns it off).
bool grad_enabled();
void set_grad_enabled(bool on);

class NoGradGuard {
 public:
  NoGradGuard() : prev_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// True when recording is on and some input requires a gradient (directly or through history).
bool needs_graph(const std::vector<Tensor>& inputs);
bool tensor_needs_grad(const Tensor& t);

// Attaches a Node to `out` (no-op when needs_graph(inputs) is false).
void attach(Tensor& out, const char* name, const std::vector<Tensor>& inputs, BackwardFn fn);

void backward(const Tensor& root, const Tensor& grad, bool retain_graph);

}  // namespace sdd::autograd

namespace sdd {
using autograd::NoGradGuard;
}
