// engine/cuda/gemm_cuda.cpp — CUDA GEMM through cuBLAS and the bias helpers of the linear and
// convolution layers (kernels/reduce.cu).
//
// Row-major c[M,N] = alpha * op(a) @ op(b) + beta * c through column-major cuBLAS: a row-major
// matrix read column-major is its transpose, so we compute c^T = op(b)^T @ op(a)^T, i.e. call
// cublasSgemm with the operands swapped (b first), the same transpose flags, m = N, n = M, and
// leading dimensions equal to the row lengths of the row-major buffers.
// Math mode (engine/precision.h): fp32 and tf32 run cublasSgemm in cuBLAS's default math (fp32, no
// TF32: PyTorch's default allow_tf32 = False for matmuls); bf16 autocasts a and b to bf16 copies
// (kernels/bf16_cast.cu, scratch slots 0 and 1) and runs cublasGemmEx with bf16 inputs, fp32
// compute (CUBLAS_COMPUTE_32F) and the f32 c, so alpha, beta and the output stay fp32.
#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "kernels/bf16_cast.h"
#include "kernels/reduce.h"

namespace sdd::cuda {

void gemm(bool trans_a, bool trans_b, float alpha, const Tensor& a, const Tensor& b, float beta, const Tensor& c) {
  const int64_t M = c.size(0), N = c.size(1);
  const int64_t K = trans_a ? a.size(0) : a.size(1);
  SDD_CHECK((trans_b ? b.size(1) : b.size(0)) == K, "gemm inner dimensions: " << a.str() << " x " << b.str());
  if (M == 0 || N == 0) return;
  Context& ctx = context_for(c);
  const int64_t lda = a.size(1), ldb = b.size(1);
  SDD_CHECK(M < (1LL << 31) && N < (1LL << 31) && K < (1LL << 31), "gemm too large for cuBLAS int32 sizes");
  if (K == 0) {
    // No products: c = beta * c (cuBLAS does the same, but lda/ldb must still be >= 1).
    affine(c, beta, 0.f, c);
    return;
  }
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (bf16_autocast()) {
    require_bf16(ctx);
    auto* a16 = static_cast<uint16_t*>(ctx.scratch(0, static_cast<size_t>(a.numel()) * 2));
    auto* b16 = static_cast<uint16_t*>(ctx.scratch(1, static_cast<size_t>(b.numel()) * 2));
    kern::launch_to_bf16(a.data<float>(), a16, a.numel(), ctx.stream);
    kern::launch_to_bf16(b.data<float>(), b16, b.numel(), ctx.stream);
    // c^T[N,M] = op(b)^T @ op(a)^T with bf16 operands, fp32 accumulation and output
    SDD_CUBLAS_CHECK(cublasGemmEx(ctx.cublas, op_b, op_a, static_cast<int>(N), static_cast<int>(M),
                                  static_cast<int>(K), &alpha, b16, CUDA_R_16BF, static_cast<int>(ldb), a16,
                                  CUDA_R_16BF, static_cast<int>(lda), &beta, c.data<float>(), CUDA_R_32F,
                                  static_cast<int>(N), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return;
  }
  SDD_CUBLAS_CHECK(cublasSgemm(ctx.cublas, op_b, op_a, static_cast<int>(N), static_cast<int>(M), static_cast<int>(K),
                               &alpha, b.data<float>(), static_cast<int>(ldb), a.data<float>(), static_cast<int>(lda),
                               &beta, c.data<float>(), static_cast<int>(N)));
}

// y[N,F] += bias[F]
void add_row_bias(const Tensor& y, const Tensor& bias) {
  Context& ctx = context_for(y);
  const int64_t F = bias.numel();
  kern::launch_add_row_bias(y.data<float>(), bias.data<float>(), F ? y.numel() / F : 0, F, ctx.stream);
}

// out[F] = sum_n g[N,F]
void sum_rows(const Tensor& g, const Tensor& out) {
  Context& ctx = context_for(out);
  const int64_t F = out.numel();
  kern::launch_sum_rows(g.data<float>(), F ? g.numel() / F : 0, F, out.data<float>(), ctx.stream);
}

// y[N,C,H,W] += bias[C]
void add_channel_bias(const Tensor& y, const Tensor& bias) {
  Context& ctx = context_for(y);
  const int64_t N = y.size(0), C = y.size(1);
  const int64_t HW = (N * C != 0) ? y.numel() / (N * C) : 0;
  kern::launch_add_channel_bias(y.data<float>(), bias.data<float>(), N, C, HW, ctx.stream);
}

// out[C] = sum_{n,h,w} g[N,C,H,W]
void sum_channels(const Tensor& g, const Tensor& out) {
  Context& ctx = context_for(out);
  const int64_t N = g.size(0), C = g.size(1);
  const int64_t HW = (N * C != 0) ? g.numel() / (N * C) : 0;
  kern::launch_sum_channels(g.data<float>(), N, C, HW, out.data<float>(), ctx.stream);
}

}  // namespace sdd::cuda
