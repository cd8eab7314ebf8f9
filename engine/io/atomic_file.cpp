// engine/io/atomic_file.cpp — POSIX implementation of atomic writes (temp file, fsync, rename,
// directory fsync) and of whole-file reads.
#include "engine/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "engine/errors.h"

namespace sdd::io {

namespace {

constexpr size_t kChunk = size_t(1) << 22;   // 4 MiB write chunks

std::string errno_text(int e) { return std::strerror(e); }

// A name not yet taken: "<target>.tmp.<pid>.<counter><clock>". Opened with O_EXCL, so a collision
// only costs another try.
std::string temp_candidate(const std::string& target) {
  static std::atomic<uint64_t> counter{0};
  const uint64_t c = counter.fetch_add(1);
  const auto t = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return target + ".tmp." + std::to_string(static_cast<long>(::getpid())) + "." + std::to_string(c) + "." +
         std::to_string(t % 1000000007ULL);
}

void write_all(int fd, const char* p, size_t n, const std::string& target) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      SDD_USER_FAIL("cannot write " << target << ": " << errno_text(e) << "; check free disk space and permissions");
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void fsync_directory(const std::string& dir) {
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;   // some file systems do not allow opening directories; the rename stands
  ::fsync(dfd);          // best effort: EINVAL on file systems without directory fsync
  ::close(dfd);
}

}  // namespace

std::string parent_directory(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool directory_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string expand_home(const std::string& path) {
  if (path != "~" && path.rfind("~/", 0) != 0) return path;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + path.substr(1);
}

bool is_temporary_name(const std::string& name) {
  // "<target>.tmp.<pid>.<counter>.<clock>" (temp_candidate)
  const size_t at = name.rfind(".tmp.");
  if (at == std::string::npos || at == 0) return false;
  int fields = 0;
  size_t digits = 0;
  for (size_t i = at + 5; i < name.size(); ++i) {
    if (name[i] == '.') {
      if (digits == 0) return false;
      ++fields;
      digits = 0;
    } else if (name[i] >= '0' && name[i] <= '9') {
      ++digits;
    } else {
      return false;
    }
  }
  return digits > 0 && fields == 2;
}

size_t remove_stale_temporaries(const std::string& dir) {
  size_t removed = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || !is_temporary_name(it->path().filename().string())) continue;
    if (std::filesystem::remove(it->path(), ec)) ++removed;
  }
  return removed;
}

// ------------------------------------------------------------------------------------ AtomicFile

AtomicFile::AtomicFile(std::string target) : target_(std::move(target)) {
  SDD_USER_CHECK(!target_.empty(), "cannot write a file with an empty path; give a file name");
  const std::string dir = parent_directory(target_);
  SDD_USER_CHECK(directory_exists(dir),
                 "cannot write " << target_ << ": directory " << dir << " does not exist; create it first");
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string cand = temp_candidate(target_);
    const int fd = ::open(cand.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      fd_ = fd;
      temp_ = std::move(cand);
      return;
    }
    if (errno != EEXIST && errno != EINTR) {
      const int e = errno;
      SDD_USER_FAIL("cannot write " << target_ << ": cannot create a temporary file in " << dir << ": "
                                    << errno_text(e) << "; check the directory's permissions");
    }
  }
  SDD_USER_FAIL("cannot write " << target_ << ": no free temporary file name in " << parent_directory(target_)
                                << "; remove stale " << target_ << ".tmp.* files");
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_.empty()) {
    ::unlink(temp_.c_str());
    temp_.clear();
  }
  buf_.clear();
}

void AtomicFile::flush_buffer() {
  if (buf_.empty()) return;
  write_all(fd_, buf_.data(), buf_.size(), target_);
  buf_.clear();
}

void AtomicFile::write(const void* data, size_t n) {
  SDD_CHECK(fd_ >= 0 && !committed_, "write to a closed AtomicFile for " << target_);
  const char* p = static_cast<const char*>(data);
  written_ += n;
  if (buf_.size() + n <= kChunk) {
    buf_.append(p, n);
    return;
  }
  flush_buffer();
  if (n >= kChunk) {
    write_all(fd_, p, n, target_);
  } else {
    buf_.append(p, n);
  }
}

void AtomicFile::commit() {
  SDD_CHECK(fd_ >= 0 && !committed_, "commit of a closed AtomicFile for " << target_);
  try {
    flush_buffer();
    if (::fsync(fd_) != 0) {
      const int e = errno;
      SDD_USER_FAIL("cannot write " << target_ << ": fsync failed: " << errno_text(e)
                                    << "; check free disk space");
    }
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
      const int e = errno;
      SDD_USER_FAIL("cannot write " << target_ << ": close failed: " << errno_text(e) << "; check free disk space");
    }
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
      const int e = errno;
      SDD_USER_FAIL("cannot write " << target_ << ": rename of the temporary file failed: " << errno_text(e)
                                    << "; check that the target is not a directory and is writable");
    }
  } catch (...) {
    discard();
    throw;
  }
  temp_.clear();
  committed_ = true;
  fsync_directory(parent_directory(target_));
}

// ------------------------------------------------------------------------------------ helpers

void write_file_atomic(const std::string& path, const std::function<void(AtomicFile&)>& fill) {
  AtomicFile f(path);
  fill(f);   // a throw here destroys f, which removes the temporary file
  f.commit();
}

void write_file_atomic(const std::string& path, const void* data, size_t n) {
  AtomicFile f(path);
  f.write(data, n);
  f.commit();
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  write_file_atomic(path, contents.data(), contents.size());
}

std::string read_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    if (e == ENOENT) SDD_USER_FAIL("cannot read " << path << ": no such file; check the path");
    SDD_USER_FAIL("cannot read " << path << ": " << errno_text(e) << "; check the path and its permissions");
  }
  SDD_USER_CHECK(!S_ISDIR(st.st_mode), "cannot read " << path << ": it is a directory, not a file; give a file path");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    SDD_USER_FAIL("cannot read " << path << ": " << errno_text(e) << "; check the file's permissions");
  }
  std::string out;
  if (S_ISREG(st.st_mode) && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char chunk[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd, chunk, sizeof chunk);
    if (r < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      SDD_USER_FAIL("cannot read " << path << ": " << errno_text(e) << "; check the file and the disk");
    }
    if (r == 0) break;
    out.append(chunk, static_cast<size_t>(r));
  }
  ::close(fd);
  return out;
}

}  // namespace sdd::io
