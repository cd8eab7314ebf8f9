// engine/autograd/autograd.cpp — graph construction and the topological backward pass.
#include "engine/autograd/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "engine/ops.h"
#include "engine/optim/grad_support.h"

namespace sdd::autograd {

namespace {
thread_local bool t_grad_enabled = true;
}

bool grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool on) { t_grad_enabled = on; }

bool tensor_needs_grad(const Tensor& t) {
  return t.defined() && (t.requires_grad() || t.grad_fn() != nullptr);
}

bool needs_graph(const std::vector<Tensor>& inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (tensor_needs_grad(t)) return true;
  return false;
}

void attach(Tensor& out, const char* name, const std::vector<Tensor>& inputs, BackwardFn fn) {
  if (!needs_graph(inputs)) return;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = inputs;
  node->needs.reserve(inputs.size());
  for (const Tensor& t : inputs) node->needs.push_back(tensor_needs_grad(t));
  node->backward = std::move(fn);
  out.impl().grad_fn = std::move(node);
}

namespace {

// Adds g into a leaf's gradient: in place when a buffer exists, otherwise a private copy. Every entry
// may change, so a registered gradient support learns of a write outside it (optim/grad_support.h).
void accumulate_leaf(const Tensor& leaf, const Tensor& g) {
  optim::note_grad_written_outside_support(leaf);
  Tensor existing = leaf.grad();
  if (existing.defined()) {
    SDD_CHECK(existing.numel() == g.numel(), "gradient of " << g.str() << " for leaf " << leaf.str());
    ops::axpy_(existing, 1.0f, g);
  } else {
    leaf.impl().grad = g.clone().impl_ptr();
  }
}

}  // namespace

void backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  SDD_CHECK(root.defined(), "backward() on an undefined tensor");
  SDD_CHECK(tensor_needs_grad(root), "backward() on a tensor that does not require a gradient");
  Tensor g0 = grad;
  if (!g0.defined()) {
    SDD_CHECK(root.numel() == 1, "backward() without a gradient needs a 1-element tensor, got " << root.str());
    g0 = Tensor::ones(root.shape(), DType::f32, root.device());
  }
  SDD_CHECK(g0.numel() == root.numel(), "gradient " << g0.str() << " for " << root.str());
  NoGradGuard no_grad;

  // Topological order of the tensors with history (iterative DFS, post-order).
  std::vector<TensorImpl*> order;
  std::unordered_map<TensorImpl*, Tensor> handle;  // keeps impls alive and gives back a Tensor
  std::unordered_set<TensorImpl*> visited;
  std::vector<std::pair<Tensor, size_t>> stack;
  if (root.grad_fn()) {
    stack.emplace_back(root, 0);
    visited.insert(root.impl_ptr().get());
  }
  while (!stack.empty()) {
    auto& [t, next] = stack.back();
    Node& node = *t.grad_fn();
    if (next < node.inputs.size()) {
      const Tensor& in = node.inputs[next++];
      if (in.defined() && in.grad_fn() && !visited.count(in.impl_ptr().get())) {
        visited.insert(in.impl_ptr().get());
        stack.emplace_back(in, 0);
      }
    } else {
      order.push_back(t.impl_ptr().get());
      handle.emplace(t.impl_ptr().get(), t);
      stack.pop_back();
    }
  }

  std::unordered_map<TensorImpl*, Tensor> grads;
  if (root.grad_fn()) {
    grads[root.impl_ptr().get()] = g0;
  } else {
    accumulate_leaf(root, g0);
    return;
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    auto found = grads.find(*it);
    if (found == grads.end()) continue;
    Tensor gout = found->second;
    grads.erase(found);
    const Tensor& t = handle.at(*it);
    Node& node = *t.grad_fn();
    std::vector<Tensor> gin(node.inputs.size());
    node.backward(gout, node.needs, gin);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (!node.needs[i] || !gin[i].defined()) continue;
      const Tensor& in = node.inputs[i];
      SDD_CHECK(gin[i].numel() == in.numel(),
                node.name << " backward produced " << gin[i].str() << " for input " << i << " " << in.str());
      if (in.grad_fn()) {
        auto& slot = grads[in.impl_ptr().get()];
        slot = slot.defined() ? ops::add(slot, gin[i]) : gin[i];
      } else if (in.requires_grad()) {
        accumulate_leaf(in, gin[i]);
      }
    }
  }
  if (!retain_graph) {
    for (TensorImpl* p : order) p->grad_fn.reset();
  }
}

}  // namespace sdd::autograd
