// engine/cuda/loss_cuda.cpp — CUDA entry points of the fused softmax cross-entropy, row argmax and
// count_equal (kernels/loss.cu). labels: i64 [N]; probs: [N,K]; loss: [1].
#include "engine/cuda/context.h"
#include "engine/cuda/cuda_backend.h"
#include "kernels/loss.h"

namespace sdd::cuda {

// probs = softmax(logits), loss[1] = mean_n -log probs[n, labels[n]]  (NaN for a label outside [0,K))
void softmax_xent_forward(const Tensor& logits, const Tensor& labels, const Tensor& probs, const Tensor& loss) {
  Context& ctx = context_for(loss);
  const int64_t N = logits.size(0), K = logits.size(1);
  Tensor row_loss = Tensor::empty({N}, DType::f32, loss.device());  // caching allocator: no cudaMalloc
  kern::launch_softmax_xent_forward(logits.data<float>(), labels.data<int64_t>(), N, K, probs.data<float>(),
                                    row_loss.data<float>(), loss.data<float>(), ctx.stream);
}

// glogits = gloss / N * (probs - onehot(labels))
void softmax_xent_backward(const Tensor& probs, const Tensor& labels, const Tensor& gloss, const Tensor& glogits) {
  Context& ctx = context_for(glogits);
  kern::launch_softmax_xent_backward(probs.data<float>(), labels.data<int64_t>(), gloss.data<float>(), probs.size(0),
                                     probs.size(1), glogits.data<float>(), ctx.stream);
}

void argmax_rows(const Tensor& x, const Tensor& out) {
  Context& ctx = context_for(out);
  kern::launch_argmax_rows(x.data<float>(), x.size(0), x.size(1), out.data<int64_t>(), ctx.stream);
}

void count_equal(const Tensor& a, const Tensor& b, const Tensor& out) {
  Context& ctx = context_for(out);
  kern::launch_count_equal(a.data<int64_t>(), b.data<int64_t>(), a.numel(), out.data<int64_t>(), ctx.stream);
}

}  // namespace sdd::cuda
