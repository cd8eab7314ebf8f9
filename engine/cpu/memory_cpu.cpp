// engine/cpu/memory_cpu.cpp — CPU fill, copy and dtype conversion.
#include <cstring>

#include "engine/cpu/cpu_backend.h"

namespace sdd::cpu {

namespace {
// Memory-bound loops: below ~1M elements one thread is as fast, and stays off the cores OpenBLAS's
// worker threads use (zeroing the MLP-300-100 gradient arena, 266K, runs serial and vectorised).
constexpr int64_t kParallelMin = 1 << 20;

template <class T>
void fill_typed(const Tensor& t, double v) {
  T* p = t.data<T>();
  const T x = static_cast<T>(v);
  const int64_t n = t.numel();
  if (n <= kParallelMin) {
    for (int64_t i = 0; i < n; ++i) p[i] = x;
    return;
  }
#pragma omp parallel for
  for (int64_t i = 0; i < n; ++i) p[i] = x;
}

template <class S, class D>
void cast_typed(const Tensor& s, const Tensor& d) {
  const S* a = s.data<S>();
  D* b = d.data<D>();
  const int64_t n = s.numel();
#pragma omp parallel for if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) b[i] = static_cast<D>(a[i]);
}

template <class S>
void cast_from(const Tensor& s, const Tensor& d) {
  switch (d.dtype()) {
    case DType::f32: return cast_typed<S, float>(s, d);
    case DType::f64: return cast_typed<S, double>(s, d);
    case DType::i32: return cast_typed<S, int32_t>(s, d);
    case DType::i64: return cast_typed<S, int64_t>(s, d);
    case DType::u8: return cast_typed<S, uint8_t>(s, d);
  }
}
}  // namespace

void copy_same_device(void* dst, const void* src, size_t nbytes) { std::memcpy(dst, src, nbytes); }

void fill(const Tensor& t, double value) {
  switch (t.dtype()) {
    case DType::f32: return fill_typed<float>(t, value);
    case DType::f64: return fill_typed<double>(t, value);
    case DType::i32: return fill_typed<int32_t>(t, value);
    case DType::i64: return fill_typed<int64_t>(t, value);
    case DType::u8: return fill_typed<uint8_t>(t, value);
  }
}

void cast(const Tensor& src, const Tensor& dst) {
  SDD_CHECK(src.numel() == dst.numel(), "cast " << src.str() << " -> " << dst.str());
  switch (src.dtype()) {
    case DType::f32: return cast_from<float>(src, dst);
    case DType::f64: return cast_from<double>(src, dst);
    case DType::i32: return cast_from<int32_t>(src, dst);
    case DType::i64: return cast_from<int64_t>(src, dst);
    case DType::u8: return cast_from<uint8_t>(src, dst);
  }
}

}  // namespace sdd::cpu
