// bench/conv_bench.cu — cuDNN convolutions (engine/cuda/conv_cuda.cpp) at every distinct convolution
// shape of ResNet-18 CIFAR (3x3 stem, no maxpool) at batch 128: forward, backward data and backward
// filter, in fp32 and TF32, as milliseconds and TFLOP/s (2*N*K*P*Q*C*R*S per pass). Each shape is
// first validated against the CPU im2col reference at batch 2 with TF32 off (rtol 1e-3, atol 1e-4).
#include <cstdio>
#include <string>
#include <vector>

#include "bench/gpu_bench_common.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/rng.h"

using namespace sdd;

namespace {

Conv2dGeom geom(int64_t N, int64_t C, int64_t H, int64_t K, int64_t R, int64_t stride) {
  Conv2dGeom g;
  g.N = N;
  g.C = C;
  g.H = g.W = H;
  g.K = K;
  g.R = g.S = R;
  g.stride_h = g.stride_w = stride;
  g.pad_h = g.pad_w = R / 2;
  g.P = (H + 2 * g.pad_h - R) / stride + 1;
  g.Q = g.P;
  return g;
}

Tensor rand_host(const Shape& s, Generator& gen) {
  std::vector<float> v(static_cast<size_t>(shape_numel(s)));
  for (float& x : v) x = static_cast<float>(gen.uniform(-1.0, 1.0));
  return Tensor::from_vector(v, s);
}

}  // namespace

int main() {
  const char* kBench = "conv";
  bench::require_device(kBench);
  std::printf("device: %s\n", bench::device_name().c_str());
  const Device gpu = Device::cuda(0);
  cuda::Context& ctx = cuda::context(0);
  struct Shape_ { const char* name; int64_t C, H, K, R, stride; };
  const Shape_ shapes[] = {
      {"stem_3x32_64", 3, 32, 64, 3, 1},          {"l1_64x32_64", 64, 32, 64, 3, 1},
      {"l2a_64x32_128_s2", 64, 32, 128, 3, 2},    {"l2_128x16_128", 128, 16, 128, 3, 1},
      {"l2sc_64x32_128_1x1s2", 64, 32, 128, 1, 2}, {"l3a_128x16_256_s2", 128, 16, 256, 3, 2},
      {"l3_256x8_256", 256, 8, 256, 3, 1},        {"l3sc_128x16_256_1x1s2", 128, 16, 256, 1, 2},
      {"l4a_256x8_512_s2", 256, 8, 512, 3, 2},    {"l4_512x4_512", 512, 4, 512, 3, 1},
      {"l4sc_256x8_512_1x1s2", 256, 8, 512, 1, 2},
  };
  Generator gen(4);
  for (const auto& s : shapes) {
    // ---- validation at batch 2, fp32
    {
      cuda::conv_allow_tf32() = false;
      const Conv2dGeom g = geom(2, s.C, s.H, s.K, s.R, s.stride);
      const Tensor x = rand_host({g.N, g.C, g.H, g.W}, gen), w = rand_host({g.K, g.C, g.R, g.S}, gen);
      const Tensor gy = rand_host({g.N, g.K, g.P, g.Q}, gen);
      Tensor y = Tensor::empty(gy.shape()), gx = Tensor::empty(x.shape()), gw = Tensor::empty(w.shape());
      cpu::conv2d_forward(g, x, w, y);
      cpu::conv2d_backward_data(g, gy, w, gx);
      cpu::conv2d_backward_filter(g, x, gy, gw);
      const Tensor xd = x.to(gpu), wd = w.to(gpu), gyd = gy.to(gpu);
      Tensor yd = Tensor::empty(y.shape(), DType::f32, gpu), gxd = Tensor::empty(x.shape(), DType::f32, gpu);
      Tensor gwd = Tensor::empty(w.shape(), DType::f32, gpu);
      cuda::conv2d_forward(g, xd, wd, yd);
      cuda::conv2d_backward_data(g, gyd, wd, gxd);
      cuda::conv2d_backward_filter(g, xd, gyd, gwd);
      const double r = std::max({bench::worst_ratio(yd, y, 1e-3, 1e-4), bench::worst_ratio(gxd, gx, 1e-3, 1e-4),
                                 bench::worst_ratio(gwd, gw, 1e-3, 1e-4)});
      bench::validate(kBench, s.name, r <= 1.0, "worst ratio " + std::to_string(r));
    }
    // ---- timing at batch 128
    const Conv2dGeom g = geom(128, s.C, s.H, s.K, s.R, s.stride);
    Tensor x = rand_host({g.N, g.C, g.H, g.W}, gen).to(gpu), w = rand_host({g.K, g.C, g.R, g.S}, gen).to(gpu);
    Tensor gy = rand_host({g.N, g.K, g.P, g.Q}, gen).to(gpu);
    Tensor y = Tensor::empty(gy.shape(), DType::f32, gpu), gx = Tensor::empty(x.shape(), DType::f32, gpu);
    Tensor gw = Tensor::empty(w.shape(), DType::f32, gpu);
    const double flop = 2.0 * double(g.N * g.K * g.P * g.Q) * double(g.C * g.R * g.S);
    for (bool tf32 : {false, true}) {
      cuda::conv_allow_tf32() = tf32;
      const std::string p = std::string(s.name) + (tf32 ? "_tf32" : "_fp32");
      const double f = bench::time_ms([&] { cuda::conv2d_forward(g, x, w, y); }, ctx.stream);
      const double bd = bench::time_ms([&] { cuda::conv2d_backward_data(g, gy, w, gx); }, ctx.stream);
      const double bf = bench::time_ms([&] { cuda::conv2d_backward_filter(g, x, gy, gw); }, ctx.stream);
      bench::result(kBench, p + "_fwd_ms", f, "ms");
      bench::result(kBench, p + "_bwd_data_ms", bd, "ms");
      bench::result(kBench, p + "_bwd_filter_ms", bf, "ms");
      bench::result(kBench, p + "_fwd_tflops", flop / (f * 1e9), "TFLOP/s");
      bench::result(kBench, p + "_bwd_data_tflops", flop / (bd * 1e9), "TFLOP/s");
      bench::result(kBench, p + "_bwd_filter_tflops", flop / (bf * 1e9), "TFLOP/s");
    }
  }
  cuda::conv_allow_tf32() = true;
  return 0;
}
