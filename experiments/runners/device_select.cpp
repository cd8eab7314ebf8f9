// experiments/runners/device_select.cpp — --device / --gpu to a Device (see device_select.h).
#include "experiments/runners/device_select.h"

#include <sstream>
#include <vector>

#include "engine/errors.h"

namespace sdd::exp {
namespace {

std::string found(int n) {
  if (n == 0) return "no CUDA device was found";
  return std::to_string(n) + " CUDA device" + (n == 1 ? "" : "s") + " found (indices 0-" + std::to_string(n - 1) + ")";
}

}  // namespace

Device select_device(const std::optional<std::string>& device, const std::optional<std::string>& gpu, int cuda_count,
                     std::ostream& warn) {
  if (device) {
    const Device d = Device::parse(*device);
    if (d.is_cpu()) return d;
    if (cuda_count == 0) {
      warn << "sparsedd: warning: --device=" << *device << " asked for CUDA but " << found(0) << "; using the CPU\n";
      return Device::cpu();
    }
    SDD_USER_CHECK(d.index < cuda_count, "--device=" << *device << " does not exist: " << found(cuda_count)
                                                     << "; pick one of them or --device=cpu");
    return d;
  }
  if (gpu && !gpu->empty()) {
    std::vector<int> ids;
    std::stringstream ss(*gpu);
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (item.empty()) continue;
      int v = -1;
      try {
        size_t pos = 0;
        v = std::stoi(item, &pos);
        if (pos != item.size()) v = -1;
      } catch (const std::exception&) {
        v = -1;
      }
      SDD_USER_CHECK(v >= 0, "--gpu=" << *gpu << " is not a list of GPU indices; write e.g. --gpu=0 or --gpu=0,1");
      ids.push_back(v);
    }
    SDD_USER_CHECK(!ids.empty(), "--gpu is empty; write e.g. --gpu=0 or leave it out");
    if (cuda_count == 0) {
      warn << "sparsedd: warning: --gpu=" << *gpu << " but " << found(0) << "; using the CPU\n";
      return Device::cpu();
    }
    SDD_USER_CHECK(static_cast<int>(ids.size()) <= cuda_count,
                   "--gpu=" << *gpu << " lists " << ids.size() << " GPUs but " << found(cuda_count) << "; list at most "
                            << cuda_count);
    for (int id : ids)
      SDD_USER_CHECK(id < cuda_count, "--gpu=" << *gpu << " names GPU " << id << " but " << found(cuda_count)
                                               << "; use indices below " << cuda_count);
    return Device::cuda(ids.front());
  }
  return cuda_count > 0 ? Device::cuda(0) : Device::cpu();
}

}  // namespace sdd::exp
