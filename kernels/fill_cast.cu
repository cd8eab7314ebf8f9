// kernels/fill_cast.cu — fill and dtype conversion on the device, any of f32 f64 i32 i64 u8.
//   fill: p[i] = T(value);   cast: dst[i] = D(src[i])   (static_cast semantics, as the CPU backend)
// Grid-stride loops over [n]; one template instance per (source, destination) pair.
#include "engine/cuda/cuda_check.h"
#include "kernels/fill_cast.h"
#include "kernels/launch.h"

namespace sdd::kern {

namespace {

template <class T>
__global__ void fill_kernel(T* p, T value, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    p[i] = value;
}

template <class S, class D>
__global__ void cast_kernel(const S* src, D* dst, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = static_cast<D>(src[i]);
}

template <class T>
void fill_typed(void* p, double value, int64_t n, cudaStream_t stream) {
  fill_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(static_cast<T*>(p), static_cast<T>(value), n);
  SDD_CUDA_LAUNCH_CHECK("fill_kernel");
}

template <class S, class D>
void cast_typed(const void* src, void* dst, int64_t n, cudaStream_t stream) {
  cast_kernel<S, D><<<grid_for(n), kThreads, 0, stream>>>(static_cast<const S*>(src), static_cast<D*>(dst), n);
  SDD_CUDA_LAUNCH_CHECK("cast_kernel");
}

template <class S>
void cast_from(const void* src, DType dst_dt, void* dst, int64_t n, cudaStream_t stream) {
  switch (dst_dt) {
    case DType::f32: return cast_typed<S, float>(src, dst, n, stream);
    case DType::f64: return cast_typed<S, double>(src, dst, n, stream);
    case DType::i32: return cast_typed<S, int32_t>(src, dst, n, stream);
    case DType::i64: return cast_typed<S, int64_t>(src, dst, n, stream);
    case DType::u8: return cast_typed<S, uint8_t>(src, dst, n, stream);
  }
}

}  // namespace

void launch_fill(DType dt, void* p, double value, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  switch (dt) {
    case DType::f32: return fill_typed<float>(p, value, n, stream);
    case DType::f64: return fill_typed<double>(p, value, n, stream);
    case DType::i32: return fill_typed<int32_t>(p, value, n, stream);
    case DType::i64: return fill_typed<int64_t>(p, value, n, stream);
    case DType::u8: return fill_typed<uint8_t>(p, value, n, stream);
  }
}

void launch_cast(DType src_dt, const void* src, DType dst_dt, void* dst, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  switch (src_dt) {
    case DType::f32: return cast_from<float>(src, dst_dt, dst, n, stream);
    case DType::f64: return cast_from<double>(src, dst_dt, dst, n, stream);
    case DType::i32: return cast_from<int32_t>(src, dst_dt, dst, n, stream);
    case DType::i64: return cast_from<int64_t>(src, dst_dt, dst, n, stream);
    case DType::u8: return cast_from<uint8_t>(src, dst_dt, dst, n, stream);
  }
}

}  // namespace sdd::kern
