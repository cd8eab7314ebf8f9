// engine/ops/op_checks.h — the validation helpers of the dispatch layer (engine/ops/*.cpp) and of backend
// entries that check their own arguments.
// Each failure is an InternalError naming the op and the offending tensors' dtype, shape and device.
#pragma once
#include <vector>
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

// The arguments of the backend entry crop_flip_batch (engine/backend_data.inc), checked the same way by
// the CPU and CUDA entries: images u8 [N,H,W,C] (1..4 channels), indices i64 [B], out f32 [B,C,H,W],
// one device, a mean and std per channel, pad >= 0.
inline void check_crop_flip_batch_entry(const Tensor& images, const Tensor& indices, const Tensor& out, int32_t pad,
                                        const std::vector<float>& mean, const std::vector<float>& stdv) {
  SDD_CHECK(images.dtype() == DType::u8 && images.dim() == 4, "crop_flip_batch: images must be u8 [N, H, W, C], got "
                                                                   << images.str());
  const int64_t H = images.size(1), W = images.size(2), C = images.size(3);
  SDD_CHECK(C >= 1 && C <= 4, "crop_flip_batch supports 1..4 channels, got " << C);
  SDD_CHECK(indices.dtype() == DType::i64 && indices.dim() == 1, "crop_flip_batch: indices must be i64 [B], got "
                                                                      << indices.str());
  const int64_t B = indices.size(0);
  SDD_CHECK(out.dtype() == DType::f32 && out.shape() == Shape({B, C, H, W}),
            "crop_flip_batch: out must be f32 [" << B << ", " << C << ", " << H << ", " << W << "], got " << out.str());
  SDD_CHECK(images.device() == out.device() && indices.device() == out.device(),
            "crop_flip_batch: images, indices and out must share one device (" << images.str() << ", "
                                                                               << indices.str() << ", " << out.str() << ")");
  SDD_CHECK(static_cast<int64_t>(mean.size()) == C && static_cast<int64_t>(stdv.size()) == C,
            "crop_flip_batch: " << mean.size() << " means and " << stdv.size() << " stds for " << C << " channels");
  SDD_CHECK(pad >= 0, "crop_flip_batch: negative pad " << pad);
}

}  // namespace sdd::ops::detail
