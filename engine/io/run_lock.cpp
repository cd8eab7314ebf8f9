// engine/io/run_lock.cpp — see run_lock.h.
#include "engine/io/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/errors.h"

namespace sdd::io {

RunLock::RunLock(const std::string& path, const std::string& what) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  SDD_USER_CHECK(fd_ >= 0, "cannot create the lock file " << path << ": " << std::strerror(errno)
                                                           << "; choose a writable --results_root");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      char holder[256] = {0};
      const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
      std::string who(holder, n > 0 ? static_cast<size_t>(n) : 0);
      while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
      ::close(fd_);
      fd_ = -1;
      SDD_USER_FAIL("another sparsedd process" << (who.empty() ? "" : " (" + who + ")") << " is running " << what
                                               << "; wait for it to finish or stop it, then run this command again");
    }
    return;   // ENOLCK / EOPNOTSUPP etc.: no locks on this file system, run unlocked
  }
  locked_ = true;
  char host[128] = {0};
  ::gethostname(host, sizeof host - 1);
  const std::string me = "pid " + std::to_string(::getpid()) + " on " + host + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    const ssize_t w = ::pwrite(fd_, me.data(), me.size(), 0);
    (void)w;   // the holder's name is only for the message above
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);   // closing the descriptor releases the flock
}

}  // namespace sdd::io
