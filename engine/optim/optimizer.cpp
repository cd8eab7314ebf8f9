// engine/optim/optimizer.cpp — SGD and Adam over the flat arena: one backend call per trainable range.
#include "engine/optim/optimizer.h"

#include <cmath>
#include <limits>

#include "engine/cpu/cpu_backend.h"
#include "engine/ops/dispatch.h"
#include "engine/optim/grad_support.h"

namespace sdd::optim {

namespace {
void check_arena(const Tensor& t, const nn::FlatParams& fp, const char* what) {
  SDD_CHECK(t.dtype() == DType::f32 && t.numel() == fp.total,
            what << " arena is " << t.str() << ", expected f32[" << fp.total << "]");
  SDD_CHECK(!fp.params.defined() || t.device() == fp.params.device(),
            what << " arena is on " << t.device().str() << ", parameters on " << fp.params.device().str());
}
}  // namespace

void Optimizer::set_mask(const Tensor& mask, const Tensor& reset) {
  SDD_CHECK(mask.defined() || !reset.defined(), "a reset arena needs a mask arena");
  if (mask.defined()) check_arena(mask, fp_, "mask");
  if (reset.defined()) check_arena(reset, fp_, "reset");
  mask_ = mask;
  reset_ = reset;
  update_grad_supports();
}

void Optimizer::step_and_zero_grad(double lr) {
  if (!fp_.grads.defined()) return step(lr);
  const auto ranges = fp_.trainable_ranges();
  update(lr, true);
  // Entries outside the trainable ranges (frozen parameters) are zeroed as zero_grad() would.
  int64_t at = 0;
  for (const auto& r : ranges) {
    if (r.first > at) Tensor::view_of(fp_.grads, at, {r.first - at}).fill_(0.0);
    at = r.second;
  }
  if (fp_.total > at) Tensor::view_of(fp_.grads, at, {fp_.total - at}).fill_(0.0);
}

Optimizer::~Optimizer() {
  if (!supports_registered_) return;
  for (const Tensor& t : fp_.tensors) clear_grad_support(t);
}

void Optimizer::note_direct_writes() {
  for (SupportIndex& s : support_index_) s.stamp = -1;
}

void Optimizer::update_grad_supports() {
  support_index_.clear();
  if (fp_.tensors.size() != fp_.entries.size()) return;
  const bool on = mask_.defined() && reads_only_kept_gradients();
  if (!on && !supports_registered_) return;
  for (size_t i = 0; i < fp_.entries.size(); ++i) {
    const nn::FlatEntry& e = fp_.entries[i];
    if (on)
      set_grad_support(fp_.tensors[i], Tensor::view_of(mask_, e.offset, e.shape));
    else
      clear_grad_support(fp_.tensors[i]);
  }
  supports_registered_ = on;
  if (!on || !mask_.device().is_cpu() || fp_.total > std::numeric_limits<int32_t>::max()) return;
  const float* m = mask_.data<float>();
  support_index_.resize(fp_.entries.size());
  for (size_t i = 0; i < fp_.entries.size(); ++i) {
    const nn::FlatEntry& e = fp_.entries[i];
    int64_t kept = 0;
    for (int64_t j = e.offset; j < e.offset + e.numel; ++j) kept += m[j] != 0.f;
    // Above a quarter kept, the contiguous pass (over both cores for a large slice) is as fast as
    // updating the kept entries one by one.
    if (4 * kept > e.numel) continue;
    support_index_[i].indexed = true;
    std::vector<int32_t>& idx = support_index_[i].kept;
    idx.reserve(static_cast<size_t>(kept));
    for (int64_t j = e.offset; j < e.offset + e.numel; ++j)
      if (m[j] != 0.f) idx.push_back(static_cast<int32_t>(j));
  }
}

void Optimizer::load_state_tensors(const nn::NamedTensors& state, int64_t steps) {
  nn::NamedTensors mine = state_tensors();
  for (auto& t : mine) {
    const Tensor* src = nullptr;
    for (const auto& s : state)
      if (s.first == t.first) src = &s.second;
    SDD_USER_CHECK(src != nullptr, "optimizer state '" << t.first << "' is missing from the checkpoint; "
                                                       << "resume with the same optimizer settings or delete the checkpoint");
    SDD_USER_CHECK(src->numel() == t.second.numel() && src->dtype() == DType::f32,
                   "optimizer state '" << t.first << "' is " << src->str() << " in the checkpoint but f32["
                                       << t.second.numel() << "] here; resume with the same model or delete the checkpoint");
    t.second.copy_(*src);
  }
  note_direct_writes();
  SDD_USER_CHECK(steps >= 0, "optimizer step count " << steps << " in the checkpoint is negative; the file is corrupt");
  steps_ = steps;
}

// ---------------------------------------------------------------- SGD

Sgd::Sgd(nn::FlatParams fp, const SgdOptions& o) : Optimizer(std::move(fp)), opt_(o) {
  SDD_USER_CHECK(o.momentum >= 0.0, "momentum " << o.momentum << " is negative; use a value >= 0");
  SDD_USER_CHECK(!o.nesterov || o.momentum > 0.0, "nesterov momentum needs a momentum > 0");
  // Always allocated (backends get a valid buffer); reported as state only when momentum > 0.
  if (fp_.total > 0) buf_ = fp_.new_arena(0.0);
}

void Sgd::update(double lr, bool zero_grad) {
  if (fp_.total == 0) return;
  kern::SgdHyper h;
  h.lr = static_cast<float>(lr);
  h.momentum = static_cast<float>(opt_.momentum);
  h.weight_decay = static_cast<float>(opt_.weight_decay);
  h.nesterov = opt_.nesterov;
  h.first_step = steps_ == 0;
  h.zero_grad = zero_grad;
  const Device dev = fp_.params.device();
  // g' = g + wd*w; buf = mu*buf + g'; w -= lr*(nesterov ? g' + mu*buf : buf); pruned w = reset or 0
  if (!support_index_.empty() && h.momentum == 0.f) {
    update_entries(h);
  } else {
    for (const auto& r : fp_.trainable_ranges())
      SDD_DISPATCH(dev, masked_sgd, fp_.params, fp_.grads, buf_, mask_, reset_, h, r.first, r.second);
  }
  ++steps_;
}

// Entry by entry (CPU, no momentum, supports registered): the kept entries alone where the stamp
// shows nothing was written outside them since the entry's last full pass, else a full pass.
void Sgd::update_entries(const kern::SgdHyper& h) {
  for (size_t i = 0; i < fp_.entries.size(); ++i) {
    const nn::FlatEntry& e = fp_.entries[i];
    if (!fp_.tensors[i].requires_grad() || e.numel == 0) continue;
    SupportIndex& s = support_index_[i];
    const int64_t stamp = s.indexed ? grad_support_stamp(fp_.tensors[i]) : -1;
    if (stamp >= 0 && stamp == s.stamp) {
      cpu::masked_sgd_on_support(fp_.params, fp_.grads, s.kept.data(), static_cast<int64_t>(s.kept.size()), h);
      ++support_updates_;
      continue;
    }
    cpu::masked_sgd(fp_.params, fp_.grads, buf_, mask_, reset_, h, e.offset, e.offset + e.numel);
    s.stamp = stamp;
  }
}

nn::NamedTensors Sgd::state_tensors() const {
  nn::NamedTensors out;
  if (buf_.defined() && opt_.momentum != 0.0) out.emplace_back("momentum_buffer", buf_);
  return out;
}

// ---------------------------------------------------------------- Adam

Adam::Adam(nn::FlatParams fp, const AdamOptions& o) : Optimizer(std::move(fp)), opt_(o) {
  if (fp_.total > 0) {
    m_ = fp_.new_arena(0.0);
    v_ = fp_.new_arena(0.0);
  }
}

void Adam::update(double lr, bool zero_grad) {
  if (fp_.total == 0) return;
  const int64_t t = steps_ + 1;
  kern::AdamHyper h;
  h.lr = static_cast<float>(lr);
  h.beta1 = static_cast<float>(opt_.beta1);
  h.beta2 = static_cast<float>(opt_.beta2);
  h.eps = static_cast<float>(opt_.eps);
  h.weight_decay = static_cast<float>(opt_.weight_decay);
  h.bias_correction1 = static_cast<float>(1.0 - std::pow(opt_.beta1, static_cast<double>(t)));
  h.sqrt_bias_correction2 = static_cast<float>(std::sqrt(1.0 - std::pow(opt_.beta2, static_cast<double>(t))));
  h.zero_grad = zero_grad;
  const Device dev = fp_.params.device();
  // m, v moving moments of g' = g + wd*w; w -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps); pruned w = reset or 0
  for (const auto& r : fp_.trainable_ranges())
    SDD_DISPATCH(dev, adam, fp_.params, fp_.grads, m_, v_, mask_, reset_, h, r.first, r.second);
  steps_ = t;
}

nn::NamedTensors Adam::state_tensors() const {
  nn::NamedTensors out;
  if (m_.defined()) {
    out.emplace_back("exp_avg", m_);
    out.emplace_back("exp_avg_sq", v_);
  }
  return out;
}

// ---------------------------------------------------------------- factory

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, nn::FlatParams fp, double momentum,
                                          double nesterov_momentum, double weight_decay) {
  SDD_USER_CHECK(weight_decay >= 0.0, "weight_decay " << weight_decay << " is not a number >= 0; use a value >= 0");
  if (name == "sgd") {
    SgdOptions o;
    o.momentum = momentum != 0.0 ? momentum : nesterov_momentum;
    o.nesterov = nesterov_momentum > 0.0;
    o.weight_decay = weight_decay;
    return std::make_unique<Sgd>(std::move(fp), o);
  }
  if (name == "adam") {
    AdamOptions o;
    o.weight_decay = weight_decay;
    return std::make_unique<Adam>(std::move(fp), o);
  }
  SDD_USER_FAIL("unknown optimizer_name '" << name << "'; use sgd or adam");
}

}  // namespace sdd::optim
