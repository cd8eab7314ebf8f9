// pruning/mask.cpp — mask storage, counts, files.
#include "pruning/mask.h"

#include <sstream>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"

namespace sdd::pruning {

namespace {
const char* kMaskFile = "mask.safetensors";
const char* kReportFile = "sparsity_report.json";

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
  return s;
}

int64_t count_ones(const Tensor& t) {
  const float* p = t.data<float>();
  int64_t n = 0;
  for (int64_t i = 0; i < t.numel(); ++i) n += p[i] != 0.f;
  return n;
}
}  // namespace

Mask Mask::ones(const std::vector<std::pair<std::string, Shape>>& tensors) {
  Mask m;
  for (const auto& [name, shape] : tensors) m.set(name, Tensor::ones(shape));
  return m;
}

void Mask::set(const std::string& name, const Tensor& value) {
  SDD_CHECK(!name.empty(), "mask keys must be non-empty");
  Tensor v = value.to(Device::cpu());
  if (v.dtype() != DType::f32) v = v.to_dtype(DType::f32);
  const float* p = v.data<float>();
  for (int64_t i = 0; i < v.numel(); ++i)
    SDD_CHECK(p[i] == 0.f || p[i] == 1.f, "mask " << name << " holds " << p[i] << " at " << i << " (only 0 and 1 allowed)");
  for (auto& e : entries_)
    if (e.first == name) {
      e.second = v;
      return;
    }
  entries_.emplace_back(name, v);
}

bool Mask::contains(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.first == name) return true;
  return false;
}

const Tensor& Mask::at(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.first == name) return e.second;
  SDD_FAIL("mask has no tensor " << name);
}

std::vector<std::string> Mask::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.first);
  return out;
}

int64_t Mask::total() const {
  int64_t n = 0;
  for (const auto& e : entries_) n += e.second.numel();
  return n;
}

int64_t Mask::unpruned() const {
  int64_t n = 0;
  for (const auto& e : entries_) n += count_ones(e.second);
  return n;
}

std::string Mask::sparsity_report_json() const {
  std::ostringstream os;
  os << "{\n    \"total\": " << total() << ".0,\n    \"unpruned\": " << unpruned() << ".0\n}";
  return os.str();
}

void Mask::save(const std::string& dir) const {
  io::TensorList list;
  for (const auto& [name, t] : entries_) list.emplace_back(name, t.to_dtype(DType::i32));
  io::save_safetensors(dir + "/" + kMaskFile, list, {{"format", "sparsedd-mask"}, {"names", join(names())}});
  io::write_file_atomic(dir + "/" + kReportFile, sparsity_report_json());
}

bool Mask::exists(const std::string& dir) { return io::file_exists(dir + "/" + kMaskFile); }

Mask Mask::load(const std::string& dir) {
  const std::string path = dir + "/" + kMaskFile;
  io::SafetensorsContents c = io::load_safetensors(path);
  std::vector<std::string> order;
  auto it = c.metadata.find("names");
  if (it != c.metadata.end() && !it->second.empty()) {
    std::stringstream ss(it->second);
    for (std::string n; std::getline(ss, n, ',');) order.push_back(n);
  } else {
    for (const auto& [name, t] : c.tensors) order.push_back(name);
  }
  SDD_USER_CHECK(order.size() == c.tensors.size(), "corrupt mask file " << path << ": its name list does not match its tensors; delete the level directory to recompute it");
  Mask m;
  for (const auto& name : order) {
    const Tensor& t = c.get(name, path);
    Tensor f = t.to_dtype(DType::f32);
    const float* p = f.data<float>();
    for (int64_t i = 0; i < f.numel(); ++i)
      SDD_USER_CHECK(p[i] == 0.f || p[i] == 1.f, "corrupt mask file " << path << ": tensor " << name
                                                                       << " holds values other than 0 and 1");
    m.set(name, f);
  }
  return m;
}

}  // namespace sdd::pruning
