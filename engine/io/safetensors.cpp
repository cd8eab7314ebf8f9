// engine/io/safetensors.cpp — the safetensors writer (byte-compatible with the reference writer) and
// a validating reader that rejects corrupt or truncated files with one-line UserErrors.
#include "engine/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "engine/io/safetensors.cpp assumes a little-endian host (safetensors data is little-endian)"
#endif

namespace sdd::io {

namespace {

constexpr uint64_t kMaxHeader = 100000000;   // the reference reader's limit (100 MB)

// Position of a dtype in the reference writer's dtype enum (increasing alignment); the writer orders
// tensors by this rank, descending, then by name.
int dtype_rank(DType dt) {
  switch (dt) {
    case DType::u8: return 1;
    case DType::i32: return 9;
    case DType::f32: return 11;
    case DType::f64: return 12;
    case DType::i64: return 13;
  }
  return 0;
}

struct Planned {
  const std::string* name;
  const Tensor* tensor;
  uint64_t begin = 0, end = 0;
};

// Orders the tensors as the reference writer does and builds the padded header.
std::string plan(const TensorList& tensors, const Metadata& metadata, std::vector<Planned>& order) {
  std::set<std::string> seen;
  order.clear();
  order.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    SDD_CHECK(!name.empty(), "safetensors tensor names must not be empty");
    SDD_CHECK(name != "__metadata__", "\"__metadata__\" is reserved in safetensors headers");
    SDD_CHECK(seen.insert(name).second, "duplicate tensor name '" << name << "' in a safetensors save");
    SDD_CHECK(t.defined(), "undefined tensor '" << name << "' in a safetensors save");
    order.push_back({&name, &t});
  }
  std::stable_sort(order.begin(), order.end(), [](const Planned& a, const Planned& b) {
    const int ra = dtype_rank(a.tensor->dtype()), rb = dtype_rank(b.tensor->dtype());
    if (ra != rb) return ra > rb;
    return *a.name < *b.name;   // byte-wise, as Rust's str ordering
  });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (Planned& p : order) {
    p.begin = offset;
    p.end = offset + p.tensor->nbytes();
    offset = p.end;
    nlohmann::ordered_json info = nlohmann::ordered_json::object();
    info["dtype"] = safetensors_dtype_name(p.tensor->dtype());
    nlohmann::ordered_json shape = nlohmann::ordered_json::array();
    for (int64_t d : p.tensor->shape()) shape.push_back(static_cast<uint64_t>(d));
    info["shape"] = std::move(shape);
    info["data_offsets"] = nlohmann::ordered_json::array({p.begin, p.end});
    header[*p.name] = std::move(info);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

void put_u64_le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Host bytes of a tensor (copies device tensors to the host).
Tensor host_copy(const Tensor& t) { return t.device().is_cpu() ? t : t.to(Device::cpu()); }

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

std::string shape_text(const Shape& s) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << ']';
  return os.str();
}

}  // namespace

#define SDD_CORRUPT(source, what) \
  SDD_USER_FAIL("corrupt safetensors file " << source << ": " << what << "; re-create or replace the file")

// ------------------------------------------------------------------------------------ dtypes

const char* safetensors_dtype_name(DType dt) {
  switch (dt) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i32: return "I32";
    case DType::i64: return "I64";
    case DType::u8: return "U8";
  }
  SDD_FAIL("unknown DType " << static_cast<int>(dt));
}

DType safetensors_dtype_parse(const std::string& s, const std::string& source) {
  if (s == "F32") return DType::f32;
  if (s == "F64") return DType::f64;
  if (s == "I32") return DType::i32;
  if (s == "I64") return DType::i64;
  if (s == "U8") return DType::u8;
  SDD_USER_FAIL("unsupported dtype \"" << s << "\" in safetensors file " << source
                                       << "; sparsedd reads F32, F64, I32, I64 and U8 tensors");
}

// ------------------------------------------------------------------------------------ contents

const Tensor* SafetensorsContents::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

const Tensor& SafetensorsContents::get(const std::string& name, const std::string& what) const {
  const Tensor* t = find(name);
  SDD_USER_CHECK(t != nullptr, "tensor '" << name << "' is missing from " << what
                                          << "; check that the file was written by a matching model");
  return *t;
}

// ------------------------------------------------------------------------------------ writing

std::string serialize_safetensors(const TensorList& tensors, const Metadata& metadata) {
  std::vector<Planned> order;
  const std::string header = plan(tensors, metadata, order);
  const uint64_t data_len = order.empty() ? 0 : order.back().end;
  std::string out;
  out.reserve(8 + header.size() + data_len);
  put_u64_le(out, header.size());
  out += header;
  for (const Planned& p : order) {
    const Tensor h = host_copy(*p.tensor);
    out.append(static_cast<const char*>(h.raw()), h.nbytes());
  }
  return out;
}

void save_safetensors(const std::string& path, const TensorList& tensors, const Metadata& metadata) {
  std::vector<Planned> order;
  const std::string header = plan(tensors, metadata, order);
  write_file_atomic(path, [&](AtomicFile& f) {
    std::string prefix;
    put_u64_le(prefix, header.size());
    prefix += header;
    f.write(prefix);
    for (const Planned& p : order) {
      const Tensor h = host_copy(*p.tensor);
      f.write(h.raw(), h.nbytes());
    }
  });
}

// ------------------------------------------------------------------------------------ reading

