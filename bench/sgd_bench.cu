// bench/sgd_bench.cu — the fused masked SGD step (kernels/masked_sgd.cu) over a flat arena of
// ResNet-18 size (11.2M) and 4x that, in GB/s against the device-to-device copy bandwidth measured in
// the same run (target: >= 80% of copy). Bytes moved per element: read w, g, buf, mask (16), write
// w, buf (8). Validated against the CPU reference (cpu::masked_sgd) before timing.
#include <cstdio>
#include <vector>

#include "bench/gpu_bench_common.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/rng.h"

using namespace sdd;

namespace {

Tensor rand_host(int64_t n, Generator& gen, double lo, double hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(gen.uniform(lo, hi));
  return Tensor::from_vector(v, {n});
}

Tensor mask_host(int64_t n, Generator& gen) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = gen.uniform() < 0.7 ? 1.f : 0.f;
  return Tensor::from_vector(v, {n});
}

}  // namespace

int main() {
  const char* kBench = "masked_sgd";
  bench::require_device(kBench);
  std::printf("device: %s\n", bench::device_name().c_str());
  const Device gpu = Device::cuda(0);
  cuda::Context& ctx = cuda::context(0);
  kern::SgdHyper h;
  h.lr = 0.1f;
  h.momentum = 0.9f;
  h.weight_decay = 5e-4f;
  h.nesterov = false;

  // ---- validation on 1M elements, two steps (the second uses the momentum buffer)
  {
    Generator gen(1);
    const int64_t n = 1 << 20;
    Tensor w = rand_host(n, gen, -1, 1), g = rand_host(n, gen, -1, 1), b = Tensor::zeros({n}), m = mask_host(n, gen);
    Tensor wd = w.to(gpu), gd = g.to(gpu), bd = b.to(gpu), md = m.to(gpu);
    for (int step = 0; step < 2; ++step) {
      h.first_step = step == 0;
      cpu::masked_sgd(w, g, b, m, Tensor(), h, 0, n);
      cuda::masked_sgd(wd, gd, bd, md, Tensor(), h, 0, n);
    }
    const double rw = bench::worst_ratio(wd, w, 1e-5, 1e-6), rb = bench::worst_ratio(bd, b, 1e-5, 1e-6);
    bench::validate(kBench, "vs cpu::masked_sgd (rtol 1e-5, atol 1e-6)", rw <= 1 && rb <= 1,
                    "worst w " + std::to_string(rw) + " buf " + std::to_string(rb));
  }

  h.first_step = false;
  for (int64_t n : {int64_t(11173962), int64_t(4) * 11173962}) {
    Generator gen(2);
    Tensor wd = rand_host(n, gen, -1, 1).to(gpu), gd = rand_host(n, gen, -1, 1).to(gpu);
    Tensor bd = Tensor::zeros({n}, DType::f32, gpu), md = mask_host(n, gen).to(gpu);
    Tensor src = Tensor::zeros({n * 6}, DType::f32, gpu), dst = Tensor::empty({n * 6}, DType::f32, gpu);
    const double copy_ms = bench::time_ms([&] {
      SDD_CUDA_CHECK(cudaMemcpyAsync(dst.raw(), src.raw(), src.nbytes(), cudaMemcpyDeviceToDevice, ctx.stream));
    }, ctx.stream);
    const double copy_gbs = 2.0 * double(src.nbytes()) / (copy_ms * 1e6);
    const double sgd_ms = bench::time_ms([&] { cuda::masked_sgd(wd, gd, bd, md, Tensor(), h, 0, n); }, ctx.stream);
    const double sgd_gbs = 24.0 * double(n) / (sgd_ms * 1e6);
    const std::string tag = std::to_string(n);
    bench::result(kBench, "copy_bandwidth_n" + tag, copy_gbs, "GB/s");
    bench::result(kBench, "step_ms_n" + tag, sgd_ms, "ms");
    bench::result(kBench, "step_bandwidth_n" + tag, sgd_gbs, "GB/s");
    bench::result(kBench, "fraction_of_copy_n" + tag, sgd_gbs / copy_gbs, "ratio");
  }
  return 0;
}
