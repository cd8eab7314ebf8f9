// engine/ops/op_checks.h — the validation helpers of the dispatch layer (engine/ops/*.cpp only).
// Each failure is an InternalError naming the op and the offending tensors' dtype, shape and device.
#pragma once
#include <initializer_list>

#include "engine/errors.h"
#include "engine/tensor.h"

namespace sdd::ops::detail {

inline void check_defined(const char* op, const Tensor& t, const char* what) {
  SDD_CHECK(t.defined(), op << ": " << what << " is undefined");
}

inline void check_dtype(const char* op, const Tensor& t, DType dt, const char* what) {
  check_defined(op, t, what);
  SDD_CHECK(t.dtype() == dt, op << ": " << what << " must be " << dtype_name(dt) << ", got " << t.str());
}

inline void check_f32(const char* op, const Tensor& t, const char* what) { check_dtype(op, t, DType::f32, what); }

inline void check_dim(const char* op, const Tensor& t, int64_t d, const char* what) {
  SDD_CHECK(t.dim() == d, op << ": " << what << " must be " << d << "-D, got " << t.str());
}

// Every defined tensor must live on the device of the first one.
inline void check_same_device(const char* op, std::initializer_list<Tensor> ts) {
  const Tensor* first = nullptr;
  for (const Tensor& t : ts) {
    if (!t.defined()) continue;
    if (!first) {
      first = &t;
      continue;
    }
    SDD_CHECK(t.device() == first->device(),
              op << ": all inputs must be on one device, got " << first->str() << " and " << t.str());
  }
}

inline void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
  SDD_CHECK(a.shape() == b.shape(), op << ": shapes differ: " << a.str() << " vs " << b.str());
}

}  // namespace sdd::ops::detail
