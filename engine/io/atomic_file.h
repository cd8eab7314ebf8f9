// engine/io/atomic_file.h — atomic file writes (DESIGN rule 10) and whole-file reads with one-line
// UserError messages that name the file.
//
// An atomic write goes to a temporary file in the target's directory ("<target>.tmp.XXXXXX"), is
// fsync'ed, renamed over the target, and the directory is fsync'ed. A reader therefore sees either
// the old file or the complete new one, never a partial file, even when the process is killed or the
// writer throws midway; an AtomicFile destroyed without commit() removes its temporary file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace sdd::io {

class AtomicFile {
 public:
  // Creates the temporary file next to `target`. Throws UserError when the directory is missing or
  // not writable.
  explicit AtomicFile(std::string target);
  ~AtomicFile();   // removes the temporary file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends n bytes (buffered). Throws UserError on a write error (e.g. disk full).
  void write(const void* data, size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  // Flushes, fsyncs, renames over the target and fsyncs the directory. After a failure the temporary
  // file is removed and the target is untouched.
  void commit();

  const std::string& target() const { return target_; }
  const std::string& temp_path() const { return temp_; }
  uint64_t bytes_written() const { return written_; }

 private:
  void flush_buffer();
  void discard() noexcept;

  std::string target_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
  uint64_t written_ = 0;
  std::string buf_;   // pending bytes, flushed in large chunks
};

// Writes `contents` to `path` atomically.
void write_file_atomic(const std::string& path, const std::string& contents);
void write_file_atomic(const std::string& path, const void* data, size_t n);
// Runs fill(file) and commits; if fill throws, the target is untouched, the temporary file is
// removed and the exception propagates.
void write_file_atomic(const std::string& path, const std::function<void(AtomicFile&)>& fill);

// Reads the whole file. Throws UserError "cannot read <path>: <reason>; ..." when it is missing, a
// directory, or unreadable.
std::string read_file(const std::string& path);

bool file_exists(const std::string& path);       // a regular file (or a link to one) exists
bool directory_exists(const std::string& path);

// True for the names of AtomicFile temporaries ("<target>.tmp.<pid>.<counter>.<clock>").
bool is_temporary_name(const std::string& name);
// Removes the AtomicFile temporaries directly in `dir` (left behind when a writer was killed before
// commit; call it only while no other process writes there, e.g. under a RunLock) and returns how
// many. A missing directory removes nothing.
size_t remove_stale_temporaries(const std::string& dir);

// A leading "~" or "~/" replaced by $HOME (or "." without one), as a shell would: YAML values,
// quoted flags and environment variables reach us unexpanded, and a directory literally named "~"
// in the working directory is never what was meant. Other paths are returned as they are.
std::string expand_home(const std::string& path);

// The directory part of a path ("a/b/c.txt" -> "a/b", "c.txt" -> ".").
std::string parent_directory(const std::string& path);

}  // namespace sdd::io
