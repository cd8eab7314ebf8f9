// experiments/train/checkpoint.cpp — writing and validating phase checkpoints.
#include "experiments/train/checkpoint.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "engine/io/checksum.h"
#include "experiments/train/metric_logger.h"

namespace sdd::exp {

const char* const kCheckpointFormat = "sparsedd-checkpoint-1";

RngState capture_rng(const Generator& g) {
  // The buffered word count is private: find it by drawing from a copy until a new block is taken.
  Generator probe = g;
  const uint64_t off = probe.offset();
  int draws = 0;
  while (probe.offset() == off && draws < 5) {
    probe.next_u32();
    ++draws;
  }
  RngState s;
  s.seed = g.seed();
  s.offset = g.offset();
  s.buffered = draws - 1;   // 0..3 words left from the block at offset - 1
  return s;
}

void restore_rng(Generator& g, const RngState& s) {
  if (s.buffered == 0) {
    g.set_state(s.seed, s.offset);
    return;
  }
  g.set_state(s.seed, s.offset - 1);
  for (int i = 0; i < 4 - s.buffered; ++i) g.next_u32();
}

std::string checkpoint_path(const std::string& dir) { return dir + "/checkpoint.safetensors"; }

namespace {

// Hash of everything a resume reads: the metadata (but "checksum") and the tensors by name. A file
// damaged after it was written (a flipped bit, a stray write inside the data) no longer matches it.
std::string digest(const io::TensorList& tensors, const io::Metadata& md) {
  uint64_t h = 0x73646463686b7074ull;
  auto add_text = [&](const std::string& s) { h = io::hash_combine(h, io::content_hash(s.data(), s.size())); };
  for (const auto& kv : md)
    if (kv.first != "checksum") {
      add_text(kv.first);
      add_text(kv.second);
    }
  std::vector<const std::pair<std::string, Tensor>*> sorted;
  for (const auto& t : tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  for (const auto* t : sorted) {
    add_text(t->first);
    const Tensor host = t->second.device().is_cpu() ? t->second : t->second.to(Device::cpu());
    h = io::hash_combine(h, io::content_hash(host.raw(), host.nbytes()));
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

}  // namespace

void save_checkpoint(const std::string& dir, const nn::Module& model, const optim::Optimizer& opt,
                     const nn::NamedTensors& masks, const CheckpointState& st) {
  io::TensorList tensors;
  for (const auto& kv : model.state_dict()) tensors.emplace_back("model." + kv.first, kv.second);
  for (const auto& kv : opt.state_tensors()) tensors.emplace_back("optimizer." + kv.first, kv.second);
  for (const auto& kv : masks) tensors.emplace_back("mask." + kv.first, kv.second);
  io::Metadata md;
  md["format"] = kCheckpointFormat;
  md["ep"] = std::to_string(st.ep);
  md["it"] = std::to_string(st.it);
  md["ipe"] = std::to_string(st.ipe);
  md["optimizer_steps"] = std::to_string(st.optimizer_steps);
  md["logger"] = st.logger;
  md["rng_seed"] = std::to_string(st.rng.seed);
  md["rng_offset"] = std::to_string(st.rng.offset);
  md["rng_buffered"] = std::to_string(st.rng.buffered);
  md["aug_seed"] = std::to_string(st.aug_seed);
  md["regain_done"] = st.regain_done ? "1" : "0";
  md["convergence_iteration"] = st.convergence_iteration ? std::to_string(*st.convergence_iteration) : "";
  md["checksum"] = digest(tensors, md);
  io::save_safetensors(checkpoint_path(dir), tensors, md);
}

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  SDD_USER_FAIL("checkpoint " << path << " " << what << "; delete it to restart this phase from its start");
}

int64_t meta_int(const io::Metadata& md, const std::string& key, const std::string& path) {
  auto it = md.find(key);
  if (it == md.end()) bad(path, "lacks the metadata field '" + key + "'");
  const std::string& s = it->second;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || errno != 0 || end != s.c_str() + s.size()) bad(path, "has a malformed '" + key + "' ('" + s + "')");
  return v;
}

uint64_t meta_u64(const io::Metadata& md, const std::string& key, const std::string& path) {
  auto it = md.find(key);
  if (it == md.end()) bad(path, "lacks the metadata field '" + key + "'");
  const std::string& s = it->second;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || errno != 0 || end != s.c_str() + s.size())
    bad(path, "has a malformed '" + key + "' ('" + s + "')");
  return v;
}

}  // namespace

