// engine/ops/shape.cpp — reshape and flatten: views sharing the input's storage; the gradient is
// the output gradient viewed back to the input's shape.
#include "engine/ops.h"
#include "engine/ops/op_checks.h"

namespace sdd::ops {

// x -> x viewed as `shape` (one dimension may be -1 and is inferred)
Tensor reshape(const Tensor& x, const Shape& shape) {
  detail::check_defined("reshape", x, "x");
  Shape s = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      SDD_CHECK(infer < 0, "reshape: more than one -1 in " << shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      SDD_CHECK(s[i] >= 0, "reshape: negative dimension in " << shape_str(shape));
      known *= s[i];
    }
  }
  if (infer >= 0) {
    SDD_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot view " << x.str() << " as " << shape_str(shape));
    s[static_cast<size_t>(infer)] = x.numel() / known;
  }
  SDD_CHECK(shape_numel(s) == x.numel(), "reshape: cannot view " << x.str() << " as " << shape_str(shape));
  Tensor out = x.view(s);
  if (autograd::needs_graph({x})) {
    const Shape in_shape = x.shape();
    autograd::attach(out, "reshape", {x}, [in_shape](const Tensor& gy, const std::vector<bool>&, std::vector<Tensor>& g) {
      g[0] = gy.view(in_shape);
    });
  }
  return out;
}

// [N, ...] -> [N, prod(...)]
Tensor flatten(const Tensor& x) {
  detail::check_defined("flatten", x, "x");
  SDD_CHECK(x.dim() >= 1, "flatten: needs at least 1 dimension, got " << x.str());
  const int64_t n = x.size(0);
  return reshape(x, {n, n == 0 ? 0 : x.numel() / n});
}

}  // namespace sdd::ops
