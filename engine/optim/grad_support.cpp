// engine/optim/grad_support.cpp — the gradient-support registry (see the header). Thread-safe: data-
// parallel replicas register and look up from their own threads.
#include "engine/optim/grad_support.h"

#include <map>
#include <memory>
#include <mutex>

#include "engine/errors.h"

namespace sdd::optim {

namespace {

// One registration: the parameter (weakly: a freed parameter or a re-flattened arena invalidates it)
// and its support.
struct Entry {
  std::weak_ptr<TensorImpl> param;
  std::weak_ptr<Storage> storage;
  size_t offset = 0;
  Tensor support;
  int64_t nnz = -1;   // support's nonzeros (CPU), counted at registration
  int64_t stamp = 0;  // from Registry::next_stamp: set at registration and at each write outside
  int64_t registration = 0;   // the stamp handed out at registration (kept when stamp changes)
};

struct Registry {
  std::mutex mu;
  std::map<const TensorImpl*, Entry> supports;
  int64_t next_stamp = 0;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void set_grad_support(const Tensor& param, const Tensor& support) {
  SDD_CHECK(support.defined() && support.dtype() == DType::f32 && support.numel() == param.numel() &&
                support.device() == param.device(),
            "gradient support " << (support.defined() ? support.str() : std::string("undefined")) << " for parameter "
                                << param.str());
  const std::shared_ptr<TensorImpl>& impl = param.impl_ptr();
  int64_t nnz = -1;
  if (support.device().is_cpu()) {
    const float* p = support.data<float>();
    nnz = 0;
    for (int64_t i = 0; i < support.numel(); ++i) nnz += p[i] != 0.f;
  }
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  const int64_t id = ++r.next_stamp;
  r.supports[impl.get()] = Entry{impl, impl->storage, impl->offset, support, nnz, id, id};
}

void clear_grad_support(const Tensor& param) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.supports.erase(param.impl_ptr().get());
}

namespace {
// param's live registration, or nullptr; drops a stale one (another tensor at a reused address, or a
// moved arena). Called with r.mu held.
Entry* find_entry(Registry& r, const Tensor& param) {
  if (!param.defined()) return nullptr;
  const std::shared_ptr<TensorImpl>& impl = param.impl_ptr();
  const auto it = r.supports.find(impl.get());
  if (it == r.supports.end()) return nullptr;
  Entry& e = it->second;
  if (e.param.lock() != impl || e.storage.lock() != impl->storage || e.offset != impl->offset) {
    r.supports.erase(it);
    return nullptr;
  }
  return &e;
}
}  // namespace

Tensor grad_support(const Tensor& param, int64_t* nnz, int64_t* registration) {
  if (nnz != nullptr) *nnz = -1;
  if (registration != nullptr) *registration = 0;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  const Entry* e = find_entry(r, param);
  if (e == nullptr) return Tensor();
  if (nnz != nullptr) *nnz = e->nnz;
  if (registration != nullptr) *registration = e->registration;
  return e->support;
}

void note_grad_written_outside_support(const Tensor& param) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.supports.empty()) return;
  if (Entry* e = find_entry(r, param)) e->stamp = ++r.next_stamp;
}

int64_t grad_support_stamp(const Tensor& param) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  const Entry* e = find_entry(r, param);
  return e == nullptr ? -1 : e->stamp;
}

}  // namespace sdd::optim
