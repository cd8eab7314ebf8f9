// engine/device.cpp — device parsing and the cached, non-aborting CUDA probe.
#include "engine/device.h"

#include <cstdlib>
#include <cstring>

#include "engine/errors.h"

namespace sdd {

namespace cuda {
int probe_device_count();  // engine/cuda/context_cuda.cpp, or engine/cuda/backend_nocuda.cpp
}

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda") return cuda(0);
  if (s.rfind("cuda:", 0) == 0 && s.size() > 5) {
    const std::string n = s.substr(5);
    bool digits = !n.empty();
    for (char c : n) digits = digits && c >= '0' && c <= '9';
    if (digits && n.size() < 6) return cuda(std::atoi(n.c_str()));
  }
  SDD_USER_FAIL("unknown device '" << s << "': use cpu, cuda or cuda:N");
}

std::string Device::str() const { return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index); }

int cuda_device_count() {
  static const int count = [] {
    const char* off = std::getenv("SDD_DISABLE_CUDA");
    if (off && std::strcmp(off, "") != 0 && std::strcmp(off, "0") != 0) return 0;
    return cuda::probe_device_count();
  }();
  return count;
}

bool built_with_cuda() {
#ifdef SDD_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

}  // namespace sdd
