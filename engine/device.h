// engine/device.h — where a tensor lives: the CPU or CUDA device N.
//
// The CUDA probe never aborts: cuda_device_count() returns 0 when the build has no CUDA, when
// SDD_DISABLE_CUDA=1 is set, when the driver is missing, or when cudaGetDeviceCount fails
// (DESIGN rule 4). It is computed once and cached.
#pragma once
#include <string>

namespace sdd {

struct Device {
  enum class Kind : unsigned char { CPU, CUDA };
  Kind kind = Kind::CPU;
  int index = 0;

  static Device cpu() { return {Kind::CPU, 0}; }
  static Device cuda(int i = 0) { return {Kind::CUDA, i}; }
  // Parses "cpu", "cuda", "cuda:N"; throws UserError otherwise.
  static Device parse(const std::string& s);

  bool is_cpu() const { return kind == Kind::CPU; }
  bool is_cuda() const { return kind == Kind::CUDA; }
  std::string str() const;
  bool operator==(const Device& o) const { return kind == o.kind && (kind == Kind::CPU || index == o.index); }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

// Number of usable CUDA devices (0 without CUDA; see the header comment).
int cuda_device_count();
// True when the build includes the CUDA backend (it may still find no device).
bool built_with_cuda();

}  // namespace sdd
