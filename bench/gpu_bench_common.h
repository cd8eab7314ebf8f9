// bench/gpu_bench_common.h — shared helpers of the cudaEvent-timed GPU benches (bench/*_bench.cu):
// a timer that reports the median milliseconds of repeated launches on one stream, the device name,
// validation helpers (every bench checks its kernel against the CPU reference before timing, DESIGN
// rule 1) and one machine-readable result line per number:
//   RESULT <bench> <metric> <value> <unit>
// bench/run_gpu_benches.sh collects those lines into bench/results/<date>-<device>.md.
#pragma once
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "engine/cuda/cuda_check.h"
#include "engine/device.h"
#include "engine/tensor.h"

namespace sdd::bench {

// Exits 0 with a message when there is no device (the benches are for the device machine).
inline void require_device(const char* bench) {
  if (cuda_device_count() == 0) {
    std::printf("%s: SKIPPED: no CUDA device\n", bench);
    std::exit(0);
  }
}

inline std::string device_name(int device = 0) {
  cudaDeviceProp p{};
  SDD_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  return p.name;
}

// Median time in milliseconds of `fn` (which enqueues work on `stream`) over `reps` timed runs after
// `warmup` untimed ones; each run is bracketed by its own pair of events.
inline double time_ms(const std::function<void()>& fn, cudaStream_t stream, int reps = 20, int warmup = 3) {
  for (int i = 0; i < warmup; ++i) fn();
  SDD_CUDA_CHECK(cudaStreamSynchronize(stream));
  cudaEvent_t a, b;
  SDD_CUDA_CHECK(cudaEventCreate(&a));
  SDD_CUDA_CHECK(cudaEventCreate(&b));
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    SDD_CUDA_CHECK(cudaEventRecord(a, stream));
    fn();
    SDD_CUDA_CHECK(cudaEventRecord(b, stream));
    SDD_CUDA_CHECK(cudaEventSynchronize(b));
    float t = 0.f;
    SDD_CUDA_CHECK(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t);
  }
  SDD_CUDA_CHECK(cudaEventDestroy(a));
  SDD_CUDA_CHECK(cudaEventDestroy(b));
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

inline void result(const char* bench, const std::string& metric, double value, const char* unit) {
  std::printf("RESULT %s %s %.6g %s\n", bench, metric.c_str(), value, unit);
  std::fflush(stdout);
}

// Largest |a - b| / (atol + rtol |b|) over two f32 tensors (any devices); <= 1 passes.
inline double worst_ratio(const Tensor& got, const Tensor& want, double rtol, double atol) {
  const std::vector<float> g = got.to(Device::cpu()).to_vector<float>();
  const std::vector<float> w = want.to(Device::cpu()).to_vector<float>();
  if (g.size() != w.size()) return INFINITY;
  double worst = 0.0;
  for (size_t i = 0; i < g.size(); ++i) {
    const double r = std::fabs(double(g[i]) - w[i]) / (atol + rtol * std::fabs(double(w[i])));
    if (!(r <= worst)) worst = std::isnan(r) ? INFINITY : r;
  }
  return worst;
}

// Prints VALIDATION ok/FAILED and exits 1 on failure: a bench never times a wrong kernel.
inline void validate(const char* bench, const std::string& what, bool ok, const std::string& detail = "") {
  std::printf("VALIDATION %s %s %s %s\n", bench, what.c_str(), ok ? "ok" : "FAILED", detail.c_str());
  std::fflush(stdout);
  if (!ok) std::exit(1);
}

}  // namespace sdd::bench
