// engine/tensor.h — the tensor: a contiguous, row-major view (byte offset + shape) into a Storage,
// plus autograd metadata.
//
// Tensors are always contiguous; transposes are GEMM flags, not strides. A Tensor is a handle
// (shared_ptr to TensorImpl): copies share the same impl, so re-pointing an impl into an arena
// (Module::flatten) updates every holder. Host/device copies are explicit (to(), copy_()).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dtype.h"
#include "engine/errors.h"
#include "engine/storage.h"

namespace sdd {

using Shape = std::vector<int64_t>;
int64_t shape_numel(const Shape& s);
std::string shape_str(const Shape& s);

namespace autograd {
struct Node;
}

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset = 0;  // bytes into storage
  Shape shape;
  DType dtype = DType::f32;
  // autograd
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;           // leaf gradient (may be a view into a gradient arena)
  std::shared_ptr<autograd::Node> grad_fn;    // set on results of differentiable ops
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation
  static Tensor empty(const Shape& shape, DType dt = DType::f32, Device dev = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dt = DType::f32, Device dev = Device::cpu());
  static Tensor ones(const Shape& shape, DType dt = DType::f32, Device dev = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dt = DType::f32, Device dev = Device::cpu());
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device dev = Device::cpu());
  // A view of `shape` starting `elem_offset` elements into `base`'s storage (arena slices).
  static Tensor view_of(const Tensor& base, int64_t elem_offset, const Shape& shape);

  // ---- properties
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t d) const;
  int64_t numel() const { return shape_numel(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }
  std::string str() const;  // "f32[2, 3] on cpu"

  // ---- data (host or device pointer, depending on device()); checks the element type
  void* raw() const;
  template <class T> T* data() const {
    SDD_CHECK(dtype() == dtype_of<T>(), "tensor is " << dtype_name(dtype()) << ", accessed as " << dtype_name(dtype_of<T>()));
    return static_cast<T*>(raw());
  }

  // ---- copies and views (no autograd)
  Tensor to(Device dev) const;        // same tensor when already there, otherwise a copy
  Tensor clone() const;               // deep copy on the same device
  Tensor detach() const;              // same storage, new impl without autograd history
  Tensor view(const Shape& shape) const;  // same storage and autograd-free; numel must match
  Tensor& copy_(const Tensor& src);   // element copy, any device pair; shapes' numel and dtype must match
  Tensor& fill_(double value);
  Tensor to_dtype(DType dt) const;    // host conversion (CPU tensors only)
  template <class T> std::vector<T> to_vector() const;  // copies to host
  double item() const;                // value of a 1-element tensor, as double

  // ---- autograd
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool on);
  Tensor grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }
  void set_grad(const Tensor& g) { impl().grad = g.impl_; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl().grad_fn; }
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  // Backpropagates from this tensor. grad defaults to 1 for a 1-element tensor.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;

  TensorImpl& impl() const {
    SDD_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// ---- template definitions
namespace detail {
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t n);
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device dev) {
  SDD_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape),
            values.size() << " values for shape " << shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>(), dev);
  detail::copy_bytes(t.raw(), dev, values.data(), Device::cpu(), values.size() * sizeof(T));
  return t;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  SDD_CHECK(dtype() == dtype_of<T>(), "to_vector type mismatch: tensor is " << dtype_name(dtype()));
  std::vector<T> out(static_cast<size_t>(numel()));
  detail::copy_bytes(out.data(), Device::cpu(), raw(), device(), nbytes());
  return out;
}

}  // namespace sdd