LoadedCheckpoint read_checkpoint(const std::string& dir, const nn::Module& model, const optim::Optimizer& opt,
                                 const std::vector<std::string>& mask_names, const std::vector<Shape>& mask_shapes,
                                 int64_t ipe) {
  const std::string path = checkpoint_path(dir);
  io::SafetensorsContents c;
  try {
    c = io::load_safetensors(path);
  } catch (const UserError& e) {
    bad(path, std::string("cannot be read (") + e.what() + ")");
  }
  LoadedCheckpoint out;
  CheckpointState& st = out.state;
  const auto fmt = c.metadata.find("format");
  if (fmt == c.metadata.end() || fmt->second != kCheckpointFormat)
    bad(path, "is not a sparsedd checkpoint of format " + std::string(kCheckpointFormat));
  // Checkpoints written before the checksum was added have none; they are read as before.
  const auto sum = c.metadata.find("checksum");
  if (sum != c.metadata.end() && sum->second != digest(c.tensors, c.metadata))
    bad(path, "does not match its checksum (it was damaged after it was written)");
  st.ep = meta_int(c.metadata, "ep", path);
  st.it = meta_int(c.metadata, "it", path);
  st.ipe = meta_int(c.metadata, "ipe", path);
  if (st.ipe != ipe)
    bad(path, "was written with " + std::to_string(st.ipe) + " iterations per epoch, this phase has " +
                  std::to_string(ipe) + " (different dataset or batch size)");
  if (st.ep < 0 || st.it < 0 || st.it >= ipe) bad(path, "holds an invalid step");
  st.optimizer_steps = meta_int(c.metadata, "optimizer_steps", path);
  if (st.optimizer_steps < 0) bad(path, "holds a negative optimizer step count");
  st.rng.seed = meta_u64(c.metadata, "rng_seed", path);
  st.rng.offset = meta_u64(c.metadata, "rng_offset", path);
  st.rng.buffered = static_cast<int>(meta_int(c.metadata, "rng_buffered", path));
  if (st.rng.buffered < 0 || st.rng.buffered > 3 || (st.rng.buffered > 0 && st.rng.offset == 0))
    bad(path, "holds an invalid random generator state");
  st.aug_seed = meta_u64(c.metadata, "aug_seed", path);
  const int64_t regain = meta_int(c.metadata, "regain_done", path);
  if (regain != 0 && regain != 1) bad(path, "has a malformed 'regain_done'");
  st.regain_done = regain == 1;
  auto conv = c.metadata.find("convergence_iteration");
  if (conv == c.metadata.end()) bad(path, "lacks the metadata field 'convergence_iteration'");
  if (!conv->second.empty()) st.convergence_iteration = meta_int(c.metadata, "convergence_iteration", path);
  auto lg = c.metadata.find("logger");
  if (lg == c.metadata.end()) bad(path, "lacks the metadata field 'logger'");
  try {
    (void)MetricLogger::parse(lg->second, path);
  } catch (const UserError&) {
    bad(path, "holds a malformed logger");
  }
  st.logger = lg->second;

  std::set<std::string> used;
  auto take = [&](const std::string& key, const Shape& shape, DType dt, bool by_numel) -> Tensor {
    const Tensor* t = c.find(key);
    if (!t) bad(path, "lacks the tensor '" + key + "' (written by a different model or settings)");
    if (t->dtype() != dt) bad(path, "holds '" + key + "' as " + dtype_name(t->dtype()) + ", expected " + dtype_name(dt));
    if (by_numel ? t->numel() != shape_numel(shape) : t->shape() != shape)
      bad(path, "holds '" + key + "' with shape " + shape_str(t->shape()) + ", expected " + shape_str(shape));
    used.insert(key);
    return *t;
  };
  for (const auto& kv : model.state_dict())
    out.model_state.emplace_back(kv.first, take("model." + kv.first, kv.second.shape(), kv.second.dtype(), false));
  for (const auto& kv : opt.state_tensors())
    out.optimizer_state.emplace_back(kv.first, take("optimizer." + kv.first, kv.second.shape(), DType::f32, true));
  SDD_CHECK(mask_names.size() == mask_shapes.size(), "mask names and shapes differ in length");
  for (size_t i = 0; i < mask_names.size(); ++i) {
    Tensor m = take("mask." + mask_names[i], mask_shapes[i], DType::f32, false);
    for (float v : m.to_vector<float>())
      if (v != 0.f && v != 1.f) bad(path, "holds a mask '" + mask_names[i] + "' with values other than 0 and 1");
    out.masks.emplace_back(mask_names[i], m);
  }
  for (const auto& kv : c.tensors)
    if (!used.count(kv.first)) bad(path, "holds an unexpected tensor '" + kv.first + "' (written by a different model or settings)");
  return out;
}

}  // namespace sdd::exp
