// bench/prune_bench.cu — global magnitude pruning on the device: scores (|w|), the k-th candidate
// value (gather + CUB radix sort, kernels/topk_threshold.cu) and the mask update, on 11M
// (ResNet-18) and 43M weights, 20% pruned of a mask already 50% sparse. Validated against the CPU
// entries (equal threshold, equal mask) before timing; the CPU time of the same work is printed too.
#include <chrono>
#include <cstdio>
#include <vector>

#include "bench/gpu_bench_common.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/rng.h"
#include "pruning/threshold.h"

using namespace sdd;

int main() {
  const char* kBench = "prune";
  bench::require_device(kBench);
  std::printf("device: %s\n", bench::device_name().c_str());
  const Device gpu = Device::cuda(0);
  cuda::Context& ctx = cuda::context(0);
  for (int64_t n : {int64_t(11173962), int64_t(43000000)}) {
    Generator gen(3);
    std::vector<float> wv(static_cast<size_t>(n)), mv(static_cast<size_t>(n));
    for (auto& x : wv) x = static_cast<float>(gen.normal() * 0.05);
    for (auto& x : mv) x = gen.uniform() < 0.5 ? 1.f : 0.f;
    const Tensor w = Tensor::from_vector(wv, {n}), m = Tensor::from_vector(mv, {n});
    const Tensor wd = w.to(gpu), md = m.to(gpu);
    Tensor s = Tensor::empty({n}), sd = Tensor::empty({n}, DType::f32, gpu);
    Tensor o = Tensor::empty({n}), od = Tensor::empty({n}, DType::f32, gpu);

    // One pruning pass; returns the threshold.
    auto cpu_pass = [&] {
      cpu::prune_scores(w, Tensor(), false, s);
      const int64_t k = pruning::prune_count(0.2, cpu::count_nonzero(m));
      float thr = 0.f;
      int64_t cand = 0;
      SDD_CHECK(cpu::candidate_kth_value({s}, {m}, k, &thr, &cand), "cpu selection failed");
      cpu::mask_keep_above(s, m, thr, o);
      return thr;
    };
    float gpu_thr = 0.f;
    auto gpu_pass = [&] {
      cuda::prune_scores(wd, Tensor(), false, sd);
      const int64_t k = pruning::prune_count(0.2, cuda::count_nonzero(md));
      int64_t cand = 0;
      SDD_CHECK(cuda::candidate_kth_value({sd}, {md}, k, &gpu_thr, &cand), "cuda selection failed");
      cuda::mask_keep_above(sd, md, gpu_thr, od);
    };
    const auto t0 = std::chrono::steady_clock::now();
    const float cpu_thr = cpu_pass();
    const double cpu_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    gpu_pass();
    const std::string tag = std::to_string(n);
    bench::validate(kBench, "threshold n=" + tag, gpu_thr == cpu_thr,
                    "cuda " + std::to_string(gpu_thr) + " cpu " + std::to_string(cpu_thr));
    bench::validate(kBench, "mask n=" + tag, od.to(Device::cpu()).to_vector<float>() == o.to_vector<float>());

    const double scores_ms = bench::time_ms([&] { cuda::prune_scores(wd, Tensor(), false, sd); }, ctx.stream);
    const double total_ms = bench::time_ms(gpu_pass, ctx.stream, 10, 2);
    bench::result(kBench, "scores_ms_n" + tag, scores_ms, "ms");
    bench::result(kBench, "scores_threshold_mask_ms_n" + tag, total_ms, "ms");
    bench::result(kBench, "cpu_scores_threshold_mask_ms_n" + tag, cpu_ms, "ms");
    bench::result(kBench, "speedup_vs_cpu_n" + tag, cpu_ms / total_ms, "x");
  }
  return 0;
}
