// tests/test_cuda_kernels.cpp — [cuda] our own pruning and augmentation kernels against the CPU
// reference entries (engine/backend_pruning.inc, engine/backend_data.inc), DESIGN rule 1: scores and
// masks exactly equal, the threshold equal to the CPU nth_element (ties and odd sizes included), the
// augmented batch bit-equal. Without a device each test prints "SKIPPED: no CUDA device".
#include <catch2/catch.hpp>

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/device.h"
#include "engine/rng.h"
#include "engine/tensor.h"

using namespace sdd;

#define SDD_SKIP_WITHOUT_CUDA()                            \
  do {                                                     \
    if (sdd::cuda_device_count() == 0) {                   \
      std::cout << "SKIPPED: no CUDA device" << std::endl; \
      return;                                              \
    }                                                      \
  } while (0)

namespace {

const Device kGpu = Device::cuda(0);

// Values from `levels` magnitudes of both signs (ties), or continuous when levels == 0.
Tensor values_host(int64_t n, Generator& gen, int levels) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v)
    x = levels > 0 ? static_cast<float>(static_cast<int64_t>(gen.below(2 * levels + 1)) - levels) * 0.25f
                   : static_cast<float>(gen.uniform(-1.0, 1.0));
  return Tensor::from_vector(v, {n});
}

Tensor mask_host(int64_t n, Generator& gen, double keep) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = gen.uniform() < keep ? 1.f : 0.f;
  return Tensor::from_vector(v, {n});
}

// Bitwise equality of two f32 tensors (the second on the host); prints the first difference.
void check_bits(const Tensor& got_any, const Tensor& want, const std::string& what) {
  const std::vector<float> g = got_any.to(Device::cpu()).to_vector<float>();
  const std::vector<float> w = want.to_vector<float>();
  REQUIRE(g.size() == w.size());
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::memcmp(&g[i], &w[i], sizeof(float)) != 0) {
      std::cout << what << ": first difference at " << i << " cuda " << g[i] << " cpu " << w[i] << std::endl;
      FAIL(what);
    }
  }
}

}  // namespace

TEST_CASE("cuda prune_scores and mask_keep_above equal the CPU exactly", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(3);
  for (int64_t n : {1, 31, 1000, 65537, 1 << 20}) {
    const Tensor w = values_host(n, gen, 0), g = values_host(n, gen, 0), m = mask_host(n, gen, 0.6);
    const Tensor wd = w.to(kGpu), gd = g.to(kGpu), md = m.to(kGpu);
    for (int mode = 0; mode < 3; ++mode) {
      CAPTURE(n, mode);
      Tensor s = Tensor::empty({n}), sd = Tensor::empty({n}, DType::f32, kGpu);
      cpu::prune_scores(w, mode == 2 ? g : Tensor(), mode == 1, s);
      cuda::prune_scores(wd, mode == 2 ? gd : Tensor(), mode == 1, sd);
      check_bits(sd, s, "prune_scores");
      const float thr = mode == 1 ? -0.5f : 0.25f;
      Tensor o = Tensor::empty({n}), od = Tensor::empty({n}, DType::f32, kGpu);
      cpu::mask_keep_above(s, m, thr, o);
      cuda::mask_keep_above(sd, md, thr, od);
      check_bits(od, o, "mask_keep_above");
    }
    CHECK(cuda::count_nonzero(md) == cpu::count_nonzero(m));
  }
}

TEST_CASE("cuda candidate_kth_value equals the CPU selection", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(9);
  for (int levels : {0, 3, 200}) {
    // Several tensors of odd sizes, as a list (global scope), and each alone (layer scope).
    std::vector<Tensor> s, m, sd, md;
    for (int64_t n : {1, 7, 4099, 300001}) {
      s.push_back(values_host(n, gen, levels));
      m.push_back(mask_host(n, gen, 0.35));
      sd.push_back(s.back().to(kGpu));
      md.push_back(m.back().to(kGpu));
    }
    int64_t total = 0;
    for (const auto& t : m) total += cpu::count_nonzero(t);
    for (double q : {0.0, 0.001, 0.2, 0.5, 0.999}) {
      const auto n = static_cast<int64_t>(q * static_cast<double>(total - 1));
      CAPTURE(levels, q, n);
      float thr_c = 0.f, thr_g = 1.f;
      int64_t cand_c = -1, cand_g = -2;
      REQUIRE(cpu::candidate_kth_value(s, m, n, &thr_c, &cand_c));
      REQUIRE(cuda::candidate_kth_value(sd, md, n, &thr_g, &cand_g));
      CHECK(cand_g == cand_c);
      CHECK(thr_g == thr_c);
    }
    for (size_t k = 0; k < s.size(); ++k) {
      const int64_t live = cpu::count_nonzero(m[k]);
      if (live == 0) continue;
      float thr_c = 0.f, thr_g = 1.f;
      int64_t cand_c = -1, cand_g = -2;
      REQUIRE(cpu::candidate_kth_value({s[k]}, {m[k]}, live / 3, &thr_c, &cand_c));
      REQUIRE(cuda::candidate_kth_value({sd[k]}, {md[k]}, live / 3, &thr_g, &cand_g));
      CHECK(cand_g == cand_c);
      CHECK(thr_g == thr_c);
    }
    float thr = 0.f;
    int64_t cand = 0;
    CHECK_FALSE(cuda::candidate_kth_value(sd, md, total, &thr, &cand));
    CHECK(cand == total);
  }
}

TEST_CASE("cuda crop_flip_batch is bit-equal to the CPU functor", "[cuda]") {
  SDD_SKIP_WITHOUT_CUDA();
  Generator gen(21);
  struct Case { int64_t N, H, W, C; int32_t pad; };
  for (const Case& c : {Case{50, 32, 32, 3, 4}, Case{17, 28, 28, 1, 0}, Case{9, 13, 11, 4, 2}}) {
    std::vector<uint8_t> px(static_cast<size_t>(c.N * c.H * c.W * c.C));
    for (auto& p : px) p = static_cast<uint8_t>(gen.below(256));
    const Tensor images = Tensor::from_vector(px, {c.N, c.H, c.W, c.C});
    std::vector<int64_t> idx(static_cast<size_t>(c.N + 5));
    for (auto& i : idx) i = static_cast<int64_t>(gen.below(static_cast<uint64_t>(c.N)));
    const Tensor indices = Tensor::from_vector(idx, {static_cast<int64_t>(idx.size())});
    const std::vector<float> mean = {0.49f, 0.48f, 0.45f, 0.5f}, stdv = {0.25f, 0.24f, 0.26f, 0.3f};
    const std::vector<float> mc(mean.begin(), mean.begin() + c.C), sc(stdv.begin(), stdv.begin() + c.C);
    const Tensor images_d = images.to(kGpu), indices_d = indices.to(kGpu);
    for (bool augment : {false, true}) {
      for (uint64_t epoch : {0ull, 5ull}) {
        CAPTURE(c.H, c.W, c.C, augment, epoch);
        const Shape shape = {static_cast<int64_t>(idx.size()), c.C, c.H, c.W};
        Tensor want = Tensor::empty(shape), got = Tensor::empty(shape, DType::f32, kGpu);
        cpu::crop_flip_batch(images, indices, want, c.pad, augment, 77, epoch, mc, sc);
        cuda::crop_flip_batch(images_d, indices_d, got, c.pad, augment, 77, epoch, mc, sc);
        check_bits(got, want, "crop_flip_batch");
      }
    }
  }
}
