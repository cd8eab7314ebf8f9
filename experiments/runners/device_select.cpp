// experiments/runners/device_select.cpp — --device / --gpu to the training devices (see device_select.h).
#include "experiments/runners/device_select.h"

#include <cstdlib>
#include <sstream>
#include <vector>

#include "engine/errors.h"

namespace sdd::exp {
namespace {

std::string found(int n) {
  if (n == 0) return "no CUDA device was found";
  return std::to_string(n) + " CUDA device" + (n == 1 ? "" : "s") + " found (indices 0-" + std::to_string(n - 1) + ")";
}

std::vector<Device> cpu_list(int cpu_replicas) {
  return std::vector<Device>(static_cast<size_t>(cpu_replicas > 1 ? cpu_replicas : 1), Device::cpu());
}

}  // namespace

std::vector<Device> select_devices(const std::optional<std::string>& device, const std::optional<std::string>& gpu,
                                   int cuda_count, std::ostream& warn, int cpu_replicas) {
  if (device) {
    const Device d = Device::parse(*device);
    if (d.is_cpu()) return cpu_list(cpu_replicas);
    if (cuda_count == 0) {
      warn << "sparsedd: warning: --device=" << *device << " asked for CUDA but " << found(0) << "; using the CPU\n";
      return cpu_list(cpu_replicas);
    }
    SDD_USER_CHECK(d.index < cuda_count, "--device=" << *device << " does not exist: " << found(cuda_count)
                                                     << "; pick one of them or --device=cpu");
    return {d};
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
      return cpu_list(cpu_replicas);
    }
    SDD_USER_CHECK(static_cast<int>(ids.size()) <= cuda_count,
                   "--gpu=" << *gpu << " lists " << ids.size() << " GPUs but " << found(cuda_count) << "; list at most "
                            << cuda_count);
    std::vector<Device> out;
    for (int id : ids) {
      SDD_USER_CHECK(id < cuda_count, "--gpu=" << *gpu << " names GPU " << id << " but " << found(cuda_count)
                                               << "; use indices below " << cuda_count);
      for (const Device& d : out)
        SDD_USER_CHECK(d.index != id, "--gpu=" << *gpu << " lists GPU " << id << " twice; list each GPU once");
      out.push_back(Device::cuda(id));
    }
    return out;
  }
  if (cuda_count == 0) return cpu_list(cpu_replicas);
  std::vector<Device> out;   // every visible GPU (DESIGN section 4 item 22)
  for (int i = 0; i < cuda_count; ++i) out.push_back(Device::cuda(i));
  return out;
}

Device select_device(const std::optional<std::string>& device, const std::optional<std::string>& gpu, int cuda_count,
                     std::ostream& warn) {
  return select_devices(device, gpu, cuda_count, warn).front();
}

Device process_device(const std::vector<Device>& devices, int local_rank) {
  SDD_CHECK(!devices.empty() && local_rank >= 0, "process_device: " << devices.size() << " devices, local rank " << local_rank);
  if (devices.front().is_cpu()) return Device::cpu();
  SDD_USER_CHECK(local_rank < static_cast<int>(devices.size()),
                 "MPI process with local rank " << local_rank << " has no GPU: this node offers " << devices.size()
                                                << " (--gpu or the visible GPUs); start at most " << devices.size()
                                                << " ranks per node");
  return devices[static_cast<size_t>(local_rank)];
}

int launcher_local_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "PMI_LOCAL_RANK", "SLURM_LOCALID"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return std::atoi(v);
  }
  return 0;
}

int cpu_replicas_from_env() {
  const char* v = std::getenv("SPARSEDD_CPU_REPLICAS");
  if (v == nullptr || *v == '\0') return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  SDD_USER_CHECK(end != nullptr && *end == '\0' && n >= 1 && n <= 256,
                 "SPARSEDD_CPU_REPLICAS=" << v << " is not a replica count; set a number from 1 to 256 or unset it");
  return static_cast<int>(n);
}

}  // namespace sdd::exp
