// engine/ops/elementwise.cpp — dispatch of the elementwise ops (add, sub, mul, scalars, relu, sum,
// mean) with their autograd closures, and the in-place helpers axpy_ / scale_ (never recorded).
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/op_checks.h"

namespace sdd::ops {

using detail::check_f32;
using detail::check_same_device;
using detail::check_same_shape;

namespace {
Tensor binary_op(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  check_f32(name, a, "a");
  check_f32(name, b, "b");
  check_same_device(name, {a, b});
  check_same_shape(name, a, b);
  Tensor out = Tensor::empty(a.shape(), DType::f32, a.device());
  if (out.numel() > 0) SDD_DISPATCH(a.device(), binary, op, a, b, out);
  return out;
}
}  // namespace

// out = a + b
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_op("add", BinaryOp::add, a, b);
  autograd::attach(out, "add", {a, b}, [](const Tensor& gy, const std::vector<bool>& needs, std::vector<Tensor>& g) {
    if (needs[0]) g[0] = gy;
    if (needs[1]) g[1] = gy;
  });
  return out;
}

// out = a - b
Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_op("sub", BinaryOp::sub, a, b);
  autograd::attach(out, "sub", {a, b}, [](const Tensor& gy, const std::vector<bool>& needs, std::vector<Tensor>& g) {
    if (needs[0]) g[0] = gy;
    if (needs[1]) g[1] = mul_scalar(gy, -1.f);
  });
  return out;
}

// out = a * b (elementwise)
Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_op("mul", BinaryOp::mul, a, b);
  if (autograd::needs_graph({a, b})) {
    const Tensor ad = autograd::tensor_needs_grad(b) ? a.detach() : Tensor();
    const Tensor bd = autograd::tensor_needs_grad(a) ? b.detach() : Tensor();
    autograd::attach(out, "mul", {a, b},
                     [ad, bd](const Tensor& gy, const std::vector<bool>& needs, std::vector<Tensor>& g) {
                       if (needs[0]) g[0] = binary_op("mul backward", BinaryOp::mul, gy, bd);
                       if (needs[1]) g[1] = binary_op("mul backward", BinaryOp::mul, gy, ad);
                     });
  }
  return out;
}

namespace {
Tensor affine_op(const char* name, const Tensor& x, float alpha, float beta) {
  check_f32(name, x, "x");
  Tensor out = Tensor::empty(x.shape(), DType::f32, x.device());
  if (out.numel() > 0) SDD_DISPATCH(x.device(), affine, x, alpha, beta, out);
  return out;
}
}  // namespace

// out = s * x
Tensor mul_scalar(const Tensor& x, float s) {
  Tensor out = affine_op("mul_scalar", x, s, 0.f);
  autograd::attach(out, "mul_scalar", {x}, [s](const Tensor& gy, const std::vector<bool>&, std::vector<Tensor>& g) {
    g[0] = affine_op("mul_scalar backward", gy, s, 0.f);
  });
  return out;
}

// out = x + s
Tensor add_scalar(const Tensor& x, float s) {
  Tensor out = affine_op("add_scalar", x, 1.f, s);
  autograd::attach(out, "add_scalar", {x},
                   [](const Tensor& gy, const std::vector<bool>&, std::vector<Tensor>& g) { g[0] = gy; });
  return out;
}

// out = max(x, 0); backward uses the output: gx = gy * (out > 0)
Tensor relu(const Tensor& x) {
  check_f32("relu", x, "x");
  Tensor out = Tensor::empty(x.shape(), DType::f32, x.device());
  if (out.numel() > 0) SDD_DISPATCH(x.device(), relu_forward, x, out);
  if (autograd::needs_graph({x})) {
    const Tensor y = out.detach();
    autograd::attach(out, "relu", {x}, [y](const Tensor& gy, const std::vector<bool>&, std::vector<Tensor>& g) {
      Tensor gx = Tensor::empty(y.shape(), DType::f32, y.device());
      if (gx.numel() > 0) SDD_DISPATCH(y.device(), relu_backward, y, gy, gx);
      g[0] = gx;
    });
  }
  return out;
}

namespace {
// out[1] = scale * sum(x); backward broadcasts scale * gy to x's shape.
Tensor scaled_sum(const char* name, const Tensor& x, float scale) {
  check_f32(name, x, "x");
  Tensor out = Tensor::empty({1}, DType::f32, x.device());
  if (x.numel() > 0) {
    SDD_DISPATCH(x.device(), sum_all, x, out);
    if (scale != 1.f) SDD_DISPATCH(x.device(), affine, out, scale, 0.f, out);
  } else {
    out.fill_(0.0);
  }
  if (autograd::needs_graph({x})) {
    const Shape shape = x.shape();
    autograd::attach(out, name, {x}, [shape, scale](const Tensor& gy, const std::vector<bool>&, std::vector<Tensor>& g) {
      g[0] = Tensor::full(shape, gy.item() * scale, DType::f32, gy.device());
    });
  }
  return out;
}
}  // namespace

Tensor sum(const Tensor& x) { return scaled_sum("sum", x, 1.f); }

Tensor mean(const Tensor& x) {
  SDD_CHECK(x.defined() && x.numel() > 0, "mean: the input is empty or undefined");
  return scaled_sum("mean", x, 1.f / static_cast<float>(x.numel()));
}

// y += alpha * x (in place, never recorded)
void axpy_(const Tensor& y, float alpha, const Tensor& x) {
  check_f32("axpy_", y, "y");
  check_f32("axpy_", x, "x");
  check_same_device("axpy_", {y, x});
  SDD_CHECK(y.numel() == x.numel(), "axpy_: sizes differ: y " << y.str() << " vs x " << x.str());
  if (y.numel() > 0) SDD_DISPATCH(y.device(), axpy, alpha, x, y);
}

// x *= s (in place, never recorded)
void scale_(const Tensor& x, float s) {
  check_f32("scale_", x, "x");
  if (x.numel() > 0) SDD_DISPATCH(x.device(), affine, x, s, 0.f, x);
}

}  // namespace sdd::ops
