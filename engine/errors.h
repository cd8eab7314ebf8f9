// engine/errors.h — typed exceptions and the check macro family (DESIGN rule 7).
//
// Every check names the failed statement, the file and the line. Only main() turns exceptions into
// exit codes: UserError -> 2 (a mistake the user can fix: bad flag, bad YAML, missing or corrupt
// file), everything else -> 1. CUDA / cuBLAS / cuDNN / NCCL checks live in engine/cuda/cuda_check.h
// and throw DeviceError.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace sdd {

// Base of every sparsedd exception.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// A mistake of the user (flag, config, data file, checkpoint). main() prints the message on one line
// and exits with code 2. The message says what is wrong and what to do.
class UserError : public Error {
 public:
  explicit UserError(const std::string& what) : Error(what) {}
};

// A broken internal invariant (a bug in sparsedd or a misuse of its API).
class InternalError : public Error {
 public:
  explicit InternalError(const std::string& what) : Error(what) {}
};

// A failure reported by the CUDA runtime or a CUDA library, or an unavailable backend.
class DeviceError : public Error {
 public:
  explicit DeviceError(const std::string& what) : Error(what) {}
};

namespace detail {
std::string check_location(const char* file, int line);
}  // namespace detail

}  // namespace sdd

#define SDD_STRINGIFY_IMPL(x) #x
#define SDD_STRINGIFY(x) SDD_STRINGIFY_IMPL(x)

// Internal invariant: throws InternalError "check failed: <cond> (<msg>) at file:line".
#define SDD_CHECK(cond, msg)                                                                    \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::ostringstream sdd_check_os_;                                                         \
      sdd_check_os_ << "check failed: " #cond " (" << msg << ") at "                            \
                    << ::sdd::detail::check_location(__FILE__, __LINE__);                       \
      throw ::sdd::InternalError(sdd_check_os_.str());                                          \
    }                                                                                           \
  } while (0)

// User-facing failure: throws UserError with exactly the message (one line, says what to do).
#define SDD_USER_CHECK(cond, msg)                                                               \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::ostringstream sdd_check_os_;                                                         \
      sdd_check_os_ << msg;                                                                     \
      throw ::sdd::UserError(sdd_check_os_.str());                                              \
    }                                                                                           \
  } while (0)

#define SDD_USER_FAIL(msg)                                                                      \
  do {                                                                                          \
    std::ostringstream sdd_check_os_;                                                           \
    sdd_check_os_ << msg;                                                                       \
    throw ::sdd::UserError(sdd_check_os_.str());                                                \
  } while (0)

#define SDD_FAIL(msg)                                                                           \
  do {                                                                                          \
    std::ostringstream sdd_check_os_;                                                           \
    sdd_check_os_ << msg << " at " << ::sdd::detail::check_location(__FILE__, __LINE__);        \
    throw ::sdd::InternalError(sdd_check_os_.str());                                            \
  } while (0)
