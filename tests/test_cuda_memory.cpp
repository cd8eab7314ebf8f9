// tests/test_cuda_memory.cpp — [cuda] tests of the CUDA backend's plumbing: the non-aborting device
// probe, the check macro family (these two run without a GPU), and, with a device, host<->device
// copies of every dtype, fill, cast and the caching allocator. Without a device the device tests
// print "SKIPPED: no CUDA device" and return (ctest reports them as skipped).
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/device.h"
#include "engine/tensor.h"
#ifdef SDD_HAVE_CUDA
#include "engine/cuda/cuda_check.h"
#endif

using namespace sdd;

#define SDD_SKIP_WITHOUT_CUDA()                            \
  do {                                                     \
    if (sdd::cuda_device_count() == 0) {                   \
      std::cout << "SKIPPED: no CUDA device" << std::endl; \
      return;                                              \
    }                                                      \
  } while (0)

TEST_CASE("cuda probe never aborts and agrees with the build", "[cuda]") {
  const int n = cuda_device_count();
  REQUIRE(n >= 0);
  REQUIRE(n == cuda_device_count());  // cached, stable
  if (!built_with_cuda()) REQUIRE(n == 0);
}

// Defined in every build so both builds list the same [cuda] tests (scripts/test.sh checks it).
TEST_CASE("cuda check macros throw DeviceError naming library, statement, file and line", "[cuda]") {
#ifndef SDD_HAVE_CUDA
  std::cout << "SKIPPED: built without CUDA" << std::endl;
  return;
#else
  // No device needed: the checks only format the status they are given.
  try {
    SDD_CUDA_CHECK(cudaErrorInvalidValue);
    FAIL("SDD_CUDA_CHECK did not throw");
  } catch (const DeviceError& e) {
    const std::string m = e.what();
    CHECK(m.find("CUDA error") != std::string::npos);
    CHECK(m.find("cudaErrorInvalidValue") != std::string::npos);
    CHECK(m.find("test_cuda_memory.cpp") != std::string::npos);
  }
  try {
    SDD_CUBLAS_CHECK(CUBLAS_STATUS_INVALID_VALUE);
    FAIL("SDD_CUBLAS_CHECK did not throw");
  } catch (const DeviceError& e) {
    const std::string m = e.what();
    CHECK(m.find("cuBLAS error") != std::string::npos);
    CHECK(m.find("CUBLAS_STATUS_INVALID_VALUE") != std::string::npos);
  }
  try {
    SDD_CUDNN_CHECK(CUDNN_STATUS_BAD_PARAM);
    FAIL("SDD_CUDNN_CHECK did not throw");
  } catch (const DeviceError& e) {
    const std::string m = e.what();
    CHECK(m.find("cuDNN error") != std::string::npos);
    CHECK(m.find("CUDNN_STATUS_BAD_PARAM") != std::string::npos);
  }
  REQUIRE_NOTHROW(SDD_CUDA_CHECK(cudaSuccess));
  REQUIRE_NOTHROW(SDD_CUDNN_CHECK(CUDNN_STATUS_SUCCESS));
#endif
}

TEST_CASE("cuda host-device round trips of every dtype", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  const Device gpu = Device::cuda(0);
  std::vector<float> f(1001);
  std::vector<int64_t> l(1001);
  std::vector<uint8_t> u(1001);
  for (size_t i = 0; i < f.size(); ++i) {
    f[i] = 0.25f * static_cast<float>(i) - 7.f;
    l[i] = static_cast<int64_t>(i) * 1000003 - 5;
    u[i] = static_cast<uint8_t>(i * 7);
  }
  Tensor df = Tensor::from_vector(f, {7, 11, 13}, gpu);
  REQUIRE(df.device() == gpu);
  CHECK(df.to_vector<float>() == f);
  CHECK(Tensor::from_vector(l, {1001}, gpu).to_vector<int64_t>() == l);
  CHECK(Tensor::from_vector(u, {1001}, gpu).to_vector<uint8_t>() == u);
  // device -> device copy and a view at an offset
  Tensor dc = df.clone();
  CHECK(dc.raw() != df.raw());
  CHECK(dc.to_vector<float>() == f);
  Tensor v = Tensor::view_of(df, 3, {5});
  CHECK(v.to_vector<float>() == std::vector<float>(f.begin() + 3, f.begin() + 8));
  Tensor back = df.to(Device::cpu());
  CHECK(back.device().is_cpu());
  CHECK(back.to_vector<float>() == f);
}

TEST_CASE("cuda fill and cast match the CPU for every dtype pair", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  const Device gpu = Device::cuda(0);
  const DType all[] = {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8};
  std::vector<float> vals(517);
  for (size_t i = 0; i < vals.size(); ++i) vals[i] = static_cast<float>(i % 200) * 0.75f;
  const Tensor host_src = Tensor::from_vector(vals, {11, 47});
  for (DType s : all) {
    Tensor hs = Tensor::empty({11, 47}, s);
    cpu::cast(host_src, hs);
    Tensor ds = hs.to(gpu);
    for (DType d : all) {
      Tensor hd = Tensor::empty({11, 47}, d);
      cpu::cast(hs, hd);
      Tensor dd = Tensor::empty({11, 47}, d, gpu);
      cuda::cast(ds, dd);
      Tensor got = dd.to(Device::cpu());
      INFO("cast " << dtype_name(s) << " -> " << dtype_name(d));
      REQUIRE(std::memcmp(got.raw(), hd.raw(), hd.nbytes()) == 0);
    }
    Tensor filled = Tensor::empty({3, 5, 7}, s, gpu);
    cuda::fill(filled, 3.0);
    Tensor want = Tensor::empty({3, 5, 7}, s);
    cpu::fill(want, 3.0);
    Tensor got = filled.to(Device::cpu());
    INFO("fill " << dtype_name(s));
    REQUIRE(std::memcmp(got.raw(), want.raw(), want.nbytes()) == 0);
  }
}

TEST_CASE("cuda caching allocator reuses blocks and tracks bytes", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  cuda::synchronize(0);
  const cuda::MemoryStats before = cuda::memory_stats(0);
  void* a = cuda::device_alloc(123457, 0);
  REQUIRE(a != nullptr);
  const cuda::MemoryStats during = cuda::memory_stats(0);
  CHECK(during.current_bytes >= before.current_bytes + 123457);
  CHECK(during.peak_bytes >= during.current_bytes);
  cuda::device_free(a, 123457, 0);
  const cuda::MemoryStats after = cuda::memory_stats(0);
  CHECK(after.current_bytes == before.current_bytes);
  CHECK(after.cached_bytes >= 123457);
  // The same bucket comes back without a new cudaMalloc: the very same block.
  void* b = cuda::device_alloc(123400, 0);
  CHECK(b == a);
  cuda::device_free(b, 123400, 0);
  // Tensors go through the same allocator.
  {
    Tensor t = Tensor::zeros({1000, 10}, DType::f32, Device::cuda(0));
    CHECK(cuda::memory_stats(0).current_bytes >= after.current_bytes + 40000);
  }
  CHECK(cuda::memory_stats(0).current_bytes == after.current_bytes);
}
