// engine/errors.cpp — helpers of the check macros.
#include "engine/errors.h"

#include <cstring>

namespace sdd::detail {

std::string check_location(const char* file, int line) {
  // Strip the build machine's absolute prefix: keep the path from the first project folder on.
  const char* folders[] = {"engine/", "kernels/", "models/", "pruning/", "experiments/", "tests/", "bench/"};
  const char* best = file;
  for (const char* f : folders) {
    const char* p = std::strstr(file, f);
    if (p && (best == file || p < best)) best = p;
  }
  return std::string(best) + ":" + std::to_string(line);
}

}  // namespace sdd::detail
