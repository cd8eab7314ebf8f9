// kernels/launch.h — grid math shared by the kernel launchers in kernels/*.cu (host-only header).
// Element kernels grid-stride: blocks of kThreads threads, enough blocks to cover n once, capped so
// that very large tensors still launch (each thread then loops).
#pragma once
#include <cstdint>

namespace sdd::kern {

constexpr int kThreads = 256;

inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks < 1) blocks = 1;
  if (blocks > 4096LL * 32) blocks = 4096LL * 32;
  return static_cast<unsigned>(blocks);
}

}  // namespace sdd::kern
