// engine/nn/module.cpp — Module registration, traversal (PyTorch state-dict naming and order),
// train / eval, in-place device moves, shape-checked state loading, and the flat parameter /
// gradient arena (DESIGN rule 6).
#include "engine/nn/module.h"

#include <map>
#include <set>
#include <sstream>

#include "engine/autograd/autograd.h"

namespace sdd::nn {

namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

void check_name(const std::string& name, const char* what) {
  SDD_CHECK(!name.empty() && name.find('.') == std::string::npos,
            what << " name '" << name << "' must be non-empty and contain no '.'");
}

// Parameters recursively; a tensor reachable twice (shared module) is listed once, like PyTorch.
void collect_params(const Module& m, const std::string& prefix, NamedTensors& out, std::set<const TensorImpl*>& seen) {
  for (const auto& p : m.own_parameters()) {
    if (seen.insert(p.second.impl_ptr().get()).second) out.emplace_back(join(prefix, p.first), p.second);
  }
  for (const auto& c : m.children()) collect_params(*c.second, join(prefix, c.first), out, seen);
}

void collect_buffers(const Module& m, const std::string& prefix, NamedTensors& out) {
  for (const auto& b : m.own_buffers()) out.emplace_back(join(prefix, b.first), b.second);
  for (const auto& c : m.children()) collect_buffers(*c.second, join(prefix, c.first), out);
}

void collect_state(const Module& m, const std::string& prefix, NamedTensors& out) {
  for (const auto& p : m.own_parameters()) out.emplace_back(join(prefix, p.first), p.second);
  for (const auto& b : m.own_buffers()) out.emplace_back(join(prefix, b.first), b.second);
  for (const auto& c : m.children()) collect_state(*c.second, join(prefix, c.first), out);
}

void collect_modules(Module& m, const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out) {
  out.emplace_back(prefix, &m);
  for (const auto& c : m.children()) collect_modules(*c.second, join(prefix, c.first), out);
}

// Moves one impl's storage to dev in place: a fresh copy, the impl re-pointed at it.
void move_impl(TensorImpl& impl, Device dev) {
  if (impl.storage->device() == dev) return;
  Tensor src(std::make_shared<TensorImpl>(impl));   // a handle on the old storage
  Tensor dst = src.to(dev);
  impl.storage = dst.impl().storage;
  impl.offset = dst.impl().offset;
}

std::string list_names(const std::vector<std::string>& names, size_t max_shown = 8) {
  std::ostringstream os;
  for (size_t i = 0; i < names.size() && i < max_shown; ++i) os << (i ? ", " : "") << names[i];
  if (names.size() > max_shown) os << ", ... (" << names.size() << " in all)";
  return os.str();
}

}  // namespace

// ---------------------------------------------------------------- registration

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_name(name, "parameter");
  SDD_CHECK(t.defined(), "parameter '" << name << "' is undefined");
  for (const auto& p : params_) SDD_CHECK(p.first != name, "parameter '" << name << "' registered twice");
  t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_name(name, "buffer");
  SDD_CHECK(t.defined(), "buffer '" << name << "' is undefined");
  for (const auto& b : buffers_) SDD_CHECK(b.first != name, "buffer '" << name << "' registered twice");
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_name(name, "module");
  SDD_CHECK(m != nullptr, "module '" << name << "' is null");
  for (const auto& c : children_) SDD_CHECK(c.first != name, "module '" << name << "' registered twice");
  children_.emplace_back(name, std::move(m));
}

// ---------------------------------------------------------------- traversal

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  std::set<const TensorImpl*> seen;
  collect_params(*this, "", out, seen);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect_buffers(*this, "", out);
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect_state(*this, "", out);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  collect_modules(*this, "", out);
  return out;
}

Tensor Module::parameter(const std::string& dotted_name) const {
  for (const auto& p : named_parameters())
    if (p.first == dotted_name) return p.second;
  SDD_FAIL("no parameter named '" << dotted_name << "' in " << type_name_);
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : named_parameters()) n += p.second.numel();
  return n;
}

// ---------------------------------------------------------------- mode and device

void Module::train(bool on) {
  training_ = on;
  for (auto& c : children_) c.second->train(on);
}

void Module::to(Device dev) {
  for (auto& t : state_dict()) {
    TensorImpl& impl = t.second.impl();
    move_impl(impl, dev);
    if (impl.grad) move_impl(*impl.grad, dev);
  }
}

Device Module::device() const {
  for (const auto& p : params_) return p.second.device();
  for (const auto& b : buffers_) return b.second.device();
  for (const auto& c : children_) {
    if (!c.second->state_dict().empty()) return c.second->device();
  }
  return Device::cpu();
}

