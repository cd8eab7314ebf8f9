// engine/cuda/cuda_check.h — the check macro family for the CUDA runtime, cuBLAS, cuDNN and NCCL,
// and for kernel launches (DESIGN rule 7). CUDA sources only (.cu, *_cuda.cpp): it includes the
// CUDA headers, so engine/cuda/cuda_backend.h must never include it.
//
//   SDD_CUDA_CHECK(cudaMemcpy(...));        // any status type below, chosen by overloading
//   SDD_CUBLAS_CHECK(cublasSgemm(...));     // the same macro under a name that reads better
//   SDD_CUDNN_CHECK(cudnnConvolutionForward(...));
//   SDD_NCCL_CHECK(ncclAllReduce(...));     // only where nccl.h is available (SDD_HAVE_NCCL)
//   kernel<<<grid, block, 0, stream>>>(...);
//   SDD_CUDA_LAUNCH_CHECK("relu_forward");  // cudaGetLastError; with SDD_CUDA_SYNC_DEBUG=1 also
//                                           // synchronises the device and checks again
//
// A failure throws sdd::DeviceError "<library> error: <error string> in `<statement>` at file:line".
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <string>

#include "engine/errors.h"
#ifdef SDD_HAVE_NCCL
#include <nccl.h>
#endif

namespace sdd::cuda::detail {

// Throws DeviceError naming the library, the error string, the statement, the file and the line.
[[noreturn]] void throw_device_error(const char* library, const std::string& error, const char* statement,
                                     const char* file, int line);
// True when SDD_CUDA_SYNC_DEBUG is set to a non-empty value other than "0" (read once).
bool sync_debug();
// cudaGetLastError after a launch, plus a device synchronisation in sync-debug mode.
void launch_check(const char* what, const char* file, int line);

inline void check_status(cudaError_t s, const char* stmt, const char* file, int line) {
  if (s != cudaSuccess) {
    (void)cudaGetLastError();  // clear a non-sticky error so later calls are not blamed for it
    throw_device_error("CUDA", std::string(cudaGetErrorName(s)) + ": " + cudaGetErrorString(s), stmt, file, line);
  }
}
inline void check_status(cublasStatus_t s, const char* stmt, const char* file, int line) {
  if (s != CUBLAS_STATUS_SUCCESS) throw_device_error("cuBLAS", cublasGetStatusString(s), stmt, file, line);
}
inline void check_status(cudnnStatus_t s, const char* stmt, const char* file, int line) {
  if (s != CUDNN_STATUS_SUCCESS) throw_device_error("cuDNN", cudnnGetErrorString(s), stmt, file, line);
}
#ifdef SDD_HAVE_NCCL
inline void check_status(ncclResult_t s, const char* stmt, const char* file, int line) {
  if (s != ncclSuccess) throw_device_error("NCCL", ncclGetErrorString(s), stmt, file, line);
}
#endif

}  // namespace sdd::cuda::detail

#define SDD_CUDA_CHECK(stmt) ::sdd::cuda::detail::check_status((stmt), #stmt, __FILE__, __LINE__)
#define SDD_CUBLAS_CHECK(stmt) SDD_CUDA_CHECK(stmt)
#define SDD_CUDNN_CHECK(stmt) SDD_CUDA_CHECK(stmt)
#define SDD_NCCL_CHECK(stmt) SDD_CUDA_CHECK(stmt)
#define SDD_CUDA_LAUNCH_CHECK(what) ::sdd::cuda::detail::launch_check((what), __FILE__, __LINE__)
