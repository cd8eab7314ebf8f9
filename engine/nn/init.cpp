// engine/nn/init.cpp — weight and BatchNorm initializers (SPEC 3.1). Values are drawn on the host
// in double from a Generator, rounded to f32 and copied to the tensor's device.
#include "engine/nn/init.h"

#include <cmath>
#include <sstream>

#include "engine/autograd/autograd.h"
#include "engine/nn/layers.h"

namespace sdd::nn::init {

namespace {

// Writes host values (double) into w as f32, on w's device.
void write(const Tensor& w, const std::vector<double>& vals) {
  SDD_CHECK(w.dtype() == DType::f32, "initializers write f32 tensors, got " << w.str());
  SDD_CHECK(static_cast<int64_t>(vals.size()) == w.numel(), vals.size() << " values for " << w.str());
  std::vector<float> f(vals.begin(), vals.end());
  NoGradGuard no_grad;
  Tensor dst = w;
  dst.copy_(Tensor::from_vector(f, w.shape()));
}

std::string join_names(const std::vector<std::string>& v) {
  std::ostringstream os;
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  return os.str();
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

// The weight of a Conv2d or Linear, undefined for other modules.
Tensor prunable_weight(Module& m) {
  if (auto* l = dynamic_cast<Linear*>(&m)) return l->weight;
  if (auto* c = dynamic_cast<Conv2d*>(&m)) return c->weight;
  return Tensor();
}

}  // namespace

int64_t fan_in(const Tensor& w) {
  SDD_CHECK(w.dim() >= 2, "fan_in needs a weight of 2 or more dimensions, got " << w.str());
  return w.numel() / w.size(0);
}

void uniform_(const Tensor& w, double lo, double hi, Generator& g) {
  std::vector<double> v(static_cast<size_t>(w.numel()));
  for (double& x : v) x = g.uniform(lo, hi);
  write(w, v);
}

void normal_(const Tensor& w, double mean, double std, Generator& g) {
  std::vector<double> v(static_cast<size_t>(w.numel()));
  for (double& x : v) x = mean + std * g.normal();
  write(w, v);
}

void kaiming_normal_(const Tensor& w, Generator& g) {
  normal_(w, 0.0, std::sqrt(2.0 / static_cast<double>(fan_in(w))), g);
}

void kaiming_uniform_(const Tensor& w, Generator& g) {
  const double bound = std::sqrt(6.0 / static_cast<double>(fan_in(w)));
  uniform_(w, -bound, bound, g);
}

// QR with R's diagonal made positive is unique, and torch's orthogonal_ (Q * sign(diag(R))) is
// exactly that factor. Gram-Schmidt with a second orthogonalisation pass (CGS2) produces it directly
// (each R[j][j] is a norm, hence positive), stable to working precision in double.
void orthogonal_(const Tensor& w, Generator& g) {
  SDD_CHECK(w.dim() >= 2, "orthogonal_ needs a weight of 2 or more dimensions, got " << w.str());
  const int64_t rows = w.size(0), cols = w.numel() / rows;
  std::vector<double> a(static_cast<size_t>(rows * cols));   // flat [rows, cols], row-major
  for (double& x : a) x = g.normal();
  // Factor the tall matrix m [M, N], M >= N: m = a, or a^T when rows < cols.
  const bool transpose = rows < cols;
  const int64_t M = transpose ? cols : rows, N = transpose ? rows : cols;
  // Column-major copy: col j is q[j*M .. j*M + M).
  std::vector<double> q(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const double x = a[static_cast<size_t>(i * cols + j)];
      if (transpose) q[static_cast<size_t>(i * M + j)] = x;   // m[j][i] = a[i][j]: column i
      else q[static_cast<size_t>(j * M + i)] = x;             // m[i][j]: column j
    }
  for (int64_t j = 0; j < N; ++j) {
    double* qj = &q[static_cast<size_t>(j * M)];
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t k = 0; k < j; ++k) {
        const double* qk = &q[static_cast<size_t>(k * M)];
        double dot = 0.0;
        for (int64_t i = 0; i < M; ++i) dot += qk[i] * qj[i];
        for (int64_t i = 0; i < M; ++i) qj[i] -= dot * qk[i];
      }
    }
    double nrm = 0.0;
    for (int64_t i = 0; i < M; ++i) nrm += qj[i] * qj[i];
    nrm = std::sqrt(nrm);
    SDD_CHECK(nrm > 0.0, "orthogonal_: rank-deficient draw");
    for (int64_t i = 0; i < M; ++i) qj[i] /= nrm;
  }
  // Back to the weight layout [rows, cols]: Q [M, N], transposed when rows < cols.
  std::vector<double> out(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      out[static_cast<size_t>(i * cols + j)] =
          transpose ? q[static_cast<size_t>(i * M + j)] : q[static_cast<size_t>(j * M + i)];
  write(w, out);
}

void binary_(const Tensor& w, Generator& g) {
  kaiming_normal_(w, g);
  // Values as stored (f32), std unbiased as torch.std.
  const std::vector<float> v = w.to(Device::cpu()).to_vector<float>();
  const double n = static_cast<double>(v.size());
  double mean = 0.0;
  for (float x : v) mean += x;
  mean /= n;
  double ss = 0.0;
  for (float x : v) ss += (x - mean) * (x - mean);
  const double sd = n > 1 ? std::sqrt(ss / (n - 1.0)) : 0.0;
  const float sdf = static_cast<float>(sd);
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v[i] > 0.f ? sdf : (v[i] < 0.f ? -sdf : 0.f);
  write(w, out);
}

const std::vector<std::string>& weight_initializer_names() {
  static const std::vector<std::string> names = {"kaiming_normal", "kaiming_uniform", "orthogonal", "binary"};
  return names;
}

const std::vector<std::string>& bn_initializer_names() {
  static const std::vector<std::string> names = {"uniform", "fixed", "oneone", "positivenegative"};
  return names;
}

void apply_weight_init(Module& m, const std::string& name) {
  SDD_USER_CHECK(contains(weight_initializer_names(), name),
                 "unknown model initializer '" << name << "'; valid: " << join_names(weight_initializer_names()));
  Tensor w = prunable_weight(m);
  if (!w.defined()) return;
  if (name == "kaiming_normal") kaiming_normal_(w);
  else if (name == "kaiming_uniform") kaiming_uniform_(w);
  else if (name == "orthogonal") orthogonal_(w);
  else binary_(w);
}

void apply_bn_init(Module& m, const std::string& bn_name) {
  SDD_USER_CHECK(contains(bn_initializer_names(), bn_name),
                 "unknown batchnorm initializer '" << bn_name << "'; valid: " << join_names(bn_initializer_names()));
  auto* bn = dynamic_cast<BatchNorm2d*>(&m);
  if (bn == nullptr) return;
  if (bn_name == "uniform") {
    uniform_(bn->weight, 0.0, 1.0);
    bn->bias.fill_(0.0);
  } else if (bn_name == "fixed") {
    bn->weight.fill_(1.0);
    bn->bias.fill_(0.0);
  } else if (bn_name == "oneone") {
    bn->weight.fill_(1.0);
    bn->bias.fill_(1.0);
  } else {
    uniform_(bn->weight, -1.0, 1.0);
    bn->bias.fill_(0.0);
  }
}

void apply_initializers(Module& root, const std::string& name, const std::string& bn_name) {
  SDD_USER_CHECK(contains(weight_initializer_names(), name),
                 "unknown model initializer '" << name << "'; valid: " << join_names(weight_initializer_names()));
  SDD_USER_CHECK(contains(bn_initializer_names(), bn_name),
                 "unknown batchnorm initializer '" << bn_name << "'; valid: " << join_names(bn_initializer_names()));
  for (auto& nm : root.named_modules()) {
    apply_weight_init(*nm.second, name);
    apply_bn_init(*nm.second, bn_name);
  }
}

}  // namespace sdd::nn::init