SafetensorsContents parse_safetensors(const std::string& bytes, const std::string& source) {
  const uint64_t size = bytes.size();
  if (size < 8) SDD_CORRUPT(source, "the file has " << size << " bytes, fewer than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  if (n > size - 8)
    SDD_CORRUPT(source, "header length " << n << " exceeds the file size (" << size << " bytes); the file is truncated or not safetensors");
  if (n > kMaxHeader) SDD_CORRUPT(source, "header length " << n << " exceeds the 100 MB limit");
  const std::string header = bytes.substr(8, static_cast<size_t>(n));
  const uint64_t data_len = size - 8 - n;

  // Parse, rejecting duplicate top-level keys (a plain parse would keep the last one silently).
  std::string duplicate;
  std::set<std::string> top_keys;
  auto cb = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    if (ev == nlohmann::json::parse_event_t::key && depth == 1) {
      const std::string& k = parsed.get_ref<const std::string&>();
      if (!top_keys.insert(k).second && duplicate.empty()) duplicate = k;
    }
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header, cb, /*allow_exceptions=*/true);
  } catch (const nlohmann::json::exception& e) {
    SDD_CORRUPT(source, "the header is not valid JSON (" << e.what() << ")");
  }
  if (!duplicate.empty()) SDD_CORRUPT(source, "tensor name '" << duplicate << "' appears twice in the header");
  if (!j.is_object()) SDD_CORRUPT(source, "the header is not a JSON object");

  SafetensorsContents out;
  std::vector<Entry> entries;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) SDD_CORRUPT(source, "\"__metadata__\" is not an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          SDD_CORRUPT(source, "metadata value of '" << m.key() << "' is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object()) SDD_CORRUPT(source, "entry of tensor '" << name << "' is not an object");
    const auto dt = v.find("dtype");
    const auto sh = v.find("shape");
    const auto off = v.find("data_offsets");
    if (dt == v.end() || sh == v.end() || off == v.end())
      SDD_CORRUPT(source, "tensor '" << name << "' lacks one of dtype, shape, data_offsets");
    if (!dt->is_string()) SDD_CORRUPT(source, "dtype of tensor '" << name << "' is not a string");
    Entry e;
    e.name = name;
    const std::string dts = dt->get<std::string>();
    if (dts != "F32" && dts != "F64" && dts != "I32" && dts != "I64" && dts != "U8")
      SDD_CORRUPT(source, "tensor '" << name << "' has unknown or unsupported dtype \"" << dts
                                     << "\" (sparsedd reads F32, F64, I32, I64, U8)");
    e.dtype = safetensors_dtype_parse(dts, source);
    if (!sh->is_array()) SDD_CORRUPT(source, "shape of tensor '" << name << "' is not an array");
    uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned() ||
          d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        SDD_CORRUPT(source, "shape of tensor '" << name << "' holds " << d.dump() << ", not a non-negative integer");
      const uint64_t dim = d.get<uint64_t>();
      e.shape.push_back(static_cast<int64_t>(dim));
      if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / dim) overflow = true;
      numel *= dim;
    }
    const uint64_t esz = dtype_size(e.dtype);
    if (overflow || numel > std::numeric_limits<uint64_t>::max() / esz)
      SDD_CORRUPT(source, "shape " << shape_text(e.shape) << " of tensor '" << name << "' is too large");
    if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() || !(*off)[1].is_number_unsigned())
      SDD_CORRUPT(source, "data_offsets of tensor '" << name << "' is not a pair of non-negative integers");
    e.begin = (*off)[0].get<uint64_t>();
    e.end = (*off)[1].get<uint64_t>();
    if (e.end < e.begin)
      SDD_CORRUPT(source, "data_offsets [" << e.begin << ", " << e.end << "] of tensor '" << name << "' end before they begin");
    if (e.end > data_len)
      SDD_CORRUPT(source, "data_offsets [" << e.begin << ", " << e.end << "] of tensor '" << name
                                           << "' are out of range: the data section has " << data_len
                                           << " bytes (truncated file?)");
    if (e.end - e.begin != numel * esz)
      SDD_CORRUPT(source, "tensor '" << name << "' of dtype " << dts << " and shape " << shape_text(e.shape)
                                     << " needs " << numel * esz << " bytes but data_offsets span "
                                     << e.end - e.begin);
    entries.push_back(std::move(e));
  }

  // The data must be covered exactly once, in offset order.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end < b.end;
    return a.name < b.name;
  });
  uint64_t cursor = 0;
  const std::string* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < cursor)
      SDD_CORRUPT(source, "data of tensor '" << e.name << "' overlaps tensor '" << *prev << "'");
    if (e.begin > cursor)
      SDD_CORRUPT(source, "gap of " << e.begin - cursor << " bytes before the data of tensor '" << e.name << "'");
    cursor = e.end;
    prev = &e.name;
  }
  if (cursor != data_len)
    SDD_CORRUPT(source, "the tensors cover " << cursor << " data bytes but the file holds " << data_len
                                             << " (trailing bytes or missing tensors)");

  // Only now, with everything validated, allocate and copy.
  const char* data = bytes.data() + 8 + n;
  out.tensors.reserve(entries.size());
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype, Device::cpu());
    if (e.end > e.begin) std::memcpy(t.raw(), data + e.begin, static_cast<size_t>(e.end - e.begin));
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

SafetensorsContents load_safetensors(const std::string& path) {
  return parse_safetensors(read_file(path), path);
}

}  // namespace sdd::io
