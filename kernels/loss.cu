// kernels/loss.cu — fused softmax cross-entropy and the accuracy metrics.
// Row math is kernels/loss_ops.h, shared with the CPU backend:
//   forward: p[n,:] = softmax(z[n,:]);  row_loss[n] = log sum_k exp(z - m) + m - z[n, y_n]
//            loss = (1/N) sum_n row_loss[n]           (one thread per row, then one block sums
//                                                      the rows in double, in a fixed order)
//   backward: g[n,k] = gloss/N * (p[n,k] - [k == y_n])   (grid-stride over N*K)
//   argmax_rows: first index of the row maximum;  count_equal: #{a == b} (one block).
#include "engine/cuda/cuda_check.h"
#include "kernels/launch.h"
#include "kernels/loss.h"
#include "kernels/loss_ops.h"

namespace sdd::kern {

namespace {

constexpr int kBlock = 256;

__global__ void xent_rows_kernel(const float* z, const int64_t* labels, int64_t N, int64_t K, float* p,
                                 float* row_loss) {
  for (int64_t n = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; n < N; n += int64_t(gridDim.x) * blockDim.x) {
    const int64_t y = labels[n];
    const bool ok = y >= 0 && y < K;
    const float l = softmax_xent_row(z + n * K, K, ok ? y : 0, p + n * K);
    row_loss[n] = ok ? l : NAN;
  }
}

// One block: loss[0] = mean of row_loss[0..N)
__global__ void mean_kernel(const float* row_loss, int64_t N, float* loss) {
  __shared__ double part[kBlock];
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < N; i += blockDim.x) acc += row_loss[i];
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) loss[0] = N == 0 ? 0.f : static_cast<float>(part[0] / static_cast<double>(N));
}

__global__ void xent_backward_kernel(const float* p, const int64_t* labels, const float* gloss, int64_t N, int64_t K,
                                     float* g) {
  const float scale = N == 0 ? 0.f : gloss[0] / static_cast<float>(N);
  const int64_t total = N * K;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / K, k = i - n * K;
    g[i] = softmax_xent_grad_op(p[i], k == labels[n], scale);
  }
}

__global__ void argmax_rows_kernel(const float* x, int64_t N, int64_t K, int64_t* out) {
  for (int64_t n = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; n < N; n += int64_t(gridDim.x) * blockDim.x)
    out[n] = argmax_row(x + n * K, K);
}

// One block: out[0] = #{a == b}
__global__ void count_equal_kernel(const int64_t* a, const int64_t* b, int64_t n, int64_t* out) {
  __shared__ long long part[kBlock];
  long long acc = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) acc += a[i] == b[i] ? 1 : 0;
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = part[0];
}

}  // namespace

void launch_softmax_xent_forward(const float* logits, const int64_t* labels, int64_t N, int64_t K, float* probs,
                                 float* row_loss, float* loss, cudaStream_t stream) {
  if (N > 0) {
    xent_rows_kernel<<<grid_for(N, 128), 128, 0, stream>>>(logits, labels, N, K, probs, row_loss);
    SDD_CUDA_LAUNCH_CHECK("xent_rows_kernel");
  }
  mean_kernel<<<1, kBlock, 0, stream>>>(row_loss, N, loss);
  SDD_CUDA_LAUNCH_CHECK("mean_kernel");
}

void launch_softmax_xent_backward(const float* probs, const int64_t* labels, const float* gloss, int64_t N,
                                  int64_t K, float* glogits, cudaStream_t stream) {
  if (N * K <= 0) return;
  xent_backward_kernel<<<grid_for(N * K), kThreads, 0, stream>>>(probs, labels, gloss, N, K, glogits);
  SDD_CUDA_LAUNCH_CHECK("xent_backward_kernel");
}

void launch_argmax_rows(const float* x, int64_t N, int64_t K, int64_t* out, cudaStream_t stream) {
  if (N <= 0 || K <= 0) return;
  argmax_rows_kernel<<<grid_for(N, 128), 128, 0, stream>>>(x, N, K, out);
  SDD_CUDA_LAUNCH_CHECK("argmax_rows_kernel");
}

void launch_count_equal(const int64_t* a, const int64_t* b, int64_t n, int64_t* out, cudaStream_t stream) {
  count_equal_kernel<<<1, kBlock, 0, stream>>>(a, b, n, out);
  SDD_CUDA_LAUNCH_CHECK("count_equal_kernel");
}

}  // namespace sdd::kern
