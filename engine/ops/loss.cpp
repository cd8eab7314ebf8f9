// engine/ops/loss.cpp — dispatch of the fused softmax + mean cross-entropy loss and the metrics.
//   loss[1] = mean_n -log softmax(logits[n])[labels[n]];  glogits = gloss / N * (probs - onehot)
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/op_checks.h"

namespace sdd::ops {

// logits f32 [N,K], labels i64 [N] -> [1]
Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  detail::check_f32("cross_entropy", logits, "logits");
  detail::check_dtype("cross_entropy", labels, DType::i64, "labels");
  detail::check_dim("cross_entropy", logits, 2, "logits");
  detail::check_dim("cross_entropy", labels, 1, "labels");
  detail::check_same_device("cross_entropy", {logits, labels});
  SDD_CHECK(labels.size(0) == logits.size(0),
            "cross_entropy: " << labels.str() << " labels for logits " << logits.str());
  SDD_CHECK(logits.size(0) > 0 && logits.size(1) > 0, "cross_entropy: empty logits " << logits.str());
  const Device dev = logits.device();
  Tensor probs = Tensor::empty(logits.shape(), DType::f32, dev);
  Tensor loss = Tensor::empty({1}, DType::f32, dev);
  SDD_DISPATCH(dev, softmax_xent_forward, logits, labels, probs, loss);
  if (autograd::needs_graph({logits})) {
    const Tensor lab = labels.detach();
    autograd::attach(loss, "cross_entropy", {logits},
                     [probs, lab](const Tensor& gy, const std::vector<bool>&, std::vector<Tensor>& g) {
                       Tensor gl = Tensor::empty(probs.shape(), DType::f32, probs.device());
                       SDD_DISPATCH(probs.device(), softmax_xent_backward, probs, lab, gy, gl);
                       g[0] = gl;
                     });
  }
  return loss;
}

// x f32 [N,K] -> i64 [N], index of the first maximum per row
Tensor argmax(const Tensor& x) {
  detail::check_f32("argmax", x, "x");
  detail::check_dim("argmax", x, 2, "x");
  SDD_CHECK(x.size(1) > 0, "argmax: rows of " << x.str() << " are empty");
  Tensor out = Tensor::empty({x.size(0)}, DType::i64, x.device());
  if (x.size(0) > 0) SDD_DISPATCH(x.device(), argmax_rows, x, out);
  return out;
}

// number of equal entries of two i64 tensors of the same shape
int64_t count_equal(const Tensor& a, const Tensor& b) {
  detail::check_dtype("count_equal", a, DType::i64, "a");
  detail::check_dtype("count_equal", b, DType::i64, "b");
  detail::check_same_device("count_equal", {a, b});
  detail::check_same_shape("count_equal", a, b);
  Tensor out = Tensor::empty({1}, DType::i64, a.device());
  if (a.numel() == 0) return 0;
  SDD_DISPATCH(a.device(), count_equal, a, b, out);
  return static_cast<int64_t>(out.item());
}

}  // namespace sdd::ops
