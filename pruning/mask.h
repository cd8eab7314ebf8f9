// pruning/mask.h — a pruning mask: tensor name -> 0/1 tensor of that tensor's shape (SPEC 7.1).
//
// Masks are host f32 tensors in memory (1 = kept). On disk they are `mask.safetensors` with I32
// tensors under the model's tensor names (the original saves int32 tensors in mask.pth), beside
// `sparsity_report.json` ({"total": T.0, "unpruned": U.0}, 4-space indent, no trailing newline).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace sdd::pruning {

class Mask {
 public:
  Mask() = default;

  // An all-ones mask over the given (name, shape) list.
  static Mask ones(const std::vector<std::pair<std::string, Shape>>& tensors);

  // Inserts or replaces; the value must hold only 0s and 1s (checked) and is stored as host f32.
  void set(const std::string& name, const Tensor& value);
  bool contains(const std::string& name) const;
  const Tensor& at(const std::string& name) const;   // throws when missing
  const std::vector<std::pair<std::string, Tensor>>& entries() const { return entries_; }
  std::vector<std::string> names() const;
  size_t size() const { return entries_.size(); }

  int64_t total() const;      // number of mask entries over all tensors
  int64_t unpruned() const;   // number of ones
  double density() const { return total() ? static_cast<double>(unpruned()) / static_cast<double>(total()) : 1.0; }

  // Files: <dir>/mask.safetensors and <dir>/sparsity_report.json, written atomically.
  void save(const std::string& dir) const;
  static Mask load(const std::string& dir);
  static bool exists(const std::string& dir);
  // The sparsity report text, byte for byte as the original writes it.
  std::string sparsity_report_json() const;

 private:
  std::vector<std::pair<std::string, Tensor>> entries_;
};

}  // namespace sdd::pruning
