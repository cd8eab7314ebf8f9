// experiments/train/phase_masking.cpp — mask and freeze values over the parameter arena.
#include "experiments/train/phase_masking.h"

#include "engine/errors.h"

namespace sdd::exp {

nn::NamedTensors ArenaMask::views() const {
  nn::NamedTensors out;
  if (!defined()) return out;
  for (size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i], Tensor::view_of(mask, offsets[i], shapes[i]));
  return out;
}

ArenaMask build_arena_mask(const pruning::Mask& mask, const std::string& freeze_type,
                           const nn::NamedTensors& freeze_reference, const nn::FlatParams& fp) {
  ArenaMask out;
  if (mask.size() == 0) return out;
  SDD_USER_CHECK(freeze_type == "zero" || freeze_type == "init" || freeze_type == "final" || freeze_type == "permuted",
                 "freeze_pruned_weights '" << freeze_type << "' is not supported; use zero, init, final or permuted");
  const bool with_reset = freeze_type != "zero";
  std::vector<float> m(static_cast<size_t>(fp.total), 1.f), r;
  if (with_reset) r.assign(static_cast<size_t>(fp.total), 0.f);
  for (const auto& kv : mask.entries()) {
    const nn::FlatEntry* e = fp.find(kv.first);
    SDD_USER_CHECK(e != nullptr, "the mask holds '" << kv.first
                                                    << "', which is not a parameter of the model; use the mask of this model");
    SDD_USER_CHECK(kv.second.shape() == e->shape, "the mask of '" << kv.first << "' has shape " << shape_str(kv.second.shape())
                                                                  << " but the parameter has " << shape_str(e->shape)
                                                                  << "; use the mask of this model");
    const std::vector<float> v = kv.second.to_dtype(DType::f32).to_vector<float>();
    std::copy(v.begin(), v.end(), m.begin() + e->offset);
    if (with_reset) {
      const Tensor* ref = nullptr;
      for (const auto& rv : freeze_reference)
        if (rv.first == kv.first) ref = &rv.second;
      SDD_USER_CHECK(ref != nullptr, "freeze type " << freeze_type << " needs reference values for '" << kv.first
                                                    << "', which the reference model lacks");
      SDD_USER_CHECK(ref->shape() == e->shape, "the reference value of '" << kv.first << "' has shape "
                                                                          << shape_str(ref->shape()) << ", expected "
                                                                          << shape_str(e->shape));
      const Tensor host = ref->to(Device::cpu());
      const std::vector<float> rv = host.dtype() == DType::f32 ? host.to_vector<float>() : host.to_dtype(DType::f32).to_vector<float>();
      std::copy(rv.begin(), rv.end(), r.begin() + e->offset);
    }
    out.names.push_back(kv.first);
    out.shapes.push_back(e->shape);
    out.offsets.push_back(e->offset);
  }
  const Device dev = fp.params.device();
  out.mask = Tensor::from_vector(m, {fp.total}, dev);
  if (with_reset) out.reset = Tensor::from_vector(r, {fp.total}, dev);
  return out;
}

void apply_arena_mask(const nn::FlatParams& fp, const ArenaMask& am) {
  if (!am.defined() || fp.total == 0) return;
  std::vector<float> p = fp.params.to_vector<float>();
  const std::vector<float> m = am.mask.to_vector<float>();
  std::vector<float> r;
  if (am.reset.defined()) r = am.reset.to_vector<float>();
  for (size_t i = 0; i < p.size(); ++i)
    if (m[i] == 0.f) p[i] = r.empty() ? 0.f : r[i];
  Tensor(fp.params).copy_(Tensor::from_vector(p, {fp.total}, Device::cpu()));
}

}  // namespace sdd::exp