// ---------------------------------------------------------------- state loading

void Module::load_state(const NamedTensors& state, bool strict) {
  std::map<std::string, const Tensor*> given;
  for (const auto& s : state) given[s.first] = &s.second;

  const NamedTensors mine = state_dict();
  std::vector<std::string> missing, unexpected;
  std::set<std::string> known;
  for (const auto& t : mine) {
    known.insert(t.first);
    if (!given.count(t.first)) missing.push_back(t.first);
  }
  for (const auto& s : state)
    if (!known.count(s.first)) unexpected.push_back(s.first);
  if (strict && (!missing.empty() || !unexpected.empty())) {
    std::ostringstream os;
    os << "state does not match the model " << type_name_ << ":";
    if (!missing.empty()) os << " missing " << list_names(missing) << ";";
    if (!unexpected.empty()) os << " unexpected " << list_names(unexpected) << ";";
    os << " load a state saved from the same model and preset";
    throw UserError(os.str());
  }
  // Check every shape before copying anything.
  for (const auto& t : mine) {
    auto it = given.find(t.first);
    if (it == given.end()) continue;
    const Tensor& src = *it->second;
    SDD_USER_CHECK(src.defined(), "tensor '" << t.first << "' in the loaded state is empty; the file is corrupt");
    SDD_USER_CHECK(src.shape() == t.second.shape(),
                   "tensor '" << t.first << "' has shape " << shape_str(src.shape()) << " in the loaded state but "
                              << shape_str(t.second.shape()) << " in the model; load a state saved from the same model");
  }
  NoGradGuard no_grad;
  for (const auto& t : mine) {
    auto it = given.find(t.first);
    if (it == given.end()) continue;
    Tensor src = *it->second;
    if (src.dtype() != t.second.dtype()) src = src.to(Device::cpu()).to_dtype(t.second.dtype());
    Tensor dst = t.second;
    dst.copy_(src);
  }
}

// ---------------------------------------------------------------- flat arena

const FlatEntry* FlatParams::find(const std::string& name) const {
  for (const auto& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

std::vector<std::pair<int64_t, int64_t>> FlatParams::trainable_ranges() const {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    const FlatEntry& e = entries[i];
    const bool trainable = i < tensors.size() ? tensors[i].requires_grad() : e.requires_grad;
    if (!trainable || e.numel == 0) continue;
    if (!out.empty() && out.back().second == e.offset) {
      out.back().second = e.offset + e.numel;
    } else {
      out.emplace_back(e.offset, e.offset + e.numel);
    }
  }
  return out;
}

void FlatParams::zero_grad() {
  if (grads.defined() && total > 0) grads.fill_(0.0);
}

Tensor FlatParams::new_arena(double fill) const {
  SDD_CHECK(params.defined(), "new_arena on an empty FlatParams");
  return Tensor::full({total}, fill, DType::f32, params.device());
}

FlatParams flatten_parameters(Module& m) {
  FlatParams fp;
  const NamedTensors named = m.named_parameters();
  Device dev = Device::cpu();
  bool first = true;
  for (const auto& p : named) {
    SDD_CHECK(p.second.dtype() == DType::f32, "parameter " << p.first << " is " << dtype_name(p.second.dtype())
                                                            << "; the arena holds f32 only");
    if (first) dev = p.second.device();
    SDD_CHECK(p.second.device() == dev, "parameter " << p.first << " is on " << p.second.device().str()
                                                      << ", others on " << dev.str());
    first = false;
    FlatEntry e;
    e.name = p.first;
    e.offset = fp.total;
    e.numel = p.second.numel();
    e.shape = p.second.shape();
    e.requires_grad = p.second.requires_grad();
    fp.total += e.numel;
    fp.entries.push_back(std::move(e));
    fp.tensors.push_back(p.second);
  }
  fp.params = Tensor::empty({fp.total}, DType::f32, dev);
  fp.grads = Tensor::zeros({fp.total}, DType::f32, dev);
  for (size_t i = 0; i < fp.entries.size(); ++i) {
    const FlatEntry& e = fp.entries[i];
    TensorImpl& impl = fp.tensors[i].impl();
    Tensor slot = Tensor::view_of(fp.params, e.offset, e.shape);
    slot.copy_(fp.tensors[i]);
    // Re-point the parameter's own impl: every existing handle now reads the arena.
    impl.storage = slot.impl().storage;
    impl.offset = slot.impl().offset;
    impl.grad = Tensor::view_of(fp.grads, e.offset, e.shape).impl_ptr();
  }
  return fp;
}

}  // namespace sdd::nn
