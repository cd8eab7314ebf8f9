// engine/io/safetensors.h — reading and writing the safetensors format, so PyTorch users open our
// checkpoints with safetensors.torch.load_file under the original state-dict names (DESIGN 3).
//
// Layout: u64 little-endian N | N bytes of JSON header | raw little-endian data. The header maps each
// tensor name to {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]} (offsets relative to
// the data section) plus an optional "__metadata__": {str: str}. The writer follows the reference
// (Rust) writer byte for byte: tensors ordered by descending dtype (I64, F64, F32, I32, U8 among ours)
// then by name, data laid out in that order, "__metadata__" first (omitted when empty; its keys
// sorted), compact JSON, header padded with spaces to a multiple of 8.
//
// Supported dtypes: F32, F64, I32, I64, U8 (sdd::DType f32, f64, i32, i64, u8). Files with other
// dtypes are rejected with a UserError.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace sdd::io {

using TensorList = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::map<std::string, std::string>;

struct SafetensorsContents {
  TensorList tensors;   // CPU tensors, in the order their data appears in the file
  Metadata metadata;    // the "__metadata__" map (empty when absent)

  // The tensor called `name`; throws UserError naming `what` (e.g. the file) when it is missing.
  const Tensor& get(const std::string& name, const std::string& what = "the safetensors file") const;
  const Tensor* find(const std::string& name) const;   // nullptr when missing
};

// Serializes to bytes (the exact file contents). Tensors may live on any device (device tensors are
// copied to the host). Names must be unique and non-empty and must not be "__metadata__".
std::string serialize_safetensors(const TensorList& tensors, const Metadata& metadata = {});

// Writes the file atomically (engine/io/atomic_file.h), streaming one tensor at a time.
void save_safetensors(const std::string& path, const TensorList& tensors, const Metadata& metadata = {});

// Parses the exact file contents; `source` names the file in error messages. Every inconsistency
// (short file, header length beyond the file, bad JSON, unknown dtype, bad shape, offsets out of
// range / overlapping / leaving gaps / not covering the data, size mismatch, duplicate names) throws
// a one-line UserError "corrupt safetensors file <source>: <what>; ..." and nothing is half-loaded.
SafetensorsContents parse_safetensors(const std::string& bytes, const std::string& source);

// Reads and parses a file (UserError when missing, unreadable or corrupt).
SafetensorsContents load_safetensors(const std::string& path);

// Safetensors dtype string <-> DType ("F32" <-> f32, ...). The parse throws UserError for unknown
// strings, naming `source`.
const char* safetensors_dtype_name(DType dt);
DType safetensors_dtype_parse(const std::string& s, const std::string& source);

}  // namespace sdd::io
