// engine/ops/linalg.cpp — dispatch of matmul and linear (GEMM + row bias) with their gradients:
//   matmul  c = a @ b:          ga = gc @ b^T,  gb = a^T @ gc
//   linear  y = x @ w^T + b:    gx = gy @ w,    gw = gy^T @ x,   gb = sum_rows(gy)
// (CPU: a weight with at most 25% nonzeros gives y from its nonzeros only, and gw is computed only on
// the gradient support a momentum-free masked SGD registers, engine/optim/grad_support.h)
// Performance: when a weight is a leaf whose gradient buffer exists (a view into the flat gradient
// arena), its gradient GEMM accumulates straight into that buffer (beta = 1) instead of producing a
// temporary that autograd then adds in: the same sum, without a [O,I] allocation and an extra pass.
#include "engine/ops.h"
#include "engine/cpu/sparse_linear_cpu.h"
#include "engine/ops/dispatch.h"
#include "engine/optim/grad_support.h"
#include "engine/ops/op_checks.h"

namespace sdd::ops {

using detail::check_dim;
using detail::check_f32;
using detail::check_same_device;

namespace {
// c = op(a) @ op(b), a fresh [M, N] tensor
Tensor gemm_new(bool ta, bool tb, const Tensor& a, const Tensor& b) {
  const int64_t M = ta ? a.size(1) : a.size(0);
  const int64_t N = tb ? b.size(0) : b.size(1);
  Tensor c = Tensor::empty({M, N}, DType::f32, a.device());
  SDD_DISPATCH(a.device(), gemm, ta, tb, 1.f, a, b, 0.f, c);
  return c;
}

// The gradient buffer of a leaf parameter p, shaped like p, when its gradient can be accumulated
// into it in place (what autograd's leaf accumulation would do), otherwise undefined.
Tensor leaf_grad_buffer(const Tensor& p) {
  if (!p.defined() || !p.is_leaf() || !p.requires_grad()) return Tensor();
  Tensor g = p.grad();
  if (!g.defined() || g.dtype() != DType::f32 || g.device() != p.device() || g.numel() != p.numel()) return Tensor();
  return g.view(p.shape());
}
}  // namespace

// a[M,K] @ b[K,N] -> [M,N]
Tensor matmul(const Tensor& a, const Tensor& b) {
  check_f32("matmul", a, "a");
  check_f32("matmul", b, "b");
  check_dim("matmul", a, 2, "a");
  check_dim("matmul", b, 2, "b");
  check_same_device("matmul", {a, b});
  SDD_CHECK(a.size(1) == b.size(0), "matmul: inner sizes differ: " << a.str() << " @ " << b.str());
  Tensor out = gemm_new(false, false, a, b);
  if (autograd::needs_graph({a, b})) {
    const Tensor ad = autograd::tensor_needs_grad(b) ? a.detach() : Tensor();
    const Tensor bd = autograd::tensor_needs_grad(a) ? b.detach() : Tensor();
    autograd::attach(out, "matmul", {a, b},
                     [ad, bd](const Tensor& gy, const std::vector<bool>& needs, std::vector<Tensor>& g) {
                       if (needs[0]) g[0] = gemm_new(false, true, gy, bd);  // [M,N] @ [K,N]^T
                       if (needs[1]) g[1] = gemm_new(true, false, ad, gy);  // [M,K]^T @ [M,N]
                     });
  }
  return out;
}

// x[N,I], w[O,I], b[O] or undefined -> [N,O]
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  check_f32("linear", x, "x");
  check_f32("linear", w, "weight");
  check_dim("linear", x, 2, "x");
  check_dim("linear", w, 2, "weight");
  check_same_device("linear", {x, w, b});
  SDD_CHECK(x.size(1) == w.size(1), "linear: input features differ: x " << x.str() << ", weight " << w.str());
  if (b.defined()) {
    check_f32("linear", b, "bias");
    SDD_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "linear: bias " << b.str() << " for weight " << w.str());
  }
  // [N,I] @ [O,I]^T. A mostly-zero (pruned) weight on the CPU takes the sparse kernel: the same
  // product from the nonzero weights only (engine/cpu/sparse_linear_cpu.h).
  // The sparse kernel adds the bias as it writes out (the same values as adding it afterwards).
  Tensor out;
  bool bias_added = false;
  if (x.device().is_cpu()) {
    out = Tensor::empty({x.size(0), w.size(0)}, DType::f32, x.device());
    bias_added = cpu::sparse_linear_forward(x, w, out, b);
    if (!bias_added) SDD_DISPATCH(x.device(), gemm, false, true, 1.f, x, w, 0.f, out);
  } else {
    out = gemm_new(false, true, x, w);
  }
  if (b.defined() && !bias_added && out.numel() > 0) SDD_DISPATCH(x.device(), add_row_bias, out, b);
  if (autograd::needs_graph({x, w, b})) {
    const Tensor xd = autograd::tensor_needs_grad(w) ? x.detach() : Tensor();
    const Tensor wd = autograd::tensor_needs_grad(x) ? w.detach() : Tensor();
    const bool has_bias = b.defined();
    // w itself is held by the node's inputs already; the closure needs it to find w's grad buffer.
    const Tensor wleaf = w.is_leaf() ? w : Tensor();
    autograd::attach(out, "linear", {x, w, b},
                     [xd, wd, wleaf, has_bias](const Tensor& gy, const std::vector<bool>& needs, std::vector<Tensor>& g) {
                       const Tensor acc = needs[1] ? leaf_grad_buffer(wleaf) : Tensor();
                       // On the CPU, a mostly-zero weight's input gradient, and its weight gradient
                       // where the optimizer reads only a small part of it (engine/optim/grad_support.h),
                       // come from the nonzero entries (engine/cpu/sparse_linear_cpu.h); the rest dense.
                       cpu::SparseBackward sparse;
                       if (gy.device().is_cpu()) {
                         int64_t support_nnz = -1, registration = 0;
                         const Tensor support =
                             acc.defined() ? optim::grad_support(wleaf, &support_nnz, &registration) : Tensor();
                         sparse = cpu::sparse_linear_backward(gy, needs[0] ? wd : Tensor(), xd, support,
                                                              support.defined() ? acc : Tensor(), false, support_nnz,
                                                              registration);
                         if (sparse.gx.defined()) g[0] = sparse.gx;
                       }
                       if (needs[0] && !sparse.gx.defined()) g[0] = gemm_new(false, false, gy, wd);  // [N,O] @ [O,I]
                       if (needs[1] && !sparse.weight) {
                         if (acc.defined()) {
                           SDD_DISPATCH(gy.device(), gemm, true, false, 1.f, gy, xd, 1.f, acc);   // w.grad += gy^T @ x
                           optim::note_grad_written_outside_support(wleaf);   // every entry, not the support's only
                         } else {
                           g[1] = gemm_new(true, false, gy, xd);  // [N,O]^T @ [N,I]
                         }
                       }
                       if (has_bias && needs[2]) {
                         Tensor gb = Tensor::empty({gy.size(1)}, DType::f32, gy.device());
                         SDD_DISPATCH(gy.device(), sum_rows, gy, gb);
                         g[2] = gb;
                       }
                     });
  }
  return out;
}

}  // namespace sdd::ops
