// engine/tensor.cpp — tensor creation, copies, views.
#include "engine/tensor.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "engine/autograd/autograd.h"
#include "engine/ops/dispatch.h"

namespace sdd {

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    SDD_CHECK(d >= 0, "negative dimension in shape " << shape_str(s));
    n *= d;
  }
  return n;
}

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

namespace detail {
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t n) {
  if (n == 0) return;
  if (dst_dev.is_cpu() && src_dev.is_cpu()) {
    std::memcpy(dst, src, n);
  } else {
    cuda::memcpy_any(dst, dst_dev, src, src_dev, n);
  }
}
}  // namespace detail

Tensor Tensor::empty(const Shape& shape, DType dt, Device dev) {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->dtype = dt;
  impl->storage = Storage::allocate(static_cast<size_t>(shape_numel(shape)) * dtype_size(dt), dev);
  Tensor t(impl);
  if (poison_new_buffers() && (dt == DType::f32 || dt == DType::f64))
    t.fill_(std::numeric_limits<double>::quiet_NaN());
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dt, Device dev) { return full(shape, 0.0, dt, dev); }
Tensor Tensor::ones(const Shape& shape, DType dt, Device dev) { return full(shape, 1.0, dt, dev); }
Tensor Tensor::full(const Shape& shape, double value, DType dt, Device dev) {
  Tensor t = empty(shape, dt, dev);
  t.fill_(value);
  return t;
}

Tensor Tensor::view_of(const Tensor& base, int64_t elem_offset, const Shape& shape) {
  const size_t esz = dtype_size(base.dtype());
  const size_t begin = base.impl().offset + static_cast<size_t>(elem_offset) * esz;
  const size_t len = static_cast<size_t>(shape_numel(shape)) * esz;
  SDD_CHECK(elem_offset >= 0 && begin + len <= base.impl().storage->nbytes(),
            "view of " << shape_str(shape) << " at element " << elem_offset << " exceeds the storage");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl().storage;
  impl->offset = begin;
  impl->shape = shape;
  impl->dtype = base.dtype();
  return Tensor(impl);
}

int64_t Tensor::size(int64_t d) const {
  const int64_t n = dim();
  if (d < 0) d += n;
  SDD_CHECK(d >= 0 && d < n, "dimension " << d << " out of range for " << str());
  return impl().shape[static_cast<size_t>(d)];
}

std::string Tensor::str() const {
  if (!defined()) return "undefined tensor";
  return std::string(dtype_name(dtype())) + shape_str(shape()) + " on " + device().str();
}

void* Tensor::raw() const {
  auto& im = impl();
  return static_cast<char*>(im.storage->data()) + im.offset;
}

Tensor Tensor::to(Device dev) const {
  if (device() == dev) return *this;
  Tensor out = empty(shape(), dtype(), dev);
  detail::copy_bytes(out.raw(), dev, raw(), device(), nbytes());
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  detail::copy_bytes(out.raw(), device(), raw(), device(), nbytes());
  return out;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = this->impl().storage;
  impl->offset = this->impl().offset;
  impl->shape = shape();
  impl->dtype = dtype();
  return Tensor(impl);
}

Tensor Tensor::view(const Shape& s) const {
  SDD_CHECK(shape_numel(s) == numel(), "view " << shape_str(s) << " of " << str());
  Tensor t = detach();
  t.impl().shape = s;
  return t;
}

Tensor& Tensor::copy_(const Tensor& src) {
  SDD_CHECK(src.numel() == numel() && src.dtype() == dtype(), "copy_ from " << src.str() << " into " << str());
  if (src.raw() == raw() && src.device() == device()) return *this;
  detail::copy_bytes(raw(), device(), src.raw(), src.device(), nbytes());
  return *this;
}

Tensor& Tensor::fill_(double value) {
  if (numel() > 0) SDD_DISPATCH(device(), fill, *this, value);
  return *this;
}

Tensor Tensor::to_dtype(DType dt) const {
  if (dt == dtype()) return clone();
  Tensor out = empty(shape(), dt, device());
  if (numel() > 0) SDD_DISPATCH(device(), cast, *this, out);
  return out;
}

double Tensor::item() const {
  SDD_CHECK(numel() == 1, "item() of " << str());
  Tensor h = to(Device::cpu());
  switch (dtype()) {
    case DType::f32: return *h.data<float>();
    case DType::f64: return *h.data<double>();
    case DType::i32: return *h.data<int32_t>();
    case DType::i64: return static_cast<double>(*h.data<int64_t>());
    case DType::u8: return *h.data<uint8_t>();
  }
  return 0.0;
}

Tensor& Tensor::set_requires_grad(bool on) {
  SDD_CHECK(!on || dtype() == DType::f32, "only f32 tensors can require gradients, got " << str());
  impl().requires_grad = on;
  return *this;
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  autograd::backward(*this, grad, retain_graph);
}

}  // namespace sdd
