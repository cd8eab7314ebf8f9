// engine/cuda/context_cuda.cpp — the non-aborting device probe, the lazily created per-device
// contexts (stream, cuBLAS, cuDNN, workspace), host<->device copies, synchronisation, and the error
// plumbing behind engine/cuda/cuda_check.h.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/cuda_check.h"

namespace sdd::cuda {

// ---------------------------------------------------------------- errors
namespace detail {

void throw_device_error(const char* library, const std::string& error, const char* statement, const char* file,
                        int line) {
  std::ostringstream os;
  os << library << " error: " << error << " in `" << statement << "` at " << sdd::detail::check_location(file, line);
  throw DeviceError(os.str());
}

bool sync_debug() {
  static const bool on = [] {
    const char* v = std::getenv("SDD_CUDA_SYNC_DEBUG");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}

void launch_check(const char* what, const char* file, int line) {
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess && sync_debug()) e = cudaDeviceSynchronize();
  if (e != cudaSuccess) {
    std::string stmt = std::string("launch of ") + what;
    throw_device_error("CUDA", std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e), stmt.c_str(), file,
                       line);
  }
}

}  // namespace detail

// ---------------------------------------------------------------- probe
int probe_device_count() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // no driver / no device: report 0, never abort (DESIGN rule 4)
    return 0;
  }
  return n < 0 ? 0 : n;
}

// ---------------------------------------------------------------- contexts
namespace {

struct ContextTable {
  std::mutex mu;
  std::vector<std::unique_ptr<Context>> by_device;
};

// Never destroyed: CUDA objects must not be released after the runtime has shut down at exit.
ContextTable& table() {
  static ContextTable* t = new ContextTable();
  return *t;
}

void set_device(int device) {
  int cur = -1;
  SDD_CUDA_CHECK(cudaGetDevice(&cur));
  if (cur != device) SDD_CUDA_CHECK(cudaSetDevice(device));
}

}  // namespace

Context& context(int device) {
  const int count = cuda_device_count();
  SDD_CHECK(device >= 0 && device < count, "CUDA device " << device << " requested but " << count << " visible");
  set_device(device);
  ContextTable& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  if (t.by_device.size() < static_cast<size_t>(count)) t.by_device.resize(static_cast<size_t>(count));
  auto& slot = t.by_device[static_cast<size_t>(device)];
  if (!slot) {
    auto c = std::make_unique<Context>();
    c->device = device;
    SDD_CUDA_CHECK(cudaStreamCreate(&c->stream));
    SDD_CUBLAS_CHECK(cublasCreate(&c->cublas));
    SDD_CUBLAS_CHECK(cublasSetStream(c->cublas, c->stream));
    SDD_CUDNN_CHECK(cudnnCreate(&c->cudnn));
    SDD_CUDNN_CHECK(cudnnSetStream(c->cudnn, c->stream));
    // FP32 GEMMs (cublasSgemm) in every math mode: CUBLAS_DEFAULT_MATH never uses TF32, as PyTorch's
    // default matmul; the bf16 mode calls cublasGemmEx with an explicit fp32 compute type.
    SDD_CUBLAS_CHECK(cublasSetMathMode(c->cublas, CUBLAS_DEFAULT_MATH));
    SDD_CUDA_CHECK(cudaDeviceGetAttribute(&c->cc_major, cudaDevAttrComputeCapabilityMajor, device));
    SDD_CUDA_CHECK(cudaDeviceGetAttribute(&c->cc_minor, cudaDevAttrComputeCapabilityMinor, device));
    slot = std::move(c);
  }
  return *slot;
}

Context& context_for(const Tensor& t) {
  SDD_CHECK(t.device().is_cuda(), "CUDA backend called with " << t.str());
  return context(t.device().index);
}

void require_bf16(const Context& c) {
  SDD_USER_CHECK(c.cc_major >= 8, "--precision=bf16 needs a GPU of compute capability 8.0 or newer (cuda:"
                                      << c.device << " is " << c.cc_major << "." << c.cc_minor
                                      << "); use --precision=tf32 or --precision=fp32");
}

namespace {
// Grows (*ptr, *bytes) to at least nbytes, in whole MiB; never shrinks.
void* grow_buffer(void** ptr, size_t* bytes, size_t nbytes) {
  if (nbytes <= *bytes) return *ptr;
  // Work queued on the stream may still read the old buffer; cudaFree waits for the device.
  if (*ptr) SDD_CUDA_CHECK(cudaFree(*ptr));
  *ptr = nullptr;
  *bytes = 0;
  const size_t rounded = (nbytes + (1u << 20) - 1) / (1u << 20) * (1u << 20);  // whole MiB
  SDD_CUDA_CHECK(cudaMalloc(ptr, rounded));
  *bytes = rounded;
  return *ptr;
}
}  // namespace

void* Context::workspace(size_t nbytes) { return grow_buffer(&workspace_ptr, &workspace_bytes, nbytes); }

void* Context::scratch(int slot, size_t nbytes) {
  SDD_CHECK(slot >= 0 && slot < kScratchSlots, "scratch slot " << slot);
  return grow_buffer(&scratch_ptr[slot], &scratch_bytes[slot], nbytes);
}

// ---------------------------------------------------------------- copies
void memcpy_any(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes) {
  if (nbytes == 0) return;
  if (dst_dev.is_cpu() && src_dev.is_cpu()) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  // Run on the stream of the device side (the destination when both are devices), then wait: the
  // copy is ordered after every op already queued there and is complete when this returns.
  const Device dev = dst_dev.is_cuda() ? dst_dev : src_dev;
  Context& c = context(dev.index);
  cudaMemcpyKind kind = cudaMemcpyDefault;
  if (dst_dev.is_cuda() && src_dev.is_cpu()) kind = cudaMemcpyHostToDevice;
  if (dst_dev.is_cpu() && src_dev.is_cuda()) kind = cudaMemcpyDeviceToHost;
  if (dst_dev.is_cuda() && src_dev.is_cuda()) {
    kind = cudaMemcpyDeviceToDevice;
    // A peer copy must also wait for the source device's queued work.
    if (src_dev.index != dst_dev.index) synchronize(src_dev.index);
    set_device(dev.index);
  }
  SDD_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, kind, c.stream));
  SDD_CUDA_CHECK(cudaStreamSynchronize(c.stream));
}

void copy_same_device(void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return;
  // Only pointers are known here: run on the stream of the device that owns dst.
  cudaPointerAttributes attr{};
  SDD_CUDA_CHECK(cudaPointerGetAttributes(&attr, dst));
  SDD_CHECK(attr.type == cudaMemoryTypeDevice, "copy_same_device: destination is not device memory");
  Context& c = context(attr.device);
  SDD_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, c.stream));
}

void synchronize(int device) {
  Context& c = context(device);
  SDD_CUDA_CHECK(cudaStreamSynchronize(c.stream));
}

}  // namespace sdd::cuda
